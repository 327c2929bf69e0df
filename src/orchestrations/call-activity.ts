/**
 * Calling activities from an orchestrator with kiln's retry policy: transient failures (decided by
 * error name) are retried on durable timers with exponential backoff; permanent ones return at once.
 * Calls in one batch run in parallel and are retried together. Helper generators, used with `yield*`.
 * Every call is typed by the activity contracts (src/activity-contracts.ts): its input must be what
 * the activity takes, and its answer carries what the activity gives back.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ActivityInput, ActivityName, ActivityOutput } from '../activity-contracts.js';
import type { ActivityResult } from '../activities/result.js';
import { ACTIVITY_RETRY, type RetryPolicy } from '../retry-policy.js';
import { after } from './durable-time.js';

/** One activity call, its input checked against the activity's contract. */
export type ActivityCall<N extends ActivityName = ActivityName> = {
  [K in N]: { name: K; input: ActivityInput<K> };
}[N];

/** The answer to a call: the activity's output, inside the ActivityResult every activity answers. */
type AnswerTo<C> = C extends { name: infer N extends ActivityName }
  ? ActivityResult<ActivityOutput<N>>
  : never;

/** The answers to a list of calls, position by position. */
export type Answers<C extends readonly ActivityCall[]> = { -readonly [K in keyof C]: AnswerTo<C[K]> };

export function* callActivity<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  input: ActivityInput<N>,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, ActivityResult<ActivityOutput<N>>, unknown> {
  const [answer] = yield* callBatch(context, [{ name, input }], retry);
  return answer as ActivityResult<ActivityOutput<N>>;
}

export function* callActivities<const C extends readonly ActivityCall[]>(
  context: OrchestrationContext,
  calls: C,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, Answers<C>, unknown> {
  return (yield* callBatch(context, calls, retry)) as Answers<C>;
}

/**
 * Calls of several activities, some of them many times, as one batch (one Task.all, retried
 * together), given as lists of calls and answered as lists of answers, list by list.
 */
export function* callActivityGroups<const G extends readonly (readonly ActivityCall[])[]>(
  context: OrchestrationContext,
  groups: G,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, { -readonly [K in keyof G]: Answers<G[K]> }, unknown> {
  const answers = yield* callBatch(context, groups.flat(), retry);
  let start = 0;
  return groups.map((group) => answers.slice(start, (start += group.length))) as {
    -readonly [K in keyof G]: Answers<G[K]>;
  };
}

/**
 * The calls in one batch, their answers in the same order. Untyped: the typed helpers above say
 * what each answer is, which holds because registerActivity holds each activity to its contract.
 */
function* callBatch(
  context: OrchestrationContext,
  calls: readonly { name: string; input: unknown }[],
  retry: RetryPolicy,
): Generator<Task, ActivityResult<unknown>[], unknown> {
  return yield* retryTransient<unknown>(context, calls.length, retry, function* (pending) {
    const tasks = pending.map((index) => context.df.callActivity(calls[index]!.name, calls[index]!.input));
    return (yield context.df.Task.all(tasks)) as ActivityResult<unknown>[];
  });
}

export interface Chunking {
  /** Items per activity call. */
  size: number;
  /** Items started per minute at the most (a service's rate limit): rounds of chunks a minute apart. */
  perMinute: number;
}

/** Activities that work on a list and answer one result per item of it. */
type ListActivityName = {
  [N in ActivityName]: ActivityOutput<N> extends ActivityResult<unknown>[] ? N : never;
}[ActivityName];
type ItemOutput<N extends ActivityName> = ActivityOutput<N> extends ActivityResult<infer T>[] ? T : never;

/**
 * Calls an activity that works on a list, `size` items at a time, and returns one result per item.
 * Chunks run in parallel in rounds of at most `perMinute` items, each round a minute after the last
 * began. The activity answers one result per item of its chunk; items that failed transiently
 * (alone, or with their whole chunk) are retried together, on the same policy.
 */
export function* callActivityInChunks<N extends ListActivityName, I>(
  context: OrchestrationContext,
  name: N,
  items: I[],
  chunking: Chunking,
  chunkInput: (items: I[]) => ActivityInput<N>,
  retry: RetryPolicy = ACTIVITY_RETRY,
): Generator<Task, ActivityResult<ItemOutput<N>>[], unknown> {
  type T = ItemOutput<N>;
  return yield* retryTransient<T>(context, items.length, retry, function* (pending) {
    const answered: ActivityResult<T>[] = [];
    yield* inPacedRounds(context, pending, chunking, function* (chunks) {
      const tasks = chunks.map((chunk) =>
        context.df.callActivity(name, chunkInput(chunk.map((index) => items[index]!))),
      );
      const answers = (yield context.df.Task.all(tasks)) as ActivityResult<ActivityResult<T>[]>[];
      // Chunks are consecutive slices of `pending`: their results, in order, line up with it.
      answered.push(
        ...answers.flatMap((answer, c) => chunks[c]!.map((_, k) => (answer.ok ? answer.value[k]! : answer))),
      );
      return true;
    });
    return answered;
  });
}

/**
 * Walks `items` in rounds of at most `perMinute` (a whole number of chunks), each round split into
 * chunks of `size` and begun at least a minute after the last: how kiln stays under a service's rate
 * limit on durable timers. `round` handles one round's chunks and says whether to go on.
 */
export function* inPacedRounds<I>(
  context: OrchestrationContext,
  items: I[],
  { size, perMinute }: Chunking,
  round: (chunks: I[][]) => Generator<Task, boolean, unknown>,
): Generator<Task, void, unknown> {
  const perRound = Math.max(size, perMinute - (perMinute % size));
  for (let first = 0; first < items.length; first += perRound) {
    const next = after(context, { minutes: 1 });
    const inRound = items.slice(first, first + perRound);
    const chunks: I[][] = [];
    for (let start = 0; start < inRound.length; start += size)
      chunks.push(inRound.slice(start, start + size));
    if (!(yield* round(chunks))) return;
    if (first + perRound < items.length && context.df.currentUtcDateTime < next)
      yield context.df.createTimer(next);
  }
}

/**
 * Runs `attempt` on the indices still pending (all of `count` at first) and again, after a backoff
 * timer, on those whose result failed transiently, up to the policy's attempts.
 */
function* retryTransient<T>(
  context: OrchestrationContext,
  count: number,
  retry: RetryPolicy,
  attempt: (pending: number[]) => Generator<Task, ActivityResult<T>[], unknown>,
): Generator<Task, ActivityResult<T>[], unknown> {
  const results = new Array<ActivityResult<T>>(count);
  let pending = Array.from({ length: count }, (_, index) => index);
  for (let round = 1; pending.length > 0 && round <= retry.attempts; round++) {
    if (round > 1) yield backoffTimer(context, retry, round);
    const answered = yield* attempt(pending);
    const retryable: number[] = [];
    answered.forEach((result, k) => {
      const index = pending[k]!;
      results[index] = result;
      if (!result.ok && result.error.transient) retryable.push(index);
    });
    pending = retryable;
  }
  return results;
}

/** The durable timer before retry attempt `attempt` (2, 3, …): exponential, capped. */
function backoffTimer(context: OrchestrationContext, retry: RetryPolicy, attempt: number): Task {
  const delay = Math.min(retry.firstDelaySeconds * retry.backoff ** (attempt - 2), retry.maxDelaySeconds);
  return context.df.createTimer(after(context, { seconds: delay }));
}

/** Logs only when the orchestrator is not replaying, so each line appears once. */
export function replaySafeLog(context: OrchestrationContext, message: string): void {
  if (!context.df.isReplaying) context.log(message);
}
