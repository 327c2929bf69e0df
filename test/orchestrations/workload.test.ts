/**
 * The simulator's workload (issue 19), end to end on the fake cloud and the virtual clock: arrivals
 * queue jobs, the fake GitHub and Azure DevOps give each to an idle registered runner or agent that
 * serves it, oldest first, and the report measures the waits and the idle instance minutes next to the
 * oracle's. Timers off and PAT registration keep each run to the world itself (runners stay
 * registered between jobs), so each takes a second or two.
 */
import { describe, expect, it } from 'vitest';
import type { WorldJob } from '../../src/local/fake-cloud/world.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { renderText } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

/** Timers off and PAT registration unless the body says otherwise. */
function scenario(body: string) {
  const own = (key: string, value: string) =>
    new RegExp(`^${key}:`, 'm').test(body) ? '' : `${key}: ${value}`;
  return parseScenario(
    `
name: workload
start: 2026-12-02T08:00:00Z
until: 2026-12-02T12:00:00Z
${own('timers', 'false')}
${own('registration', '{ github: pat, ado: pat }')}
latency: { provision: 4, register: 2 }
${body}
`,
    'workload.yaml',
  );
}

const linux = (labels: string, perHour = 20) => `
    - fleet: github
      labels: ${labels}
      arrivals: [{ from: 2026-12-02T08:00:00Z, to: 2026-12-02T11:00:00Z, perHour: ${perHour} }]
      minutes: { min: 5, max: 15 }`;

async function run(body: string) {
  const s = scenario(body);
  const { report, cloud } = await runSimulation(s);
  return { s, report, workload: report.workload!, jobs: cloud.world.jobs };
}

/** Started jobs by instance, in start order. */
function byInstance(jobs: WorldJob[]): Map<string, WorldJob[]> {
  const map = new Map<string, WorldJob[]>();
  for (const job of jobs.filter((j) => j.startedAt !== undefined).sort((a, b) => a.startedAt! - b.startedAt!))
    map.set(job.instance, [...(map.get(job.instance) ?? []), job]);
  return map;
}

