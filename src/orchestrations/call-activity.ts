/**
 * Calling activities from an orchestrator with kiln's retry policy: transient failures (decided by
 * error name) are retried on durable timers with exponential backoff; permanent ones return at once.
 * Calls in one batch run in parallel and are retried together. Helper generators, used with `yield*`.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ActivityResult } from '../activities/result.js';

export interface RetryPolicy {
  attempts: number;
  firstDelaySeconds: number;
  backoff: number;
  maxDelaySeconds: number;
}

export const ACTIVITY_RETRY: RetryPolicy = {
  attempts: 4,
  firstDelaySeconds: 30,
  backoff: 2,
  maxDelaySeconds: 600,
};

export interface ActivityCall {
  name: string;
  input: unknown;
}

export function* callActivities<T>(
  context: OrchestrationContext,
  calls: ActivityCall[],
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, ActivityResult<T>[], any> {
  const results = new Array<ActivityResult<T>>(calls.length);
  let pending = calls.map((_, index) => index);
  for (let attempt = 1; pending.length > 0 && attempt <= retry.attempts; attempt++) {
    if (attempt > 1) {
      const delay = Math.min(retry.firstDelaySeconds * retry.backoff ** (attempt - 2), retry.maxDelaySeconds);
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delay * 1000));
    }
    const tasks = pending.map((index) => context.df.callActivity(calls[index]!.name, calls[index]!.input));
    const batch = (yield context.df.Task.all(tasks)) as ActivityResult<T>[];
    const retryable: number[] = [];
    batch.forEach((result, k) => {
      const index = pending[k]!;
      results[index] = result;
      if (!result.ok && result.error.transient) retryable.push(index);
    });
    pending = retryable;
  }
  return results;
}

/**
 * Calls an activity that works on a list, `size` items at a time (all chunks in parallel), and
 * returns one result per item. The activity answers one result per item of its chunk; items that
 * failed transiently (alone, or with their whole chunk) are retried together, on the same policy.
 */
export function* callActivityInChunks<I, T>(
  context: OrchestrationContext,
  name: string,
  items: I[],
  size: number,
  chunkInput: (items: I[]) => unknown,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, ActivityResult<T>[], any> {
  const results = new Array<ActivityResult<T>>(items.length);
  let pending = items.map((_, index) => index);
  for (let attempt = 1; pending.length > 0 && attempt <= retry.attempts; attempt++) {
    if (attempt > 1) {
      const delay = Math.min(retry.firstDelaySeconds * retry.backoff ** (attempt - 2), retry.maxDelaySeconds);
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delay * 1000));
    }
    const chunks: number[][] = [];
    for (let start = 0; start < pending.length; start += size)
      chunks.push(pending.slice(start, start + size));
    const tasks = chunks.map((chunk) =>
      context.df.callActivity(name, chunkInput(chunk.map((index) => items[index]!))),
    );
    const answers = (yield context.df.Task.all(tasks)) as ActivityResult<ActivityResult<T>[]>[];
    const retryable: number[] = [];
    answers.forEach((answer, c) => {
      chunks[c]!.forEach((index, k) => {
        const result = answer.ok ? answer.value[k]! : answer;
        results[index] = result;
        if (!result.ok && result.error.transient) retryable.push(index);
      });
    });
    pending = retryable;
  }
  return results;
}

export function* callActivity<T>(
  context: OrchestrationContext,
  name: string,
  input: unknown,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, ActivityResult<T>, any> {
  const [result] = yield* callActivities<T>(context, [{ name, input }], retry);
  return result!;
}

/** Logs only when the orchestrator is not replaying, so each line appears once. */
export function replaySafeLog(context: OrchestrationContext, message: string): void {
  if (!context.df.isReplaying) context.log(message);
}
