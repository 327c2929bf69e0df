import { describe, expect, it } from 'vitest';
import {
  assessWave,
  batchSize,
  breachesThreshold,
  definitionOfImageReference,
  DEFAULT_ROLLOUT_OPTIONS,
  judgeSoak,
  planDryRun,
  servedOneJob,
  planWave,
  staleLook,
  versionOfImageReference,
  withFreshRegistrations,
  type RolloutInstance,
} from '../../../src/domain/rollout.js';

const T0 = '2026-12-01T03:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const instances = (n: number, applied: number[] = []): RolloutInstance[] =>
  Array.from({ length: n }, (_, i) => ({
    instanceId: String(i),
    computerName: `ghr-${String(i).padStart(6, '0')}`,
    latestModelApplied: applied.includes(i),
    provisioningState: 'Succeeded',
  }));

describe('planWave', () => {
  it('takes at most batchPercent of capacity, idle instances only, lowest ids first', () => {
    const plan = planWave({
      capacity: 10,
      instances: instances(10, [0]),
      registrations: { 'ghr-000001': { status: 'online', busy: true } },
      options: DEFAULT_ROLLOUT_OPTIONS,
      rolloutStartedAt: T0,
      now: at(10),
    });
    expect(plan).toEqual({
      upgrade: ['2', '3'],
      busy: ['1'],
      pending: [],
      waiting: ['4', '5', '6', '7', '8', '9'],
      newer: [],
    });
  });

  it('never moves an instance back from a newer version, unless older is allowed (S8)', () => {
    const onVersion = (id: string, version: string) => ({
      instanceId: id,
      computerName: `ghr-00000${id}`,
      latestModelApplied: false,
      provisioningState: 'Succeeded',
      imageReferenceId: `/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/linux-agent/versions/${version}`,
    });
    const input = {
      capacity: 3,
      instances: [onVersion('0', '2026.10.1'), onVersion('1', '2026.12.5'), onVersion('2', '2026.9.1')],
      registrations: {},
      options: { ...DEFAULT_ROLLOUT_OPTIONS, batchPercent: 100 },
      rolloutStartedAt: T0,
      now: T0,
      version: '2026.12.3',
    };
    expect(planWave(input)).toMatchObject({ upgrade: ['0', '2'], newer: ['1'] });
    expect(planWave({ ...input, allowOlder: true })).toMatchObject({ upgrade: ['0', '1', '2'], newer: [] });
  });

  it('never puts a busy instance in a wave, and leaves it pending after busyWaitHours (S1)', () => {
    const input = {
      capacity: 3,
      instances: instances(3, [0, 2]),
      registrations: { 'ghr-000001': { status: 'online' as const, busy: true } },
      options: DEFAULT_ROLLOUT_OPTIONS,
      rolloutStartedAt: T0,
    };
    expect(planWave({ ...input, now: at(5 * 60) })).toMatchObject({ upgrade: [], busy: ['1'], pending: [] });
    expect(planWave({ ...input, now: at(6 * 60) })).toMatchObject({ upgrade: [], busy: [], pending: ['1'] });
  });

  it('skips excluded instances and always allows a wave of one', () => {
    expect(batchSize(3, 20)).toBe(1);
    expect(batchSize(1000, 20)).toBe(200);
    const plan = planWave({
      capacity: 3,
      instances: instances(3),
      registrations: {},
      options: DEFAULT_ROLLOUT_OPTIONS,
      rolloutStartedAt: T0,
      now: T0,
      exclude: ['0'],
    });
    expect(plan.upgrade).toEqual(['1']);
  });
});

describe('assessWave', () => {
  const wave = ['0', '1', '2'];
  it('is healthy when provisioned on the new model with the runner online', () => {
    const now = instances(3, [0, 1, 2]);
    now[2]!.provisioningState = 'Updating';
    const health = assessWave({
      wave,
      instances: now,
      registrations: {
        'ghr-000000': { status: 'online', busy: false },
        'ghr-000001': { status: 'offline', busy: false },
      },
      waveStartedAt: T0,
      now: at(5),
      healthDeadlineMinutes: 15,
    });
    expect(health).toEqual({ healthy: ['0'], unhealthy: [], starting: ['1', '2'], failed: [] });
  });

  it('is healthy, too, when its one-job runner already served its job (gone after it)', () => {
    const health = assessWave({
      wave,
      instances: instances(3, [0, 1, 2]),
      registrations: {},
      served: ['ghr-000001'],
      waveStartedAt: T0,
      now: at(5),
      healthDeadlineMinutes: 15,
    });
    expect(health).toEqual({ healthy: ['1'], unhealthy: [], starting: ['0', '2'], failed: [] });
  });

  it('counts everything not healthy by the deadline, or failed, as unhealthy', () => {
    const now = instances(3, [0, 1, 2]);
    now[0]!.provisioningState = 'Failed';
    const health = assessWave({
      wave,
      instances: now,
      registrations: { 'ghr-000002': { status: 'online', busy: true } },
      waveStartedAt: T0,
      now: at(15),
      healthDeadlineMinutes: 15,
    });
    expect(health).toEqual({ healthy: ['2'], unhealthy: ['0', '1'], starting: [], failed: ['0'] });
  });
});

