/**
 * readGitHubDemand (issue 19): the jobs waiting for a GitHub runner, as the job demand table knows
 * them from workflow_job webhooks, corrected against GitHub's API, because webhooks get lost:
 *
 * - first the queued runs of the repositories jobs were seen in within a day are listed (one
 *   request each, at most LISTS_PER_READ repositories a call, those listed longest ago first, so
 *   each comes round in turn): an open job of a run GitHub lists as queued is still queued;
 * - a `completed` (or `in_progress`) lost: each other open job queued for more than CHECK_AFTER_MS
 *   is read again (GET …/actions/jobs/{id}), at most CHECKS_PER_READ a call, those checked longest
 *   ago first (lastCheckedAt); a job GitHub no longer knows (404) is forgotten as completed;
 * - a `queued` lost: the jobs of the listed queued runs the table knows no job of are read (at most
 *   RUNS_PER_LIST a repository, oldest first), and recorded.
 *
 * Whatever GitHub says is recorded through the table's own rule (a status never moves back), so a
 * read racing a delivery, or a retried activity, changes nothing twice: idempotent. The whole read
 * stays within MAX_REQUESTS GitHub requests (about a third of the 5,000-an-hour limit when called
 * every minute, and far less with a quiet queue) and stops asking after a few failures in a row. It
 * also prunes a bounded batch of the table. Answers the open jobs (at most DEMAND_READ_LIMIT, oldest
 * first), how many this read corrected and how many requests it made.
 */
import { ensureError } from '../clients/errors.js';
import type { StoredJob } from '../demand/job-demand-table.js';
import { statusRank } from '../demand/parse-workflow-job.js';
import type { GitHubDemand, WorkflowJob } from '../demand/types.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export interface ReadGitHubDemandInput {
  /** The orchestration's time (ISO 8601): what "queued for 2 minutes" and "seen today" are measured from. */
  now: string;
}

/** The most queued jobs a read answers (the rest wait for the next read, oldest first). */
export const DEMAND_READ_LIMIT = 500;
/** A job queued this long without a delivery saying it started is asked about. */
export const CHECK_AFTER_MS = 2 * 60_000;
export const CHECKS_PER_READ = 20;
export const LISTS_PER_READ = 5;
/** Queued runs the table knows no job of whose jobs are read per repository and read (one request each). */
export const RUNS_PER_LIST = 5;
/** GitHub requests one read makes at most. */
export const MAX_REQUESTS = 30;
/** Repositories seen within this are listed. */
const RECENT_MS = 24 * 3600_000;
/** Completed jobs are kept this long (a late duplicate delivery still finds them), open ones a day. */
const KEEP_COMPLETED_MS = 3600_000;
/** Failed GitHub reads in a row after which the read stops asking (GitHub looks down). */
const FAILURES_IN_A_ROW = 3;

export function createReadGitHubDemandActivity(deps: ActivityDeps) {
  return ({ now }: ReadGitHubDemandInput): Promise<ActivityResult<GitHubDemand | null>> =>
    attempt('read GitHub job demand', async () => {
      const store = deps.jobDemand;
      const github = deps.github;
      if (!store || !github) return null;
      const nowMs = Date.parse(now);
      if (Number.isNaN(nowMs)) throw new TypeError(`readGitHubDemand: "${now}" is not an ISO 8601 time`);
      const seenAt = new Date(nowMs).toISOString();
      const requests = { count: 0 };
      let corrected = 0;
      let failuresInARow = 0;
      const failures: string[] = [];
      const canAsk = (cost: number) =>
        failuresInARow < FAILURES_IN_A_ROW && requests.count + cost <= MAX_REQUESTS;
      const failed = (what: string, err: unknown) => {
        failuresInARow++;
        failures.push(`${what}: ${ensureError(err).message}`);
      };
      const record = async (job: WorkflowJob) => {
        if ((await store.record(job, seenAt)) === 'recorded') corrected++;
      };

      const open = await store.open(Number.MAX_SAFE_INTEGER);
      const knownRuns = new Set(open.map((j) => j.runId));

      // 1. The queued runs of the repositories seen today (one request each, listed longest ago first).
      const repositories = await store.recentRepositories(new Date(nowMs - RECENT_MS).toISOString());
      const listed: { repository: string; runs: number[] }[] = [];
      for (const { repository } of repositories.slice(0, LISTS_PER_READ)) {
        if (!canAsk(1)) break;
        requests.count++;
        try {
          listed.push({ repository, runs: await github.listQueuedRuns(repository) });
          failuresInARow = 0;
          await store.markListed(repository, seenAt);
        } catch (err) {
          failed(`list of ${repository}'s queued runs`, err);
        }
      }
      // A job of a run GitHub lists as queued is still queued: it needs no check of its own (and no
      // write saying so: a long queue would cost a write per job and minute).
      const stillQueued = new Set(listed.flatMap((l) => l.runs.map((run) => `${l.repository} ${run}`)));

      // 2. Lost `in_progress`/`completed`: the other open jobs queued a while, checked longest ago first.
      const due = open
        .filter((j) => !stillQueued.has(`${j.repository} ${j.runId}`))
        .filter((j) => nowMs - Date.parse(j.createdAt) > CHECK_AFTER_MS)
        .sort(
          (a, b) =>
            (a.lastCheckedAt ?? '').localeCompare(b.lastCheckedAt ?? '') ||
            a.createdAt.localeCompare(b.createdAt) ||
            a.id - b.id,
        )
        .slice(0, CHECKS_PER_READ);
      const checked: StoredJob[] = [];
      for (const job of due) {
        if (!canAsk(1)) break;
        requests.count++;
        try {
          const seen = await github.getWorkflowJob(job.repository, job.id);
          failuresInARow = 0;
          checked.push(job);
          // GitHub no longer knows it (deleted with its run or repository): nobody waits for it.
          if (!seen) await record({ ...job, status: 'completed' });
          else if (statusRank(seen.status) > statusRank(job.status)) await record(seen);
        } catch (err) {
          failed(`check of job ${job.id} of ${job.repository}`, err);
        }
      }
      if (checked.length > 0) await store.markChecked(checked, seenAt);

      // 3. Lost `queued`: the jobs of queued runs the table knows no job of, oldest first, round the repositories.
      const unknown = listed.map((l) => ({
        repository: l.repository,
        runs: l.runs.filter((run) => !knownRuns.has(run)).slice(0, RUNS_PER_LIST),
      }));
      for (let k = 0; k < RUNS_PER_LIST; k++)
        for (const { repository, runs } of unknown) {
          const runId = runs[k];
          if (runId === undefined || !canAsk(1)) continue;
          requests.count++;
          try {
            const jobs = await github.listRunJobs(repository, runId);
            failuresInARow = 0;
            for (const job of jobs) await record(job);
          } catch (err) {
            failed(`jobs of run ${runId} of ${repository}`, err);
          }
        }

      // A bounded batch of what nobody needs any more; a failure here costs nothing now.
      try {
        await store.prune(
          new Date(nowMs - KEEP_COMPLETED_MS).toISOString(),
          new Date(nowMs - RECENT_MS).toISOString(),
        );
      } catch (err) {
        failures.push(`prune: ${ensureError(err).message}`);
      }

      const queued = (await store.open(DEMAND_READ_LIMIT)).map((j) => ({
        id: j.id,
        repository: j.repository,
        labels: j.labels,
        queuedAt: j.createdAt,
      }));
      const demand: GitHubDemand = { queued, corrected, requests: requests.count };
      if (failures.length > 0) demand.failures = failures.slice(0, 10);
      return demand;
    });
}
