/**
 * Rolls one scale set onto an exact gallery image version, wave by wave, without interrupting a job:
 * refuse what kiln may not pace (not Uniform, upgrade policy not Manual), wait for the version to be
 * replicated to the scale set's region, read the model afresh and point it at the version (never
 * backwards, S8, and only if nothing changed it since that read), then per wave drain idle instances,
 * upgrade them and hold a health gate; a breach points the model back and returns the moved
 * instances. Every drain is undone whatever the wave's end (S9). A lead or canary that ends without
 * one instance moved and healthy has proven nothing: its model goes back (S4). One wave per
 * execution: the orchestration continues as new after each, so its history stays short however large
 * the scale set or long the busy wait.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import type { DrainInput, DrainResult, ScaleSetObservation } from '../activities/rollout.js';
import { KILN_IN_PROGRESS, KILN_STATE_TAG } from '../domain/release.js';
import { regionKey } from '../domain/regions.js';
import { compareVersions } from '../domain/versions.js';
import {
  assessWave,
  breachesThreshold,
  definitionOfImageReference,
  planDryRun,
  planWave,
  versionOfImageReference,
  type RegistrationState,
  type RolloutInstance,
  type RolloutOptions,
} from '../domain/rollout.js';
import type { ScaleSetRolloutStateName } from '../domain/rollout-targets.js';
import { Activities, Orchestrations } from '../names.js';
import { callActivities, callActivity, inPacedRounds, replaySafeLog } from './call-activity.js';
import { callSubOrchestrator, outputOf } from './call-sub-orchestrator.js';
import { after, onTick } from './durable-time.js';
import type { WaitForReplicationOutput } from './wait.js';

export interface ScaleSetRolloutOptions extends RolloutOptions {
  pauseMinutes: number;
}

export type { ScaleSetRolloutStateName };

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
}

/** The look that ended a wave, kept to plan the next one: instances on the old model only. */
interface Look {
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState>;
}