describe('workload', () => {
  it('gives each job to an idle runner or agent that serves it, oldest first, and reports the same run the same way', async () => {
    const body = `
scaleSets:
  - { name: lin-a, image: linux, capacity: 2 }
  - { name: lin-b, image: linux, capacity: 4 }
  - { name: win, image: windows, capacity: 1 }
jobs:
  # Pinned by the scenario: lin-b_0 is busy for the first hour, so no workload job may start on it then.
  - { instance: lin-b_0, minutes: 60 }
workload:
  seed: 11
  streams:${linux('[self-hosted, Linux, lin-b]')}
    - fleet: ado
      pool: kiln-windows
      arrivals: [{ from: 2026-12-02T08:00:00Z, to: 2026-12-02T11:00:00Z, perHour: 4 }]
      minutes: { min: 5, max: 30 }
`;
    const { s, report, workload, jobs } = await run(body);
    const demand = jobs.filter((j) => j.demand);
    expect(workload.jobs).toBe(demand.length);
    expect(demand.filter((j) => j.demand!.fleet === 'github').length).toBeGreaterThan(30);
    expect(demand.filter((j) => j.demand!.fleet === 'ado').length).toBeGreaterThan(3);
    expect(workload.jobsNeverStarted).toBe(0);
    // Only runners whose labels include all the job's (the scale set's own label: lin-b), only agents of the pool.
    for (const job of demand)
      expect(job.instance).toMatch(job.demand!.fleet === 'github' ? /^lin-b_\d+$/ : /^win_0$/);
    // One job at a time on a runner or agent, the pinned one included, none before it arrived.
    for (const [instance, started] of byInstance(jobs)) {
      started.forEach((job, i) => {
        const before = started[i - 1];
        if (before)
          expect(job.startedAt, instance).toBeGreaterThanOrEqual(before.startedAt! + before.minutes * 60_000);
        if (job.demand) expect(job.startedAt).toBeGreaterThanOrEqual(job.demand.arrivedAt);
      });
    }
    // Oldest first: within a stream, no job starts before one that arrived earlier.
    for (const stream of [0, 1]) {
      const starts = demand.filter((j) => j.demand!.stream === stream).map((j) => j.startedAt!);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
    expect(report.violations).toEqual([]);
    expect(workload.scaleOuts + workload.scaleIns).toBe(0);
    expect(workload.busyInstanceMinutes).toBeGreaterThan(0);
    expect(workload.oracle.queueWaitSeconds).toEqual({ p50: 0, p95: 0, max: 0 });
    const text = renderText(report, { start: s.start, until: s.until, latency: s.latency });
    expect(text).toContain('no scale set is autoscaled: capacity stays as the scenario sets it');
    expect(text).toMatch(/instance minutes {6}idle [\d.]+ \([\d.]+ × the oracle's [\d.]+\), busy [\d.]+/);

    // The same scenario, the same workload and timeline.
    const again = await run(body);
    expect(again.report.workload).toEqual(report.workload);
    expect(again.report.events).toEqual(report.events);
  });

  it('queues longer on a fleet too small for the demand, and the oracle idles less than either fleet', async () => {
    const on = (capacity: number) =>
      run(`
scaleSets: [{ name: lin, image: linux, capacity: ${capacity} }, { name: win, image: windows, capacity: 1 }]
workload:
  seed: 5
  streams:${linux('[self-hosted, linux]')}
`);
    // One after the other: a simulation sets the process's environment for its app.
    const small = (await on(1)).workload;
    const large = (await on(5)).workload;
    // 20 jobs an hour of 10 minutes on average keep more than three runners busy: one cannot keep up.
    expect(small.jobs).toBe(large.jobs);
    expect(small.queueWaitSeconds.p95).toBeGreaterThan(1800);
    expect(small.queueWaitSeconds.p95).toBeGreaterThan(large.queueWaitSeconds.p95);
    expect(small.queueWaitSeconds.p50).toBeGreaterThan(large.queueWaitSeconds.p50);
    // The same arrivals, so the same oracle; it idles less than the fixed fleets, which idle all night long.
    expect(small.oracle).toEqual(large.oracle);
    expect(large.oracle.idleInstanceMinutes).toBeGreaterThan(0);
    expect(large.oracle.idleInstanceMinutes).toBeLessThanOrEqual(large.idleInstanceMinutes);
    expect(small.oracle.idleInstanceMinutes).toBeLessThanOrEqual(small.idleInstanceMinutes);
    // Every managed instance runs the whole run: idle + busy is their minutes (6 of 240).
    expect(large.idleInstanceMinutes + large.busyInstanceMinutes).toBeCloseTo(6 * 240, 1);
  });

  it('on a jit fleet an ephemeral runner takes one job; its machine takes another only once hygiene reimaged it', async () => {
    const { report, workload, jobs } = await run(`
registration: { github: jit, ado: broker }
timers: true
scaleSets: [{ name: lin, image: linux, capacity: 2 }, { name: win, image: windows, capacity: 1 }]
workload:
  seed: 3
  streams:
    - fleet: github
      labels: [self-hosted, linux]
      arrivals: [{ from: 2026-12-02T08:00:00Z, to: 2026-12-02T10:00:00Z, perHour: 6 }]
      minutes: { min: 5, max: 10 }
`);
    const started = jobs.filter((j) => j.demand && j.startedAt !== undefined);
    expect(started.length).toBeGreaterThan(4);
    expect(report.violations).toEqual([]);
    expect(report.jobsInterrupted).toBe(0);
    // Each instance's life: a job, its runner removed, a reimage, and only then the next job.
    for (const instance of ['lin_0', 'lin_1']) {
      const computer = `lin-${instance === 'lin_0' ? '000000' : '000001'}`;
      const life = report.events.flatMap((e) =>
        e.message.startsWith(`job started on ${instance} `)
          ? ['job']
          : e.message === `ephemeral runner ${computer} removed after its job`
            ? ['removed']
            : e.message === `reimaging ${instance}`
              ? ['reimage']
              : [],
      );
      expect(life.join(' ')).toMatch(/^(job removed reimage ?)*(job( removed)?)?$/);
      expect(life.filter((x) => x === 'job').length).toBeGreaterThan(0);
    }
    // Waiting for hygiene shows as queue time and as idle minutes of machines without a runner.
    expect(workload.queueWaitSeconds.max).toBeGreaterThan(15 * 60);
    expect(workload.idleInstanceMinutes).toBeGreaterThan(workload.oracle.idleInstanceMinutes);
  });

  it('counts capacity changes seen in ARM and the minutes of instances while running: a new one from its provisioning on', async () => {
    const { s, report, workload } = await run(`
scaleSets: [{ name: lin, image: linux, capacity: 2 }, { name: win, image: windows, capacity: 1, managed: false }]
changes:
  - { at: 10, action: scaleOut, scaleSet: lin, count: 1 }
  - { at: 100, action: scaleIn, scaleSet: lin, count: 1 }
workload:
  streams:${linux('[self-hosted, gpu]', 1)}
`);
    expect([workload.scaleOuts, workload.scaleIns]).toEqual([1, 1]);
    // lin_0 and lin_1 all run long; lin_2 runs from minute 14 (provision 4) until its deletion at 100.
    // The unmanaged Windows scale set is not kiln's: not counted.
    expect(workload.idleInstanceMinutes + workload.busyInstanceMinutes).toBeCloseTo(2 * 240 + 86, 1);
    const text = renderText(report, { start: s.start, until: s.until, latency: s.latency });
    expect(text).toContain(
      '1 scale-out, 1 scale-in  (no scale set is autoscaled: these were made outside kiln)',
    );
  });

  it('counts jobs no runner serves as never started, and leaves them out of the oracle', async () => {
    const { workload, jobs } = await run(`
scaleSets: [{ name: lin, image: linux, capacity: 2 }, { name: win, image: windows, capacity: 1 }]
workload:
  streams:${linux('[self-hosted, gpu]', 6)}
`);
    expect(workload.jobs).toBeGreaterThan(0);
    expect(workload.jobsNeverStarted).toBe(workload.jobs);
    expect(jobs.filter((j) => j.demand).every((j) => j.state === 'queued' && j.instance === '')).toBe(true);
    expect(workload.queueWaitSeconds).toEqual({ p50: 0, p95: 0, max: 0 });
    expect(workload.oracle.idleInstanceMinutes).toBe(0);
    expect(workload.busyInstanceMinutes).toBe(0);
    expect(workload.idleInstanceMinutes).toBeCloseTo(3 * 240, 1);
  });
});
