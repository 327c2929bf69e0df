/**
 * Capacity on demand (issue 19), end to end: the real autoscale orchestration on its timer against
 * the fake cloud, judged by the fake world's own truth (no interrupted job, no scale set outside the
 * scope touched), whatever kiln reports.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { Orchestrations } from '../../src/names.js';
import { storedOutput } from '../../src/orchestration-contracts.js';
import type { AutoscaleOutput } from '../../src/orchestrations/autoscale.js';

/** PAT registration (runners stay registered between jobs) unless the body says otherwise. */
function scenario(body: string, hours = 2) {
  const own = (key: string, value: string) =>
    new RegExp(`^${key}:`, 'm').test(body) ? '' : `${key}: ${value}`;
  return parseScenario(
    `
name: autoscale
start: 2026-12-02T08:00:00Z
until: ${new Date(Date.parse('2026-12-02T08:00:00Z') + hours * 3600_000).toISOString()}
${own('registration', '{ github: pat, ado: pat }')}
latency: { provision: 4, register: 2 }
${body}
`,
    'autoscale.yaml',
  );
}

async function run(body: string, hours = 2) {
  const s = scenario(body, hours);
  // Only the autoscaler's timer: hygiene and the monthly rebuild stay out of these worlds.
  const result = await runSimulation(s, { keepRunning: true, timers: ['autoscaleTimer'] });
  try {
    const looks = result.host.runner
      .listInstances()
      .map((status) => storedOutput(Orchestrations.autoscale, status))
      .filter((o): o is AutoscaleOutput => o !== undefined);
    const scaleSetRollouts = result.host.runner
      .listInstances()
      .map((status) => storedOutput(Orchestrations.rolloutScaleSet, status))
      .filter((o) => o !== undefined);
    const capacities = (name: string) =>
      result.report.events
        .map((e) => new RegExp(`^${name} capacity (\\d+) → (\\d+)`).exec(e.message))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[2]));
    return { ...result, looks, scaleSetRollouts, capacities, world: result.cloud.world };
  } finally {
    await result.close();
  }
}

const live = (
  world: { scaleSets: Map<string, { name: string; instances: Map<string, { provisioningState: string }> }> },
  name: string,
) =>
  [...[...world.scaleSets.values()].find((s) => s.name === name)!.instances.values()].filter(
    (i) => i.provisioningState !== 'Deleting',
  ).length;

describe('autoscaler', () => {
  it('keeps warm machines, respects max, and comes down to what is wanted once the jobs are done', async () => {
    const { report, capacities, world, looks } = await run(
      `
scaleSets:
  - name: lin
    image: linux
    capacity: 1
    autoscale: { min: 1, max: 4, warm: 1, idleMinutes: 5 }
workload:
  seed: 3
  streams:
    - fleet: github
      labels: [self-hosted, linux]
      arrivals: [{ from: 2026-12-02T08:00:00Z, to: 2026-12-02T09:00:00Z, perHour: 20 }]
      minutes: { min: 5, max: 15 }
`,
      3,
    );
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    // Demand above max: it went up to 4 and never beyond.
    expect(Math.max(...capacities('lin'))).toBe(4);
    expect(report.workload!.scaleOuts).toBeGreaterThan(0);
    expect(report.workload!.scaleIns).toBeGreaterThan(0);
    // An hour after the last arrival: busy 0 + warm 1, at least min 1.
    expect(live(world, 'lin')).toBe(1);
    const last = looks.at(-1)!.scaleSets[0]!;
    expect(last.desired).toBe(1);
    expect(last.reason).toMatch(/^demand: 1 wanted \(busy 0 \+ queued 0 \+ warm 1 from kiln-warm\)/);
  });

  it('never scales in a busy machine, even when a job is assigned between its look and the delete', async () => {
    const { report, world, looks } = await run(
      `
scaleSets:
  - name: lin
    image: linux
    capacity: 3
    autoscale: { min: 0, max: 5, idleMinutes: 0 }
jobs:
  # From the start, a job is assigned to lin_1 right before kiln's next runner delete: GitHub
  # then refuses the delete (422) and the instance stays.
  - instance: lin_1
    minutes: 30
    startAfterMinutes: 0
    race: { service: github, operation: deleteRunner }
`,
      1,
    );
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    const at = (pattern: RegExp) => report.events.find((e) => pattern.test(e.message))?.at;
    expect(at(/refused to delete busy runner lin-000001/)).toBe('2026-12-02T08:00:00.000Z');
    // The idle ones went at once; lin_1 stayed for its job and went once it was done.
    expect(at(/deleted instance lin_0$/)).toBe('2026-12-02T08:01:00.000Z');
    expect(Date.parse(at(/deleted instance lin_1$/)!)).toBeGreaterThan(Date.parse('2026-12-02T08:30:00Z'));
    expect(live(world, 'lin')).toBe(0);
    expect(looks.at(-1)!.scaleSets[0]!.counts.total).toBe(0);
  });

  it('never touches a scale set outside its scope, nor one without capacity tags', async () => {
    const { report, world, capacities } = await run(
      `
scaleSets:
  - { name: lin, image: linux, capacity: 2, autoscale: { min: 0, max: 3, idleMinutes: 0 } }
  - { name: plain, image: linux, capacity: 3 }
  - { name: theirs, image: linux, capacity: 3, managed: false, autoscale: { min: 0, max: 3 } }
`,
      1,
    );
    expect(report.violations).toEqual([]);
    expect(report.foreignTouched).toBe(0);
    expect(live(world, 'lin')).toBe(0);
    expect(live(world, 'plain')).toBe(3);
    expect(live(world, 'theirs')).toBe(3);
    expect(capacities('plain')).toEqual([]);
    expect(capacities('theirs')).toEqual([]);
  });

  it('reports wrong capacity tags and leaves that scale set alone', async () => {
    const { looks, world } = await run(
      `
scaleSets:
  - { name: lin, image: linux, capacity: 2, autoscale: { min: 5, max: 3 } }
`,
      0.5,
    );
    expect(looks[0]!.badTags).toEqual([
      {
        scaleSet: 'lin',
        problems: [expect.stringMatching(/kiln-min="5" is above kiln-max="3"/)],
      },
    ]);
    expect(live(world, 'lin')).toBe(2);
  });
});

