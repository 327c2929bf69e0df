/**
 * The shortest virtual time the scenario's work could take, whatever an orchestrator decided: a
 * lower bound that no correct run can beat, so `virtualMinutes / criticalPathMinutes` (the
 * benchmark's "time wasted") is never below 1.
 *
 * A rebuild is bounded phase by phase, counting only the phases its run reached (a build that failed
 * bounds nothing after it): its build, the replication to the canary's region, the canary's waves and
 * soak, the approval it waited for, then the promotion's regions one after the other (the order the
 * rebuild asks for), the scale sets of a region in parallel. Replication to the other regions can
 * start when the build ends, so it never lengthens the path: the canary's region takes as long. A
 * scale set's rollout takes at least its waves (at most a batch of instances in flight, each reimaged
 * and registered) and at least until each job that was running when it started has ended and its
 * instance came back. Scale sets whose instances others change during the run (the scenario's
 * changes, capacity on demand) and scale sets a rollout did not finish bound nothing. A rollout of a
 * version a canary did not prove (an operator's, Event Grid's) rolls its lead alone first.
 */
import { batchSize, DEFAULT_ROLLOUT_OPTIONS } from '../../domain/rollout.js';
import { groupByRegion, orderByRegion } from '../../domain/rollout-targets.js';
import type { RebuildOutput } from '../../orchestrations/rebuild.js';
import type { RolloutOutput } from '../../orchestrations/rollout.js';
import type { ImageKind, Scenario, ScenarioScaleSet } from '../scenario/types.js';

/** A job that ran on an instance, in minutes after the scenario's start. */
export interface JobInterval {
  instance: string;
  startedAt: number;
  endedAt: number;
}

export interface RebuildRun {
  image: ImageKind;
  at: number;
  output?: RebuildOutput;
  canary?: RolloutOutput;
}

export interface CriticalPathInput {
  scenario: Scenario;
  /**
   * Each rebuild: its image, when it began (minutes after the start), its output once it ended, and
   * the output of its canary's rollout.
   */
  rebuilds: RebuildRun[];
  /** Rollouts of versions written outside kiln or asked for by an operator: when each began, and its output. */
  rollouts: { at: number; output?: RolloutOutput }[];
  /** Jobs that ran to their end. */
  jobs: JobInterval[];
  canarySoakMinutes: number;
  /** The target regions, in the order promotion rolls them (REGIONS). */
  regionOrder: string[];
}

/** One image's bound: when its fleet could at best run the new version, and how long after the build. */
export interface ImageBound {
  /** Minutes after the start when the rebuild's reached phases could at best be over. */
  endMinutes: number;
  /** Minutes after the start when the last instance could at best run the version (promoted images). */
  fleetUpdatedMinutes?: number;
  /** Minutes from the end of the build (as it happened) until then, at best. */
  minutesToFleetUpdated?: number;
}

export interface CriticalPath {
  minutes: number;
  images: Partial<Record<ImageKind, ImageBound>>;
}

export function criticalPath(input: CriticalPathInput): CriticalPath {
  const images: Partial<Record<ImageKind, ImageBound>> = {};
  let longest = 0;
  for (const run of input.rebuilds) {
    const bound = rebuildBound(input, run);
    // An image rebuilt twice (a later runner release): the last one that ended, as the report's images.
    if (run.output || !images[run.image]) images[run.image] = bound;
    longest = Math.max(longest, bound.endMinutes);
  }
  for (const rollout of input.rollouts) {
    // Its first scale set leads alone (it proves the version); every other one starts after it.
    const results = Object.values(rollout.output?.scaleSets ?? {}).filter((r) => r.state !== 'refused');
    let afterLead = rollout.at;
    for (const [index, result] of results.entries()) {
      const set = input.scenario.scaleSets.find((s) => s.name === result.scaleSet);
      if (!set || result.state !== 'updated') continue;
      const start = index === 0 ? rollout.at : afterLead;
      const done = rollEnd(input, set, start, rollout.at, result.instancesUpdated).done;
      if (index === 0) afterLead = done;
      longest = Math.max(longest, done);
    }
  }
  return { minutes: Math.round(longest), images };
}

