/**
 * recordedRun (src/orchestrations/recorded-run.ts) on the real replay engine (the local durable
 * runner), with the real record activities and the run history on the fake cloud's Table storage:
 * a run is recorded at its orchestration's start time and as it ended — completed with its
 * conclusion, or failed with what it threw (and it still fails); a run's sub-orchestration records
 * nothing of its own; and a history that cannot be written never fails the run.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/deps.js';
import {
  createRecordRunEndActivity,
  createRecordRunStartActivity,
} from '../../src/activities/run-history.js';
import { createCredential } from '../../src/clients/credential.js';
import { createRunHistoryTable, type RunHistory } from '../../src/history/run-history.js';
import { LocalDurableRunner } from '../../src/local/durable/runner.js';
import { orchestratorHandler } from '../../src/local/durable/sdk-internals.js';
import { Activities } from '../../src/names.js';
import { recordedRun, type RunAbout } from '../../src/orchestrations/recorded-run.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let history: RunHistory;
let runner: LocalDurableRunner;
const logs: string[] = [];

const about = (input: unknown): RunAbout => ({
  kind: 'rollout',
  subject: 'linux-agent 2026.12.1',
  dryRun: false,
  startedBy: { by: 'http', client: 'kiln-cli/0.1.0' },
  input,
});

/** A run that waits 10 minutes on a durable timer, then ends as `end` says. */
function* tenMinutes(
  context: OrchestrationContext,
  end: () => { state: string },
): Generator<Task, { state: string }, unknown> {
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 10 * 60_000));
  return end();
}

const conclude = (output: { state: string }) => ({
  outcome: output.state,
  versions: ['2026.12.1'],
  scaleSets: ['vmss-gh-linux-weu'],
});

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  history = createRunHistoryTable({
    endpoint: t.settings.runHistory.table!.endpoint,
    tableName: 'recordedruns',
    credential: createCredential(t.settings),
    retryBaseMs: 0,
  });
  // The record activities read only the history, its retention and the clock.
  const deps = { settings: t.settings, runHistory: history, now: () => t.clock.now() } as ActivityDeps;
  const orchestrator = (end: () => { state: string }) =>
    orchestratorHandler(((context: OrchestrationContext) =>
      recordedRun(context, about(context.df.getInput()), tenMinutes(context, end), conclude)) as never);
  runner = new LocalDurableRunner({
    clock: t.clock,
    orchestrators: new Map([
      ['succeeds', orchestrator(() => ({ state: 'succeeded' }))],
      [
        'throws',
        orchestrator(() => {
          throw new TypeError('Cannot read properties of undefined (reading "scaleSets")');
        }),
      ],
    ]),
    activities: new Map([
      [Activities.recordRunStart, createRecordRunStartActivity(deps) as never],
      [Activities.recordRunEnd, createRecordRunEndActivity(deps) as never],
    ]),
    log: (level, source, message) => logs.push(`${level} ${source}: ${message}`),
  });
});
afterAll(async () => t?.close());

const listed = async () => (await history.list({ sinceIso: '2026-01-01T00:00:00.000Z', top: 50 })).runs;

describe('recordedRun', () => {
  it('records a run at its start, then as it ended with its conclusion', async () => {
    const startedAt = t.clock.now().toISOString();
    const id = runner.startNew('succeeds', { instanceId: 'rollout-ok', input: { version: '2026.12.1' } });
    await runner.runUntilQuiet();
    expect((await listed()).find((r) => r.instanceId === id)).toMatchObject({ status: 'Running', startedAt });
    expect((await runner.runToCompletion(id)).runtimeStatus).toBe('Completed');
    expect((await listed()).filter((r) => r.instanceId === id)).toEqual([
      {
        instanceId: id,
        kind: 'rollout',
        subject: 'linux-agent 2026.12.1',
        startedBy: 'http kiln-cli/0.1.0',
        dryRun: false,
        input: '{"version":"2026.12.1"}',
        startedAt,
        status: 'Completed',
        endedAt: new Date(Date.parse(startedAt) + 10 * 60_000).toISOString(),
        outcome: 'succeeded',
        versions: ['2026.12.1'],
        scaleSets: ['vmss-gh-linux-weu'],
      },
    ]);
  });

  it('a run that throws is recorded as failed with what it threw, and still fails', async () => {
    const id = runner.startNew('throws', { instanceId: 'rollout-throws', input: {} });
    const status = await runner.runToCompletion(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output ?? runner.failures.at(-1)?.error)).toMatch(/reading "scaleSets"/);
    expect((await listed()).find((r) => r.instanceId === id)).toMatchObject({
      status: 'Failed',
      reason: 'Cannot read properties of undefined (reading "scaleSets")',
      versions: [],
    });
  });

  it("a run's sub-orchestration (`<run>:<part>`) is part of its run's record, not one of its own", async () => {
    const id = runner.startNew('succeeds', { instanceId: 'rollout-ok:vmss-gh-linux-weu', input: {} });
    expect((await runner.runToCompletion(id)).runtimeStatus).toBe('Completed');
    expect((await listed()).map((r) => r.instanceId)).not.toContain(id);
  });

  it('a history that cannot be written never fails the run: it warns and the run ends as it would', async () => {
    // Table storage answers 503 from now on (the last case).
    t.cloud.addFault({ service: 'tables', operation: '*', status: 503, persistent: true });
    logs.length = 0;
    const id = runner.startNew('succeeds', { instanceId: 'rollout-unrecorded', input: {} });
    const status = await runner.runToCompletion(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { state: 'succeeded' } });
    const warnings = logs.filter((l) => l.startsWith('warn'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /record the start of rollout-unrecorded in the run history: table recordedruns insert failed \(HTTP 503 ServerBusy\).*; its end will record it whole$/,
      ),
      expect.stringMatching(/record the end of rollout-unrecorded in the run history: .*HTTP 503/),
    ]);
  });
});
