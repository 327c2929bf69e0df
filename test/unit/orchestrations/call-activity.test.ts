import { describe, expect, it } from 'vitest';
import type { RemoveRegistrationsInput } from '../../../src/activities/remediation.js';
import { Activities } from '../../../src/names.js';
import {
  callActivities,
  callActivity,
  callActivityGroups,
  callActivityInChunks,
  inPacedRounds,
} from '../../../src/orchestrations/call-activity.js';
import { ACTIVITY_RETRY, type RetryPolicy } from '../../../src/retry-policy.js';
import { fakeOrchestration, permanent, transient } from './fake-orchestration-context.js';

const T0 = '2026-12-01T03:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const ok = <T>(value: T) => ({ ok: true as const, value });

describe('callActivity', () => {
  it('answers what the activity answered, at once, when it succeeds', () => {
    const fake = fakeOrchestration(T0, () => ok({ versions: [], referenced: [] }));
    const result = fake.drive(
      callActivity(fake.context, Activities.readGallery, { definition: 'linux-agent' }),
    );
    expect(result).toEqual(ok({ versions: [], referenced: [] }));
    expect(fake.calls).toEqual([{ name: 'readGallery', input: { definition: 'linux-agent' }, at: T0 }]);
    expect(fake.timers).toEqual([]);
  });

  it('retries a transient failure after backoff timers until it succeeds', () => {
    let calls = 0;
    const fake = fakeOrchestration(T0, () => (++calls < 3 ? transient() : ok(null)));
    const result = fake.drive(callActivity(fake.context, Activities.stopBuild, { executionName: 'job-1' }));
    expect(result).toEqual(ok(null));
    expect(fake.calls.map((c) => c.at)).toEqual([at(0), at(30), at(90)]);
    expect(fake.timers).toEqual([at(30), at(90)]);
  });

  it('gives up after the policy attempts with the last transient failure, backoff capped', () => {
    const policy: RetryPolicy = { attempts: 6, firstDelaySeconds: 10, backoff: 3, maxDelaySeconds: 100 };
    let calls = 0;
    const fake = fakeOrchestration(T0, () => transient(`throttled ${++calls}`));
    const result = fake.drive(
      callActivity(fake.context, Activities.stopBuild, { executionName: 'j' }, policy),
    );
    expect(result).toEqual(transient('throttled 6'));
    // 10, 30, 90, then capped at 100 twice: five timers between six attempts.
    expect(fake.timers).toEqual([at(10), at(40), at(130), at(230), at(330)]);
  });

  it('follows the default policy: 4 attempts, 30 s doubling', () => {
    const fake = fakeOrchestration(T0, () => transient());
    fake.drive(callActivity(fake.context, Activities.stopBuild, { executionName: 'j' }));
    expect(ACTIVITY_RETRY.attempts).toBe(4);
    expect(fake.timers).toEqual([at(30), at(90), at(210)]);
  });

  it('returns a permanent failure at once, without a timer', () => {
    const fake = fakeOrchestration(T0, () => permanent());
    const result = fake.drive(callActivity(fake.context, Activities.stopBuild, { executionName: 'j' }));
    expect(result).toEqual(permanent());
    expect(fake.calls).toHaveLength(1);
    expect(fake.timers).toEqual([]);
  });
});

describe('callActivities', () => {
  it('runs the calls as one batch and retries only those that failed transiently, together', () => {
    const failures = new Map([
      ['a', 2],
      ['c', 1],
    ]);
    const fake = fakeOrchestration(T0, (_name, input: { executionName: string }) => {
      const left = failures.get(input.executionName) ?? 0;
      failures.set(input.executionName, left - 1);
      if (input.executionName === 'd') return permanent();
      return left > 0 ? transient() : ok(input.executionName);
    });
    const results = fake.drive(
      callActivities(
        fake.context,
        ['a', 'b', 'c', 'd'].map((executionName) => ({
          name: Activities.getBuildStatus,
          input: { executionName },
        })),
      ),
    );
    expect(results).toEqual([ok('a'), ok('b'), ok('c'), permanent()]);
    expect(fake.batches).toEqual([
      ['getBuildStatus', 'getBuildStatus', 'getBuildStatus', 'getBuildStatus'],
      ['getBuildStatus', 'getBuildStatus'],
      ['getBuildStatus'],
    ]);
    expect(fake.calls.map((c) => (c.input as { executionName: string }).executionName)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'a',
      'c',
      'a',
    ]);
    expect(fake.timers).toEqual([at(30), at(90)]);
  });

  it('answers an empty list without calling anything', () => {
    const fake = fakeOrchestration(T0, () => ok(null));
    expect(fake.drive(callActivities(fake.context, []))).toEqual([]);
    expect(fake.calls).toEqual([]);
  });
});

