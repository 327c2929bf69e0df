import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeCloud } from '../../src/local/fake-cloud/index.js';
import { loadScenarioFile, parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { runSimulation, type SimulationOptions } from '../../src/local/simulate/run-simulation.js';
import { Orchestrations } from '../../src/names.js';

// The rollout flow end to end: the app as registered, on the local durable runner, against the fake cloud.
const SCENARIOS = resolve(process.cwd(), 'scenarios');

async function simulate(scenario: Scenario, options: SimulationOptions = {}) {
  const result = await runSimulation(scenario, { ...options, keepRunning: true });
  await result.close();
  return result;
}

function scenario(overrides: Record<string, unknown>): Scenario {
  return parseScenario(
    JSON.stringify({
      name: 'rollout',
      timers: false,
      trigger: ['eventgrid'],
      gallery: {
        regions: ['westeurope'],
        existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
      },
      scaleSets: [{ name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 3 }],
      eventgrid: { version: { image: 'linux', version: '2026.12.1' } },
      ...overrides,
    }),
    'inline',
  );
}

/** Versions the instances of a scale set run now. */
function instanceVersions(cloud: FakeCloud, scaleSet: string): string[] {
  return [...cloud.world.scaleSets.get(scaleSet)!.instances.values()].map((i) =>
    i.imageId.split('/').at(-1)!,
  );
}

/** Starts a job on an instance right now, as if GitHub/ADO had just assigned one (the race kiln must lose gracefully). */
function startJobNow(cloud: FakeCloud, vmName: string, minutes: number): void {
  const world = cloud.world as unknown as { jobs: unknown[]; tryStartJob(job: unknown): void };
  const job = { id: 9000 + world.jobs.length, instance: vmName, minutes, state: 'scheduled' };
  world.jobs.push(job);
  world.tryStartJob(job);
}

describe('rollout', () => {
  it('busy-and-ghosts with an Event Grid version (3 duplicates): Linux scale sets end on it, no job interrupted, one rollout', async () => {
    const base = loadScenarioFile(resolve(SCENARIOS, 'busy-and-ghosts.yaml'));
    const { report, cloud, host } = await simulate({
      ...base,
      timers: false,
      trigger: ['eventgrid'],
      eventgrid: {
        version: { image: 'linux', version: '2026.12.5' },
        duplicates: 3,
        lateOlderEvent: { version: '2026.9.1', afterMinutes: 2 },
      },
    });

    expect(report.jobsInterrupted).toBe(0);
    expect(report.foreignTouched).toBe(0);
    for (const name of ['vmss-gh-linux-weu', 'vmss-gh-linux-neu']) {
      expect(report.scaleSets[name]).toMatchObject({
        state: 'updated',
        version: '2026.12.5',
        previousVersion: '2026.10.1',
        instancesPending: 0,
      });
      expect(instanceVersions(cloud, name)).toEqual(['2026.12.5', '2026.12.5', '2026.12.5', '2026.12.5']);
    }
    // The 300-minute job ran to its end before its instance moved (busyWaitHours is 6).
    expect(report.events.findIndex((e) => e.message === 'job finished on vmss-gh-linux-neu_1')).toBeLessThan(
      report.events.findIndex((e) => e.message === 'upgrading vmss-gh-linux-neu_1'),
    );
    expect(report.scaleSets['vmss-ado-win-weu']).toMatchObject({ state: 'untouched', version: '2026.10.1' });
    // Exactly one rollout of the new version ran, whatever the number of deliveries (S5).
    const rollouts = host.runner.listInstances().filter((i) => i.name === Orchestrations.rollout);
    expect(rollouts.filter((r) => r.instanceId.endsWith('2026.12.5'))).toHaveLength(1);
    expect(report.rollouts.filter((r) => r.version === '2026.12.5')).toEqual([
      {
        definition: 'linux-agent',
        version: '2026.12.5',
        source: 'eventgrid',
        kind: 'eventgrid',
        state: 'succeeded',
      },
    ]);
    // The late event for an older version rolled nothing back, and the report says why.
    expect(report.rollouts.find((r) => r.version === '2026.9.1')).toMatchObject({
      kind: 'eventgrid',
      state: 'skipped',
      reason: 'it already runs the newer version 2026.10.1 (vmss-gh-linux-weu, vmss-gh-linux-neu)',
    });
    expect(report.outcome).toBe('succeeded');
  });

  it('bad-image: the first wave fails its health gate, the scale set is rolled back, the others are never touched', async () => {
    const base = loadScenarioFile(resolve(SCENARIOS, 'bad-image.yaml'));
    const { report, cloud } = await simulate({
      ...base,
      trigger: ['eventgrid'],
      timers: false,
      eventgrid: { version: { image: 'linux', version: '2026.12.1' }, duplicates: 1 },
    });

    expect(report.outcome).toBe('rolledBack');
    expect(report.scaleSets['vmss-gh-linux-weu']).toMatchObject({
      state: 'rolledBack',
      version: '2026.10.1',
    });
    expect(report.scaleSets['vmss-gh-linux-weu']!.reason).toMatch(
      /wave 1: 1 of 1 upgraded instance\(s\) unhealthy .* above the 20% allowed/,
    );
    expect(instanceVersions(cloud, 'vmss-gh-linux-weu')).toEqual(['2026.10.1', '2026.10.1', '2026.10.1']);
    expect(cloud.scaleSetVersion('vmss-gh-linux-weu')).toBe('2026.10.1');
    // Never touched: model and instances unchanged, no cloud event names it (S4).
    expect(report.scaleSets['vmss-gh-linux-weu-2']).toMatchObject({
      state: 'untouched',
      version: '2026.10.1',
    });
    expect(cloud.scaleSetVersion('vmss-gh-linux-weu-2')).toBe('2026.10.1');
    expect(
      report.events.filter((e) => e.flow === 'arm' && e.message.includes('vmss-gh-linux-weu-2')),
    ).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
  });

  it('leaves an instance whose job outlasts busyWaitHours pending on the old version, never forcing it', async () => {
    const { report, cloud } = await simulate(
      scenario({ jobs: [{ instance: 'vmss-gh_1', minutes: 8 * 60 }], until: '2026-12-01T12:00:00Z' }),
    );
    expect(report.scaleSets['vmss-gh']).toMatchObject({
      state: 'pending',
      version: '2026.12.1',
      instancesPending: 1,
    });
    expect(report.scaleSets['vmss-gh']!.reason).toMatch(
      /1 instance\(s\) stayed busy past 6 h and remain on 2026.10.1/,
    );
    expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.12.1', '2026.10.1', '2026.12.1']);
    expect(report.outcome).toBe('partial');
    expect(report.jobsInterrupted).toBe(0);
  });

  it('skips a runner that picks up a job between the check and the drain (GitHub refuses with 422), and moves it later', async () => {
    let raced = false;
    const { report, cloud } = await simulate(scenario({}), {
      onStart: (c) => {
        const deleteRunner = c.world.deleteRunner.bind(c.world);
        c.world.deleteRunner = (id: number) => {
          const runner = c.world.runners.get(id);
          if (!raced && runner?.name.endsWith('000001')) {
            raced = true;
            startJobNow(c, 'vmss-gh_1', 45);
          }
          return deleteRunner(id);
        };
      },
    });
    expect(raced).toBe(true);
    expect(report.jobsInterrupted).toBe(0);
    expect(report.scaleSets['vmss-gh']).toMatchObject({ state: 'updated', instancesPending: 0 });
    expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.12.1', '2026.12.1', '2026.12.1']);
    const finished = report.events.findIndex((e) => e.message === 'job finished on vmss-gh_1');
    expect(finished).toBeGreaterThan(-1);
    expect(finished).toBeLessThan(report.events.findIndex((e) => e.message === 'upgrading vmss-gh_1'));
  });

  it('gives an Azure DevOps agent back when a job arrives between disabling and the re-check', async () => {
    let raced = false;
    const { report, cloud } = await simulate(
      scenario({
        scaleSets: [{ name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 2 }],
        eventgrid: { version: { image: 'windows', version: '2026.12.1' } },
      }),
      {
        onStart: (c) => {
          const setAgentEnabled = c.world.setAgentEnabled.bind(c.world);
          c.world.setAgentEnabled = (agent, enabled) => {
            setAgentEnabled(agent, enabled);
            if (!raced && !enabled && agent.name.endsWith('000000')) {
              raced = true;
              // The job was assigned just before the disable landed.
              agent.enabled = true;
              startJobNow(c, 'vmss-ado_0', 30);
            }
          };
        },
      },
    );
    expect(raced).toBe(true);
    expect(report.jobsInterrupted).toBe(0);
    expect(report.scaleSets['vmss-ado']).toMatchObject({ state: 'updated', instancesPending: 0 });
    expect(instanceVersions(cloud, 'vmss-ado')).toEqual(['2026.12.1', '2026.12.1']);
    // The agent that got the job was enabled again for it.
    expect(report.events.findIndex((e) => e.message === 'job finished on vmss-ado_0')).toBeLessThan(
      report.events.findIndex((e) => e.message === 'upgrading vmss-ado_0'),
    );
  });

  it('rolls a 1,000-instance scale set with every orchestration history under 1,000 events', async () => {
    const { report, cloud } = await simulate(
      scenario({
        scaleSets: [{ name: 'vmss-big', image: 'linux', region: 'westeurope', capacity: 1000 }],
        until: '2026-12-02T12:00:00Z',
        // The rollout's scale is what is under test; a thousand VMs asking the broker took half of
        // its time (attested documents are signed and checked with pkijs). The broker at this scale
        // is measured by `npm run bench` (its rollout minimum includes the broker's requests).
        registration: { github: 'pat', ado: 'pat' },
      }),
    );
    expect(report.scaleSets['vmss-big']).toMatchObject({
      state: 'updated',
      version: '2026.12.1',
      instancesUpdated: 1000,
    });
    expect(new Set(instanceVersions(cloud, 'vmss-big'))).toEqual(new Set(['2026.12.1']));
    expect(report.maxHistoryEvents).toBeLessThan(1000);
    expect(report.jobsInterrupted).toBe(0);
  }, 300_000);

  it('refuses scale sets it may not pace (Flexible, or an upgrade policy other than Manual) with the reason', async () => {
    const { report, cloud } = await simulate(
      scenario({
        scaleSets: [
          { name: 'vmss-ok', image: 'linux', region: 'westeurope', capacity: 2, canary: true },
          { name: 'vmss-flex', image: 'linux', region: 'westeurope', capacity: 2 },
          { name: 'vmss-rolling', image: 'linux', region: 'westeurope', capacity: 2 },
        ],
      }),
      {
        onStart: (c) => {
          c.world.scaleSets.get('vmss-flex')!.orchestrationMode = 'Flexible';
          c.world.scaleSets.get('vmss-rolling')!.upgradeMode = 'Rolling';
        },
      },
    );
    expect(report.scaleSets['vmss-ok']).toMatchObject({ state: 'updated', version: '2026.12.1' });
    expect(report.scaleSets['vmss-flex']).toMatchObject({ state: 'untouched', version: '2026.10.1' });
    expect(report.scaleSets['vmss-flex']!.reason).toMatch(
      /orchestration mode is Flexible; kiln rolls Uniform scale sets only/,
    );
    expect(report.scaleSets['vmss-rolling']).toMatchObject({ state: 'untouched', version: '2026.10.1' });
    expect(report.scaleSets['vmss-rolling']!.reason).toMatch(/upgrade policy is Rolling; kiln needs Manual/);
    expect(instanceVersions(cloud, 'vmss-flex')).toEqual(['2026.10.1', '2026.10.1']);
    expect(instanceVersions(cloud, 'vmss-rolling')).toEqual(['2026.10.1', '2026.10.1']);
  });

  it('proves each wave with one look once the lead has shown how long an upgrade takes', async () => {
    const { report, cloud } = await simulate(
      scenario({
        scaleSets: [
          { name: 'vmss-gh-a', image: 'linux', region: 'westeurope', capacity: 10 },
          { name: 'vmss-gh-b', image: 'linux', region: 'westeurope', capacity: 10 },
        ],
      }),
    );
    for (const name of ['vmss-gh-a', 'vmss-gh-b'])
      expect(report.scaleSets[name]).toMatchObject({ state: 'updated', instancesUpdated: 10 });
    const instanceLists = (scaleSet: string) =>
      cloud.requestLog.filter(
        (r) =>
          r.method === 'GET' &&
          r.path.split('?')[0]!.endsWith(`/virtualMachineScaleSets/${scaleSet}/virtualMachines`),
      ).length;
    // 5 waves of 2. The lead (first by name) looks once to plan, then every 2 minutes until its first
    // wave is back (6 min reimage + 2 min registration: 4 looks), then once per wave; the other scale
    // set, told how long the lead's first wave took, looks once per wave from the start.
    expect(instanceLists('vmss-gh-a')).toBe(1 + 4 + 4);
    expect(instanceLists('vmss-gh-b')).toBe(1 + 5);
    // Drains delete the runners the look saw, by id: one DELETE per instance; every instance then
    // registers again through the broker, at once.
    const github = cloud.requestLog.filter((r) => r.service === 'github');
    expect(github.filter((r) => r.method === 'DELETE')).toHaveLength(20);
    expect(report.registrations).toEqual({ brokered: 20, refused: {} });
    expect(report.jobsInterrupted).toBe(0);
  });

  it('leaves out an instance scaled in while it was busy, and finishes the others', async () => {
    let scaledIn = false;
    const { report, cloud } = await simulate(scenario({ jobs: [{ instance: 'vmss-gh_1', minutes: 90 }] }), {
      onStart: (c) => {
        const world = c.world as unknown as { finishJob(job: { instance: string }): void };
        const finishJob = world.finishJob.bind(c.world);
        world.finishJob = (job) => {
          finishJob(job);
          if (job.instance !== 'vmss-gh_1') return;
          // Autoscale removed the instance as soon as its job ended (its ephemeral JIT runner is gone
          // with the job; a PAT-mode runner would stay behind, offline).
          const set = c.world.scaleSets.get('vmss-gh')!;
          const instance = set.instances.get('1')!;
          set.instances.delete('1');
          const runner = c.world.findRunnerByName(instance.computerName);
          if (runner) runner.status = 'offline';
          scaledIn = true;
        };
      },
    });
    expect(scaledIn).toBe(true);
    // Waves of one: instances 0 and 2, then instance 1 from the look of the busy wait, which ARM
    // refuses (no longer an instance): the activity leaves it out instead of failing the rollout.
    const upgrades = cloud.requestLog.filter((r) => r.method === 'POST' && r.path.endsWith('/manualupgrade'));
    expect(upgrades).toHaveLength(3);
    expect(report.scaleSets['vmss-gh']).toMatchObject({ state: 'updated', instancesPending: 0 });
    expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.12.1', '2026.12.1']);
    expect(report.jobsInterrupted).toBe(0);
  });

  it('names an upgrade that failed in ARM as the reason for the rollback, without waiting for the deadline', async () => {
    const { report } = await simulate(
      scenario({
        faults: [{ service: 'arm', operation: 'virtualMachineScaleSets.updateInstances', fail: true }],
      }),
    );
    expect(report.scaleSets['vmss-gh']).toMatchObject({ state: 'rolledBack', version: '2026.10.1' });
    expect(report.scaleSets['vmss-gh']!.reason).toMatch(
      /wave 1: 1 of 1 upgraded instance\(s\) unhealthy \(0: upgrade failed or instance gone\)/,
    );
    expect(report.jobsInterrupted).toBe(0);
  });

  it('reports a scale set already on the version untouched (already on it), and the rollout succeeded', async () => {
    const { report, cloud, host } = await simulate(
      scenario({
        trigger: ['http-rollout'],
        eventgrid: undefined,
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1', '2026.12.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2, version: '2026.12.1' },
          { name: 'vmss-gh-old', image: 'linux', region: 'westeurope', capacity: 2, version: '2026.10.1' },
        ],
      }),
    );
    expect(report.violations).toEqual([]);
    expect(report.rollouts).toEqual([expect.objectContaining({ version: '2026.12.1', state: 'succeeded' })]);
    expect(report.scaleSets['vmss-gh']).toMatchObject({
      state: 'untouched',
      reason: 'already on 2026.12.1',
      version: '2026.12.1',
      instancesUpdated: 0,
    });
    // The lead had nothing to prove the version with, so the next scale set led and moved.
    expect(report.scaleSets['vmss-gh-old']).toMatchObject({ state: 'updated', instancesUpdated: 2 });
    expect(instanceVersions(cloud, 'vmss-gh-old')).toEqual(['2026.12.1', '2026.12.1']);
    const rollout = host.runner.listInstances().find((i) => i.name === Orchestrations.rollout)!;
    expect(rollout.output).toMatchObject({
      state: 'succeeded',
      scaleSets: {
        'vmss-gh': { state: 'untouched', alreadyOnVersion: true, reason: 'already on 2026.12.1' },
      },
    });
  });

  it('reports a dry run without changing anything', async () => {
    const { report, cloud } = await simulate(scenario({ dryRun: true }));
    expect(report.outcome).toBe('planned');
    expect(report.scaleSets['vmss-gh']).toMatchObject({ state: 'planned', version: '2026.10.1' });
    expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.10.1', '2026.10.1', '2026.10.1']);
  });
});