describe('breachesThreshold', () => {
  it('breaches only above the allowed share', () => {
    expect(breachesThreshold(1, 5, 20)).toBe(false);
    expect(breachesThreshold(2, 5, 20)).toBe(true);
    expect(breachesThreshold(1, 1, 20)).toBe(true);
    expect(breachesThreshold(0, 0, 20)).toBe(false);
  });
});

describe('image references', () => {
  const id =
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/linux-agent/versions/2026.10.1';
  it('reads the version and definition of a gallery image reference', () => {
    expect(versionOfImageReference(id)).toBe('2026.10.1');
    expect(definitionOfImageReference(id)).toBe('linux-agent');
    expect(definitionOfImageReference(id.replace(/\/versions\/.*$/, ''))).toBe('linux-agent');
    expect(versionOfImageReference(undefined)).toBeUndefined();
  });
});

describe('planDryRun', () => {
  const gallery =
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/linux-agent';
  const versionId = `${gallery}/versions/2026.11.1`;

  it('with the model elsewhere, every instance would move, in waves of the batch size', () => {
    const plan = planDryRun({
      capacity: 10,
      batchPercent: 20,
      modelImageId: `${gallery}/versions/2026.10.1`,
      versionId,
      instances: instances(5, [0, 1, 2, 3, 4]),
      registrations: {
        'ghr-000001': { status: 'online', busy: true },
        'ghr-000002': { status: 'online', busy: false },
      },
    });
    expect(plan).toEqual({ moving: 5, busyNow: 1, plannedWaves: 3 });
  });

  it('with the model on the version (any case), only instances not on the model yet would move', () => {
    const plan = planDryRun({
      capacity: 4,
      batchPercent: 50,
      modelImageId: versionId.toUpperCase(),
      versionId,
      instances: instances(4, [0, 1]),
      registrations: {
        'ghr-000000': { status: 'online', busy: true },
        'ghr-000003': { status: 'online', busy: true },
      },
    });
    expect(plan).toEqual({ moving: 2, busyNow: 1, plannedWaves: 1 });
  });

  it('with nothing to move plans no wave; a scale set without a model image moves everything', () => {
    expect(
      planDryRun({
        capacity: 2,
        batchPercent: 20,
        modelImageId: versionId,
        versionId,
        instances: instances(2, [0, 1]),
        registrations: {},
      }),
    ).toEqual({ moving: 0, busyNow: 0, plannedWaves: 0 });
    expect(
      planDryRun({
        capacity: 2,
        batchPercent: 20,
        modelImageId: undefined,
        versionId,
        instances: instances(2, [0, 1]),
        registrations: {},
      }),
    ).toEqual({ moving: 2, busyNow: 0, plannedWaves: 2 });
  });
});

describe('judgeSoak', () => {
  const gallery =
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/linux-agent';
  const on =
    (version: string, provisioningState = 'Succeeded') =>
    (i: RolloutInstance) => ({
      ...i,
      provisioningState,
      imageReferenceId: `${gallery}/versions/${version}`,
    });
  const online = { status: 'online' as const, busy: false };

  it('counts the instances on the version and finds none sick when all are provisioned and online', () => {
    const [a, b, c] = instances(3);
    const judged = judgeSoak({
      instances: [on('2026.11.1')(a!), on('2026.11.1', 'succeeded')(b!), on('2026.10.1')(c!)],
      registrations: { 'ghr-000000': online, 'ghr-000001': { status: 'online', busy: true } },
      version: '2026.11.1',
    });
    expect(judged.onVersion.map((i) => i.instanceId)).toEqual(['0', '1']);
    expect(judged.sick).toEqual([]);
  });

  it('calls sick an instance on the version whose runner is offline or gone, or that is not provisioned', () => {
    const [a, b, c, d] = instances(4);
    const judged = judgeSoak({
      instances: [
        on('2026.11.1')(a!),
        on('2026.11.1')(b!),
        on('2026.11.1', 'Failed')(c!),
        on('2026.10.1')(d!),
      ],
      registrations: {
        'ghr-000000': { status: 'offline', busy: false },
        'ghr-000002': online,
        'ghr-000003': { status: 'offline', busy: false },
      },
      version: '2026.11.1',
    });
    expect(judged.sick.map((i) => i.instanceId)).toEqual(['0', '1', '2']);
  });

  it('counts a one-job machine whose runner served its job as healthy, and leaves out a recycle canary being reimaged', () => {
    const [a, b, c] = instances(3);
    const judged = judgeSoak({
      instances: [on('2026.11.1')(a!), on('2026.11.1')(b!), on('2026.11.1', 'Updating')(c!)],
      registrations: {},
      served: ['ghr-000000'],
      recycles: true,
      version: '2026.11.1',
    });
    expect(judged.onVersion.map((i) => i.instanceId)).toEqual(['0', '1']);
    // Gone without having served (no record of a registration, or not this provisioning's): sick.
    expect(judged.sick.map((i) => i.instanceId)).toEqual(['1']);
    // Without kiln-recycle, an instance being reimaged during the soak is sick as before.
    expect(
      judgeSoak({
        instances: [on('2026.11.1', 'Updating')(c!)],
        registrations: {},
        version: '2026.11.1',
      }).sick,
    ).toHaveLength(1);
  });

  it('finds nothing on the version when no instance runs it (or runs no gallery version)', () => {
    const judged = judgeSoak({ instances: instances(2), registrations: {}, version: '2026.11.1' });
    expect(judged).toEqual({ onVersion: [], sick: [] });
  });
});

