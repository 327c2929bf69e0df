/**
 * The shortest virtual duration a scenario's work could take given its latencies: builds in
 * parallel, replication, the canary's waves and soak, then one wave sequence per scale set in
 * parallel, plus waits forced by busy jobs. `virtualMinutes / criticalPathMinutes` is how much time
 * the orchestration wastes (the benchmark's "time wasted").
 */
import { batchSize, DEFAULT_ROLLOUT_OPTIONS } from '../../domain/rollout.js';
import type { ImageKind, Scenario, ScenarioScaleSet } from '../scenario/types.js';

export interface CriticalPathInput {
  scenario: Scenario;
  /** Minutes after the start when each image's rebuild began (absent: not rebuilt). */
  rebuilds: Partial<Record<ImageKind, number>>;
  /** Minutes after the start when a rollout of a version written outside kiln began. */
  rollouts: Partial<Record<ImageKind, number>>;
  canarySoakMinutes: number;
}

export function criticalPathMinutes(input: CriticalPathInput): number {
  const { scenario } = input;
  let longest = 0;
  for (const image of ['linux', 'windows'] as ImageKind[]) {
    const sets = scenario.scaleSets.filter((s) => s.image === image && s.managed);
    const rebuildAt = input.rebuilds[image];
    if (rebuildAt !== undefined && !scenario.images[image].buildFails) {
      let t = rebuildAt + scenario.images[image].buildMinutes + scenario.latency.replication;
      const canary = sets.find((s) => s.canary) ?? sets[0];
      if (canary) t = rollEnd(scenario, canary, t) + input.canarySoakMinutes;
      if (scenario.images[image].unhealthy) {
        longest = Math.max(longest, t);
        continue;
      }
      if (scenario.gallery.regions.length > 1) t += scenario.latency.replication;
      // Promotion rolls region by region (in gallery region order), the scale sets of a region in parallel.
      for (const region of scenario.gallery.regions) {
        const inRegion = sets.filter((s) => s !== canary && s.region === region);
        if (inRegion.length > 0) t = Math.max(...inRegion.map((s) => rollEnd(scenario, s, t)));
      }
      longest = Math.max(longest, t);
    }
    const rolloutAt = input.rollouts[image];
    if (rolloutAt !== undefined) {
      const t = rolloutAt + scenario.latency.replication;
      const lead = sets.find((s) => s.canary) ?? sets[0];
      const afterLead = lead ? rollEnd(scenario, lead, t) : t;
      longest = Math.max(
        longest,
        afterLead,
        ...sets.filter((s) => s !== lead).map((s) => rollEnd(scenario, s, afterLead)),
      );
    }
  }
  return Math.round(longest);
}

/** When a scale set whose rollout starts at `start` could be done: its waves, or a busy job's end. */
function rollEnd(scenario: Scenario, scaleSet: ScenarioScaleSet, start: number): number {
  const perInstance = scenario.latency.reimage + scenario.latency.register;
  const waves = Math.ceil(
    scaleSet.capacity / batchSize(scaleSet.capacity, DEFAULT_ROLLOUT_OPTIONS.batchPercent),
  );
  let end = start + waves * perInstance;
  for (const job of scenario.jobs) {
    if (!job.instance.startsWith(`${scaleSet.name}_`)) continue;
    const jobEnd = job.startAfterMinutes + job.minutes;
    const overlaps = job.startAfterMinutes <= start + waves * perInstance && jobEnd > start;
    const waited = jobEnd - start <= DEFAULT_ROLLOUT_OPTIONS.busyWaitHours * 60;
    if (overlaps && waited) end = Math.max(end, jobEnd + perInstance);
  }
  return end;
}