interface Progress {
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
  lastLook?: Look;
  /** When to look first at an upgraded wave, learned from a first wave (this scale set's or the lead's). */
  healthyAfterMinutes?: number;
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

/** Drains per activity, and a minute (see drainPaced). */
const DRAINS = { size: 50, perMinute: 100 };
/** Fresh reads and conditional writes of the model before giving up on a model others keep changing. */
const MODEL_WRITE_ATTEMPTS = 3;

/** How often kiln looks again while it waits (minutes). */
export const ROLLOUT_TIMING = {
  replicationPollMinutes: 5,
  replicationWaitHours: 12,
  healthPollMinutes: 2,
  busyRecheckMinutes: 10,
};

export function* rolloutScaleSetOrchestrator(
  context: OrchestrationContext,
): Generator<Task, ScaleSetRolloutResult, any> {
  const input = context.df.getInput() as ScaleSetRolloutInput;
  if (!input.progress) return yield* begin(context, input);
  if (input.progress.phase === 'waves') return yield* nextWave(context, input, input.progress);
  return yield* rollBack(context, input, input.progress);
}

function* begin(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
): Generator<Task, ScaleSetRolloutResult, any> {
  const { scaleSet } = input;
  const previousVersion = versionOfImageReference(scaleSet.imageReferenceId);
  const base = {
    previousVersion,
    version: previousVersion ?? '',
    instancesUpdated: 0,
    instancesPending: 0,
    unhealthy: 0,
    waves: 0,
  };
  status(context, 'inspecting', input);

  if (scaleSet.orchestrationMode !== 'Uniform') {
    return result(input, {
      ...base,
      state: 'refused',
      reason: `orchestration mode is ${scaleSet.orchestrationMode}; kiln rolls Uniform scale sets only`,
    });
  }
  if (scaleSet.upgradeMode !== 'Manual') {
    return result(input, {
      ...base,
      state: 'refused',
      reason: `upgrade policy is ${scaleSet.upgradeMode ?? 'not set'}; kiln needs Manual so that it, not Azure, paces the upgrade around busy jobs (S1)`,
    });
  }
  // The version must be in this region before any instance can boot from it.
  if (!input.replicatedTo?.includes(regionKey(scaleSet.location))) {
    status(context, 'waiting for replication', input);
    const notThere = yield* awaitReplication(context, input);
    if (notThere) return result(input, { ...base, ...notThere });
  }

  if (input.dryRun) {
    const observed = yield* callActivity(context, Activities.observeScaleSet, {
      scaleSetId: scaleSet.id,
      fleet: scaleSet.fleet,
    });
    if (!observed.ok) return result(input, { ...base, state: 'failed', reason: observed.error.message });
    const plan = planDryRun({
      capacity: scaleSet.capacity,
      batchPercent: input.options.batchPercent,
      modelImageId: scaleSet.imageReferenceId,
      versionId: input.versionId,
      ...observed.value,
    });
    return result(input, {
      ...base,
      state: 'planned',
      plannedWaves: plan.plannedWaves,
      busyNow: plan.busyNow,
      reason: `${plan.moving} instance(s) would move to ${input.version}`,
    });
  }

  // What the change depends on is read right before it (S8), and the write happens only if nothing
  // changed the model since that read (If-Match on its ETag): a list read when the run began, hours
  // ago for a scale set that waited for its lead, says nothing about what the model is now.
  // The model a write was decided on: when the write's answer is lost (its retry then meets the
  // changed ETag) and the next read finds the model on the version, that write is what moved it.
  let decidedOn: { imageReferenceId?: string } | undefined;
  for (let attempt = 1; ; attempt++) {
    const read = yield* callActivity(context, Activities.readScaleSet, {
      scaleSetId: scaleSet.id,
    });
    if (!read.ok) return result(input, { ...base, state: 'failed', reason: read.error.message });
    if (!read.value)
      return result(input, { ...base, state: 'untouched', reason: 'the scale set no longer exists' });
    const landed =
      decidedOn !== undefined && read.value.imageReferenceId?.toLowerCase() === input.versionId.toLowerCase();
    const current = landed ? decidedOn!.imageReferenceId : read.value.imageReferenceId;
    const currentVersion = versionOfImageReference(current);
    const now = { ...base, previousVersion: currentVersion, version: currentVersion ?? '' };
    const onVersion = !landed && current?.toLowerCase() === input.versionId.toLowerCase();
    if (!onVersion && input.restoreFrom && current?.toLowerCase() !== input.restoreFrom.toLowerCase()) {
      return result(input, {
        ...now,
        state: 'untouched',
        reason: `not put back on ${input.version}: its model was moved to ${currentVersion ?? current ?? 'nothing'} since, not by this run`,
      });
    }
    if (
      !onVersion &&
      !input.restoreFrom &&
      !input.allowOlder &&
      currentVersion &&
      compareVersions(currentVersion, input.version) > 0
    ) {
      return result(input, {
        ...now,
        state: 'untouched',
        reason: `it already runs the newer version ${currentVersion}`,
      });
    }
    // A model on a version kiln is still proving elsewhere (a rebuild's canary) is that run's: two
    // runs moving one scale set at once would undo each other (S5, S9). It is left until decided.
    if (!onVersion && !landed && !input.restoreFrom && currentVersion) {
      const there = yield* callActivity(context, Activities.resolveImageVersion, {
        definition: definitionOfImageReference(current) ?? input.definition,
        version: currentVersion,
      });
      if (!there.ok) return result(input, { ...now, state: 'failed', reason: there.error.message });
      // A lead or canary may have to go back; with its version deleted, it could not (S9).
      if (there.value === null && input.mustProve)
        return result(input, {
          ...now,
          state: 'refused',
          reason: `its model names ${currentVersion}, which no longer exists: a version proven here could not be undone`,
        });
      const state = there.value?.tags[KILN_STATE_TAG];
      if (there.value?.excludeFromLatest && state && KILN_IN_PROGRESS.has(state))
        return result(input, {
          ...now,
          state: 'untouched',
          reason: `kiln is proving ${currentVersion} on it (${KILN_STATE_TAG}=${state}): left to that run`,
        });
    }
    if (!onVersion && !landed) {
      decidedOn = { imageReferenceId: current };
      const set = yield* callActivity(context, Activities.setScaleSetImage, {
        scaleSetId: scaleSet.id,
        imageReferenceId: input.versionId,
        ...(read.value.etag ? { ifMatch: read.value.etag } : {}),
      });
      if (!set.ok) return result(input, { ...now, state: 'failed', reason: set.error.message });
      if (set.value === 'conflict') {
        if (attempt < MODEL_WRITE_ATTEMPTS) continue;
        return result(input, {
          ...now,
          state: 'failed',
          reason: `the model kept changing while kiln tried to point it at ${input.version} (${MODEL_WRITE_ATTEMPTS} attempts)`,
        });
      }
      replaySafeLog(
        context,
        `${scaleSet.name}: model now points at ${input.version} (was ${currentVersion ?? current ?? 'marketplace'})`,
      );
    }
    context.df.continueAsNew({
      ...input,
      progress: {
        phase: 'waves',
        previousImageId: current,
        previousVersion: currentVersion,
        movedModel: !onVersion,
        updated: [],
        unhealthy: [],
        pending: [],
        waves: 0,
        healthyAfterMinutes: input.healthyAfterMinutes,
      },
    } satisfies ScaleSetRolloutInput);
    return undefined as never;
  }
}

/**
 * Waits (on the replication sub-orchestration) until the version is in the scale set's region, or
 * says why the rollout cannot go on: the version is gone or not published there (refused), its
 * replication there failed, or did not complete within the wait that began with the rollout.
 */
function* awaitReplication(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
): Generator<Task, { state: 'failed' | 'refused'; reason: string } | undefined, any> {
  const { location } = input.scaleSet;
  let waited: WaitForReplicationOutput;
  try {
    waited = yield* outputOf(
      callSubOrchestrator(
        context,
        Orchestrations.waitForReplication,
        {
          definition: input.definition,
          version: input.version,
          regions: [location],
          deadline: new Date(
            Date.parse(input.startedAt) + ROLLOUT_TIMING.replicationWaitHours * 3600_000,
          ).toISOString(),
          pollMinutes: ROLLOUT_TIMING.replicationPollMinutes,
          missingIsFinal: true,
        },
        `${context.df.instanceId}:replication`,
      ),
    );
  } catch (error) {
    return { state: 'failed', reason: `waiting for replication failed: ${(error as Error).message}` };
  }
  const state = waited.regions[location];
  if (state === 'Completed') return undefined;
  if (waited.gone) return { state: 'failed', reason: `version ${input.version} no longer exists` };
  if (state === undefined)
    return { state: 'failed', reason: waited.reason ?? 'replication could not be read' };
  if (state === 'Missing')
    return { state: 'refused', reason: `version ${input.version} is not replicated to ${location}` };
  if (state === 'Failed')
    return { state: 'failed', reason: `replication of ${input.version} to ${location} failed` };
  return {
    state: 'failed',
    reason: `replication of ${input.version} to ${location} did not complete within ${ROLLOUT_TIMING.replicationWaitHours} h`,
  };
}

function* nextWave(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): Generator<Task, ScaleSetRolloutResult, any> {
  const { scaleSet, options } = input;
  status(context, `wave ${progress.waves + 1}`, input, progress);
  let look = progress.lastLook;
  progress.lastLook = undefined;
  if (!look) {
    const observed = yield* callActivity(context, Activities.observeScaleSet, {
      scaleSetId: scaleSet.id,
      fleet: scaleSet.fleet,
    });
    if (!observed.ok) return failOrUndo(context, input, progress, observed.error.message);
    look = staleOnly(observed.value);
  }

  // An undo moves back only what it undoes: instances on the version being undone.
  const restoreFrom = input.restoreFrom?.toLowerCase();
  const plan = planWave({
    capacity: scaleSet.capacity,
    instances: restoreFrom
      ? look.instances.filter((i) => i.imageReferenceId?.toLowerCase() === restoreFrom)
      : look.instances,
    registrations: look.registrations,
    options,
    rolloutStartedAt: input.startedAt,
    now: context.df.currentUtcDateTime.toISOString(),
    exclude: [...progress.pending, ...progress.unhealthy],
    version: input.version,
    allowOlder: input.allowOlder || input.restoreFrom !== undefined,
  });
  progress.pending.push(...plan.pending);

  if (plan.upgrade.length === 0) {
    if (plan.busy.length === 0) return yield* conclude(context, input, progress, look, plan.newer);
    status(context, `waiting for ${plan.busy.length} busy instance(s)`, input, progress);
    yield context.df.createTimer(onTick(context, ROLLOUT_TIMING.busyRecheckMinutes));
    // Waiting changes only the registrations: read those, not ARM. A job that ended makes the next
    // wave from this look (the drain re-checks busy; the upgrade leaves out instances scaled in since).
    const names = look.instances.filter((i) => plan.busy.includes(i.instanceId)).map((i) => i.computerName);
    const fresh = yield* callActivity(context, Activities.readRegistrations, {
      fleet: scaleSet.fleet,
      names,
    });
    if (fresh.ok)
      progress.lastLook = { instances: look.instances, registrations: withFresh(look, names, fresh.value) };
    return continueWith(context, input, progress);
  }

  const drain = yield* drainPaced(context, scaleSet, drainList(look, plan.upgrade));
  if (!drain.ok) {
    yield* giveBack(context, scaleSet, drain.partial.disabled, drain.partial.drained);
    return failOrUndo(context, input, progress, drain.error.message);
  }
  if (drain.value.drained.length === 0) {
    // Every candidate picked up a job between the look and the drain: look again shortly.
    yield context.df.createTimer(after(context, { minutes: ROLLOUT_TIMING.healthPollMinutes }));
    return continueWith(context, input, progress);
  }

  const upgrade = yield* callActivity(context, Activities.startUpgrade, {
    scaleSetId: scaleSet.id,
    instanceIds: drain.value.drained,
    imageReferenceId: input.versionId,
  });
  if (!upgrade.ok || upgrade.value.modelNow !== undefined) {
    // Nothing moved: what the drain took is given back before the rollout ends (S9).
    yield* giveBack(context, scaleSet, drain.value.disabled, drain.value.drained);
    if (!upgrade.ok) return failOrUndo(context, input, progress, upgrade.error.message);
    return finished(input, progress, 'superseded', supersededReason(input, upgrade.value.modelNow!));
  }
  const wave = upgrade.value.upgraded;
  if (wave.length === 0) {
    yield* giveBack(context, scaleSet, drain.value.disabled, []);
    return continueWith(context, input, progress);
  }
  replaySafeLog(context, `${scaleSet.name}: wave ${progress.waves + 1} upgrading ${wave.join(', ')}`);

  const health = yield* awaitHealth(context, input, wave, input.versionId, progress.healthyAfterMinutes);
  // The wave's instances are back (or past their deadline): their agents take jobs again.
  yield* giveBack(context, scaleSet, drain.value.disabled, []);
  progress.waves++;
  progress.healthyAfterMinutes ??= health.unhealthy.length === 0 ? health.minutes : undefined;
  if (breachesThreshold(health.unhealthy.length, wave.length, options.maxUnhealthyPercent)) {
    progress.phase = 'rollback';
    progress.unhealthy.push(...health.unhealthy);
    progress.rollbackReason =
      `wave ${progress.waves}: ${health.unhealthy.length} of ${wave.length} upgraded instance(s) unhealthy ` +
      `(${unhealthyReasons(health, scaleSet.fleet, options.healthDeadlineMinutes)}), above the ${options.maxUnhealthyPercent}% allowed`;
    replaySafeLog(
      context,
      `${scaleSet.name}: ${progress.rollbackReason}; rolling back to ${progress.previousVersion}`,
    );
    return continueWith(context, input, progress);
  }
  progress.updated.push(...health.healthy);
  progress.unhealthy.push(...health.unhealthy);
  if (options.pauseMinutes > 0)
    yield context.df.createTimer(after(context, { minutes: options.pauseMinutes }));
  else progress.lastLook = health.lastLook;
  return continueWith(context, input, progress);
}

/**
 * No wave left to run: says how the scale set really ended. The model is read once more (someone
 * may have moved it since the last wave: then the rollout was superseded, not done); instances that
 * stayed on the old version (busy past the wait, or whose upgrade failed) make it pending; and a lead
 * or canary that moved nothing healthy has proven nothing, so its model goes back (S4).
 */
function* conclude(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
  look: Look,
  newer: string[],
): Generator<Task, ScaleSetRolloutResult, any> {
  const read = yield* callActivity(context, Activities.readScaleSet, {
    scaleSetId: input.scaleSet.id,
  });
  if (!read.ok) return failOrUndo(context, input, progress, read.error.message);
  const model = read.value?.imageReferenceId;
  if (model?.toLowerCase() !== input.versionId.toLowerCase())
    return finished(
      input,
      progress,
      'superseded',
      supersededReason(input, model ?? 'none (the scale set is gone)'),
    );
  if (input.mustProve && progress.updated.length === 0 && progress.movedModel) {
    progress.phase = 'rollback';
    progress.unproven = true;
    progress.rollbackReason =
      progress.pending.length > 0
        ? `proved nothing: its ${progress.pending.length} instance(s) stayed busy past ${input.options.busyWaitHours} h, so none booted ${input.version}`
        : `proved nothing: it has no instance that could boot ${input.version}`;
    return continueWith(context, input, progress);
  }
  // Instances the rollout leaves where they are, and why: each makes the scale set pending.
  const left: { ids: string[]; why: string }[] = [];
  if (input.restoreFrom) {
    // An undo moves only what it undoes.
    const undoing = input.restoreFrom.toLowerCase();
    const others = look.instances.filter((i) => i.imageReferenceId?.toLowerCase() !== undoing);
    if (others.length > 0)
      left.push({
        ids: others.map((i) => i.instanceId),
        why: `run neither ${input.version} nor the version being undone, and are left as they are`,
      });
  }
  if (newer.length > 0)
    left.push({
      ids: newer,
      why: `run a newer version than ${input.version} and are not moved back (an operator's rollback says allowOlder)`,
    });
  const stuck = look.instances
    .filter((i) => progress.unhealthy.includes(i.instanceId))
    .map((i) => i.instanceId);
  if (stuck.length > 0)
    left.push({ ids: stuck, why: `failed to move and remain on ${progress.previousVersion}` });
  if (left.length === 0)
    return finished(input, progress, progress.pending.length > 0 ? 'pending' : 'updated');
  for (const { ids } of left) progress.pending.push(...ids.filter((id) => !progress.pending.includes(id)));
  return finished(
    input,
    progress,
    'pending',
    left.map(({ ids, why }) => `${ids.length} instance(s) ${why} (${ids.join(', ')})`).join('; '),
  );
}

/**
 * The rollout cannot go on. A lead or canary that pointed its model at the version but proved nothing
 * yet puts the model back first (the version is unproven: a scale-out would boot it), then fails.
 */
function failOrUndo(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
  message: string,
): ScaleSetRolloutResult {
  if (!input.mustProve || !progress.movedModel || progress.updated.length > 0)
    return finished(input, progress, 'failed', message);
  progress.phase = 'rollback';
  progress.unproven = true;
  progress.failure = message;
  progress.rollbackReason = `failed before proving anything: ${message}`;
  return continueWith(context, input, progress);
}

function supersededReason(input: ScaleSetRolloutInput, modelNow: string): string {
  return `the model was moved to ${versionOfImageReference(modelNow) ?? modelNow} while kiln rolled ${input.version}: the rollout stopped there`;
}

/** Gives back what a drain took when the wave did not move those instances, or once it is over (S9). */
function* giveBack(
  context: OrchestrationContext,
  scaleSet: ScaleSetRolloutInput['scaleSet'],
  agentIds: number[],
  notUpgraded: string[],
): Generator<Task, void, any> {
  const reimage = scaleSet.fleet === 'github' ? notUpgraded : [];
  if (agentIds.length === 0 && reimage.length === 0) return;
  const back = yield* callActivity(context, Activities.returnDrained, {
    scaleSetId: scaleSet.id,
    fleet: scaleSet.fleet,
    agentIds,
    reimage,
  });
  if (!back.ok)
    replaySafeLog(context, `${scaleSet.name}: giving back drained instances failed: ${back.error.message}`);
}

/**
 * Looks at the wave until every instance is healthy or the deadline passes. The first look waits as
 * long as a first wave took (when known), so a wave is usually proven by one look; looks fall on
 * whole poll ticks so that scale sets rolling in parallel share one registration list.
 */
function* awaitHealth(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  wave: string[],
  /** The image the wave moved its instances to. */
  imageReferenceId: string,
  healthyAfterMinutes: number | undefined,
): Generator<
  Task,
  { healthy: string[]; unhealthy: string[]; failed: string[]; minutes: number; lastLook?: Look },
  any
> {
  const { scaleSet, options } = input;
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const elapsed = () => (context.df.currentUtcDateTime.getTime() - Date.parse(startedAt)) / 60_000;
  const healthy: string[] = [];
  const failed: string[] = [];
  let waiting = [...wave];
  let wait = Math.min(
    Math.max(ROLLOUT_TIMING.healthPollMinutes, healthyAfterMinutes ?? 0),
    options.healthDeadlineMinutes,
  );
  for (;;) {
    yield context.df.createTimer(onTick(context, wait, ROLLOUT_TIMING.healthPollMinutes));
    wait = ROLLOUT_TIMING.healthPollMinutes;
    const check = yield* callActivity(context, Activities.checkWaveHealth, {
      scaleSetId: scaleSet.id,
      fleet: scaleSet.fleet,
      instanceIds: waiting,
    });
    const assessment = check.ok
      ? assessWave({
          wave: waiting,
          instances: check.value.instances,
          registrations: check.value.registrations,
          waveStartedAt: startedAt,
          now: context.df.currentUtcDateTime.toISOString(),
          healthDeadlineMinutes: options.healthDeadlineMinutes,
          imageReferenceId,
        })
      : undefined;
    if (assessment && check.ok) {
      healthy.push(...assessment.healthy);
      failed.push(...assessment.failed);
      waiting = [...assessment.starting];
      if (waiting.length === 0)
        return {
          healthy,
          unhealthy: assessment.unhealthy,
          failed,
          minutes: Math.ceil(elapsed()),
          lastLook: staleOnly(check.value),
        };
    } else if (elapsed() >= options.healthDeadlineMinutes) {
      // Health could not be read until the deadline: treat what is unproven as unhealthy.
      return { healthy, unhealthy: waiting, failed, minutes: Math.ceil(elapsed()) };
    }
  }
}

/** Why each unhealthy instance is: its upgrade failed in ARM, or its runner/agent never came online. */
function unhealthyReasons(
  health: { unhealthy: string[]; failed: string[] },
  fleet: ScaleSetRolloutInput['scaleSet']['fleet'],
  deadlineMinutes: number,
): string {
  const silent = health.unhealthy.filter((id) => !health.failed.includes(id));
  return [
    health.failed.length > 0 ? `${health.failed.join(', ')}: upgrade failed or instance gone` : '',
    silent.length > 0
      ? `${silent.join(', ')}: no ${fleet === 'github' ? 'runner' : 'agent'} online within ${deadlineMinutes} min`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
}

/** The part of a look that plans waves: instances still on the old model and their registrations. */
function staleOnly(observation: ScaleSetObservation): Look {
  const instances = observation.instances
    .filter((i) => !i.latestModelApplied)
    .map(({ instanceId, computerName, latestModelApplied, provisioningState, imageReferenceId }) => ({
      instanceId,
      computerName,
      latestModelApplied,
      provisioningState,
      ...(imageReferenceId ? { imageReferenceId } : {}),
    }));
  const names = new Set(instances.map((i) => i.computerName.toLowerCase()));
  return {
    instances,
    registrations: Object.fromEntries(
      Object.entries(observation.registrations).filter(([name]) => names.has(name)),
    ),
  };
}

/** The look with these names' registrations replaced by a newer read (absent there: none now). */
function withFresh(
  look: Look,
  names: string[],
  fresh: Record<string, RegistrationState>,
): Look['registrations'] {
  const registrations = { ...look.registrations };
  for (const name of names) {
    const key = name.toLowerCase();
    if (fresh[key]) registrations[key] = fresh[key];
    else delete registrations[key];
  }
  return registrations;
}

/**
 * Drains a wave in rounds of at most `DRAINS.perMinute` instances a minute (each round in activities
 * of `DRAINS.size`, in parallel): a GitHub drain is a DELETE, 5 of the 900 points a minute
 * GitHub's secondary limit allows, so a wave of a large scale set is spread over minutes. A failure
 * stops the drain and says what the chunks that succeeded already took (`partial`), to give back.
 */
function* drainPaced(
  context: OrchestrationContext,
  scaleSet: ScaleSetRolloutInput['scaleSet'],
  instances: DrainInput['instances'],
): Generator<
  Task,
  { ok: true; value: DrainResult } | { ok: false; error: { message: string }; partial: DrainResult },
  any
> {
  const merged: DrainResult = { drained: [], busy: [], disabled: [] };
  let failure: { message: string } | undefined;
  yield* inPacedRounds(context, instances, DRAINS, function* (chunks) {
    const results = yield* callActivities(
      context,
      chunks.map((chunk) => ({
        name: Activities.drainInstances,
        input: { scaleSetId: scaleSet.id, fleet: scaleSet.fleet, instances: chunk },
      })),
    );
    for (const r of results) {
      if (!r.ok) {
        failure ??= r.error;
        continue;
      }
      merged.drained.push(...r.value.drained);
      merged.busy.push(...r.value.busy);
      merged.disabled.push(...r.value.disabled);
    }
    return !failure;
  });
  return failure ? { ok: false, error: failure, partial: merged } : { ok: true, value: merged };
}

/** The instances to drain with the registrations the look saw for each. */
function drainList(look: Look, instanceIds: string[]): DrainInput['instances'] {
  return instanceIds.map((id) => {
    const instance = look.instances.find((i) => i.instanceId === id)!;
    const ids = look.registrations[instance.computerName.toLowerCase()]?.ids;
    return { instanceId: id, computerName: instance.computerName, ...(ids ? { registrationIds: ids } : {}) };
  });
}

function* rollBack(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): Generator<Task, ScaleSetRolloutResult, any> {
  const { scaleSet } = input;
  const reason = progress.rollbackReason;
  status(context, 'rolling back', input, progress);
  if (!progress.previousImageId)
    return finished(input, progress, 'failed', `${reason}; no previous version to roll back to`);
  // S8: a rollback undoes this rollout's own change of the model, and only while it is still the
  // last change: read afresh, write only if nothing changed the model since that read.
  for (let attempt = 1; !progress.restored; attempt++) {
    const read = yield* callActivity(context, Activities.readScaleSet, {
      scaleSetId: scaleSet.id,
    });
    if (!read.ok)
      return finished(input, progress, 'failed', `${reason}; rollback failed: ${read.error.message}`);
    const model = read.value?.imageReferenceId;
    if (model?.toLowerCase() === progress.previousImageId.toLowerCase()) break;
    if (model?.toLowerCase() !== input.versionId.toLowerCase())
      return finished(
        input,
        progress,
        'superseded',
        `${reason}; not rolled back: the model was moved to ${versionOfImageReference(model) ?? model ?? 'nothing (the scale set is gone)'} since, not by this rollout`,
        versionOfImageReference(model),
      );
    const set = yield* callActivity(context, Activities.setScaleSetImage, {
      scaleSetId: scaleSet.id,
      imageReferenceId: progress.previousImageId,
      ...(read.value?.etag ? { ifMatch: read.value.etag } : {}),
    });
    if (!set.ok)
      return finished(input, progress, 'failed', `${reason}; rollback failed: ${set.error.message}`);
    if (set.value === 'changed') break;
    if (attempt >= MODEL_WRITE_ATTEMPTS)
      return finished(input, progress, 'failed', `${reason}; rollback failed: the model kept changing`);
  }
  progress.restored = true;

  const observed = yield* callActivity(context, Activities.observeScaleSet, {
    scaleSetId: scaleSet.id,
    fleet: scaleSet.fleet,
  });
  if (!observed.ok)
    return finished(input, progress, 'failed', `${reason}; rollback failed: ${observed.error.message}`);
  // Instances moved to the new version are now the ones off the model; a busy one is never touched (S1).
  // Only what this rollout moved goes back: an instance someone put on another version stays there (S8).
  const moved = planWave({
    capacity: scaleSet.capacity,
    instances: observed.value.instances.filter(
      (i) => i.latestModelApplied || i.imageReferenceId?.toLowerCase() === input.versionId.toLowerCase(),
    ),
    registrations: observed.value.registrations,
    options: { ...input.options, batchPercent: 100 },
    rolloutStartedAt: input.startedAt,
    now: context.df.currentUtcDateTime.toISOString(),
  });
  if (moved.upgrade.length > 0) {
    const drain = yield* drainPaced(context, scaleSet, drainList(staleOnly(observed.value), moved.upgrade));
    if (!drain.ok) {
      yield* giveBack(context, scaleSet, drain.partial.disabled, drain.partial.drained);
      return finished(input, progress, 'failed', `${reason}; rollback failed: ${drain.error.message}`);
    }
    if (drain.value.drained.length > 0) {
      const upgrade = yield* callActivity(context, Activities.startUpgrade, {
        scaleSetId: scaleSet.id,
        instanceIds: drain.value.drained,
        imageReferenceId: progress.previousImageId,
      });
      if (!upgrade.ok || upgrade.value.modelNow !== undefined) {
        yield* giveBack(context, scaleSet, drain.value.disabled, drain.value.drained);
        if (!upgrade.ok)
          return finished(input, progress, 'failed', `${reason}; rollback failed: ${upgrade.error.message}`);
        return finished(
          input,
          progress,
          'superseded',
          `${reason}; the model was moved to ${versionOfImageReference(upgrade.value.modelNow) ?? upgrade.value.modelNow} during the rollback`,
          versionOfImageReference(upgrade.value.modelNow),
        );
      }
      if (upgrade.value.upgraded.length > 0)
        yield* awaitHealth(
          context,
          input,
          upgrade.value.upgraded,
          progress.previousImageId,
          progress.healthyAfterMinutes,
        );
      yield* giveBack(context, scaleSet, drain.value.disabled, []);
    }
  }
  if (moved.busy.length > 0) {
    yield context.df.createTimer(after(context, { minutes: ROLLOUT_TIMING.busyRecheckMinutes }));
    return continueWith(context, input, progress);
  }
  progress.pending.push(...moved.pending);
  if (progress.failure)
    return finished(
      input,
      progress,
      'failed',
      `${progress.failure}; the model is back on ${progress.previousVersion}`,
    );
  if (progress.unproven)
    return finished(input, progress, progress.pending.length > 0 ? 'pending' : 'untouched', reason);
  return finished(input, progress, 'rolledBack', reason);
}

function continueWith(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): ScaleSetRolloutResult {
  context.df.continueAsNew({ ...input, progress } satisfies ScaleSetRolloutInput);
  return undefined as never;
}

function finished(
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
    instancesUpdated: back ? 0 : progress.updated.length,
    instancesPending: progress.pending.length,
    unhealthy: progress.unhealthy.length,
    waves: progress.waves,
    ...(progress.healthyAfterMinutes !== undefined
      ? { healthyAfterMinutes: progress.healthyAfterMinutes }
      : {}),
    ...(progress.unproven ? { unproven: true } : {}),
  });
}

function result(
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

function status(
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
  });
}
