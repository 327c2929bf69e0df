/**
 * GitHub's job demand (issue 19): the last known status of each workflow job, as `workflow_job`
 * webhooks report it and the reconcile read (src/activities/demand-github.ts) corrects it, in Table
 * storage of the app's own account (KILN_TABLE_ENDPOINT, KILN_JOB_DEMAND_TABLE), shared by every
 * app instance.
 *
 * A job's status only moves forward (queued/waiting < in_progress < completed): GitHub delivers a
 * webhook at least once and in no promised order, so a duplicate, or a `queued` that arrives after
 * its `in_progress`, changes nothing. Each change is written on the ETag of the row it read (a
 * conditional write), so of two deliveries of one job racing each other neither is lost: the one
 * refused (412) reads again and decides again.
 *
 * Keys: jobs in partition `job`, row key `<repository>~~<job id>` (a tableKey; `~~` never occurs in
 * one); the repositories jobs were seen in, for the reconcile's list of queued runs, in partition
 * `repo`, row key the repository. kiln's pace (a few deliveries a second at the very most) is far
 * below a partition's 2,000 entities a second.
 */
import { odata, type TableEntityResult } from '@azure/data-tables';
import { TransientError } from '../clients/errors.js';
import {
  createTableClient,
  deleteOnePage,
  errorCode,
  insertIfAbsent,
  statusOf,
  tableDeadline,
  tableError,
  tableKey,
  type TableOptions,
} from '../clients/tables.js';
import { isOpen, statusRank } from './parse-workflow-job.js';
import type { WorkflowJob } from './types.js';

/** A job as the table knows it. */
export interface StoredJob extends WorkflowJob {
  /** When kiln last heard of the job (a delivery or a reconcile read). */
  seenAt: string;
  /** When the reconcile last asked GitHub about this job (absent: never). */
  lastCheckedAt?: string;
}

export interface KnownRepository {
  repository: string;
  /** When a job of it was last recorded. */
  lastSeenAt: string;
  /** When the reconcile last listed its queued runs (absent: never). */
  lastListedAt?: string;
}

export interface JobDemandStore {
  /**
   * Records what a delivery or a read says of a job: 'recorded' when it is new or moved the job
   * forward, 'unchanged' when the table knew as much already (a duplicate, a late or out-of-order
   * delivery). Safe under concurrency: writes are conditional on the row read.
   */
  record(job: WorkflowJob, seenAt: string): Promise<'recorded' | 'unchanged'>;
  /** Jobs whose last status is queued or waiting, oldest first (createdAt, then id), at most `limit`. */
  open(limit: number): Promise<StoredJob[]>;
  /** Repositories a job was recorded in at `since` or later, least recently listed first. */
  recentRepositories(since: string): Promise<KnownRepository[]>;
  /** Notes that the reconcile asked GitHub about these jobs at `at`. */
  markChecked(jobs: readonly Pick<WorkflowJob, 'id' | 'repository'>[], at: string): Promise<void>;
  /** Notes that the reconcile listed the repository's queued runs at `at`. */
  markListed(repository: string, at: string): Promise<void>;
  /**
   * Forgets a bounded batch (a page of each): completed jobs last heard of before `completedBefore`
   * (kept a while, so that a late duplicate delivery still finds them), jobs not completed that were
   * created before `openBefore` (GitHub gives up a job queued for a day) and repositories not seen
   * since `openBefore`. Answers how many rows it deleted.
   */
  prune(completedBefore: string, openBefore: string): Promise<number>;
}

const JOBS = 'job';
const REPOS = 'repo';
/** Rounds of read → conditional write while other deliveries of the same job keep changing the row. */
const WRITE_ROUNDS = 5;
/** The most open jobs `open` reads before sorting (far above what a fleet's queue holds). */
const OPEN_READ_CAP = 5000;
const PRUNE_PAGE = 100;

