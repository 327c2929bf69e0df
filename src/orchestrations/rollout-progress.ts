/**
 * What a scale set rollout carries from one execution to the next (its input, with the progress so
 * far) and how it reports: the result it ends with, the custom status it shows while it runs.
 */
import type { OrchestrationContext } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import type { RolloutOptions, WaveLook } from '../domain/rollout.js';
import type { ScaleSetRolloutStateName } from '../domain/rollout-targets.js';

export type { ScaleSetRolloutStateName };

export interface ScaleSetRolloutOptions extends RolloutOptions {
  pauseMinutes: number;
}

export interface ScaleSetRolloutResult {
  scaleSet: string;
  scaleSetId: string;
  region: string;
  state: ScaleSetRolloutStateName;
  reason?: string;
  /** The version the model points at when the rollout ends. */
  version: string;
  previousVersion?: string;
  instancesUpdated: number;
  instancesPending: number;
  unhealthy: number;
  waves: number;
  /** Dry run: waves the rollout would take now and instances that are busy now. */
  plannedWaves?: number;
  busyNow?: number;
  /** How long this scale set's first wave took to prove healthy (minutes). */
  healthyAfterMinutes?: number;
  /** A lead or canary that moved no instance to the version and saw it healthy: it proved nothing, and its model went back. */
  unproven?: boolean;
  /** `untouched` because its model and every instance already ran the version: what the rollout asked for holds. */
  alreadyOnVersion?: true;
  /** GitHub runner registrations the rollout deleted to drain instances (absent: none). */
  runnersRemoved?: number;
  /** Of instancesUpdated, old instances the autoscaler replaced by new ones on the model (absent: none). */
  instancesReplaced?: number;
}

export interface Progress {
  phase: 'waves' | 'rollback';
  previousImageId?: string;
  previousVersion?: string;
  /** This rollout pointed the model at the version (it was elsewhere when the rollout read it). */
  movedModel: boolean;
  /** Rollback: the model is back on previousImageId (by this rollout); what is left is moving instances back. */
  restored?: boolean;
  /** The rollback is of a lead or canary that proved nothing, not of a health breach. */
  unproven?: boolean;
  /** Why the rollout failed, when it puts an unproven model back before it ends failed. */
  failure?: string;
  updated: string[];
  unhealthy: string[];
  pending: string[];
  waves: number;
  rollbackReason?: string;
  /** Plans the next wave without looking again (absent: look first). */
  lastLook?: WaveLook;
  /** When to look first at an upgraded wave, learned from a first wave (this scale set's or the lead's). */
  healthyAfterMinutes?: number;
  /** GitHub runners deleted by this rollout's drains so far (absent in a progress carried from before it was counted). */
  runnersRemoved?: number;
  /** When this scale set's first wave started upgrading (the dashboard's pace counts from it). */
  firstWaveAt?: string;
  /** The last WAVE_LOG_LIMIT waves, oldest first (absent in a rollout started before it was kept). */
  waveLog?: WaveRecord[];
  /** This rollout took the scale set's lease for the wave it ran last: the next execution gives it back first. */
  leaseHeld?: true;
  /** Instances on an older version at the last look (to see which the autoscaler replaced since). */
  stale?: string[];
  /**
   * Instances on an older version that went (the autoscaler scaled them in) without this rollout moving
   * them: their place is taken by new instances on the model, so they count as updated (attrition).
   */
  replaced?: number;
}

/**
 * One wave as the dashboard shows it. Counts and times only, and at most WAVE_LOG_LIMIT of them: the
 * log rides in the input every execution continues with, which must stay small however many waves
 * busy instances make (at 1,000 instances the ids in `updated` are already most of it).
 */
export interface WaveRecord {
  wave: number;
  /** When the wave's upgrade was started (its instances drained). */
  startedAt: string;
  /** Instances the wave upgraded. */
  instances: number;
  /** Set once the health gate judged the wave: instances back on the version and registered. */
  healthy?: number;
  unhealthy?: number;
  judgedAt?: string;
  /** Instances of the scale set this rollout had moved to the version once the wave was judged. */
  onNewVersion?: number;
}

export const WAVE_LOG_LIMIT = 20;

/** The log with `record` added, or replacing the record of the same wave; the oldest dropped past the limit. */
export function withWave(log: WaveRecord[] | undefined, record: WaveRecord): WaveRecord[] {
  const others = (log ?? []).filter((r) => r.wave !== record.wave);
  return [...others, record].slice(-WAVE_LOG_LIMIT);
}

