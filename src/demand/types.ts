/**
 * Job demand (issue 19): the jobs waiting for a runner or agent, as the autoscaler reads them. GitHub's
 * come from `workflow_job` webhooks kept in kiln's job demand table and corrected by a reconcile read
 * of GitHub's API (webhooks get lost); Azure DevOps' from the pool's unfinished job requests.
 * Plain JSON: these values cross into orchestration history, so they carry no secret and stay small.
 */

/** A GitHub Actions job as a `workflow_job` webhook or `GET /repos/{owner}/{repo}/actions/jobs/{id}` describes it. */
export interface WorkflowJob {
  id: number;
  runId: number;
  /** `owner/name` of the job's repository. */
  repository: string;
  status: 'queued' | 'waiting' | 'in_progress' | 'completed';
  /** The labels the job asks for (`runs-on`): a runner must carry all of them, in any case. */
  labels: string[];
  /** created_at: when the job was queued. */
  createdAt: string;
  /** The runner that took it (null while queued). */
  runnerName?: string;
}

/** A GitHub job waiting for a runner, as the autoscaler counts it. */
export interface QueuedGitHubJob {
  id: number;
  repository: string;
  labels: string[];
  queuedAt: string;
}

/** What the reconcile read of GitHub demand answers (activity readGitHubDemand). */
export interface GitHubDemand {
  /** Jobs whose last known status is queued (or waiting), oldest first, at most DEMAND_READ_LIMIT. */
  queued: QueuedGitHubJob[];
  /** Jobs the reconcile read found in another state than the table said (lost webhooks), this read. */
  corrected: number;
  /** GitHub API requests this read made (the reconcile stays within its budget). */
  requests: number;
  /** What this read could not ask or write (a check, a list, the prune), at most 10; absent when none. */
  failures?: string[];
}

/** An Azure DevOps job request waiting for an agent of the pool (no reservedAgent, no finishTime). */
export interface QueuedAdoRequest {
  requestId: number;
  queueTime: string;
}

/** What the read of the pool's job requests answers (activity readAdoDemand). */
export interface AdoDemand {
  /** Requests no agent took yet (no reservedAgent, no finishTime), oldest first, at most ADO_DEMAND_READ_LIMIT. */
  queued: QueuedAdoRequest[];
  /** Requests an agent runs now (reservedAgent, no finishTime), by agent name. */
  runningOn: string[];
  /** Present when more requests were queued than `queued` holds (the oldest are kept). */
  truncated?: true;
}