interface JobEntity {
  /** Numbers as strings: job ids pass 2^31, and a Table Int64 comes back as a string anyway. */
  jobId: string;
  runId: string;
  repository: string;
  status: string;
  /** Status rank (0 queued/waiting, 1 in_progress, 2 completed): what `record` compares. */
  rank: number;
  /** Whether the job waits for a runner (what `open` queries: filters here take no `or`). */
  open: boolean;
  /** JSON list: Table storage keeps no lists. */
  labels: string;
  createdAt: string;
  runnerName?: string;
  seenAt: string;
  lastCheckedAt?: string;
}

interface RepoEntity {
  repository: string;
  lastSeenAt: string;
  lastListedAt?: string;
}

const jobRow = (job: Pick<WorkflowJob, 'id' | 'repository'>) => `${tableKey(job.repository)}~~${job.id}`;

function toEntity(job: WorkflowJob, seenAt: string): JobEntity {
  const entity: JobEntity = {
    jobId: String(job.id),
    runId: String(job.runId),
    repository: job.repository,
    status: job.status,
    rank: statusRank(job.status),
    open: isOpen(job.status),
    labels: JSON.stringify(job.labels),
    createdAt: job.createdAt,
    seenAt,
  };
  if (job.runnerName) entity.runnerName = job.runnerName;
  return entity;
}

function toStored(e: Partial<JobEntity>): StoredJob | undefined {
  const status = e.status as WorkflowJob['status'] | undefined;
  if (!e.jobId || !e.runId || !e.repository || !status || !e.createdAt || !e.seenAt) return undefined;
  let labels: string[] = [];
  try {
    const parsed: unknown = JSON.parse(e.labels ?? '[]');
    if (Array.isArray(parsed)) labels = parsed.map(String);
  } catch {
    // A row written by hand: no labels, so no scale set serves it.
  }
  return {
    id: Number(e.jobId),
    runId: Number(e.runId),
    repository: e.repository,
    status,
    labels,
    createdAt: e.createdAt,
    ...(e.runnerName ? { runnerName: e.runnerName } : {}),
    seenAt: e.seenAt,
    ...(e.lastCheckedAt ? { lastCheckedAt: e.lastCheckedAt } : {}),
  };
}

