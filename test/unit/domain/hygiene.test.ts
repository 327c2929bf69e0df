import { describe, expect, it } from 'vitest';
import {
  owningScaleSet,
  planHygiene,
  summarisePlan,
  type HygieneInput,
  type Registration,
} from '../../../src/domain/hygiene.js';

const NOW = '2026-12-01T12:00:00.000Z';
const minutesAgo = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();

function input(overrides: Partial<HygieneInput> = {}): HygieneInput {
  return {
    now: NOW,
    offlineGraceMinutes: 30,
    bootDeadlineMinutes: 20,
    memory: { offlineSince: {} },
    scaleSets: [
      {
        id: '/subs/x/vmss/gh',
        name: 'vmss-gh',
        computerNamePrefix: 'ghr-',
        fleet: 'github',
        instances: [
          {
            instanceId: '0',
            computerName: 'ghr-000000',
            provisioningState: 'Succeeded',
            provisionedAt: minutesAgo(120),
          },
          {
            instanceId: '1',
            computerName: 'ghr-000001',
            provisioningState: 'Succeeded',
            provisionedAt: minutesAgo(120),
          },
        ],
      },
      {
        id: '/subs/x/vmss/ado',
        name: 'vmss-ado',
        computerNamePrefix: 'adow',
        fleet: 'ado',
        instances: [
          {
            instanceId: '0',
            computerName: 'adow000000',
            provisioningState: 'Succeeded',
            provisionedAt: minutesAgo(120),
          },
        ],
      },
    ],
    registrations: {
      github: [
        { id: 1, name: 'ghr-000000', status: 'online', busy: false },
        { id: 2, name: 'ghr-000001', status: 'online', busy: true },
      ],
      ado: [{ id: 10, name: 'adow000000', status: 'online', busy: false }],
    },
    ...overrides,
  };
}

const gh = (regs: Registration[], base = input()) => ({
  ...base.registrations,
  github: [...base.registrations.github!, ...regs],
});

describe('planHygiene', () => {
  it('leaves a healthy fleet alone', () => {
    const plan = planHygiene(input());
    expect(plan.remove).toEqual([]);
    expect(plan.reimage).toEqual([]);
    expect(plan.kept).toEqual([{ fleet: 'github', name: 'ghr-000001', reason: 'busy' }]);
  });

  it('removes offline registrations whose VM no longer exists (ghosts)', () => {
    const plan = planHygiene(
      input({ registrations: gh([{ id: 3, name: 'ghr-00000z', status: 'offline', busy: false }]) }),
    );
    expect(plan.remove).toEqual([
      { fleet: 'github', id: 3, name: 'ghr-00000z', scaleSet: 'vmss-gh', reason: 'ghost' },
    ]);
  });

  it('never removes a busy registration, ghost or not (S1)', () => {
    const plan = planHygiene(
      input({ registrations: gh([{ id: 3, name: 'ghr-00000z', status: 'offline', busy: true }]) }),
    );
    expect(plan.remove).toEqual([]);
    expect(plan.kept).toContainEqual({ fleet: 'github', name: 'ghr-00000z', reason: 'busy' });
  });

  it('never touches registrations outside the managed scale sets (S2)', () => {
    const regs: Registration[] = [
      { id: 4, name: 'other-fleet-01', status: 'offline', busy: false },
      { id: 5, name: 'ghr-runner-manual', status: 'offline', busy: false },
      { id: 6, name: 'ghr-0000001', status: 'offline', busy: false },
    ];
    const plan = planHygiene(input({ registrations: gh(regs) }));
    expect(plan.remove).toEqual([]);
    expect(plan.foreign.map((f) => f.name)).toEqual(['other-fleet-01', 'ghr-runner-manual', 'ghr-0000001']);
  });

  it('keeps an offline registration with a live VM until the grace period has passed, remembering when it went offline', () => {
    const offline = { id: 1, name: 'ghr-000000', status: 'offline' as const, busy: false };
    const base = input();
    const first = planHygiene({ ...base, registrations: { ...base.registrations, github: [offline] } });
    expect(first.remove).toEqual([]);
    expect(first.memory.offlineSince['github:1']).toBe(NOW);

    const later = new Date(Date.parse(NOW) + 31 * 60_000).toISOString();
    const second = planHygiene({
      ...base,
      now: later,
      memory: first.memory,
      registrations: { ...base.registrations, github: [offline] },
    });
    expect(second.remove).toEqual([
      { fleet: 'github', id: 1, name: 'ghr-000000', scaleSet: 'vmss-gh', reason: 'offline-past-grace' },
    ]);
  });

  it('uses the status change time Azure DevOps reports', () => {
    const base = input();
    const plan = planHygiene({
      ...base,
      registrations: {
        ...base.registrations,
        ado: [
          { id: 10, name: 'adow000000', status: 'offline', busy: false, statusChangedOn: minutesAgo(45) },
        ],
      },
    });
    expect(plan.remove.map((d) => d.reason)).toEqual(['offline-past-grace']);
  });

  it('forgets registrations that came back online', () => {
    const plan = planHygiene(input({ memory: { offlineSince: { 'github:1': minutesAgo(10) } } }));
    expect(plan.memory.offlineSince).toEqual({});
  });

  it('reimages instances whose runner never registered within the boot deadline', () => {
    const base = input();
    const plan = planHygiene({
      ...base,
      registrations: {
        ...base.registrations,
        github: [{ id: 1, name: 'ghr-000000', status: 'online', busy: false }],
      },
    });
    expect(plan.reimage).toEqual([
      {
        scaleSetId: '/subs/x/vmss/gh',
        scaleSet: 'vmss-gh',
        instanceId: '1',
        computerName: 'ghr-000001',
        reason: 'never-registered',
      },
    ]);
  });

  it('gives a freshly provisioned or still updating instance time to register', () => {
    const base = input();
    const scaleSets = structuredClone(base.scaleSets);
    scaleSets[0]!.instances[1]!.provisionedAt = minutesAgo(5);
    scaleSets[1]!.instances[0]!.provisioningState = 'Updating';
    const plan = planHygiene({
      ...base,
      scaleSets,
      registrations: { github: [base.registrations.github![0]!], ado: [] },
    });
    expect(plan.reimage).toEqual([]);
  });

  it('decides nothing for a fleet it could not list', () => {
    const plan = planHygiene(
      input({ registrations: { github: [{ id: 3, name: 'ghr-00000z', status: 'offline', busy: false }] } }),
    );
    // GitHub was listed: its unregistered instances are due; Azure DevOps was not: none of its instances are.
    expect(plan.reimage.map((r) => r.scaleSet)).toEqual(['vmss-gh', 'vmss-gh']);
    expect(plan.remove).toHaveLength(1);
    expect(summarisePlan(plan)).toMatchObject({ ghostRunners: 1, ghostAgents: 0, reimage: 2 });
  });
});

