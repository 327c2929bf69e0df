/**
 * The report's `workload` section (issue 19): what the scenario's job demand met on the fleet as it
 * is, next to the oracle's plan for the same arrivals (oracle.ts).
 */
import type { World } from '../fake-cloud/world.js';
import type { Scenario } from '../scenario/types.js';
import { oracle, percentiles, roundMinutes, type WaitPercentiles } from './oracle.js';

export interface WorkloadReport {
  /** Workload jobs that arrived in the run. */
  jobs: number;
  /** From arrival to start, of the jobs that started (those that never did are `jobsNeverStarted`). */
  queueWaitSeconds: WaitPercentiles;
  /** Minutes managed instances were running without a job (booting their runner, waiting, or left without one). */
  idleInstanceMinutes: number;
  /** Minutes managed instances were running a job (the workload's or the scenario's `jobs:`). */
  busyInstanceMinutes: number;
  /** Capacity changes of managed scale sets the fake ARM saw: kiln's autoscaler's and outside ones. */
  scaleOuts: number;
  scaleIns: number;
  /** Workload jobs still queued when the run ended. */
  jobsNeverStarted: number;
  oracle: { queueWaitSeconds: WaitPercentiles; idleInstanceMinutes: number };
}

/**
 * The managed scale sets that serve each stream, read from the world before anything runs (what an
 * autoscaler would scale for it): the oracle's input.
 */
export function servingAtStart(scenario: Scenario, world: World): string[][] {
  return (scenario.workload?.streams ?? []).map((stream) => world.servingScaleSets(stream));
}

/** The managed scale sets whose machines serve one job each, at the start: the oracle reuses none of theirs. */
export function oneJobAtStart(world: World): Set<string> {
  return world.oneJobScaleSets();
}

export function workloadReport(
  scenario: Scenario,
  world: World,
  serving: readonly (readonly string[])[],
  oneJob: ReadonlySet<string> = new Set(),
): WorkloadReport | undefined {
  if (!scenario.workload) return undefined;
  const untilMs = Date.parse(scenario.until);
  world.measureTo(untilMs);
  const jobs = world.jobs.filter((j) => j.demand);
  const waits = jobs
    .filter((j) => j.startedAt !== undefined)
    .map((j) => (j.startedAt! - j.demand!.arrivedAt) / 1000);
  const planned = oracle({
    startMs: Date.parse(scenario.start),
    arrivals: world.arrivals,
    serving,
    latency: { provision: scenario.latency.provision, register: scenario.latency.register },
    oneJob,
  });
  return {
    jobs: jobs.length,
    queueWaitSeconds: percentiles(waits),
    idleInstanceMinutes: roundMinutes(world.meter.idleInstanceMinutes),
    busyInstanceMinutes: roundMinutes(world.meter.busyInstanceMinutes),
    scaleOuts: world.meter.scaleOuts,
    scaleIns: world.meter.scaleIns,
    jobsNeverStarted: jobs.filter((j) => j.startedAt === undefined).length,
    oracle: planned,
  };
}
