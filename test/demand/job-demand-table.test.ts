/**
 * The job demand table (src/demand/job-demand-table.ts) with the real @azure/data-tables client and
 * kiln's managed identity, against the fake cloud's Table storage: idempotent records, a status that
 * never moves back (duplicates, out-of-order and late deliveries), concurrent deliveries of one job
 * that lose nothing, open jobs oldest first, the repositories the reconcile lists, bounded pruning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createJobDemandTable, type JobDemandStore } from '../../src/demand/job-demand-table.js';
import type { WorkflowJob } from '../../src/demand/types.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let open: (table: string) => JobDemandStore;

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  const { endpoint } = t.settings.jobDemand!.table;
  const credential = createCredential(t.settings);
  open = (tableName) => createJobDemandTable({ endpoint, tableName, credential, retryBaseMs: 10 });
});
afterAll(async () => t?.close());

const job = (id: number, status: WorkflowJob['status'], extra: Partial<WorkflowJob> = {}): WorkflowJob => ({
  id,
  runId: 7000 + id,
  repository: 'acme/app-0',
  status,
  labels: ['self-hosted', 'linux'],
  createdAt: `2026-12-01T03:${String(id % 60).padStart(2, '0')}:00.000Z`,
  ...extra,
});
const at = (minute: number) => `2026-12-01T04:${String(minute).padStart(2, '0')}:00.000Z`;

describe('the job demand table', () => {
  it('records a job once: a duplicate delivery is unchanged, and the status only moves forward', async () => {
    const store = open('demandforward');
    expect(await store.record(job(1, 'queued'), at(0))).toBe('recorded');
    expect(await store.record(job(1, 'queued'), at(1))).toBe('unchanged');
    expect(await store.record(job(1, 'waiting'), at(1))).toBe('unchanged');
    expect(await store.open(10)).toMatchObject([{ id: 1, status: 'queued', seenAt: at(0) }]);
    expect(await store.record(job(1, 'in_progress', { runnerName: 'vm-1' }), at(2))).toBe('recorded');
    expect(await store.open(10)).toEqual([]);
    // A late queued (out of order) and a duplicate in_progress change nothing.
    expect(await store.record(job(1, 'queued'), at(3))).toBe('unchanged');
    expect(await store.record(job(1, 'in_progress', { runnerName: 'vm-1' }), at(3))).toBe('unchanged');
    expect(await store.record(job(1, 'completed', { runnerName: 'vm-1' }), at(4))).toBe('recorded');
    expect(await store.record(job(1, 'in_progress'), at(5))).toBe('unchanged');
    expect(await store.record(job(1, 'queued'), at(5))).toBe('unchanged');
    expect(await store.open(10)).toEqual([]);
  });

  it('a completed delivery before its queued one: the job is never open', async () => {
    const store = open('demandlate');
    expect(await store.record(job(2, 'completed'), at(0))).toBe('recorded');
    expect(await store.record(job(2, 'queued'), at(1))).toBe('unchanged');
    expect(await store.record(job(2, 'in_progress'), at(1))).toBe('unchanged');
    expect(await store.open(10)).toEqual([]);
  });

  it('concurrent deliveries of one job lose no update: the furthest status wins, whatever the order', async () => {
    const store = open('demandrace');
    for (let id = 10; id < 20; id++) {
      const deliveries = [
        job(id, 'queued'),
        job(id, 'queued'),
        job(id, 'in_progress', { runnerName: `vm-${id}` }),
        job(id, 'completed', { runnerName: `vm-${id}` }),
        job(id, 'queued'),
      ];
      const outcomes = await Promise.all(deliveries.map((d) => store.record(d, at(id))));
      // At least the first insert and the completion were recorded; never more than three changes.
      expect(outcomes.filter((o) => o === 'recorded').length).toBeGreaterThanOrEqual(1);
      expect(outcomes.filter((o) => o === 'recorded').length).toBeLessThanOrEqual(3);
    }
    expect(await store.open(100)).toEqual([]);
    // Every one is completed: a later queued changes nothing.
    for (let id = 10; id < 20; id++) expect(await store.record(job(id, 'queued'), at(30))).toBe('unchanged');
  });

  it('open jobs come oldest first, at most `limit`, with their labels and when they were checked', async () => {
    const store = open('demandopen');
    await store.record(job(33, 'queued', { createdAt: '2026-12-01T03:10:00.000Z' }), at(0));
    await store.record(job(31, 'waiting', { createdAt: '2026-12-01T03:05:00.000Z' }), at(0));
    await store.record(
      job(32, 'queued', { createdAt: '2026-12-01T03:05:00.000Z', repository: 'acme/other' }),
      at(0),
    );
    await store.record(job(34, 'in_progress'), at(0));
    expect((await store.open(10)).map((j) => j.id)).toEqual([31, 32, 33]);
    expect((await store.open(2)).map((j) => j.id)).toEqual([31, 32]);
    await store.markChecked([{ id: 32, repository: 'acme/other' }], at(5));
    // A job the table does not know is not brought back by a check.
    await store.markChecked([{ id: 99, repository: 'acme/other' }], at(5));
    const [, second] = await store.open(10);
    expect(second).toEqual({
      id: 32,
      runId: 7032,
      repository: 'acme/other',
      status: 'queued',
      labels: ['self-hosted', 'linux'],
      createdAt: '2026-12-01T03:05:00.000Z',
      seenAt: at(0),
      lastCheckedAt: at(5),
    });
    expect((await store.open(10)).map((j) => j.id)).toEqual([31, 32, 33]);
    // A forward move keeps lastCheckedAt and the time the job was created.
    await store.record(job(32, 'in_progress', { repository: 'acme/other', createdAt: at(9) }), at(6));
    expect((await store.open(10)).map((j) => j.id)).toEqual([31, 33]);
  });

  it('repositories: those seen since a time, least recently listed first', async () => {
    const store = open('demandrepos');
    await store.record(job(41, 'queued', { repository: 'acme/a' }), at(0));
    await store.record(job(42, 'queued', { repository: 'acme/b' }), at(10));
    await store.record(job(43, 'queued', { repository: 'acme/c' }), at(20));
    expect((await store.recentRepositories(at(5))).map((r) => r.repository)).toEqual(['acme/b', 'acme/c']);
    await store.markListed('acme/b', at(21));
    expect(await store.recentRepositories(at(5))).toEqual([
      { repository: 'acme/c', lastSeenAt: at(20) },
      { repository: 'acme/b', lastSeenAt: at(10), lastListedAt: at(21) },
    ]);
    // A new job of a listed repository keeps when it was listed.
    await store.record(job(44, 'queued', { repository: 'acme/b' }), at(22));
    expect((await store.recentRepositories(at(5))).at(-1)).toEqual({
      repository: 'acme/b',
      lastSeenAt: at(22),
      lastListedAt: at(21),
    });
  });

  it('prunes completed jobs after a while and open ones after a day, a bounded page at a time', async () => {
    const store = open('demandprune');
    await store.record(job(51, 'completed'), '2026-12-01T04:00:00.000Z');
    await store.record(job(52, 'completed'), '2026-12-01T06:00:00.000Z');
    await store.record(job(53, 'queued', { createdAt: '2026-11-30T01:00:00.000Z' }), at(0));
    await store.record(job(54, 'queued', { createdAt: '2026-12-01T03:00:00.000Z' }), at(0));
    expect(await store.prune('2026-12-01T05:00:00.000Z', '2026-11-30T05:00:00.000Z')).toBe(2);
    expect((await store.open(10)).map((j) => j.id)).toEqual([54]);
    // 52 is still known: a late queued delivery of it changes nothing.
    expect(await store.record(job(52, 'queued'), at(30))).toBe('unchanged');
    expect(await store.prune('2026-12-01T05:00:00.000Z', '2026-11-30T05:00:00.000Z')).toBe(0);
    // A new account (no table yet) has nothing to prune or read.
    const fresh = open('demandnone');
    expect(await fresh.prune(at(0), at(0))).toBe(0);
    expect(await fresh.open(10)).toEqual([]);
    expect(await fresh.recentRepositories(at(0))).toEqual([]);
  });

  it('fails as transient when storage is down, naming the table', async () => {
    const store = open('demanddown');
    await store.record(job(61, 'queued'), at(0));
    t.cloud.addFault({ service: 'tables', operation: 'getEntity', status: 503, times: 4 });
    const err = (await store.record(job(61, 'in_progress'), at(1)).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/table demanddown read failed/);
    expect(await store.record(job(61, 'in_progress'), at(2))).toBe('recorded');
  });
});