describe('owningScaleSet', () => {
  it('matches the longest prefix and only whole computer names', () => {
    const sets = [{ computerNamePrefix: 'ghr-' }, { computerNamePrefix: 'ghr-eu-' }];
    expect(owningScaleSet(sets, 'GHR-EU-00000A')).toBe(sets[1]);
    expect(owningScaleSet(sets, 'ghr-00000a')).toBe(sets[0]);
    expect(owningScaleSet(sets, 'ghr-eu-00000a-extra')).toBeUndefined();
    expect(owningScaleSet([{ computerNamePrefix: '' }], '000000')).toBeUndefined();
  });
});

describe('planHygiene: one job per machine (kiln-recycle)', () => {
  const PROVISIONED = minutesAgo(120);
  /** One GitHub and one Azure DevOps recycle scale set, each with instance 0 provisioned 2 hours ago. */
  function recycleInput(overrides: Partial<HygieneInput> = {}): HygieneInput {
    const base = input();
    return {
      ...base,
      scaleSets: base.scaleSets.map((s) => ({ ...s, recycle: true, instances: s.instances.slice(0, 1) })),
      // Azure DevOps unlisted (nothing decided for it) unless a test lists it.
      registrations: { github: [] },
      ...overrides,
    };
  }
  const seen = { 'ghr-000000': PROVISIONED };

  it('remembers, per provisioning, the GitHub runners it saw online or busy', () => {
    const plan = planHygiene(
      recycleInput({
        registrations: { github: [{ id: 1, name: 'ghr-000000', status: 'online', busy: false }] },
      }),
    );
    expect(plan.recycle).toEqual([]);
    expect(plan.memory.runnerSeen).toEqual(seen);
    // An offline runner (a JIT registration never started, or a stale one) never took a job here.
    const offline = planHygiene(
      recycleInput({
        registrations: { github: [{ id: 1, name: 'ghr-000000', status: 'offline', busy: false }] },
      }),
    );
    expect(offline.memory.runnerSeen).toEqual({});
  });

  it('recycles a GitHub instance whose runner it saw and GitHub has since removed (its one job is done)', () => {
    const plan = planHygiene(recycleInput({ memory: { offlineSince: {}, runnerSeen: seen } }));
    expect(plan.recycle).toEqual([
      {
        fleet: 'github',
        scaleSetId: '/subs/x/vmss/gh',
        scaleSet: 'vmss-gh',
        instanceId: '0',
        computerName: 'ghr-000000',
      },
    ]);
    // Not also a never-registered reimage; remembered until the reimage gives it a new provisioning.
    expect(plan.reimage).toEqual([]);
    expect(plan.memory.runnerSeen).toEqual(seen);
    expect(summarisePlan(plan)).toMatchObject({ recycle: 1, reimage: 0 });
  });

  it('does not recycle an instance still booting, nor one whose runner it never saw on this provisioning', () => {
    const booting = recycleInput({ memory: { offlineSince: {}, runnerSeen: seen } });
    booting.scaleSets[0]!.instances[0]!.provisionedAt = minutesAgo(3);
    const fresh = planHygiene(booting);
    // A runner seen on an earlier provisioning says nothing about this one, which is still within
    // the boot deadline: nothing at all is decided for it, and the old memory is forgotten.
    expect(fresh.recycle).toEqual([]);
    expect(fresh.reimage).toEqual([]);
    expect(fresh.memory.runnerSeen).toEqual({});

    // Never seen and past the boot deadline: the never-registered rule, not recycle.
    const unseen = planHygiene(recycleInput());
    expect(unseen.recycle).toEqual([]);
    expect(unseen.reimage.map((r) => [r.computerName, r.reason])).toEqual([
      ['ghr-000000', 'never-registered'],
    ]);
  });

  it('never recycles while the runner is there, busy or idle (S1), and not an instance being reimaged', () => {
    for (const runner of [
      { id: 1, name: 'ghr-000000', status: 'online' as const, busy: true },
      { id: 1, name: 'ghr-000000', status: 'offline' as const, busy: false },
    ]) {
      const plan = planHygiene(
        recycleInput({
          memory: { offlineSince: {}, runnerSeen: seen },
          registrations: { github: [runner] },
        }),
      );
      expect(plan.recycle).toEqual([]);
    }
    const updating = recycleInput({ memory: { offlineSince: {}, runnerSeen: seen } });
    updating.scaleSets[0]!.instances[0]!.provisioningState = 'Updating';
    expect(planHygiene(updating).recycle).toEqual([]);
  });

  it('does nothing new on a scale set that is not tagged for recycling', () => {
    const base = recycleInput({ memory: { offlineSince: {}, runnerSeen: seen } });
    const plan = planHygiene({ ...base, scaleSets: base.scaleSets.map((s) => ({ ...s, recycle: false })) });
    expect(plan.recycle).toEqual([]);
    expect(plan.reimage.map((r) => r.reason)).toEqual(['never-registered']);
    expect(plan.memory.runnerSeen).toEqual({});
  });

  it('recycles an Azure DevOps instance whose --once agent is offline after a job of this provisioning, removing the agent first', () => {
    const agent: Registration = {
      id: 10,
      name: 'adow000000',
      status: 'offline',
      busy: false,
      statusChangedOn: minutesAgo(2),
      lastJobFinishedOn: minutesAgo(2),
    };
    const plan = planHygiene(recycleInput({ registrations: { ado: [agent] } }));
    expect(plan.recycle).toEqual([
      {
        fleet: 'ado',
        scaleSetId: '/subs/x/vmss/ado',
        scaleSet: 'vmss-ado',
        instanceId: '0',
        computerName: 'adow000000',
        agent: { id: 10, name: 'adow000000' },
      },
    ]);
    expect(plan.remove).toEqual([]);
    expect(plan.kept).toEqual([]);
  });

  it('keeps an Azure DevOps agent that is busy, online, or whose last job was before this provisioning', () => {
    const agent = (change: Partial<Registration>): Registration => ({
      id: 10,
      name: 'adow000000',
      status: 'offline',
      busy: false,
      statusChangedOn: minutesAgo(2),
      lastJobFinishedOn: minutesAgo(2),
      ...change,
    });
    for (const change of [
      { busy: true },
      { status: 'online' as const },
      { lastJobFinishedOn: minutesAgo(180) },
      { lastJobFinishedOn: undefined },
    ]) {
      const plan = planHygiene(recycleInput({ registrations: { ado: [agent(change)] } }));
      expect(plan.recycle, JSON.stringify(change)).toEqual([]);
    }
    // An agent offline for another reason is the grace-period rule's, as on any scale set.
    const old = planHygiene(
      recycleInput({
        registrations: {
          ado: [agent({ lastJobFinishedOn: undefined, statusChangedOn: minutesAgo(45) })],
        },
      }),
    );
    expect(old.remove.map((d) => d.reason)).toEqual(['offline-past-grace']);
  });
});
