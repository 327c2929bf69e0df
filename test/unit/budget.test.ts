/**
 * The activity budget (src/activities/budget.ts) on an injected clock: it stops starting items past
 * the time budget or after a run of transient failures, and answers the rest as transient failures
 * that say they were not attempted and why.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVITY_BUDGET, forEachWithinBudget, startBudget } from '../../src/activities/budget.js';
import { ok, type ActivityResult } from '../../src/activities/result.js';

const transient = (message = 'HTTP 503'): ActivityResult<never> => ({
  ok: false,
  error: { name: 'TransientError', message, transient: true },
});
const permanent = (message = 'HTTP 400'): ActivityResult<never> => ({
  ok: false,
  error: { name: 'PermanentError', message, transient: false },
});

/** A clock the test moves by hand. */
function manualClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

describe('startBudget', () => {
  it('defaults: 4 minutes and 3 transient failures in a row', () => {
    expect(ACTIVITY_BUDGET).toEqual({ timeMs: 240_000, consecutiveTransientFailures: 3 });
    const clock = manualClock();
    const budget = startBudget({ now: clock.now });
    clock.advance(239_999);
    expect(budget.exhausted()).toBe(false);
    clock.advance(1);
    expect(budget.exhausted()).toBe(true);
  });

  it('is exhausted once the time budget is spent, and says so', () => {
    const clock = manualClock();
    const budget = startBudget({ timeMs: 10_000, now: clock.now });
    expect(budget.exhausted()).toBe(false);
    clock.advance(12_000);
    expect(budget.exhausted()).toBe(true);
    expect(budget.notAttempted('remove GitHub runner r1')).toEqual({
      ok: false,
      error: {
        name: 'TransientError',
        message:
          'remove GitHub runner r1: not attempted: the activity spent its time budget (12 s of 10 s); left for a later attempt',
        transient: true,
      },
    });
  });

  it('is exhausted after the set number of transient failures in a row; anything else ends the run', () => {
    const clock = manualClock();
    const budget = startBudget({ consecutiveTransientFailures: 3, now: clock.now });
    budget.record(transient());
    budget.record(transient());
    budget.record(ok('deleted'));
    budget.record(transient());
    budget.record(permanent());
    budget.record(transient());
    budget.record(transient());
    expect(budget.exhausted()).toBe(false);
    budget.record(transient());
    expect(budget.exhausted()).toBe(true);
    const skipped = budget.notAttempted('look up the registration of vm1');
    expect(skipped.ok).toBe(false);
    if (!skipped.ok) {
      expect(skipped.error.transient).toBe(true);
      expect(skipped.error.message).toMatch(
        /^look up the registration of vm1: not attempted: 3 items in a row failed transiently/,
      );
    }
  });
});

describe('forEachWithinBudget', () => {
  it('runs every item in order while the budget lasts', async () => {
    const seen: string[] = [];
    const results = await forEachWithinBudget(
      ['a', 'b', 'c'],
      (item) => `do ${item}`,
      async (item, what) => {
        seen.push(what);
        return ok(item.toUpperCase());
      },
    );
    expect(seen).toEqual(['do a', 'do b', 'do c']);
    expect(results).toEqual([ok('A'), ok('B'), ok('C')]);
  });

  it('stops starting items after a run of transient failures and answers the rest as not attempted', async () => {
    const items = Array.from({ length: 10 }, (_, k) => k);
    const started: number[] = [];
    const results = await forEachWithinBudget(
      items,
      (k) => `item ${k}`,
      async (k) => {
        started.push(k);
        return k === 0 ? ok(k) : transient();
      },
      { consecutiveTransientFailures: 3, now: manualClock().now },
    );
    expect(started).toEqual([0, 1, 2, 3]);
    expect(results).toHaveLength(10);
    expect(results.slice(0, 4)).toEqual([ok(0), transient(), transient(), transient()]);
    for (const [k, r] of results.slice(4).entries()) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toMatchObject({ name: 'TransientError', transient: true });
        expect(r.error.message).toMatch(new RegExp(`^item ${k + 4}: not attempted: `));
      }
    }
  });

  it('stops starting items once the clock passes the time budget; the item in flight finishes', async () => {
    const clock = manualClock();
    const started: number[] = [];
    const results = await forEachWithinBudget(
      [0, 1, 2, 3, 4],
      (k) => `item ${k}`,
      async (k) => {
        started.push(k);
        clock.advance(40_000); // each item "takes" 40 s of the injected clock
        return ok(k);
      },
      { timeMs: 100_000, now: clock.now },
    );
    // Started at 0, 40 and 80 s; at 120 s the budget of 100 s is spent.
    expect(started).toEqual([0, 1, 2]);
    expect(results.slice(0, 3)).toEqual([ok(0), ok(1), ok(2)]);
    expect(results.slice(3).map((r) => !r.ok && r.error.message)).toEqual([
      'item 3: not attempted: the activity spent its time budget (120 s of 100 s); left for a later attempt',
      'item 4: not attempted: the activity spent its time budget (120 s of 100 s); left for a later attempt',
    ]);
  });

  it('permanent failures do not stop it: the service answered', async () => {
    const results = await forEachWithinBudget(
      [0, 1, 2, 3, 4],
      (k) => `item ${k}`,
      async () => permanent(),
      { consecutiveTransientFailures: 2, now: manualClock().now },
    );
    expect(results.every((r) => !r.ok && r.error.name === 'PermanentError')).toBe(true);
  });
});
