/**
 * A small stand-in for the Durable Functions orchestration context, enough to drive kiln's helper
 * generators without a Functions host: callActivity, Task.all and createTimer return plain records,
 * and `drive` answers them — activities from a handler, timers by moving the clock to their moment.
 */
import type { OrchestrationContext, Task } from 'durable-functions';

type FakeTask =
  | { kind: 'activity'; name: string; input: unknown }
  | { kind: 'all'; tasks: FakeTask[] }
  | { kind: 'timer'; at: Date };

export interface ActivityCallSeen {
  name: string;
  input: unknown;
  /** The orchestration time the call was answered at. */
  at: string;
}

export interface FakeOrchestration {
  context: OrchestrationContext;
  /** Every activity call, in the order the orchestrator made them. */
  calls: ActivityCallSeen[];
  /** The moment of every durable timer, in order. */
  timers: string[];
  /** Batches as the orchestrator yielded them (Task.all), each a list of activity names. */
  batches: string[][];
  /** Moves the orchestration clock on (an activity that takes time). */
  elapse(ms: number): void;
  now(): string;
  /** Runs `generator` to its end, answering each activity call with `answer`. */
  drive<R>(generator: Generator<Task, R, unknown>): R;
}

/** `I`: what the test's activities take (each test calls activities of one input shape). */
export function fakeOrchestration<I = unknown>(
  start: string,
  answer: (name: string, input: I, fake: FakeOrchestration) => unknown,
): FakeOrchestration {
  let now = new Date(start);
  const fake: FakeOrchestration = {
    context: {
      log: () => undefined,
      df: {
        get currentUtcDateTime() {
          return now;
        },
        isReplaying: false,
        callActivity: (name: string, input: unknown): FakeTask => ({ kind: 'activity', name, input }),
        createTimer: (at: Date): FakeTask => ({ kind: 'timer', at }),
        Task: { all: (tasks: FakeTask[]): FakeTask => ({ kind: 'all', tasks }) },
      },
    } as unknown as OrchestrationContext,
    calls: [],
    timers: [],
    batches: [],
    elapse: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    now: () => now.toISOString(),
    drive: (generator) => {
      let step = generator.next();
      while (!step.done) step = generator.next(settle(step.value as unknown as FakeTask));
      return step.value;
    },
  };
  const settle = (task: FakeTask): unknown => {
    switch (task.kind) {
      case 'activity':
        fake.calls.push({ name: task.name, input: task.input, at: now.toISOString() });
        return answer(task.name, task.input as I, fake);
      case 'all':
        fake.batches.push(task.tasks.map((t) => (t.kind === 'activity' ? t.name : t.kind)));
        return task.tasks.map(settle);
      case 'timer':
        if (task.at < now) throw new Error(`a timer in the past: ${task.at.toISOString()}`);
        fake.timers.push(task.at.toISOString());
        now = task.at;
        return undefined;
    }
  };
  return fake;
}

export const transient = (message = 'throttled') => ({
  ok: false as const,
  error: { name: 'TransientError', message, transient: true },
});

export const permanent = (message = 'forbidden') => ({
  ok: false as const,
  error: { name: 'ForbiddenError', message, transient: false },
});