export interface ScaleSetRolloutInput {
  scaleSet: ManagedScaleSet;
  definition: string;
  version: string;
  versionId: string;
  options: ScaleSetRolloutOptions;
  dryRun: boolean;
  startedAt: string;
  /** Who asked: an Event Grid hint never moves a scale set to an older version. */
  source: 'http' | 'eventgrid' | 'rebuild';
  /** Regions the parent already saw the version completely replicated to (no need to read it again). */
  replicatedTo?: string[];
  /** The lead's first wave: how long an upgraded instance took to come back online (minutes). */
  healthyAfterMinutes?: number;
  /** A lead or canary: it must end with an instance moved and healthy, or its model goes back (S4). */
  mustProve?: boolean;
  /** An undo: move to the version only from this image (the change being undone), never from anything else (S8). */
  restoreFrom?: string;
  /** An operator's rollback: the version may be older than the one the scale set runs. */
  allowOlder?: boolean;
  progress?: Progress;
}

/** How often kiln looks again while it waits (minutes). */
export const ROLLOUT_TIMING = {
  replicationPollMinutes: 5,
  replicationWaitHours: 12,
  healthPollMinutes: 2,
  busyRecheckMinutes: 10,
};

export function continueWith(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): ScaleSetRolloutResult {
  context.df.continueAsNew({ ...input, progress } satisfies ScaleSetRolloutInput);
  return undefined as never;
}

export function finished(
  input: ScaleSetRolloutInput,
  progress: Progress,
  state: ScaleSetRolloutStateName,
  reason?: string,
  /** The version the model points at now, when it is neither the rollout's nor the previous one. */
  versionNow?: string,
): ScaleSetRolloutResult {
  const back = state === 'rolledBack' || progress.unproven === true;
  return result(input, {
    state,
    reason:
      reason ??
      (state === 'pending'
        ? `${progress.pending.length} instance(s) stayed busy past ${input.options.busyWaitHours} h and remain on ${progress.previousVersion}`
        : undefined),
    version: versionNow ?? (back ? (progress.previousVersion ?? '') : input.version),
    previousVersion: progress.previousVersion,
    instancesUpdated: back ? 0 : progress.updated.length + (progress.replaced ?? 0),
    instancesPending: progress.pending.length,
    unhealthy: progress.unhealthy.length,
    waves: progress.waves,
    ...(progress.healthyAfterMinutes !== undefined
      ? { healthyAfterMinutes: progress.healthyAfterMinutes }
      : {}),
    ...(progress.unproven ? { unproven: true } : {}),
    ...(progress.runnersRemoved ? { runnersRemoved: progress.runnersRemoved } : {}),
    ...(progress.replaced && !back ? { instancesReplaced: progress.replaced } : {}),
  });
}

export function result(
  input: ScaleSetRolloutInput,
  fields: Omit<ScaleSetRolloutResult, 'scaleSet' | 'scaleSetId' | 'region'>,
): ScaleSetRolloutResult {
  return {
    scaleSet: input.scaleSet.name,
    scaleSetId: input.scaleSet.id,
    region: input.scaleSet.location,
    ...fields,
  };
}

/** What a scale set rollout shows while it runs (GET /api/runs, `kiln status`, the dashboard). */
export interface ScaleSetRolloutStatus {
  scaleSet: string;
  version: string;
  phase: string;
  /** The wave running or next (0 before the waves). */
  wave: number;
  onNewVersion: number;
  pendingBusy: number;
  unhealthy: number;
  /** GitHub runners this scale set's drains deleted so far. */
  runnersRemoved: number;
  firstWaveAt?: string;
  waves: WaveRecord[];
}

export function status(
  context: OrchestrationContext,
  phase: string,
  input: ScaleSetRolloutInput,
  progress?: Progress,
): void {
  context.df.setCustomStatus({
    scaleSet: input.scaleSet.name,
    version: input.version,
    phase,
    wave: progress ? progress.waves + 1 : 0,
    onNewVersion: progress?.updated.length ?? 0,
    pendingBusy: progress?.pending.length ?? 0,
    unhealthy: progress?.unhealthy.length ?? 0,
    runnersRemoved: progress?.runnersRemoved ?? 0,
    ...(progress?.firstWaveAt ? { firstWaveAt: progress.firstWaveAt } : {}),
    waves: progress?.waveLog ?? [],
  } satisfies ScaleSetRolloutStatus);
}

/**
 * Counts the runners a drain deleted (one that failed part-way deleted some too) and shows the count
 * at once, before the wave's long waits: whoever reads the rollout while it runs sees what it removed.
 */
export function countRemoved(
  context: OrchestrationContext,
  phase: string,
  input: ScaleSetRolloutInput,
  progress: Progress,
  removed: number,
): void {
  if (removed === 0) return;
  progress.runnersRemoved = (progress.runnersRemoved ?? 0) + removed;
  status(context, phase, input, progress);
}