describe('rollout of named scale sets', () => {
  it('fails, moving nothing, when a name is not a managed scale set, naming it and the managed ones', async () => {
    const { cloud, host, close } = await runSimulation(
      scenario({
        trigger: [],
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1', '2026.12.1'], windows: [] },
        },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2, version: '2026.10.1' },
          { name: 'vmss-team', image: 'linux', region: 'westeurope', capacity: 1, managed: false },
        ],
      }),
      { keepRunning: true },
    );
    try {
      const started = await host.invokeHttp({
        method: 'POST',
        path: '/api/rollouts',
        body: JSON.stringify({
          image: 'linux',
          version: '2026.12.1',
          scaleSets: ['vmss-gh', 'vmss-team', 'vmss-typo'],
        }),
        headers: { 'x-functions-key': host.functionKey },
      });
      expect(started.status).toBe(202);
      const status = await host.runner.runToCompletion(JSON.parse(started.body).id);
      expect(status.output).toMatchObject({
        state: 'failed',
        reason:
          'not a managed scale set: vmss-team, vmss-typo (managed: vmss-gh); name managed scale sets only, ' +
          'or tag the scale set with MANAGED_TAG to bring it into scope',
        scaleSets: { 'vmss-team': { state: 'refused' }, 'vmss-typo': { state: 'refused' } },
      });
      expect(Object.keys((status.output as { scaleSets: object }).scaleSets)).not.toContain('vmss-gh');
      expect(instanceVersions(cloud, 'vmss-gh')).toEqual(['2026.10.1', '2026.10.1']);
    } finally {
      await close();
    }
  });
});
