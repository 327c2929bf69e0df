/**
 * The run history (src/history/run-history.ts) with the real @azure/data-tables client and kiln's
 * managed identity credential, against the fake cloud's Table storage over HTTPS: the shared cases
 * (also run against Azurite, in the evidence suite), then what only the fake checks — Azure RBAC,
 * faults — and how the history surfaces them.
 */
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createRunHistoryTable } from '../../src/history/run-history.js';
import { recordedInput } from '../../src/history/run-record.js';
import { STORAGE_AUDIENCE } from '../../src/local/fake-cloud/tables.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';
import { runHistoryCases, type HistoryTarget } from './run-history.cases.js';

let t: TestCloud;
let target: HistoryTarget;

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  // The fake cloud's settings name the history's table as a deployment's would.
  const { endpoint } = t.settings.runHistory.table!;
  const credential = createCredential(t.settings);
  target = {
    open: (tableName) => createRunHistoryTable({ endpoint, tableName, credential, retryBaseMs: 10 }),
    inspect: (tableName) => new TableClient(endpoint, tableName, credential),
    endpoint: () => endpoint,
    token: async () => (await credential.getToken(`${STORAGE_AUDIENCE}/.default`))!.token,
  };
});
afterAll(async () => t?.close());

describe('the run history on the fake Table storage', () => {
  runHistoryCases(() => target);
});

describe('the run history on the wire and when storage fails', () => {
  const run = {
    instanceId: 'kiln-cleanup',
    kind: 'cleanup' as const,
    subject: 'fleet',
    startedBy: 'timer cleanupTimer',
    dryRun: false,
    ...recordedInput({ dryRun: false }),
    startedAt: '2026-12-01T03:00:00.000Z',
  };
  const ended = {
    ...run,
    status: 'Completed' as const,
    endedAt: '2026-12-01T03:01:00.000Z',
    versions: [],
    scaleSets: [],
  };

  it("makes its table on the first run in a new account; a run's start is one insert, its end one merge", async () => {
    const history = target.open('kilnrunsfresh');
    const before = t.cloud.requestLog.length;
    const rowKey = await history.start(run);
    const requests = () =>
      t.cloud.requestLog.slice(before).map((r) => `${r.method} ${decodeURIComponent(r.path)}`);
    expect(requests()).toEqual(['POST /kilnrunsfresh', 'POST /Tables', 'POST /kilnrunsfresh']);
    const next = t.cloud.requestLog.length;
    await history.end(ended, rowKey);
    expect(t.cloud.requestLog.slice(next).map((r) => `${r.method} ${decodeURIComponent(r.path)}`)).toEqual([
      `PATCH /kilnrunsfresh(PartitionKey='run',RowKey='${rowKey}')`,
    ]);
    // 9999999999999 less the start's milliseconds since 1970: newer runs sort first.
    expect(rowKey).toBe(`${9_999_999_999_999 - Date.parse(run.startedAt)}_kiln-cleanup`);
    expect(rowKey).toBe('8203905999999_kiln-cleanup');
  });

  it('storage unavailable: a start fails as transient, naming the table and the status; the next one records', async () => {
    const history = target.open('kilnrunsoutage');
    await history.start({ ...run, instanceId: 'warm-up' });
    // One request and the SDK's three retries.
    t.cloud.addFault({ service: 'tables', operation: 'createEntity', status: 503, times: 4 });
    const err = (await history.start(run).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/^table kilnrunsoutage insert failed \(HTTP 503 ServerBusy\)/);
    t.cloud.addFault({ service: 'tables', operation: 'mergeEntity', status: 500, times: 4 });
    const endErr = (await history.end(ended).catch((e: unknown) => e)) as Error;
    expect(endErr.message).toMatch(/^table kilnrunsoutage merge failed \(HTTP 500 InternalError\)/);
    await history.end(ended);
    expect((await history.list({ sinceIso: run.startedAt, top: 5 })).runs.map((r) => r.instanceId)).toEqual([
      'kiln-cleanup',
      'warm-up',
    ]);
  });

  it('an identity without a Table data role is refused, and the refusal names the action (a merge that may insert needs add)', async () => {
    const packer = t.cloud.access.identity('packer');
    const asPacker = createRunHistoryTable({
      endpoint: target.endpoint(),
      tableName: 'kilnrunsoutage',
      credential: {
        getToken: async () => ({
          token: t.cloud.tokens.issue(STORAGE_AUDIENCE, 'entra', packer.clientId).token,
          expiresOnTimestamp: Date.now() + 3600_000,
        }),
      },
      retryBaseMs: 10,
    });
    const refused = (await asPacker.end(ended).catch((e: unknown) => e)) as Error;
    expect(refused.name).toBe('PermanentError');
    expect(refused.message).toMatch(
      /^table kilnrunsoutage merge failed \(HTTP 403 AuthorizationPermissionMismatch\)/,
    );
    expect(t.cloud.access.failures.at(-1)).toMatchObject({
      identity: packer.name,
      action: 'Microsoft.Storage/storageAccounts/tableServices/tables/entities/add/action',
    });
  });
});