describe('callActivityGroups', () => {
  it('calls every group in one batch, in order, and answers group by group', () => {
    const fake = fakeOrchestration(T0, (name, input: { scaleSetId?: string } | null) =>
      name === Activities.listScaleSetInstances ? ok([input!.scaleSetId]) : ok(name),
    );
    const [instances, [runners], [agents]] = fake.drive(
      callActivityGroups(fake.context, [
        ['s1', 's2'].map((scaleSetId) => ({ name: Activities.listScaleSetInstances, input: { scaleSetId } })),
        [{ name: Activities.listGitHubRunners, input: null }],
        [{ name: Activities.listAdoAgents, input: null }],
      ]),
    );
    expect(fake.batches).toEqual([
      ['listScaleSetInstances', 'listScaleSetInstances', 'listGitHubRunners', 'listAdoAgents'],
    ]);
    expect(instances).toEqual([ok(['s1']), ok(['s2'])]);
    expect(runners).toEqual(ok('listGitHubRunners'));
    expect(agents).toEqual(ok('listAdoAgents'));
  });

  it('keeps each group whole when retrying a failure in one of them', () => {
    let runnerCalls = 0;
    const fake = fakeOrchestration(T0, (name) =>
      name === Activities.listGitHubRunners && ++runnerCalls === 1 ? transient() : ok(name),
    );
    const [instances, [runners]] = fake.drive(
      callActivityGroups(fake.context, [
        [{ name: Activities.listScaleSetInstances, input: { scaleSetId: 's1' } }],
        [{ name: Activities.listGitHubRunners, input: null }],
      ]),
    );
    expect(instances).toEqual([ok('listScaleSetInstances')]);
    expect(runners).toEqual(ok('listGitHubRunners'));
    expect(fake.batches).toEqual([['listScaleSetInstances', 'listGitHubRunners'], ['listGitHubRunners']]);
  });
});