describe('autoscaler and rollouts', () => {
  it('scales in old instances while a rollout runs, never one of a wave it drains, and the rollout counts them as updated', async () => {
    const { report, world, scaleSetRollouts } = await run(
      `
trigger: [http-rollout]
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1], windows: [2026.10.1, 2026.11.1] }
scaleSets:
  - name: win
    image: windows
    capacity: 6
    version: 2026.10.1
    autoscale: { min: 0, max: 8, warm: 2, idleMinutes: 0 }
jobs:
  - { instance: win_0, minutes: 40 }
  - { instance: win_1, minutes: 40 }
`,
      3,
    );
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    expect(report.scaleSets.win!.state).toBe('updated');
    const win = scaleSetRollouts.find((r) => r.scaleSet === 'win')!;
    // Idle old instances went by attrition; the rollout counts them with the ones it moved.
    expect(win.instancesReplaced).toBeGreaterThan(0);
    expect(win.instancesUpdated).toBeGreaterThanOrEqual(win.instancesReplaced!);
    const instances = [...[...world.scaleSets.values()][0]!.instances.values()].filter(
      (i) => i.provisioningState !== 'Deleting',
    );
    expect(instances.every((i) => /2026\.11\.1$/.test(i.imageId))).toBe(true);
  });
});

describe('autoscaler on Azure DevOps', () => {
  it('gives an agent back when it took a job between being disabled and the re-check, and keeps its machine', async () => {
    const { report, world } = await run(
      `
scaleSets:
  - name: win
    image: windows
    capacity: 2
    autoscale: { min: 0, max: 4, idleMinutes: 0 }
jobs:
  # A job is assigned to win_1's agent right before kiln's next agent update (its disable): the
  # fresh list after the disable shows it busy, so kiln enables it again and keeps the instance.
  - instance: win_1
    minutes: 20
    startAfterMinutes: 0
    race: { service: ado, operation: updateAgent }
`,
      1,
    );
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    const at = (pattern: RegExp) => report.events.find((e) => pattern.test(e.message))?.at;
    expect(at(/enabled agent win0000001/)).toBe('2026-12-02T08:00:00.000Z');
    expect(Date.parse(at(/deleted instance win_1$/)!)).toBeGreaterThan(Date.parse('2026-12-02T08:20:00Z'));
    expect(live(world, 'win')).toBe(0);
  });
});

describe('autoscaler when its reads fail', () => {
  it('scales nothing in while the runner list or the job requests cannot be read, and catches up after', async () => {
    const { report, world, capacities } = await run(
      `
scaleSets:
  - { name: lin, image: linux, capacity: 3, autoscale: { min: 0, max: 5, idleMinutes: 0 } }
  - { name: win, image: windows, capacity: 2, autoscale: { min: 0, max: 5, idleMinutes: 0 } }
faults:
  # The first 20 minutes GitHub's runner list and the pool's job requests answer 500: every runner's
  # state and the Azure DevOps queue are unknown, so nothing idle may go (S1), whatever else is known.
  - { service: github, operation: listRunners, status: 500, persistent: true, forMinutes: 20 }
  - { service: ado, operation: listJobRequests, status: 500, persistent: true, forMinutes: 20 }
`,
      1,
    );
    expect(report.violations).toEqual([]);
    const at = (pattern: RegExp) => report.events.find((e) => pattern.test(e.message))?.at;
    // Nothing went while the reads failed; once they answer, the idle machines go.
    expect(Date.parse(at(/deleted instance lin_0$/)!)).toBeGreaterThanOrEqual(
      Date.parse('2026-12-02T08:20:00Z'),
    );
    expect(Date.parse(at(/deleted instance win_0$/)!)).toBeGreaterThanOrEqual(
      Date.parse('2026-12-02T08:20:00Z'),
    );
    expect(capacities('lin')).toEqual([]);
    expect(live(world, 'lin')).toBe(0);
    expect(live(world, 'win')).toBe(0);
  });
});
