/**
 * The budget of an activity that acts on a list, item after item. It stops starting new items once
 * (a) the activity has spent its time budget, or (b) several items in a row failed transiently: the
 * service is down, stop hammering it. The items not attempted come back as transient failures that
 * say so and why, and the orchestrator retries them later on its durable timers
 * (callActivityInChunks), instead of the activity sleeping through an outage or outlasting its host.
 *
 * Worst case of one activity: the time budget + the item in flight when it ran out, at most
 * CALLS_PER_LIST_ITEM client calls (and an Azure DevOps pool look-up), each bounded by its deadline
 * (src/retry-policy.ts has the numbers, the README's "Retries and timeouts" table the sum). A test
 * keeps that below host.json's functionTimeout. An activity that uses this helper keeps its items to
 * CALLS_PER_LIST_ITEM calls or says what its own worst case is.
 *
 * Use, one item at a time:
 *
 *   const budget = startBudget();
 *   for (const item of items) {
 *     const what = `remove ${item.name}`;
 *     if (budget.exhausted()) {
 *       results.push(budget.notAttempted(what));
 *       continue;
 *     }
 *     const result = await attempt(what, () => remove(item));
 *     budget.record(result);
 *     results.push(result);
 *   }
 *
 * or the same loop in one call:
 *
 *   const results = await forEachWithinBudget(items, (item) => `remove ${item.name}`, (item, what) =>
 *     attempt(what, () => remove(item)),
 *   );
 */
import { ACTIVITY_BUDGET } from '../retry-policy.js';
import type { ActivityResult } from './result.js';

export { ACTIVITY_BUDGET };

export interface BudgetOptions {
  /** Default ACTIVITY_BUDGET.timeMs. */
  timeMs?: number;
  /** Default ACTIVITY_BUDGET.consecutiveTransientFailures. */
  consecutiveTransientFailures?: number;
  /** Milliseconds since the epoch (default Date.now; activities may read the wall clock). */
  now?: () => number;
}

export interface Budget {
  /** True once no new item should start. */
  exhausted(): boolean;
  /** Counts an item's result: a transient failure lengthens the run of failures, anything else ends it. */
  record(result: ActivityResult<unknown>): void;
  /** The result of an item not attempted: a transient failure naming `what` and why it was not attempted. */
  notAttempted(what: string): ActivityResult<never>;
}

/** Starts the budget's clock now: call it when the activity begins. */
export function startBudget(options: BudgetOptions = {}): Budget {
  const now = options.now ?? Date.now;
  const timeMs = options.timeMs ?? ACTIVITY_BUDGET.timeMs;
  const maxFailures = options.consecutiveTransientFailures ?? ACTIVITY_BUDGET.consecutiveTransientFailures;
  const started = now();
  let failuresInARow = 0;

  const reason = (): string | undefined => {
    if (failuresInARow >= maxFailures)
      return `${failuresInARow} items in a row failed transiently (the service looks down)`;
    const spent = now() - started;
    if (spent >= timeMs)
      return `the activity spent its time budget (${Math.round(spent / 1000)} s of ${timeMs / 1000} s)`;
    return undefined;
  };

  return {
    exhausted: () => reason() !== undefined,
    record(result) {
      failuresInARow = !result.ok && result.error.transient ? failuresInARow + 1 : 0;
    },
    notAttempted(what) {
      return {
        ok: false,
        error: {
          name: 'TransientError',
          message: `${what}: not attempted: ${reason() ?? 'the activity stopped'}; left for a later attempt`,
          transient: true,
        },
      };
    },
  };
}

/**
 * Runs `work` on each item in order, within one budget started now; returns one result per item, in
 * order, the items not attempted included. `describe` names an item for its result and is passed to
 * `work` as `what`.
 */
export async function forEachWithinBudget<I, T>(
  items: readonly I[],
  describe: (item: I) => string,
  work: (item: I, what: string) => Promise<ActivityResult<T>>,
  options: BudgetOptions = {},
): Promise<ActivityResult<T>[]> {
  const budget = startBudget(options);
  const results: ActivityResult<T>[] = [];
  for (const item of items) {
    const what = describe(item);
    if (budget.exhausted()) {
      results.push(budget.notAttempted(what));
      continue;
    }
    const result = await work(item, what);
    budget.record(result);
    results.push(result);
  }
  return results;
}
