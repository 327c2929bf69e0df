import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorldAgent, WorldJob } from '../../src/local/fake-cloud/world.js';
import { loadScenarioFile, parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import type { ReportEvent } from '../../src/local/simulate/report.js';

// One job per machine (scale sets tagged kiln-recycle=true), end to end: the app as registered, on
// the local durable runner, against the fake cloud, whose world judges S1 from its own truth.
const SCENARIOS = resolve(process.cwd(), 'scenarios');

/** What happened to one instance, in order: each job started on it and each reimage. */
function lifeOf(events: ReportEvent[], instance: string): ('job' | 'reimage')[] {
  return events.flatMap((e) => {
    if (e.message.startsWith(`job started on ${instance} `)) return ['job' as const];
    if (e.message === `reimaging ${instance}`) return ['reimage' as const];
    return [];
  });
}

describe('recycle: one job per machine', () => {
  it('scenarios/recycle.yaml: every machine of a recycle scale set serves one job, then is reimaged before the next; busy ones wait (S1)', async () => {
    const { report, cloud } = await runSimulation(loadScenarioFile(resolve(SCENARIOS, 'recycle.yaml')), {
      keepRunning: true,
    }).then(async (r) => {
      await r.close();
      return r;
    });
    expect(report.outcome).toBe('succeeded');
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    expect(report.contractViolations).toEqual([]);
    expect(report.hygiene.errors).toEqual([]);
    // Every job ran to its end, the one queued right before its machine's reimage included.
    expect(cloud.world.jobs.map((j) => `${j.instance}: ${j.state}`)).toEqual(
      cloud.world.jobs.map((j) => `${j.instance}: done`),
    );

    // Each job on a recycle machine is followed by a reimage before the next job starts.
    expect(lifeOf(report.events, 'vmss-gh-once_0')).toEqual([
      'job',
      'reimage',
      'job',
      'reimage',
      'job',
      'reimage',
    ]);
    expect(lifeOf(report.events, 'vmss-ado-once_0')).toEqual(['job', 'reimage', 'job', 'reimage']);
    // The long job kept its machine busy through many cleanup runs: reimaged once, after it ended.
    expect(lifeOf(report.events, 'vmss-gh-once_1')).toEqual(['job', 'reimage']);
    const ended = report.events.find((e) => e.message === 'job finished on vmss-gh-once_1')!.at;
    const reimaged = report.events.find((e) => e.message === 'reimaging vmss-gh-once_1')!.at;
    expect(Date.parse(reimaged)).toBeGreaterThan(Date.parse(ended));
    expect(report.hygiene.decisions.keptBusy).toContain('vmss-gh-once-000001');
    // A machine that served no job is left alone.
    expect(lifeOf(report.events, 'vmss-gh-once_2')).toEqual([]);
    expect(report.hygiene.decisions.recycle).toEqual(['vmss-gh-once_0', 'vmss-ado-once_0', 'vmss-gh-once_1']);

    // Without the tag a jit machine also serves one job, but comes back only by the boot-deadline
    // rule (never-registered, 20 minutes after its provisioning), not right after its job.
    expect(lifeOf(report.events, 'vmss-gh-pool_0')).toEqual(['job', 'reimage', 'job', 'reimage']);
    expect(report.hygiene.decisions.reimage).toEqual(['vmss-gh-pool_0']);
    // The --once agents were removed before their reimage (then registered afresh); GitHub removed
    // its ephemeral runners itself.
    expect(report.deleted.adoAgents).toEqual(['adoonce1000000', 'adoonce1000000']);
    expect(report.deleted.githubRunners).toEqual([]);
    for (const set of cloud.world.scaleSets.values())
      for (const instance of set.instances.values())
        expect(
          cloud.world.findRunnerByName(instance.computerName) ??
            cloud.world.findAgentByName(instance.computerName),
          instance.name,
        ).toMatchObject({ status: 'online' });
  });

  it('re-checks right before acting: a machine whose runner registered again, or whose agent took a job, since the plan is not reimaged (S1)', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'recycle-races',
        // PAT mode: the runners register as bootstrap.sh's `config.sh --ephemeral` does, and the
        // agents with their PAT (the scenario above covers jit / broker, the defaults).
        registration: { github: 'pat', ado: 'pat' },
        start: '2026-12-02T08:00:00Z',
        until: '2026-12-02T10:30:00Z',
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] },
        },
        scaleSets: [
          { name: 'vmss-gh', image: 'linux', capacity: 1, recycle: true },
          { name: 'vmss-ado', image: 'windows', capacity: 1, recycle: true },
        ],
        jobs: [
          { instance: 'vmss-gh_0', minutes: 20, startAfterMinutes: 5 },
          { instance: 'vmss-ado_0', minutes: 20, startAfterMinutes: 5 },
        ],
      }),
      'inline',
    );
    const raced: WorldJob[] = [];
    const result = await runSimulation(scenario, {
      keepRunning: true,
      timers: ['cleanupTimer'],
      onStart: (cloud) => {
        const world = cloud.world;
        const beforeRequest = world.beforeRequest.bind(world);
        const runnerName = 'vmss-gh-000000';
        let listsWithoutRunner = 0;
        /** A job that starts on the instance right as kiln's request arrives (the world's race). */
        const raceJob = (instance: string, service: string, operation: string) => {
          const job: WorldJob = {
            id: 100 + raced.length,
            instance,
            minutes: 30,
            state: 'armed',
            race: { service, operation },
          };
          world.jobs.push(job);
          raced.push(job);
        };
        world.beforeRequest = (service, operation) => {
          // The cleanup that recycles vmss-gh_0 lists the runners (its runner is gone after its job),
          // then looks the name up right before the reimage: in between, the VM registers again and
          // takes a job.
          if (service === 'github' && operation === 'listRunners' && !world.findRunnerByName(runnerName)) {
            listsWithoutRunner++;
            if (listsWithoutRunner === 2 && raced.every((j) => j.instance !== 'vmss-gh_0')) {
              world.runners.set(9001, {
                id: 9001,
                name: runnerName,
                os: 'linux',
                status: 'online',
                busy: false,
                labels: [],
                foreign: false,
                ephemeral: true,
                version: world.runnerRelease.tag.slice(1),
              });
              raceJob('vmss-gh_0', service, operation);
            }
          }
          // The cleanup that recycles vmss-ado_0 reads the agent right before removing it: the agent
          // came back online and took a job meanwhile.
          if (
            service === 'ado' &&
            operation === 'getAgent' &&
            raced.every((j) => j.instance !== 'vmss-ado_0')
          ) {
            const agent = [...world.agents.values()].find((a: WorldAgent) => a.name.startsWith('ado'))!;
            agent.status = 'online';
            raceJob('vmss-ado_0', service, operation);
          }
          beforeRequest(service, operation);
        };
      },
    });
    try {
      const { report } = result;
      expect(raced.map((j) => `${j.instance}: ${j.state}`)).toEqual(['vmss-ado_0: done', 'vmss-gh_0: done']);
      expect(report.violations).toEqual([]);
      expect(report.authorizationFailures).toEqual([]);
      expect(report.jobsInterrupted).toBe(0);
      // The cleanup that planned them kept both machines: the agent was not removed (busy at its read).
      expect(
        report.events.some((e) => /skipped 1 that became busy or came back online/.test(e.message)),
      ).toBe(true);
      // Each raced job ran on the machine it found; once it was done, the machine was recycled.
      for (const job of raced) {
        expect(lifeOf(report.events, job.instance)).toEqual(['job', 'job', 'reimage']);
        const reimaged = report.events.find((e) => e.message === `reimaging ${job.instance}`)!.at;
        expect(Date.parse(reimaged)).toBeGreaterThanOrEqual(job.endsAt!);
      }
      expect(report.hygiene.decisions.recycle).toEqual(['vmss-gh_0', 'vmss-ado_0']);
    } finally {
      await result.close();
    }
  });
});
