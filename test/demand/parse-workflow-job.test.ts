import { describe, expect, it } from 'vitest';
import { parseWorkflowJobEvent, statusRank } from '../../src/demand/parse-workflow-job.js';

const delivery = (action: string, job: Record<string, unknown> = {}) => ({
  action,
  workflow_job: {
    id: 29679449,
    run_id: 9987654321,
    run_attempt: 1,
    workflow_name: 'CI',
    name: 'build',
    status: action,
    conclusion: null,
    created_at: '2026-12-01T03:00:00Z',
    started_at: '2026-12-01T03:00:00Z',
    completed_at: null,
    labels: ['self-hosted', 'linux'],
    runner_id: null,
    runner_name: null,
    runner_group_id: null,
    runner_group_name: null,
    steps: [],
    ...job,
  },
  repository: { full_name: 'acme/app-0' },
  organization: { login: 'acme' },
});

describe('parseWorkflowJobEvent', () => {
  it('reads a queued job: id, run, repository, labels, when it was created; no runner yet', () => {
    expect(parseWorkflowJobEvent(delivery('queued'))).toEqual({
      ok: true,
      action: 'queued',
      job: {
        id: 29679449,
        runId: 9987654321,
        repository: 'acme/app-0',
        status: 'queued',
        labels: ['self-hosted', 'linux'],
        createdAt: '2026-12-01T03:00:00.000Z',
      },
    });
  });

  it('reads the runner of a job in progress', () => {
    const parsed = parseWorkflowJobEvent(
      delivery('in_progress', { runner_name: 'vmss-gh000001', runner_id: 7 }),
    );
    expect(parsed).toMatchObject({ ok: true, job: { status: 'in_progress', runnerName: 'vmss-gh000001' } });
  });

  it.each([
    [null, 'a workflow_job delivery is a JSON object'],
    [[], 'a workflow_job delivery is a JSON object'],
    [{ action: 'requested' }, 'field "action": must be one of queued, waiting, in_progress, completed'],
    [{ ...delivery('queued'), workflow_job: undefined }, 'field "workflow_job.(job)": must be an object'],
    [delivery('queued', { id: '1' }), 'field "workflow_job.id": must be a positive whole number'],
    [delivery('queued', { run_id: -1 }), 'field "workflow_job.run_id": must be a positive whole number'],
    [delivery('queued', { status: 'pending' }), 'field "workflow_job.status": must be one of'],
    [delivery('queued', { labels: [1] }), 'field "workflow_job.labels": must be a list of strings'],
    [delivery('queued', { created_at: 'soon' }), 'field "workflow_job.created_at": must be an ISO 8601 time'],
    [
      { ...delivery('queued'), repository: { full_name: 'acme' } },
      'field "repository.full_name": must be owner/name',
    ],
  ])('refuses %j: %s', (body, problem) => {
    const parsed = parseWorkflowJobEvent(body);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain(problem);
  });

  it('ranks statuses: queued and waiting before in_progress before completed', () => {
    expect(['queued', 'waiting', 'in_progress', 'completed'].map((s) => statusRank(s as never))).toEqual([
      0, 0, 1, 2,
    ]);
  });
});