/** The job demand in Azure Table storage (KILN_TABLE_ENDPOINT, KILN_JOB_DEMAND_TABLE). */
export function createJobDemandTable(options: TableOptions): JobDemandStore {
  const client = createTableClient(options);
  const fail = (operation: string, err: unknown) => tableError(client, operation, err);

  /** Notes the repository as seen (insert-or-merge: its lastListedAt stays). */
  async function sawRepository(repository: string, seenAt: string, abortSignal: AbortSignal) {
    try {
      await client.upsertEntity<RepoEntity>(
        { partitionKey: REPOS, rowKey: tableKey(repository), repository, lastSeenAt: seenAt },
        'Merge',
        { abortSignal },
      );
    } catch (err) {
      throw fail('merge', err);
    }
  }

  async function query<T extends object>(filter: string, cap: number): Promise<TableEntityResult<T>[]> {
    const rows: TableEntityResult<T>[] = [];
    try {
      const pages = client
        .listEntities<T>({ queryOptions: { filter }, abortSignal: tableDeadline() })
        .byPage({ maxPageSize: Math.min(cap, 1000) });
      for await (const page of pages) {
        rows.push(...page);
        if (rows.length >= cap) break;
      }
    } catch (err) {
      if (errorCode(err) === 'TableNotFound') return []; // nothing recorded yet
      throw fail('query', err);
    }
    return rows.slice(0, cap);
  }

  return {
    async record(job, seenAt) {
      const abortSignal = tableDeadline();
      const rowKey = jobRow(job);
      const entity = toEntity(job, seenAt);
      for (let round = 0; round < WRITE_ROUNDS; round++) {
        let existing: TableEntityResult<Partial<JobEntity>> | undefined;
        try {
          existing = await client.getEntity<Partial<JobEntity>>(JOBS, rowKey, { abortSignal });
        } catch (err) {
          if (statusOf(err) !== 404) throw fail('read', err);
        }
        if (!existing) {
          // The insert is the check: of two first deliveries, one inserts and the other reads it.
          if (!(await insertIfAbsent(client, { partitionKey: JOBS, rowKey, ...entity }, abortSignal)))
            continue;
          await sawRepository(job.repository, seenAt, abortSignal);
          return 'recorded';
        }
        if ((existing.rank ?? 0) >= entity.rank) return 'unchanged';
        // Forward: the new status, runner and time, on the ETag read (lastCheckedAt stays: a merge).
        const change: JobEntity = {
          ...entity,
          // What the first delivery said of the job's creation stays (a REST read says the same).
          createdAt: existing.createdAt ?? entity.createdAt,
        };
        if (!change.runnerName && existing.runnerName) change.runnerName = existing.runnerName;
        try {
          await client.updateEntity({ partitionKey: JOBS, rowKey, ...change }, 'Merge', {
            etag: existing.etag,
            abortSignal,
          });
          return 'recorded';
        } catch (err) {
          // 412: another delivery changed the row since the read; 404: pruned meanwhile. Read again.
          if (statusOf(err) === 412 || statusOf(err) === 404) continue;
          throw fail('merge', err);
        }
      }
      throw new TransientError(
        `table ${client.tableName} record of job ${job.id} (${job.repository}) failed: the row changed under ${WRITE_ROUNDS} attempts in a row; try again`,
      );
    },

    async open(limit) {
      const rows = await query<Partial<JobEntity>>(
        odata`PartitionKey eq ${JOBS} and open eq ${true}`,
        OPEN_READ_CAP,
      );
      return rows
        .map(toStored)
        .filter((j): j is StoredJob => j !== undefined && isOpen(j.status))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id)
        .slice(0, limit);
    },

    async recentRepositories(since) {
      const rows = await query<Partial<RepoEntity>>(
        odata`PartitionKey eq ${REPOS} and lastSeenAt ge ${since}`,
        OPEN_READ_CAP,
      );
      return rows
        .filter((r) => typeof r.repository === 'string' && typeof r.lastSeenAt === 'string')
        .map((r) => ({
          repository: r.repository!,
          lastSeenAt: r.lastSeenAt!,
          ...(r.lastListedAt ? { lastListedAt: r.lastListedAt } : {}),
        }))
        .sort(
          (a, b) =>
            (a.lastListedAt ?? '').localeCompare(b.lastListedAt ?? '') ||
            a.repository.localeCompare(b.repository),
        );
    },

    async markChecked(jobs, at) {
      await Promise.all(
        jobs.map(async (job) => {
          // A deadline each: one signal shared by many requests in flight collects their listeners.
          const abortSignal = tableDeadline();
          try {
            // Only an existing row (etag *): a merge never brings back a pruned job.
            await client.updateEntity(
              { partitionKey: JOBS, rowKey: jobRow(job), lastCheckedAt: at },
              'Merge',
              { etag: '*', abortSignal },
            );
          } catch (err) {
            if (statusOf(err) !== 404) throw fail('merge', err);
          }
        }),
      );
    },

    async markListed(repository, at) {
      try {
        await client.updateEntity(
          { partitionKey: REPOS, rowKey: tableKey(repository), lastListedAt: at },
          'Merge',
          { etag: '*', abortSignal: tableDeadline() },
        );
      } catch (err) {
        if (statusOf(err) !== 404) throw fail('merge', err);
      }
    },

    async prune(completedBefore, openBefore) {
      const pages = await Promise.all([
        deleteOnePage(
          client,
          {
            partitionKey: JOBS,
            filter: odata`PartitionKey eq ${JOBS} and rank eq ${2} and seenAt lt ${completedBefore}`,
            pageSize: PRUNE_PAGE,
          },
          tableDeadline(),
        ),
        deleteOnePage(
          client,
          {
            partitionKey: JOBS,
            filter: odata`PartitionKey eq ${JOBS} and rank lt ${2} and createdAt lt ${openBefore}`,
            pageSize: PRUNE_PAGE,
          },
          tableDeadline(),
        ),
        deleteOnePage(
          client,
          {
            partitionKey: REPOS,
            filter: odata`PartitionKey eq ${REPOS} and lastSeenAt lt ${openBefore}`,
            pageSize: PRUNE_PAGE,
          },
          tableDeadline(),
        ),
      ]);
      return pages.reduce((sum, p) => sum + p.found, 0);
    },
  };
}
