import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local/clock.js';
import { LocalDurableRunner } from '../../src/local/durable/runner.js';
import { orchestratorHandler, type ActivityHandler } from '../../src/local/durable/sdk-internals.js';

const START = '2026-12-01T00:00:00Z';
type Gen = Generator<unknown, unknown, unknown>;

function makeRunner(
  orchestrators: Record<string, (ctx: OrchestrationContext) => Gen>,
  activities: Record<string, ActivityHandler>,
) {
  const clock = new VirtualClock(START);
  const logs: string[] = [];
  const runner = new LocalDurableRunner({
    clock,
    orchestrators: new Map(
      Object.entries(orchestrators).map(([k, v]) => [k, orchestratorHandler(v as never)]),
    ),
    activities: new Map(Object.entries(activities)),
    log: (level, source, message) => logs.push(`${level} ${source} ${message}`),
  });
  return { clock, runner, logs };
}

describe('local durable runner (real durable-functions replay engine)', () => {
  it('runs activities and durable timers on the virtual clock', async () => {
    const { runner, clock } = makeRunner(
      {
        twice: function* (ctx) {
          const a = yield ctx.df.callActivity('double', ctx.df.getInput());
          yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 10 * 60_000));
          const b = yield ctx.df.callActivity('double', a);
          return { a, b, at: ctx.df.currentUtcDateTime.toISOString() };
        },
      },
      { double: async (n) => (n as number) * 2 },
    );
    const id = runner.startNew('twice', { input: 3 });
    const status = await runner.runToCompletion(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ a: 6, b: 12, at: '2026-12-01T00:10:00.000Z' });
    expect(clock.now().toISOString()).toBe('2026-12-01T00:10:00.000Z');
    const stats = runner.stats().find((s) => s.instanceId === id)!;
    expect(stats.episodes).toBe(4);
    // ExecutionStarted, 4×(OrchestratorStarted…Completed), 2 TaskScheduled, 2 TaskCompleted, TimerCreated, TimerFired
    expect(stats.maxHistoryEvents).toBe(15);
  });

  it('delivers fan-out completions together (a fan-out of 50 costs 2 episodes)', async () => {
    const { runner } = makeRunner(
      {
        fan: function* (ctx) {
          const tasks = Array.from({ length: 50 }, (_, i) => ctx.df.callActivity('square', i));
          const results = (yield ctx.df.Task.all(tasks)) as number[];
          return results.reduce((x, y) => x + y, 0);
        },
      },
      { square: async (n) => (n as number) ** 2 },
    );
    const id = runner.startNew('fan');
    const status = await runner.runToCompletion(id);
    expect(status.output).toBe(Array.from({ length: 50 }, (_, i) => i * i).reduce((x, y) => x + y, 0));
    expect(runner.stats()[0]!.episodes).toBe(2);
  });

  it('retries activities with backoff on durable timers, then succeeds', async () => {
    let calls = 0;
    const { runner, clock } = makeRunner(
      {
        flaky: function* (ctx) {
          return yield ctx.df.callActivityWithRetry('flakyActivity', new df.RetryOptions(60_000, 4), 'x');
        },
      },
      {
        flakyActivity: async () => {
          calls++;
          if (calls < 3) throw new Error(`attempt ${calls} failed`);
          return `ok after ${calls}`;
        },
      },
    );
    const id = runner.startNew('flaky');
    const status = await runner.runToCompletion(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe('ok after 3');
    expect(calls).toBe(3);
    expect(clock.now().toISOString()).toBe('2026-12-01T00:02:00.000Z');
  });

  it('keeps task ids in step when retries and other completions arrive together', async () => {
    const attempts: Record<string, number> = {};
    const { runner } = makeRunner(
      {
        mixed: function* (ctx) {
          const retry = new df.RetryOptions(30_000, 3);
          const tasks = [
            ctx.df.callActivityWithRetry('flakyOnce', retry, 'a'),
            ctx.df.callActivity('echo', 'b'),
            ctx.df.callActivityWithRetry('flakyOnce', retry, 'c'),
          ];
          const first = (yield ctx.df.Task.all(tasks)) as string[];
          const second = yield ctx.df.callActivity('echo', 'after');
          return [...first, second];
        },
      },
      {
        echo: async (x) => x,
        flakyOnce: async (x) => {
          const key = x as string;
          attempts[key] = (attempts[key] ?? 0) + 1;
          if (attempts[key] === 1) throw new Error(`first attempt of ${key}`);
          return `${key}#${attempts[key]}`;
        },
      },
    );
    const status = await runner.runToCompletion(runner.startNew('mixed'));
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['a#2', 'b', 'c#2', 'after']);
  });

  it('delivers a retry failure alone so ids stay in step when user code resumes in the same batch', async () => {
    let flakyCalls = 0;
    let quickCompleted!: () => void;
    const quickDone = new Promise<void>((resolve) => (quickCompleted = resolve));
    const { runner } = makeRunner(
      {
        race: function* (ctx) {
          const slowRetry = ctx.df.callActivityWithRetry('slowFlaky', new df.RetryOptions(60_000, 2), null);
          const quick = ctx.df.callActivity('echo', 'quick');
          const winner = yield ctx.df.Task.any([slowRetry, quick]);
          const next = yield ctx.df.callActivity('echo', 'next');
          const retried = yield slowRetry;
          return [(winner as { result: unknown }).result, next, retried];
        },
      },
      {
        echo: async (x) => {
          if (x === 'quick') quickCompleted();
          return x;
        },
        slowFlaky: async () => {
          flakyCalls++;
          // Fails after the quick activity completed, in the same batch of completions: it waits for
          // the quick one's answer, then for the runner to record it (a macrotask after it).
          if (flakyCalls === 1) {
            await quickDone;
            await new Promise((resolve) => setImmediate(resolve));
          }
          if (flakyCalls === 1) throw new Error('first attempt fails');
          return 'retried';
        },
      },
    );
    const status = await runner.runToCompletion(runner.startNew('race'));
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['quick', 'next', 'retried']);
  });

  it('gives up after the last attempt and surfaces the failure to the orchestrator', async () => {
    const { runner } = makeRunner(
      {
        hopeless: function* (ctx) {
          const retry = new df.RetryOptions(1000, 2);
          retry.backoffCoefficient = 2;
          try {
            yield ctx.df.callActivityWithRetry('alwaysFails', retry, null);
            return 'unexpected';
          } catch (error) {
            return `caught: ${(error as Error).message}`;
          }
        },
      },
      {
        alwaysFails: async () => {
          throw new TypeError('boom');
        },
      },
    );
    const status = await runner.runToCompletion(runner.startNew('hopeless'));
    expect(status.output).toContain('caught:');
    expect(status.output).toContain('boom');
  });

  it('runs sub-orchestrations, passes results up and propagates failures', async () => {
    const { runner } = makeRunner(
      {
        parent: function* (ctx) {
          const ok = yield ctx.df.callSubOrchestrator('child', { n: 2 }, 'child-ok');
          try {
            yield ctx.df.callSubOrchestrator('child', { n: -1 }, 'child-bad');
          } catch (error) {
            return { ok, failed: (error as Error).message };
          }
          return { ok };
        },
        child: function* (ctx) {
          const { n } = ctx.df.getInput() as { n: number };
          if (n < 0) throw new Error('negative input');
          return yield ctx.df.callActivity('double', n);
        },
      },
      { double: async (n) => (n as number) * 2 },
    );
    const status = await runner.runToCompletion(runner.startNew('parent'));
    expect(status.runtimeStatus).toBe('Completed');
    expect((status.output as { ok: number }).ok).toBe(4);
    expect((status.output as { failed: string }).failed).toContain('negative input');
    expect(runner.getStatus('child-bad')!.runtimeStatus).toBe('Failed');
    expect(runner.getStatus('child-ok')!.parentInstanceId).toBeDefined();
  });

  it('waits for external events and shows custom status', async () => {
    const { runner } = makeRunner(
      {
        approval: function* (ctx) {
          ctx.df.setCustomStatus({ phase: 'waiting' });
          const answer = yield ctx.df.waitForExternalEvent('approve');
          ctx.df.setCustomStatus({ phase: 'approved' });
          return answer;
        },
      },
      {},
    );
    const id = runner.startNew('approval', { instanceId: 'approval-1' });
    await runner.runUntilQuiet();
    expect(runner.getStatus(id)).toMatchObject({
      runtimeStatus: 'Running',
      customStatus: { phase: 'waiting' },
    });
    runner.raiseEvent(id, 'approve', { by: 'ops' });
    const status = await runner.runToCompletion(id);
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: { by: 'ops' },
      customStatus: { phase: 'approved' },
    });
  });

  it('keeps histories short with continueAsNew', async () => {
    const { runner } = makeRunner(
      {
        poller: function* (ctx) {
          const { round } = ctx.df.getInput() as { round: number };
          yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 60_000));
          if (round < 20) {
            ctx.df.continueAsNew({ round: round + 1 });
            return undefined;
          }
          return round;
        },
      },
      {},
    );
    const id = runner.startNew('poller', { input: { round: 1 } });
    const status = await runner.runToCompletion(id);
    expect(status.output).toBe(20);
    const stats = runner.stats()[0]!;
    expect(stats.executions).toBe(20);
    expect(stats.maxHistoryEvents).toBeLessThan(10);
  });

  it('refuses to start a second instance with a running instance id', async () => {
    const { runner } = makeRunner(
      {
        wait: function* (ctx) {
          return yield ctx.df.waitForExternalEvent('go');
        },
      },
      {},
    );
    runner.startNew('wait', { instanceId: 'singleton' });
    expect(() => runner.startNew('wait', { instanceId: 'singleton' })).toThrow(/already exists/);
  });

  it('fails an orchestrator loudly when its replay does not match history (S7)', async () => {
    let replays = 0;
    const { runner, logs } = makeRunner(
      {
        sneaky: function* (ctx) {
          // Reads state outside the context: differs between the first run and the replay.
          replays++;
          yield ctx.df.callActivity(replays === 1 ? 'first' : 'second', null);
          return 'done';
        },
      },
      { first: async () => 1, second: async () => 2 },
    );
    const id = runner.startNew('sneaky');
    const status = await runner.runToCompletion(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(/Non-deterministic orchestrator "sneaky".*"second".*"first"/);
    expect(runner.failures).toHaveLength(1);
    expect(logs.some((l) => l.includes('Non-deterministic'))).toBe(true);
  });

  it('catches wall-clock time leaking into activity inputs', async () => {
    const { runner } = makeRunner(
      {
        clocky: function* (ctx) {
          yield ctx.df.callActivity('record', { at: Date.now() + Math.random() });
          yield ctx.df.callActivity('record', { at: 1 });
          return 'done';
        },
      },
      { record: async (x) => x },
    );
    const status = await runner.runToCompletion(runner.startNew('clocky'));
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('Non-deterministic');
  });

  it('reports orchestrator exceptions as failures', async () => {
    const { runner } = makeRunner(
      {
        broken: function* (ctx) {
          yield ctx.df.callActivity('double', 1);
          throw new RangeError('bad plan');
        },
      },
      { double: async (n) => (n as number) * 2 },
    );
    const status = await runner.runToCompletion(runner.startNew('broken'));
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('bad plan');
  });
});
