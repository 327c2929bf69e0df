/**
 * The scenario's job demand (issue 19): when each job of each workload stream arrives and how long it
 * runs, drawn once from `workload.seed` with the simulator's seeded generator (src/local/random.ts),
 * never Math.random. The fake cloud queues the jobs at their arrivals (world-jobs.ts) and the
 * simulator's oracle plans machines for the same arrivals (src/local/simulate/oracle.ts).
 */
import { seededRandom, seedOf } from '../random.js';
import type { ScenarioWorkload, WorkloadStream } from '../scenario/types.js';

export interface Arrival {
  /** Virtual ms (whole seconds) when the job is queued. */
  at: number;
  /** Index of its stream in `workload.streams`. */
  stream: number;
  /** How long it runs once a runner or agent takes it, whole minutes. */
  minutes: number;
}

/**
 * Every arrival of the workload, in time order (a tie keeps stream order, then draw order). Each
 * stream draws from a generator of its own (seeded from `workload.seed` and its index), so adding a
 * stream leaves the others' arrivals as they were. Within a window the gaps between arrivals are
 * exponential with mean `1 / perHour` hours (a Poisson process; it is memoryless, so starting afresh
 * at each window is exact), and each job's duration is uniform over the whole minutes `min..max`.
 */
export function drawArrivals(workload: ScenarioWorkload): Arrival[] {
  const arrivals: Arrival[] = [];
  workload.streams.forEach((stream, index) => {
    arrivals.push(...drawStream(stream, index, seededRandom(seedOf(`${workload.seed}/workload/${index}`))));
  });
  return arrivals.sort((a, b) => a.at - b.at || a.stream - b.stream);
}

function drawStream(stream: WorkloadStream, index: number, random: () => number): Arrival[] {
  const arrivals: Arrival[] = [];
  const { min, max } = stream.minutes;
  const windows = [...stream.arrivals].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
  for (const window of windows) {
    if (window.perHour <= 0) continue;
    const from = Date.parse(window.from);
    const to = Date.parse(window.to);
    const meanGapMs = 3_600_000 / window.perHour;
    for (let t = from; ;) {
      t += -Math.log(1 - random()) * meanGapMs;
      if (t >= to) break;
      const minutes = min + Math.floor(random() * (max - min + 1));
      arrivals.push({ at: Math.max(from, Math.floor(t / 1000) * 1000), stream: index, minutes });
    }
  }
  return arrivals;
}

/** Whether a GitHub runner with these labels serves a job asking for `wanted`: all of them, ignoring case, as GitHub matches. */
export function labelsServe(runnerLabels: readonly string[], wanted: readonly string[]): boolean {
  const have = new Set(runnerLabels.map((l) => l.toLowerCase()));
  return wanted.every((l) => have.has(l.toLowerCase()));
}
