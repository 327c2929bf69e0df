/**
 * A scale set rollout's side of the lease it shares with the autoscaler (src/leases): taken for a wave
 * (drain, upgrade, health gate) or a rollback round, given back when the next execution begins or the
 * rollout ends. Held by the autoscaler (a scale-in takes seconds): the rollout waits a minute and looks
 * again. Held by another rollout, unreadable, or with no lease table: the rollout goes on as it always
 * did (rollouts of one scale set are kept apart by S5 and the model's ETag, not by the lease).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { Activities } from '../names.js';
import { callActivity } from './call-activity.js';
import type { LeasePurpose } from '../leases/scale-set-leases.js';
import type { Progress, ScaleSetRolloutInput } from './rollout-progress.js';

/** How long a rollout's lease holds: a wave's health gate and then some; each wave renews it. */
function leaseMinutes(input: ScaleSetRolloutInput): number {
  return input.options.healthDeadlineMinutes + 60;
}

/** Takes the lease; 'wait' when the autoscaler holds it. Sets progress.leaseHeld when taken. */
export function* takeLease(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
  purpose: Extract<LeasePurpose, 'rollout' | 'rollback'>,
): Generator<Task, 'go' | 'wait', unknown> {
  const taken = yield* callActivity(context, Activities.acquireScaleSetLease, {
    scaleSet: input.scaleSet.name,
    owner: context.df.instanceId,
    purpose,
    now: context.df.currentUtcDateTime.toISOString(),
    minutes: leaseMinutes(input),
  });
  if (!taken.ok || taken.value === null) return 'go';
  if (taken.value.acquired) {
    progress.leaseHeld = true;
    return 'go';
  }
  return taken.value.heldBy.purpose === 'autoscale' ? 'wait' : 'go';
}

/** Gives the lease back if this rollout holds it. */
export function* giveLeaseBack(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
  progress: Progress,
): Generator<Task, void, unknown> {
  if (!progress.leaseHeld) return;
  delete progress.leaseHeld;
  yield* callActivity(context, Activities.releaseScaleSetLease, {
    scaleSet: input.scaleSet.name,
    owner: context.df.instanceId,
  });
}
