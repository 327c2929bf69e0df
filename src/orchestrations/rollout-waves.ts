/**
 * One wave of a scale set rollout per execution: look (or reuse the last look), plan the wave, wait
 * for busy instances, drain the idle ones, upgrade them and hold the health gate; a breach turns the
 * rollout into a rollback. With no wave left, `conclude` says how the scale set really ended.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import {
  breachesThreshold,
  planWave,
  staleLook,
  versionOfImageReference,
  withFreshRegistrations,
  type WaveLook,
} from '../domain/rollout.js';
import { Activities } from '../names.js';
import { callActivity, replaySafeLog } from './call-activity.js';
import { after, onTick } from './durable-time.js';
import { drainList, drainPaced, giveBack } from './rollout-drain.js';
import { awaitHealth, unhealthyReasons } from './rollout-health.js';
import { takeLease } from './rollout-lease.js';
import {
  ROLLOUT_TIMING,
  continueWith,
  countRemoved,
  finished,
  status,
  withWave,
  type Progress,
  type ScaleSetRolloutInput,
  type ScaleSetRolloutResult,
  type WaveRecord,
} from './rollout-progress.js';

export function* nextWave(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): Generator<Task, ScaleSetRolloutResult, unknown> {
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
    look = staleLook(observed.value);
  }

  // An undo moves back only what it undoes: instances on the version being undone.
  const restoreFrom = input.restoreFrom?.toLowerCase();
  if (!restoreFrom) noteReplaced(progress, look);
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
      progress.lastLook = {
        instances: look.instances,
        registrations: withFreshRegistrations(look, names, fresh.value),
      };
    return continueWith(context, input, progress);
  }

  // The wave runs under the scale set's lease: the autoscaler deletes none of its instances meanwhile.
  if ((yield* takeLease(context, input, progress, 'rollout')) === 'wait') {
    status(context, 'waiting for the autoscaler', input, progress);
    yield context.df.createTimer(after(context, { minutes: 1 }));
    return continueWith(context, input, progress);
  }
  const drain = yield* drainPaced(context, scaleSet, drainList(look, plan.upgrade));
  const drained = drain.ok ? drain.value : drain.partial;
  countRemoved(context, `wave ${progress.waves + 1}`, input, progress, drained.runnersRemoved);
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
  const started: WaveRecord = {
    wave: progress.waves + 1,
    startedAt: context.df.currentUtcDateTime.toISOString(),
    instances: wave.length,
  };
  progress.firstWaveAt ??= started.startedAt;
  progress.waveLog = withWave(progress.waveLog, started);
  // Shown while the health gate waits: the wave has started.
  status(context, `wave ${started.wave}`, input, progress);

  const health = yield* awaitHealth(context, input, wave, input.versionId, progress.healthyAfterMinutes);
  // The wave's instances are back (or past their deadline): their agents take jobs again.
  yield* giveBack(context, scaleSet, drain.value.disabled, []);
  progress.waves++;
  progress.healthyAfterMinutes ??= health.unhealthy.length === 0 ? health.minutes : undefined;
  const judged = (): WaveRecord => ({
    ...started,
    healthy: health.healthy.length,
    unhealthy: health.unhealthy.length,
    judgedAt: context.df.currentUtcDateTime.toISOString(),
    onNewVersion: progress.updated.length,
  });
  if (breachesThreshold(health.unhealthy.length, wave.length, options.maxUnhealthyPercent)) {
    progress.waveLog = withWave(progress.waveLog, judged());
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
  progress.waveLog = withWave(progress.waveLog, judged());
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
  look: WaveLook,
  newer: string[],
): Generator<Task, ScaleSetRolloutResult, unknown> {
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
  const changedNothing =
    !progress.movedModel &&
    progress.updated.length === 0 &&
    progress.pending.length === 0 &&
    progress.unhealthy.length === 0;
  if (left.length === 0 && changedNothing)
    return {
      ...finished(input, progress, 'untouched', `already on ${input.version}`),
      alreadyOnVersion: true,
    };
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

/**
 * Old instances that left since the last look without this rollout moving them (the autoscaler
 * scaled them in: new instances come up on the model instead) count as updated by attrition.
 */
function noteReplaced(progress: Progress, look: WaveLook): void {
  const now = new Set(look.instances.map((i) => i.instanceId));
  const moved = new Set([...progress.updated, ...progress.unhealthy]);
  const gone = (progress.stale ?? []).filter((id) => !now.has(id) && !moved.has(id));
  if (gone.length > 0) {
    progress.replaced = (progress.replaced ?? 0) + gone.length;
    progress.pending = progress.pending.filter((id) => !gone.includes(id));
  }
  progress.stale = [...now];
}
