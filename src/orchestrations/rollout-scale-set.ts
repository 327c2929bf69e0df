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
import type { ScaleSetRolloutResult } from './rollout-progress.js';
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
  if (!input.progress) return yield* begin(context, input);
  if (input.progress.phase === 'waves') return yield* nextWave(context, input, input.progress);
  return yield* rollBack(context, input, input.progress);
}
