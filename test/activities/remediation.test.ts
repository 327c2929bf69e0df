/**
 * The hygiene activities (src/activities/remediation.ts) with the app's real clients against the
 * fake cloud, built from settings as the Functions host builds them: a service that keeps failing
 * makes an activity stop early (budget.ts) and hand the rest back as transient failures, instead of
 * burning minutes of retries inside one activity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import {
  createReimageUnregisteredInstancesActivity,
  createRemoveRegistrationsActivity,
} from '../../src/activities/remediation.js';
import { TransientError } from '../../src/clients/errors.js';
import { getRuntime, resetRuntime } from '../../src/functions/runtime.js';
import { makeScenario, startTestCloud, vmssPath, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let deps: ActivityDeps;
const savedEnv = { ...process.env };

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      scaleSets: [
        {
          name: 'vmss-gh-linux-weu',
          image: 'linux',
          region: 'westeurope',
          capacity: 2,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
        {
          name: 'vmss-ado-win-weu',
          image: 'windows',
          region: 'westeurope',
          capacity: 2,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
      ],
      ghosts: { github: 50, ado: 0 },
    }),
  );
  t.advance(5); // the instances' runners and agents register
  // The clients are built from settings, as on the Functions host. A small retry base (and no write
  // spacing) keeps the clients' own retries of the persistent faults from sleeping real seconds.
  Object.assign(process.env, t.cloud.env, { CLIENT_RETRY_BASE_MS: '1', GITHUB_WRITE_INTERVAL_MS: '0' });
  resetRuntime();
  deps = getRuntime();
});

afterAll(async () => {
  process.env = savedEnv;
  resetRuntime();
  await t?.close();
});

const requestsSince = (from: number, service: string, method: string) =>
  t.cloud.requestLog.slice(from).filter((r) => r.service === service && r.method === method);

describe('removeRegistrations when GitHub keeps failing', () => {
  it('stops after 3 removals failed in a row and hands the other 47 back as transient, not attempted', async () => {
    const ghosts = (await deps.github!.listRunners()).filter((r) => r.status === 'offline');
    expect(ghosts).toHaveLength(50);
    t.cloud.addFault({ service: 'github', operation: 'deleteRunner', status: 500, times: 100_000 });
    const from = t.cloud.requestLog.length;

    const out = await createRemoveRegistrationsActivity(deps)({
      registrations: ghosts.map((r) => ({ fleet: 'github', id: r.id, name: r.name, reason: 'ghost' })),
    });

    // 3 registrations (the budget's transient failures in a row) × 3 attempts each (the GitHub
    // client's retries): not 50 × 3.
    expect(requestsSince(from, 'github', 'DELETE')).toHaveLength(3 * 3);
    expect(out.ok).toBe(true);
    const results = out.ok ? out.value : [];
    expect(results).toHaveLength(50);
    for (const [k, r] of results.entries()) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toMatchObject({ name: 'TransientError', transient: true });
      expect(r.error.message).toContain(`remove GitHub runner ${ghosts[k]!.name}: `);
      if (k < 3) expect(r.error.message).toContain('HTTP 500');
      else expect(r.error.message).toMatch(/not attempted: 3 items in a row failed transiently/);
    }
    expect(t.cloud.ledger.deleted.githubRunners).toEqual([]);
  });
});

describe('reimageUnregisteredInstances', () => {
  const win = () => ({ scaleSetId: vmssPath(t, 'vmss-ado-win-weu'), fleet: 'ado' as const });

  it('when Azure DevOps keeps failing: 3 look-ups, no reimage, a transient failure of the whole activity', async () => {
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 500, times: 100_000 });
    const from = t.cloud.requestLog.length;

    const out = await createReimageUnregisteredInstancesActivity(deps)({
      ...win(),
      instances: Array.from({ length: 8 }, (_, k) => ({ instanceId: String(k), computerName: `adowin${k}` })),
    });

    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect(out.error.transient).toBe(true);
      expect(out.error.message).toMatch(/8 of 8 instance\(s\) could not be checked, none reimaged/);
    }
    // 3 look-ups × 3 attempts (ADO_MAX_RETRIES 2, the first included); nothing was reimaged.
    expect(requestsSince(from, 'ado', 'GET').filter((r) => r.path.endsWith('/agents'))).toHaveLength(3 * 3);
    expect(requestsSince(from, 'arm', 'POST')).toEqual([]);
  });

  it('leaves an instance alone that an operation started on since the plan (a rollout upgrading it), or that is gone', async () => {
    // The plan saw instance 0 idle and unregistered; a rollout's upgrade started on it since. A
    // reimage now would cut the upgrade short (Azure runs the newer of two operations on a VM).
    const instance = t.cloud.world.scaleSets.get('vmss-gh-linux-weu')!.instances.get('0')!;
    const was = instance.provisioningState;
    instance.provisioningState = 'Updating';
    const from = t.cloud.requestLog.length;
    try {
      const out = await createReimageUnregisteredInstancesActivity(deps)({
        scaleSetId: vmssPath(t, 'vmss-gh-linux-weu'),
        fleet: 'github',
        instances: [
          { instanceId: '0', computerName: 'never-registered-0' },
          { instanceId: '99', computerName: 'never-registered-99' },
        ],
      });
      expect(out).toEqual({
        ok: true,
        value: { reimaged: [], registeredSince: [], changedSince: ['0', '99'], unchecked: [] },
      });
      expect(requestsSince(from, 'arm', 'POST')).toEqual([]);
    } finally {
      instance.provisioningState = was;
    }
  });

  it('reimages the instances it checked, and lists the ones it could not under `unchecked`', async () => {
    const real = deps.github!;
    const github = {
      ...real,
      findRunnersByName: (name: string) =>
        name.startsWith('unreachable-')
          ? Promise.reject(new TransientError(`github findRunnersByName ${name} failed (HTTP 503)`))
          : real.findRunnersByName(name),
    };
    const from = t.cloud.requestLog.length;

    const out = await createReimageUnregisteredInstancesActivity({ ...deps, github })({
      scaleSetId: vmssPath(t, 'vmss-gh-linux-weu'),
      fleet: 'github',
      instances: [
        { instanceId: '0', computerName: 'never-registered-0' },
        { instanceId: '1', computerName: 'vmss-gh-linux-weu-000001' },
        ...[2, 3, 4, 5].map((k) => ({ instanceId: String(k), computerName: `unreachable-${k}` })),
      ],
    });

    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.reimaged).toEqual(['0']);
    expect(out.value.registeredSince).toEqual(['1']);
    expect(out.value.unchecked.map((u) => u.instanceId)).toEqual(['2', '3', '4', '5']);
    expect(out.value.unchecked.every((u) => u.error.transient)).toBe(true);
    expect(out.value.unchecked[0]!.error.message).toContain('HTTP 503');
    expect(out.value.unchecked[3]!.error.message).toMatch(
      /^look up the registration and state of unreachable-5: not attempted: /,
    );
    expect(requestsSince(from, 'arm', 'POST')).toHaveLength(1);
  });
});
