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
 *
 * This module dispatches each execution to its part: rollout-start.ts (checks, replication, the
 * model), rollout-waves.ts (a wave), rollout-rollback.ts; the waves' health gate is in
 * rollout-health.ts, their drains in rollout-drain.ts, and what carries over in rollout-progress.ts.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { Orchestrations } from '../names.js';
import { inputOf } from '../orchestration-contracts.js';
import { continueWith, type ScaleSetRolloutResult } from './rollout-progress.js';
import { after } from './durable-time.js';
import { giveLeaseBack, takeLease } from './rollout-lease.js';
import { rollBack } from './rollout-rollback.js';
import { begin } from './rollout-start.js';
import { nextWave } from './rollout-waves.js';

export type {
  ScaleSetRolloutInput,
  ScaleSetRolloutOptions,
  ScaleSetRolloutResult,
  ScaleSetRolloutStateName,
} from './rollout-progress.js';

export function* rolloutScaleSetOrchestrator(
  context: OrchestrationContext,
): Generator<Task, ScaleSetRolloutResult, unknown> {
  const input = inputOf(context, Orchestrations.rolloutScaleSet);
  const progress = input.progress;
  if (!progress) return yield* begin(context, input);
  // The lease the last wave took is given back first: between waves the autoscaler may act.
  yield* giveLeaseBack(context, input, progress);
  let ending: ScaleSetRolloutResult;
  if (progress.phase === 'waves') ending = yield* nextWave(context, input, progress);
  else {
    // A rollback holds the lease for each of its rounds: no capacity change while it runs.
    if ((yield* takeLease(context, input, progress, 'rollback')) === 'wait') {
      yield context.df.createTimer(after(context, { minutes: 1 }));
      return continueWith(context, input, progress);
    }
    ending = yield* rollBack(context, input, progress);
  }
  // undefined: the rollout continues as new (the next execution gives the lease back); a result ends it.
  if (ending !== undefined) yield* giveLeaseBack(context, input, progress);
  return ending;
}