describe('staleLook', () => {
  it('keeps the instances not on the model, only the fields planning reads, and only their registrations', () => {
    const observed = {
      instances: [
        {
          ...instances(1)[0]!,
          name: 'vmss_0',
          powerState: 'running',
          imageReferenceId: '/images/x/versions/1',
        },
        { ...instances(2, [1])[1]!, name: 'vmss_1' },
        { ...instances(3)[2]!, name: 'vmss_2' },
      ],
      registrations: {
        'ghr-000000': { status: 'online' as const, busy: true, ids: [7] },
        'ghr-000001': { status: 'online' as const, busy: false },
        'ghr-000099': { status: 'offline' as const, busy: false },
      },
    };
    expect(staleLook(observed)).toEqual({
      instances: [
        {
          instanceId: '0',
          computerName: 'ghr-000000',
          latestModelApplied: false,
          provisioningState: 'Succeeded',
          imageReferenceId: '/images/x/versions/1',
        },
        {
          instanceId: '2',
          computerName: 'ghr-000002',
          latestModelApplied: false,
          provisioningState: 'Succeeded',
        },
      ],
      registrations: { 'ghr-000000': { status: 'online', busy: true, ids: [7] } },
    });
  });
});

describe('withFreshRegistrations', () => {
  it('replaces the named registrations by the fresh read, drops those it no longer has, keeps the rest', () => {
    const look = {
      instances: instances(3),
      registrations: {
        'ghr-000000': { status: 'online' as const, busy: true },
        'ghr-000001': { status: 'online' as const, busy: true },
        'ghr-000002': { status: 'online' as const, busy: true },
      },
    };
    const fresh = withFreshRegistrations(look, ['GHR-000000', 'ghr-000001'], {
      'ghr-000000': { status: 'online', busy: false },
    });
    expect(fresh).toEqual({
      'ghr-000000': { status: 'online', busy: false },
      'ghr-000002': { status: 'online', busy: true },
    });
    expect(look.registrations['ghr-000001']).toEqual({ status: 'online', busy: true });
  });
});

describe('servedOneJob', () => {
  const provisionedAt = at(0);
  it('GitHub: a runner kiln gave this provisioning that GitHub removed (after its one job)', () => {
    const github = { fleet: 'github' as const, provisionedAt };
    expect(servedOneJob({ ...github, registration: undefined, issuedByBroker: true })).toBe(true);
    // Never registered through the broker (a bad image, or PAT mode): not served.
    expect(servedOneJob({ ...github, registration: undefined, issuedByBroker: false })).toBe(false);
    // Still registered (offline: a runner that crashed or never started): not served.
    const offline = { status: 'offline' as const, busy: false };
    expect(servedOneJob({ ...github, registration: offline, issuedByBroker: true })).toBe(false);
  });

  it('Azure DevOps: a --once agent offline after a job that finished since the instance was provisioned', () => {
    const ado = { fleet: 'ado' as const, provisionedAt, issuedByBroker: false };
    const offline = { status: 'offline' as const, busy: false };
    expect(servedOneJob({ ...ado, registration: { ...offline, lastJobFinishedOn: at(20) } })).toBe(true);
    // Its last job ended before this provisioning (a job of the instance's previous life): not served.
    expect(servedOneJob({ ...ado, registration: { ...offline, lastJobFinishedOn: at(-5) } })).toBe(false);
    expect(servedOneJob({ ...ado, registration: offline })).toBe(false);
    expect(
      servedOneJob({ ...ado, registration: { status: 'online', busy: false, lastJobFinishedOn: at(20) } }),
    ).toBe(false);
  });
});