function rebuildBound(input: CriticalPathInput, run: RebuildRun): ImageBound {
  const { scenario } = input;
  const { image, at: startedAt, output } = run;
  const reached = output?.timings ?? {};
  if (!reached.builtAt) return { endMinutes: startedAt };
  const builtAt = startedAt + scenario.images[image].buildMinutes;
  const canary = scenario.scaleSets.find((s) => s.name === output?.canary);
  const fromBuild = (built: number) => {
    // The version reaches the canary's region no sooner than one replication after the build.
    let t = built;
    if (!reached.publishedAt) return { end: t };
    t += scenario.latency.replication;
    if (!reached.canaryPassedAt || !canary) return { end: t };
    const moved = run.canary?.scaleSets[canary.name]?.instancesUpdated;
    const canaryRoll = rollEnd(input, canary, t, t, moved);
    let fleetUpdated = canaryRoll.provisioned;
    t = canaryRoll.done + input.canarySoakMinutes;
    const approval = scenario.images[image].approval;
    if (output?.approval?.decision === 'approved' && approval) t += approval.afterMinutes;
    if (output?.state !== 'promoted' || !reached.replicatedAt) return { end: t };
    // Promotion: region after region in the rebuild's order, the scale sets of a region in parallel.
    const promoted = output.rollout?.scaleSets ?? {};
    const others = scenario.scaleSets
      .filter((s) => s !== canary && s.name in promoted)
      .map((s) => ({ ...s, id: s.name, location: s.region, tags: {} }));
    const promotionStart = t;
    for (const group of groupByRegion(orderByRegion(others, input.regionOrder))) {
      const start = t;
      for (const set of group) {
        const result = promoted[set.name]!;
        if (result.state !== 'updated') continue;
        const roll = rollEnd(input, set, start, promotionStart, result.instancesUpdated);
        t = Math.max(t, roll.done);
        fleetUpdated = Math.max(fleetUpdated, roll.provisioned);
      }
    }
    return { end: t, fleetUpdated };
  };
  const fromStart = fromBuild(builtAt);
  const bound: ImageBound = { endMinutes: fromStart.end };
  if (fromStart.fleetUpdated !== undefined) {
    bound.fleetUpdatedMinutes = fromStart.fleetUpdated;
    // The same path from the build's real end: how long the fleet had to wait for the version at best.
    const built = minutesAfter(scenario, output!.timings.builtAt!);
    const fromReal = fromBuild(built);
    if (fromReal.fleetUpdated !== undefined) bound.minutesToFleetUpdated = fromReal.fleetUpdated - built;
  }
  return bound;
}

/**
 * When a scale set whose rollout starts at `start` (the whole rollout at `rolloutStart`) could at best
 * be done: its waves, or a job running at its start that it must wait for. `provisioned`: when its
 * last instance could at best run the version (before registering). `moved`: instances the rollout
 * moved, when known (the scale set's capacity otherwise).
 */
function rollEnd(
  input: CriticalPathInput,
  scaleSet: ScenarioScaleSet,
  start: number,
  rolloutStart: number,
  moved: number | undefined,
): { done: number; provisioned: number } {
  const { scenario } = input;
  if (!settled(scenario, scaleSet)) return { done: start, provisioned: start };
  const { reimage, register } = scenario.latency;
  const count = Math.min(scaleSet.capacity, moved ?? scaleSet.capacity);
  if (count === 0) return { done: start, provisioned: start };
  const waves = Math.ceil(count / batchSize(scaleSet.capacity, DEFAULT_ROLLOUT_OPTIONS.batchPercent));
  let done = start + waves * (reimage + register);
  let provisioned = done - register;
  const giveUp = rolloutStart + DEFAULT_ROLLOUT_OPTIONS.busyWaitHours * 60;
  for (const job of input.jobs) {
    if (!job.instance.startsWith(`${scaleSet.name}_`)) continue;
    if (!(job.startedAt < start && job.endedAt > start)) continue;
    // kiln never takes a busy instance (S1): it waits for the job, or gives up on the instance.
    if (job.endedAt >= giveUp) {
      done = Math.max(done, giveUp);
      continue;
    }
    done = Math.max(done, job.endedAt + reimage + register);
    provisioned = Math.max(provisioned, job.endedAt + reimage);
  }
  return { done, provisioned };
}

/**
 * A scale set whose instances only the rollout changes: neither the scenario's changes nor capacity
 * on demand add, delete or move any of them (they may make a rollout shorter than its waves).
 */
function settled(scenario: Scenario, scaleSet: ScenarioScaleSet): boolean {
  if (scaleSet.autoscale) return false;
  return !scenario.changes.some((change) => {
    const named = change as { scaleSet?: string; instance?: string };
    return named.scaleSet === scaleSet.name || named.instance?.startsWith(`${scaleSet.name}_`) === true;
  });
}

function minutesAfter(scenario: Scenario, iso: string): number {
  return (Date.parse(iso) - Date.parse(scenario.start)) / 60_000;
}
