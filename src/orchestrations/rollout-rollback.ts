/**
 * A scale set rollout that broke its health gate, or a lead or canary that proved nothing: the model
 * goes back to what it was — only while this rollout's change is still the last (S8) — and the
 * instances it moved follow, never a busy one (S1), one round per execution.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { planWave, staleLook, versionOfImageReference } from '../domain/rollout.js';
import { MODEL_WRITE_ATTEMPTS } from '../retry-policy.js';
import { Activities } from '../names.js';
import { callActivity } from './call-activity.js';
import { after } from './durable-time.js';
import { drainList, drainPaced, giveBack } from './rollout-drain.js';
import { awaitHealth } from './rollout-health.js';
import {
  ROLLOUT_TIMING,
  continueWith,
  countRemoved,
  finished,
  status,
  type Progress,
  type ScaleSetRolloutInput,
  type ScaleSetRolloutResult,
} from './rollout-progress.js';

export function* rollBack(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): Generator<Task, ScaleSetRolloutResult, unknown> {
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
    const drain = yield* drainPaced(context, scaleSet, drainList(staleLook(observed.value), moved.upgrade));
    const drained = drain.ok ? drain.value : drain.partial;
    countRemoved(context, 'rolling back', input, progress, drained.runnersRemoved);
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
