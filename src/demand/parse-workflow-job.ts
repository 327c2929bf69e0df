/**
 * A `workflow_job` webhook delivery's JSON body as kiln's WorkflowJob (issue 19), or what is wrong
 * with it. Pure: the HTTP function (src/functions/github-webhooks.ts) parses the body it verified,
 * and the reconcile read turns GitHub's REST answers into the same shape (toWorkflowJob).
 *
 * GitHub's payload: `action` (queued | waiting | in_progress | completed) and `workflow_job` with
 * `id`, `run_id`, `status`, `labels`, `created_at`, `runner_name` (null while queued), plus
 * `repository.full_name`. The action says what happened; a job's own `status` agrees with it in
 * GitHub's deliveries, and wins when it is one kiln knows (it is what GitHub's API answers too).
 */
import type { WorkflowJob } from './types.js';

export type ParsedWorkflowJobEvent =
  { ok: true; action: WorkflowJob['status']; job: WorkflowJob } | { ok: false; problem: string };

const STATUSES: readonly WorkflowJob['status'][] = ['queued', 'waiting', 'in_progress', 'completed'];

const isStatus = (value: unknown): value is WorkflowJob['status'] =>
  typeof value === 'string' && (STATUSES as readonly string[]).includes(value);

/** How far a job got: a status never moves back to a lower rank (queued and waiting are both "not started"). */
export function statusRank(status: WorkflowJob['status']): number {
  return status === 'completed' ? 2 : status === 'in_progress' ? 1 : 0;
}

/** Whether a job with this status still waits for a runner. */
export const isOpen = (status: WorkflowJob['status']): boolean => statusRank(status) === 0;

/** The body of a `workflow_job` delivery (already JSON-parsed) as a WorkflowJob. */
export function parseWorkflowJobEvent(body: unknown): ParsedWorkflowJobEvent {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, problem: 'a workflow_job delivery is a JSON object' };
  const event = body as { action?: unknown; workflow_job?: unknown; repository?: unknown };
  if (!isStatus(event.action))
    return {
      ok: false,
      problem: `field "action": must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(event.action) ?? 'nothing'})`,
    };
  const repository = (event.repository as { full_name?: unknown } | null | undefined)?.full_name;
  const job = toWorkflowJob(event.workflow_job, typeof repository === 'string' ? repository : undefined);
  if (!job.ok)
    return { ok: false, problem: job.problem.replace(/^field "(?!repository\.)/, 'field "workflow_job.') };
  return { ok: true, action: event.action, job: job.job };
}

/**
 * A job as a webhook's `workflow_job` or GitHub's `GET …/actions/jobs/{job_id}` answers it (the same
 * `job` schema), in `repository` (`owner/name`: the delivery's `repository.full_name`, or the
 * repository the job was read from).
 */
export function toWorkflowJob(
  value: unknown,
  repository: string | undefined,
): { ok: true; job: WorkflowJob } | { ok: false; problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, problem: 'field "(job)": must be an object' };
  const j = value as Record<string, unknown>;
  const problem = (field: string, what: string) => ({
    ok: false as const,
    problem: `field "${field}": ${what}`,
  });
  if (!isJobId(j.id)) return problem('id', 'must be a positive whole number');
  if (!isJobId(j.run_id)) return problem('run_id', 'must be a positive whole number');
  if (!isStatus(j.status)) return problem('status', `must be one of ${STATUSES.join(', ')}`);
  if (!Array.isArray(j.labels) || !j.labels.every((l) => typeof l === 'string'))
    return problem('labels', 'must be a list of strings');
  if (typeof j.created_at !== 'string' || Number.isNaN(Date.parse(j.created_at)))
    return problem('created_at', 'must be an ISO 8601 time');
  if (!repository || !/^[^/\s]+\/[^/\s]+$/.test(repository))
    return { ok: false, problem: 'field "repository.full_name": must be owner/name' };
  const job: WorkflowJob = {
    id: j.id,
    runId: j.run_id,
    repository,
    status: j.status,
    labels: j.labels as string[],
    createdAt: new Date(Date.parse(j.created_at)).toISOString(),
  };
  if (typeof j.runner_name === 'string' && j.runner_name !== '') job.runnerName = j.runner_name;
  return { ok: true, job };
}

const isJobId = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
