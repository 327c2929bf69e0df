/**
 * readGitHubDemand's choices (src/activities/demand-github.ts) with a stub GitHub and an in-memory
 * table that keeps the real table's forward-only rule: no fleet or no table → null; a job GitHub no
 * longer knows is forgotten; repositories listed five a read, round robin; checks twenty a read,
 * those checked longest ago first; the request budget; queued answered oldest first, at most 500.
 */
import { describe, expect, it } from 'vitest';
import {
  CHECKS_PER_READ,
  createReadGitHubDemandActivity,
  LISTS_PER_READ,
  MAX_REQUESTS,
} from '../../src/activities/demand-github.js';
import type { ActivityDeps } from '../../src/activities/deps.js';
import type { FullGitHubClient } from '../../src/clients/types.js';
import type { JobDemandStore, KnownRepository, StoredJob } from '../../src/demand/job-demand-table.js';
import { isOpen, statusRank } from '../../src/demand/parse-workflow-job.js';
import type { WorkflowJob } from '../../src/demand/types.js';

const NOW = '2026-12-01T12:00:00.000Z';
const minutesAgo = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();

function memoryStore(): JobDemandStore & {
  jobs: Map<number, StoredJob>;
  repos: Map<string, KnownRepository>;
} {
  const jobs = new Map<number, StoredJob>();
  const repos = new Map<string, KnownRepository>();
  return {
    jobs,
    repos,
    async record(job, seenAt) {
      const old = jobs.get(job.id);
      if (old && statusRank(old.status) >= statusRank(job.status)) return 'unchanged';
      jobs.set(job.id, { ...old, ...job, createdAt: old?.createdAt ?? job.createdAt, seenAt });
      if (!old)
        repos.set(job.repository, {
          ...repos.get(job.repository),
          repository: job.repository,
          lastSeenAt: seenAt,
        });
      return 'recorded';
    },
    async open(limit) {
      return [...jobs.values()]
        .filter((j) => isOpen(j.status))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id)
        .slice(0, limit);
    },
    async recentRepositories(since) {
      return [...repos.values()]
        .filter((r) => r.lastSeenAt >= since)
        .sort(
          (a, b) =>
            (a.lastListedAt ?? '').localeCompare(b.lastListedAt ?? '') ||
            a.repository.localeCompare(b.repository),
        );
    },
    async markChecked(list, at) {
      for (const j of list) {
        const row = jobs.get(j.id);
        if (row) row.lastCheckedAt = at;
      }
    },
    async markListed(repository, at) {
      const row = repos.get(repository);
      if (row) row.lastListedAt = at;
    },
    async prune() {
      return 0;
    },
  };
}

/** GitHub as a map of jobs (one per run); each call counted. */
function stubGitHub(truth: WorkflowJob[]) {
  const calls: string[] = [];
  const github = {
    async getWorkflowJob(repository: string, id: number) {
      calls.push(`job ${id}`);
      return truth.find((j) => j.id === id && j.repository === repository);
    },
    async listQueuedRuns(repository: string) {
      calls.push(`runs ${repository}`);
      return truth
        .filter((j) => j.repository === repository && isOpen(j.status))
        .map((j) => j.runId)
        .sort((a, b) => a - b);
    },
    async listRunJobs(repository: string, runId: number) {
      calls.push(`run ${runId}`);
      return truth.filter((j) => j.repository === repository && j.runId === runId);
    },
  } as unknown as FullGitHubClient;
  return { github, calls };
}

const job = (
  id: number,
  status: WorkflowJob['status'],
  repository = 'acme/a',
  createdAt = minutesAgo(10),
): WorkflowJob => ({
  id,
  runId: 1000 + id,
  repository,
  status,
  labels: ['self-hosted'],
  createdAt,
});

const read = (deps: Partial<ActivityDeps>) =>
  createReadGitHubDemandActivity(deps as ActivityDeps)({ now: NOW }).then((r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });

describe('readGitHubDemand', () => {
  it('answers null without a GitHub fleet or without a table', async () => {
    expect(await read({ jobDemand: memoryStore() })).toBeNull();
    expect(await read({ github: stubGitHub([]).github })).toBeNull();
  });

  it('forgets a job GitHub no longer knows, and leaves a job queued a minute unchecked', async () => {
    const store = memoryStore();
    await store.record(job(1, 'queued'), minutesAgo(10));
    await store.record(job(2, 'queued', 'acme/a', minutesAgo(1)), minutesAgo(1));
    const { github, calls } = stubGitHub([job(2, 'queued', 'acme/a', minutesAgo(1))]);
    const demand = await read({ jobDemand: store, github });
    expect(demand).toEqual({
      queued: [{ id: 2, repository: 'acme/a', labels: ['self-hosted'], queuedAt: minutesAgo(1) }],
      corrected: 1,
      requests: 2,
    });
    // The list vouches for job 2 (its run is queued); job 1's run is not listed: it is asked about.
    expect(calls).toEqual(['runs acme/a', 'job 1']);
  });

  it('lists five repositories a read, those listed longest ago first, and keeps its budget', async () => {
    const store = memoryStore();
    const truth: WorkflowJob[] = [];
    for (let r = 0; r < 8; r++)
      for (let k = 0; k < 10; k++) {
        const j = job(r * 100 + k, 'completed', `acme/r${r}`);
        truth.push(j);
        await store.record({ ...j, status: 'queued' }, minutesAgo(5));
      }
    const { github, calls } = stubGitHub(truth);
    const first = await read({ jobDemand: store, github });
    expect(calls.filter((c) => c.startsWith('runs'))).toHaveLength(LISTS_PER_READ);
    expect(calls.filter((c) => c.startsWith('job'))).toHaveLength(CHECKS_PER_READ);
    expect(first!.requests).toBe(LISTS_PER_READ + CHECKS_PER_READ);
    expect(first!.requests).toBeLessThanOrEqual(MAX_REQUESTS);
    expect(first!.corrected).toBe(CHECKS_PER_READ);
    calls.length = 0;
    await read({ jobDemand: store, github });
    // The three not listed yet come first, then two of those listed longest ago.
    expect(calls.filter((c) => c.startsWith('runs')).slice(0, 3)).toEqual([
      'runs acme/r5',
      'runs acme/r6',
      'runs acme/r7',
    ]);
    // Four reads check all eighty.
    await read({ jobDemand: store, github });
    await read({ jobDemand: store, github });
    expect((await read({ jobDemand: store, github }))!.queued).toEqual([]);
  });

  it('answers at most 500 queued jobs, oldest first', async () => {
    const store = memoryStore();
    const truth: WorkflowJob[] = [];
    for (let k = 0; k < 600; k++) {
      const j = job(k + 1, 'queued', 'acme/big', new Date(Date.parse(NOW) - (600 - k) * 1000).toISOString());
      truth.push(j);
      await store.record(j, NOW);
    }
    const demand = await read({ jobDemand: store, github: stubGitHub(truth).github });
    expect(demand!.queued).toHaveLength(500);
    expect(demand!.queued[0]!.id).toBe(1);
    expect(demand!.queued.at(-1)!.id).toBe(500);
    expect(demand!.corrected).toBe(0);
  });
});
