/**
 * The cases the run history (src/history/run-history.ts) must pass on any Table service: the fake
 * cloud's (test/history/run-history.test.ts) and Azurite, the real emulator
 * (test/evidence/run-history-azurite.test.ts). The same cases on both prove the fake answers as the
 * emulator does — for the SDK (inserts, merges, range queries, pages and their continuation) and on
 * the wire (status, x-ms-error-code, continuation headers, property limits).
 */
import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { expect, it } from 'vitest';
import { BadContinuationError, type RunHistory } from '../../src/history/run-history.js';
import {
  INPUT_LIMIT,
  recordedInput,
  type RunEnd,
  type RunRecord,
  type RunStart,
} from '../../src/history/run-record.js';

export interface HistoryTarget {
  /** A new app instance's history (its own client and memory) on the table. */
  open(table: string): RunHistory;
  /** A raw client on the table, to look at what is stored. */
  inspect(table: string): TableClient;
  /** The service's endpoint (account URL) and a token it accepts, for requests on the wire. */
  endpoint(): string;
  token(): Promise<string>;
}

const T0 = Date.parse('2026-12-01T03:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
/** A table of its own for each case: listing sees only the case's runs. */
const freshTable = () => `runs${randomBytes(4).toString('hex')}`;

function started(instanceId: string, minutes: number, fields: Partial<RunStart> = {}): RunStart {
  return {
    instanceId,
    kind: 'cleanup',
    subject: 'fleet',
    startedBy: 'timer cleanupTimer',
    dryRun: false,
    ...recordedInput({ dryRun: false, offlineGraceMinutes: 30 }),
    startedAt: at(minutes),
    ...fields,
  };
}

function ended(run: RunStart, minutes: number, fields: Partial<RunEnd> = {}): RunEnd {
  return {
    ...run,
    status: 'Completed',
    endedAt: at(minutes),
    outcome: 'succeeded',
    versions: [],
    scaleSets: [],
    ...fields,
  };
}

/** Every run of the history since `sinceIso`, page by page; the pages' sizes too. */
async function everyPage(history: RunHistory, sinceIso: string, top: number) {
  const runs: RunRecord[] = [];
  const sizes: number[] = [];
  let continuation: string | undefined;
  do {
    const page = await history.list({ sinceIso, top, continuation });
    runs.push(...page.runs);
    sizes.push(page.runs.length);
    continuation = page.continuation;
  } while (continuation);
  return { runs, sizes };
}

export function runHistoryCases(target: () => HistoryTarget): void {
  it('records a run at its start and its end in one row, listed as it ended', async () => {
    const table = freshTable();
    const history = target().open(table);
    const run = started('rollout-linux-agent-2026.12.1', 0, {
      kind: 'rollout',
      subject: 'linux-agent 2026.12.1',
      startedBy: 'http kiln-cli/0.1.0',
      ...recordedInput({ definition: 'linux-agent', version: '2026.12.1', source: 'http', dryRun: false }),
    });
    const rowKey = await history.start(run);
    expect((await history.list({ sinceIso: at(-60), top: 10 })).runs).toEqual([
      { ...run, status: 'Running', versions: [], scaleSets: [] },
    ]);
    await history.end(
      ended(run, 42, {
        outcome: 'partial',
        reason: 'vmss-gh-linux-neu: 2 instances still busy',
        versions: ['2026.12.1'],
        scaleSets: ['vmss-gh-linux-weu', 'vmss-gh-linux-neu'],
      }),
      rowKey,
    );
    const { runs, continuation } = await history.list({ sinceIso: at(-60), top: 10 });
    expect(continuation).toBeUndefined();
    expect(runs).toEqual([
      {
        ...run,
        status: 'Completed',
        endedAt: at(42),
        outcome: 'partial',
        reason: 'vmss-gh-linux-neu: 2 instances still busy',
        versions: ['2026.12.1'],
        scaleSets: ['vmss-gh-linux-weu', 'vmss-gh-linux-neu'],
      },
    ]);
    expect(await rows(table)).toHaveLength(1);
  });

  it('a start or an end sent again (an activity retried after its answer was lost) records nothing twice', async () => {
    const table = freshTable();
    const run = started('kiln-cleanup', 0);
    const rowKey = await target().open(table).start(run);
    expect(await target().open(table).start(run)).toBe(rowKey);
    await target().open(table).end(ended(run, 1), rowKey);
    await target().open(table).end(ended(run, 1), rowKey);
    expect(await rows(table)).toHaveLength(1);
  });

  it('a later run of the same instance id gets its own row: both are listed, newest first, each as it ended', async () => {
    const table = freshTable();
    const history = target().open(table);
    const manual = started('kiln-cleanup', 0, { startedBy: 'http kiln-cli/0.1.0', dryRun: true });
    await history.end(ended(manual, 1, { outcome: 'planned' }), await history.start(manual));
    const timer = started('kiln-cleanup', 15);
    await history.end(
      ended(timer, 16, { outcome: 'errors', reason: 'list GitHub runners: HTTP 503' }),
      await history.start(timer),
    );
    const { runs } = await history.list({ sinceIso: at(-60), top: 10 });
    expect(runs.map((r) => [r.instanceId, r.startedBy, r.dryRun, r.outcome, r.reason])).toEqual([
      ['kiln-cleanup', 'timer cleanupTimer', false, 'errors', 'list GitHub runners: HTTP 503'],
      ['kiln-cleanup', 'http kiln-cli/0.1.0', true, 'planned', undefined],
    ]);
  });

  it('runs of one instance id that start in the same millisecond (a virtual clock) keep a row each', async () => {
    const table = freshTable();
    const history = target().open(table);
    const first = started('kiln-cleanup', 0, { startedBy: 'http' });
    const firstRow = await history.start(first);
    await history.end(ended(first, 0, { outcome: 'planned' }), firstRow);
    const second = started('kiln-cleanup', 0);
    const secondRow = await history.start(second);
    expect(secondRow).not.toBe(firstRow);
    await history.end(ended(second, 0), secondRow);
    const { runs } = await history.list({ sinceIso: at(-1), top: 10 });
    expect(runs.map((r) => [r.startedBy, r.outcome]).sort()).toEqual([
      ['http', 'planned'],
      ['timer cleanupTimer', 'succeeded'],
    ]);
  });

  it('an end whose start was never recorded records the whole run', async () => {
    const table = freshTable();
    const run = started('rebuild-linux-2026-12', 0, { kind: 'rebuild', subject: 'linux' });
    await target()
      .open(table)
      .end(
        ended(run, 90, { status: 'Failed', outcome: undefined, reason: 'boom', subject: 'linux 2026.12.1' }),
      );
    const { runs } = await target()
      .open(table)
      .list({ sinceIso: at(-1), top: 10 });
    expect(runs).toEqual([
      {
        ...run,
        subject: 'linux 2026.12.1',
        status: 'Failed',
        endedAt: at(90),
        reason: 'boom',
        versions: [],
        scaleSets: [],
      },
    ]);
  });

  it('pages hold the runs newest first, every run exactly once, also when runs start between pages', async () => {
    const table = freshTable();
    const history = target().open(table);
    const ids = Array.from({ length: 23 }, (_, i) => `rollout-linux-agent-2026.12.${i}`);
    for (const [i, id] of ids.entries()) await history.start(started(id, i, { kind: 'rollout' }));
    const first = await history.list({ sinceIso: at(-1), top: 5 });
    expect(first.runs.map((r) => r.instanceId)).toEqual(ids.slice(-5).reverse());
    // A run that starts now is newer than every page: the next pages neither repeat nor skip a run.
    await history.start(started('kiln-cleanup', 30));
    const rest: string[] = [];
    let continuation = first.continuation;
    while (continuation) {
      const page = await history.list({ sinceIso: at(-1), top: 5, continuation });
      rest.push(...page.runs.map((r) => r.instanceId));
      continuation = page.continuation;
    }
    expect([...first.runs.map((r) => r.instanceId), ...rest]).toEqual([...ids].reverse());
    const all = await everyPage(history, at(-1), 6);
    expect(all.sizes).toEqual([6, 6, 6, 6]);
    expect(all.runs.map((r) => r.instanceId)).toEqual(['kiln-cleanup', ...[...ids].reverse()]);
  });

  it('lists only the runs that started since the time asked; prunes those that started before the cutoff', async () => {
    const table = freshTable();
    const history = target().open(table);
    for (const minutes of [0, 59, 60, 61, 120]) await history.start(started(`run-at-${minutes}`, minutes));
    const listed = await history.list({ sinceIso: at(60), top: 10 });
    expect(listed.runs.map((r) => r.instanceId)).toEqual(['run-at-120', 'run-at-61', 'run-at-60']);
    expect(await history.prune(at(60), at(120))).toBe(2);
    expect((await everyPage(history, at(-1), 10)).runs.map((r) => r.instanceId)).toEqual([
      'run-at-120',
      'run-at-61',
      'run-at-60',
    ]);
    // At most hourly per app instance: a prune within the hour does nothing, another app instance's does.
    expect(await history.prune(at(61), at(121))).toBe(0);
    expect(await target().open(table).prune(at(61), at(121))).toBe(1);
    expect(await history.prune(at(61), at(181))).toBe(0);
  });

  it('instance ids with the characters Table keys forbid are kept apart', async () => {
    const table = freshTable();
    const history = target().open(table);
    const ids = ["a/b\\c#d?e\u0001f'g%h~i", 'a~2Fb', 'a/b', 'a'];
    for (const id of ids) await history.end(ended(started(id, 0), 1));
    const { runs } = await history.list({ sinceIso: at(-1), top: 10 });
    expect(runs.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
  });

  it("keeps a cleanup's ghosts removed, and lists one kind of run a page at a time", async () => {
    const table = freshTable();
    const history = target().open(table);
    const rollout = started('rollout-linux-agent-2026.12.1', 0, { kind: 'rollout' });
    const cleanups = [1, 2, 3].map((k) => started('kiln-cleanup', k));
    for (const run of [rollout, ...cleanups]) await history.start(run);
    await history.end(ended(cleanups[0]!, 1, { ghostsRemoved: { github: 3, ado: 1 } }));
    await history.end(ended(cleanups[1]!, 2, { ghostsRemoved: { github: 0, ado: 0 } }));
    await history.end(ended(rollout, 9));

    const pages: RunRecord[][] = [];
    let continuation: string | undefined;
    do {
      const page = await history.list({ sinceIso: at(0), top: 2, continuation, kind: 'cleanup' });
      pages.push(page.runs);
      continuation = page.continuation;
    } while (continuation);
    expect(pages.map((p) => p.map((r) => r.startedAt))).toEqual([[at(3), at(2)], [at(1)]]);
    const [third, second, first] = pages.flat();
    expect(first!.ghostsRemoved).toEqual({ github: 3, ado: 1 });
    expect(second!.ghostsRemoved).toEqual({ github: 0, ado: 0 });
    expect(third!.ghostsRemoved).toBeUndefined(); // still running: nothing deleted yet
    expect((await history.list({ sinceIso: at(0), top: 10, kind: 'rollout' })).runs).toHaveLength(1);
  });

  it('refuses a continuation it did not give', async () => {
    const history = target().open(freshTable());
    for (const token of ['not base64!', Buffer.from('0001_x').toString('base64url'), ''])
      await expect(history.list({ sinceIso: at(0), top: 5, continuation: token })).rejects.toBeInstanceOf(
        BadContinuationError,
      );
  });

  it('an empty history, before its table exists, lists nothing and prunes nothing', async () => {
    const history = target().open(freshTable());
    expect(await history.list({ sinceIso: at(0), top: 5 })).toEqual({ runs: [] });
    expect(await history.prune(at(0), at(0))).toBe(0);
  });

  it('an input too large for a Table property is cut below the limit, flagged, and stored', async () => {
    const table = freshTable();
    const big = { scaleSets: Array.from({ length: 4000 }, (_, i) => `/subscriptions/x/vmss-${i}`) };
    const run = started('rollout-big-1.0.0', 0, recordedInput(big));
    expect(run.inputTruncated).toBe(true);
    expect(run.input).toHaveLength(INPUT_LIMIT);
    await target().open(table).end(ended(run, 1));
    const [stored] = (
      await target()
        .open(table)
        .list({ sinceIso: at(-1), top: 1 })
    ).runs;
    expect(stored).toMatchObject({ inputTruncated: true, input: run.input });
  });

  /** One request on the wire, as the SDK sends it. */
  async function send(
    path: string,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(`${target().endpoint()}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'x-ms-version': '2019-02-02',
        accept: 'application/json;odata=minimalmetadata',
        'content-type': 'application/json',
        dataserviceversion: '3.0',
        authorization: `Bearer ${await target().token()}`,
        ...init.headers,
      },
      body: init.body,
    });
    return {
      status: res.status,
      code: res.headers.get('x-ms-error-code'),
      headers: res.headers,
      text: await res.text(),
    };
  }

  it('on the wire: a merge inserts or merges without If-Match, needs the entity and its ETag with one', async () => {
    const table = freshTable();
    await target().open(table).start(started('made-the-table', 0));
    const entity = `/${table}(PartitionKey='p',RowKey='r${randomBytes(3).toString('hex')}')`;
    const merge = (body: object, headers: Record<string, string> = {}) =>
      send(entity, { method: 'PATCH', body: JSON.stringify(body), headers });
    expect(await merge({ a: 'one' }, { 'if-match': '*' })).toMatchObject({
      status: 404,
      code: 'ResourceNotFound',
    });
    const inserted = await merge({ a: 'one', b: 'two' });
    expect(inserted.status).toBe(204);
    expect(
      await merge({ a: 'three' }, { 'if-match': 'W/"datetime\'2020-01-01T00%3A00%3A00Z\'"' }),
    ).toMatchObject({
      status: 412,
      code: 'UpdateConditionNotSatisfied',
    });
    expect((await merge({ a: 'three' }, { 'if-match': inserted.headers.get('etag')! })).status).toBe(204);
    const read = JSON.parse((await send(entity)).text) as Record<string, unknown>;
    expect(read).toMatchObject({ a: 'three', b: 'two' });
  });

  it('on the wire: a string property over 32 K characters is refused (400 PropertyValueTooLarge)', async () => {
    const table = freshTable();
    await target().open(table).start(started('made-the-table', 0));
    const body = (length: number) =>
      JSON.stringify({ PartitionKey: 'p', RowKey: `r${length}`, input: 'x'.repeat(length) });
    expect((await send(`/${table}`, { method: 'POST', body: body(32 * 1024) })).status).toBe(201);
    expect(await send(`/${table}`, { method: 'POST', body: body(32 * 1024 + 1) })).toMatchObject({
      status: 400,
      code: 'PropertyValueTooLarge',
    });
  });

  it('on the wire: a query answers $top rows and the continuation headers that resume it', async () => {
    const table = freshTable();
    const history = target().open(table);
    for (const minutes of [0, 1, 2]) await history.start(started(`run-${minutes}`, minutes));
    const first = await send(`/${table}()?$top=2&$filter=${encodeURIComponent("PartitionKey eq 'run'")}`);
    expect(first.status).toBe(200);
    expect(
      (JSON.parse(first.text) as { value: { instanceId: string }[] }).value.map((e) => e.instanceId),
    ).toEqual(['run-2', 'run-1']);
    const nextPartition = first.headers.get('x-ms-continuation-NextPartitionKey');
    const nextRow = first.headers.get('x-ms-continuation-NextRowKey');
    expect(nextPartition && nextRow).toBeTruthy();
    const rest = await send(
      `/${table}()?$top=2&$filter=${encodeURIComponent("PartitionKey eq 'run'")}&NextPartitionKey=${encodeURIComponent(nextPartition!)}&NextRowKey=${encodeURIComponent(nextRow!)}`,
    );
    expect(
      (JSON.parse(rest.text) as { value: { instanceId: string }[] }).value.map((e) => e.instanceId),
    ).toEqual(['run-0']);
    expect(rest.headers.get('x-ms-continuation-NextPartitionKey')).toBeNull();
  });

  async function rows(table: string): Promise<unknown[]> {
    const found: unknown[] = [];
    for await (const e of target().inspect(table).listEntities()) found.push(e);
    return found;
  }
}
