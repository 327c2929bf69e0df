import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

// Fleet hygiene end to end: the app as registered, on the local durable runner, against the fake cloud.
const SCENARIOS = resolve(process.cwd(), 'scenarios');
// The cleanup timer only: these scenarios start before 03:00 on the 1st, when the monthly rebuild would fire.
const CLEANUP_ONLY = ['cleanupTimer'];

function busyAndGhosts(hours = 3): Scenario {
  const scenario = loadScenarioFile(resolve(SCENARIOS, 'busy-and-ghosts.yaml'));
  return { ...scenario, until: new Date(Date.parse(scenario.start) + hours * 3600_000).toISOString() };
}

describe('cleanup on busy-and-ghosts', () => {
  it('deletes every ghost, touches no busy or foreign registration, and retries the injected GitHub 500s', async () => {
    const { report, cloud } = await runSimulation(busyAndGhosts(), {
      triggers: ['cleanup'],
      timers: CLEANUP_ONLY,
      keepRunning: true,
    }).then(async (r) => {
      await r.close();
      return r;
    });
    expect(report.outcome).toBe('succeeded');
    expect(report.jobsInterrupted).toBe(0);
    expect(report.foreignTouched).toBe(0);
    expect(report.deleted.githubRunners).toHaveLength(12);
    expect(report.deleted.adoAgents).toHaveLength(2);
    expect([...report.deleted.githubRunners].sort()).toEqual(
      [...report.hygiene.decisions.removeRunners].sort(),
    );
    expect(report.faultsInjected['github:deleteRunner']).toBe(2);
    // The busy Linux instance (job of 300 minutes) kept its runner.
    expect(report.hygiene.decisions.keptBusy).toContain('vmss-gh-linux-neu-000001');
    expect(report.hygiene.decisions.foreign).toHaveLength(3);
    // Every managed instance still has its registration: nothing but ghosts went away.
    for (const set of cloud.world.scaleSets.values()) {
      for (const instance of set.instances.values())
        expect(
          cloud.world.findRunnerByName(instance.computerName) ??
            cloud.world.findAgentByName(instance.computerName),
        ).toBeDefined();
    }
    expect(report.hygiene.runs).toBeGreaterThan(10);
    expect(report.orchestrations.failed).toEqual([]);
    // A ghost's DELETE is its own busy check (GitHub refuses while a job runs): no read before it.
    expect(cloud.requestLog.filter((r) => r.service === 'github' && isRunnerRead(r))).toEqual([]);
  });

  it('removes many ghosts in a few activities, and keeps a ghost GitHub refuses to delete as busy', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'many-ghosts',
        timers: false,
        trigger: ['cleanup'],
        until: '2026-12-01T03:30:00Z',
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [{ name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 2 }],
        ghosts: { github: 120 },
      }),
      'inline',
    );
    let refused = '';
    const result = await runSimulation(scenario, {
      keepRunning: true,
      onStart: (cloud) => {
        const deleteRunner = cloud.world.deleteRunner.bind(cloud.world);
        cloud.world.deleteRunner = (id: number) => {
          const runner = cloud.world.runners.get(id);
          if (!refused && runner) {
            // Whatever the listing said, GitHub has the last word: a runner with a job is not deleted.
            refused = runner.name;
            runner.busy = true;
          }
          return deleteRunner(id);
        };
      },
    });
    try {
      const { report, cloud, host } = result;
      expect(refused).not.toBe('');
      expect(report.hygiene.decisions.removeRunners).toHaveLength(120);
      expect(report.deleted.githubRunners).toHaveLength(119);
      expect(report.deleted.githubRunners).not.toContain(refused);
      expect(cloud.world.findRunnerByName(refused)).toBeDefined();
      // At most 100 removals a minute (GitHub's secondary limit: 900 points, 5 a DELETE).
      const perMinute = new Map<string, number>();
      for (const e of report.events.filter((e) => e.message.startsWith('deleted runner')))
        perMinute.set(e.at.slice(0, 16), (perMinute.get(e.at.slice(0, 16)) ?? 0) + 1);
      // 100 tried in the first minute (one refused as busy), the other 20 a minute later.
      expect([...perMinute.values()]).toEqual([99, 20]);
      // 120 removals in ceil(120 / 50) = 3 activities: the history does not grow with the ghosts.
      // (Its bookkeeping, the run record's start and end and the metrics, is 3 activities more.)
      const cleanup = host.runner.stats().find((s) => s.instanceId === 'kiln-cleanup')!;
      expect(cleanup.maxHistoryEvents).toBeLessThan(46);
      expect(report.orchestrations.failed).toEqual([]);
    } finally {
      await result.close();
    }
  });

  it('reports the same decisions in a dry run and changes nothing', async () => {
    const real = (await runSimulation(busyAndGhosts(1), { triggers: ['cleanup'], timers: CLEANUP_ONLY }))
      .report;
    const dry = (
      await runSimulation(busyAndGhosts(1), { triggers: ['cleanup'], timers: CLEANUP_ONLY, dryRun: true })
    ).report;
    expect(dry.outcome).toBe('planned');
    expect(dry.hygiene.decisions).toEqual(real.hygiene.decisions);
    expect(dry.deleted).toEqual({ githubRunners: [], adoAgents: [], galleryVersions: [], instances: [] });
    expect(dry.jobsInterrupted).toBe(0);
    expect(dry.foreignTouched).toBe(0);
  });

  it('reimages an instance whose runner never registered, and removes a registration offline past the grace period', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'stuck-instances',
        until: '2026-12-01T04:30:00Z',
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', region: 'westeurope', capacity: 3 },
          { name: 'vmss-ado', image: 'windows', region: 'westeurope', capacity: 2 },
        ],
      }),
      'inline',
    );
    let stuck = '';
    let offline = '';
    const result = await runSimulation(scenario, {
      keepRunning: true,
      timers: CLEANUP_ONLY,
      onStart: (cloud) => {
        const set = cloud.world.scaleSets.get('vmss-gh')!;
        // Instance 1's runner service crashed before registering; instance 2's VM went quiet (runner offline).
        const [, first, second] = [...set.instances.values()];
        stuck = first!.computerName;
        offline = second!.computerName;
        const runner = cloud.world.findRunnerByName(stuck)!;
        cloud.world.runners.delete(runner.id);
        cloud.world.findRunnerByName(offline)!.status = 'offline';
      },
    });
    try {
      const { report, cloud } = result;
      // Instance 1 is reimaged after the boot deadline; instance 2's registration is removed after the
      // grace period, and the VM, now without a registration, is reimaged next: the fleet heals itself.
      expect(report.hygiene.decisions.reimage).toEqual(['vmss-gh_1', 'vmss-gh_2']);
      expect(report.hygiene.decisions.removeRunners).toEqual([offline]);
      expect(report.deleted.githubRunners).toEqual([offline]);
      // The grace period (30 min) passed before the offline runner was removed, the boot deadline (20 min) before the reimage.
      const removedAt = report.events.find(
        (e) => e.flow === 'github' && e.message.includes(`deleted runner ${offline}`),
      )!.at;
      expect(Date.parse(removedAt) - Date.parse(scenario.start)).toBeGreaterThanOrEqual(30 * 60_000);
      // After their reimage both instances registered again; nothing else was touched.
      expect(cloud.world.findRunnerByName(stuck)?.status).toBe('online');
      expect(cloud.world.findRunnerByName(offline)?.status).toBe('online');
      expect(report.jobsInterrupted).toBe(0);
      expect(report.foreignTouched).toBe(0);
      // The offline runner's instance exists, so it could have come back: it was read before its DELETE.
      expect(
        cloud.requestLog.filter((r) => r.service === 'github' && isRunnerRead(r)).length,
      ).toBeGreaterThan(0);
    } finally {
      await result.close();
    }
  });
});

/** GET of one runner by id (GET …/actions/runners/{id}). */
function isRunnerRead(r: { method: string; path: string }): boolean {
  return r.method === 'GET' && /\/actions\/runners\/\d+$/.test(r.path.split('?')[0]!);
}