describe('callActivityInChunks', () => {
  type Item = RemoveRegistrationsInput['registrations'][number];
  const items = (n: number): Item[] =>
    Array.from({ length: n }, (_, i) => ({ fleet: 'github', id: i, name: `r${i}`, reason: 'ghost' }));
  const chunkInput = (chunk: Item[]): RemoveRegistrationsInput => ({ registrations: chunk });
  const namesOf = (input: unknown) => (input as RemoveRegistrationsInput).registrations.map((r) => r.name);
  /** Answers each registration by name, the way the activity does: one result per item, in order. */
  const perItem = (outcome: (name: string) => unknown) => (_: string, input: RemoveRegistrationsInput) =>
    ok(input.registrations.map((r) => outcome(r.name)));

  it('answers one result per item, lined up with the items, in chunks of the size', () => {
    const fake = fakeOrchestration(
      T0,
      perItem((name) => ok(`deleted ${name}`)),
    );
    const results = fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(5),
        { size: 2, perMinute: 100 },
        chunkInput,
      ),
    );
    expect(results).toEqual(['r0', 'r1', 'r2', 'r3', 'r4'].map((name) => ok(`deleted ${name}`)));
    expect(fake.calls.map((c) => namesOf(c.input))).toEqual([['r0', 'r1'], ['r2', 'r3'], ['r4']]);
    expect(fake.batches).toHaveLength(1);
    expect(fake.timers).toEqual([]);
  });

  it('paces rounds of at most perMinute items a minute apart', () => {
    const fake = fakeOrchestration(
      T0,
      perItem(() => ok('deleted')),
    );
    fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(7),
        { size: 2, perMinute: 5 },
        chunkInput,
      ),
    );
    // 5 a minute in chunks of 2: rounds of 4 items (two chunks), then the last three.
    expect(fake.calls.map((c) => [c.at, namesOf(c.input)])).toEqual([
      [at(0), ['r0', 'r1']],
      [at(0), ['r2', 'r3']],
      [at(60), ['r4', 'r5']],
      [at(60), ['r6']],
    ]);
    expect(fake.timers).toEqual([at(60)]);
  });

  it('starts the next round at once when a round took a minute or more', () => {
    const fake = fakeOrchestration(T0, (name, input: RemoveRegistrationsInput, self) => {
      self.elapse(90_000);
      return perItem(() => ok('deleted'))(name, input);
    });
    fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(4),
        { size: 2, perMinute: 2 },
        chunkInput,
      ),
    );
    expect(fake.timers).toEqual([]);
    expect(fake.calls.map((c) => c.at)).toEqual([at(0), at(90)]);
  });

  it('retries a chunk that failed transiently as a whole, and only its items', () => {
    let failedOnce = false;
    const fake = fakeOrchestration(T0, (name, input: RemoveRegistrationsInput) => {
      if (namesOf(input).includes('r2') && !failedOnce) {
        failedOnce = true;
        return transient('chunk throttled');
      }
      return perItem((n) => ok(`deleted ${n}`))(name, input);
    });
    const results = fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(5),
        { size: 2, perMinute: 100 },
        chunkInput,
      ),
    );
    expect(results).toEqual(['r0', 'r1', 'r2', 'r3', 'r4'].map((n) => ok(`deleted ${n}`)));
    expect(fake.calls.map((c) => [c.at, namesOf(c.input)])).toEqual([
      [at(0), ['r0', 'r1']],
      [at(0), ['r2', 'r3']],
      [at(0), ['r4']],
      [at(30), ['r2', 'r3']],
    ]);
  });

  it('retries items that failed transiently within a chunk, regrouped, and returns permanent failures as they are', () => {
    const seen = new Map<string, number>();
    const fake = fakeOrchestration(
      T0,
      perItem((name) => {
        seen.set(name, (seen.get(name) ?? 0) + 1);
        if (name === 'r3') return permanent('refused');
        if ((name === 'r1' || name === 'r4') && seen.get(name) === 1) return transient();
        return ok(`deleted ${name}`);
      }),
    );
    const results = fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(5),
        { size: 2, perMinute: 100 },
        chunkInput,
      ),
    );
    expect(results).toEqual([
      ok('deleted r0'),
      ok('deleted r1'),
      ok('deleted r2'),
      permanent('refused'),
      ok('deleted r4'),
    ]);
    expect(fake.calls.slice(3).map((c) => [c.at, namesOf(c.input)])).toEqual([[at(30), ['r1', 'r4']]]);
    expect(seen.get('r3')).toBe(1);
  });

  it('gives an item the last transient failure when every attempt failed', () => {
    const fake = fakeOrchestration(
      T0,
      perItem((name) => (name === 'r0' ? transient('still throttled') : ok('deleted'))),
    );
    const results = fake.drive(
      callActivityInChunks(
        fake.context,
        Activities.removeRegistrations,
        items(2),
        { size: 2, perMinute: 100 },
        chunkInput,
      ),
    );
    expect(results).toEqual([transient('still throttled'), ok('deleted')]);
    expect(fake.calls.map((c) => namesOf(c.input))).toEqual([['r0', 'r1'], ['r0'], ['r0'], ['r0']]);
  });
});

describe('inPacedRounds', () => {
  const run = (count: number, chunking: { size: number; perMinute: number }, goOn = () => true) => {
    const fake = fakeOrchestration(T0, () => ok(null));
    const rounds: { at: string; chunks: number[][] }[] = [];
    fake.drive(
      inPacedRounds(
        fake.context,
        Array.from({ length: count }, (_, i) => i),
        chunking,
        function* (chunks) {
          rounds.push({ at: fake.now(), chunks });
          yield* callActivities(
            fake.context,
            chunks.map((chunk) => ({ name: Activities.stopBuild, input: { executionName: chunk.join() } })),
          );
          return goOn();
        },
      ),
    );
    return { rounds, timers: fake.timers };
  };

  it('rounds hold a whole number of chunks, at most perMinute items', () => {
    const { rounds, timers } = run(10, { size: 3, perMinute: 7 });
    expect(rounds).toEqual([
      {
        at: at(0),
        chunks: [
          [0, 1, 2],
          [3, 4, 5],
        ],
      },
      { at: at(60), chunks: [[6, 7, 8], [9]] },
    ]);
    expect(timers).toEqual([at(60)]);
  });

  it('a chunk larger than perMinute still goes, one a round', () => {
    const { rounds } = run(5, { size: 3, perMinute: 2 });
    expect(rounds.map((r) => [r.at, r.chunks])).toEqual([
      [at(0), [[0, 1, 2]]],
      [at(60), [[3, 4]]],
    ]);
  });

  it('stops when a round says so, and waits for nothing after the last round', () => {
    expect(run(10, { size: 2, perMinute: 2 }, () => false).rounds).toHaveLength(1);
    expect(run(4, { size: 2, perMinute: 4 }).timers).toEqual([]);
    expect(run(0, { size: 2, perMinute: 4 }).rounds).toEqual([]);
  });
});
