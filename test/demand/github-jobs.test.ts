/**
 * GitHub's workflow jobs on the fake cloud (issue 19): the world's workload GitHub jobs as the fake
 * GitHub serves them (a job, a repository's queued runs, a run's jobs), read by kiln's real client
 * (getWorkflowJob, listQueuedJobs), every exchange held to GitHub's OpenAPI description; and the
 * bodies of the workflow_job deliveries held to GitHub's webhook schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createGitHubClient } from '../../src/clients/github/index.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { checkGithubWebhook } from '../../src/local/contracts/github.js';
import { isGitHubJob, workflowJobDelivery } from '../../src/local/fake-cloud/github-jobs.js';
import type { WorldJob } from '../../src/local/fake-cloud/world-types.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
const changes: { job: WorldJob; status: string }[] = [];

export const workloadScenario = () =>
  makeScenario({
    scaleSets: [
      {
        name: 'vmss-gh-linux-weu',
        image: 'linux',
        region: 'westeurope',
        capacity: 1,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
    ],
    workload: {
      seed: 3,
      streams: [
        {
          fleet: 'github',
          labels: ['self-hosted', 'linux'],
          arrivals: [{ from: '2026-12-01T03:00:00Z', to: '2026-12-01T04:00:00Z', perHour: 20 }],
          minutes: { min: 10, max: 20 },
        },
        {
          fleet: 'github',
          labels: ['self-hosted', 'gpu'],
          arrivals: [{ from: '2026-12-01T03:00:00Z', to: '2026-12-01T04:00:00Z', perHour: 4 }],
          minutes: { min: 10, max: 20 },
        },
      ],
    },
  });

const client = () =>
  createGitHubClient(
    t.settings.github!,
    createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
    {
      writeSpacingMs: 0,
    },
  );

beforeAll(async () => {
  t = await startTestCloud(workloadScenario());
  t.cloud.world.onJobChange = (job, status) => changes.push({ job, status });
  t.advance(70);
});
afterAll(async () => t?.close());

const githubJobs = () => t.cloud.world.jobs.filter(isGitHubJob);

describe("the fake GitHub's workflow jobs", () => {
  it('gives each workload GitHub job an id, a run and a repository per stream, and tells each change', () => {
    const jobs = githubJobs();
    expect(jobs.length).toBeGreaterThan(10);
    const statuses = new Set(jobs.map((j) => t.cloud.world.githubJobStatus(j)));
    // One runner for many jobs: some done, one running, the rest queued; no runner serves gpu.
    expect([...statuses].sort()).toEqual(['completed', 'in_progress', 'queued']);
    expect(new Set(jobs.map((j) => j.github.repository))).toEqual(new Set(['acme/app-0', 'acme/app-1']));
    for (const j of jobs) expect(j.github.id).toBeGreaterThan(2 ** 31);
    // Every job was told queued first, then in order, each status once.
    for (const j of jobs) {
      const told = changes.filter((c) => c.job === j).map((c) => c.status);
      const expected = {
        queued: ['queued'],
        in_progress: ['queued', 'in_progress'],
        completed: ['queued', 'in_progress', 'completed'],
      };
      expect(told).toEqual(expected[t.cloud.world.githubJobStatus(j)]);
    }
  });

  it('getWorkflowJob reads a job as it is now; another repository or an unknown id is undefined', async () => {
    const gh = client();
    const [done] = githubJobs().filter((j) => t.cloud.world.githubJobStatus(j) === 'completed');
    const running = githubJobs().find((j) => t.cloud.world.githubJobStatus(j) === 'in_progress')!;
    expect(await gh.getWorkflowJob(done!.github.repository, done!.github.id)).toMatchObject({
      id: done!.github.id,
      runId: done!.github.runId,
      repository: 'acme/app-0',
      status: 'completed',
      labels: ['self-hosted', 'linux'],
      createdAt: new Date(done!.demand.arrivedAt).toISOString(),
    });
    expect(await gh.getWorkflowJob('acme/app-0', running.github.id)).toMatchObject({
      status: 'in_progress',
      runnerName: running.github.runnerName,
    });
    expect(await gh.getWorkflowJob('acme/app-1', done!.github.id)).toBeUndefined();
    expect(await gh.getWorkflowJob('acme/app-0', 1)).toBeUndefined();
    expect(t.cloud.contractViolations).toEqual([]);
  });

  it('listQueuedJobs finds the queued jobs of queued runs, within maxRuns, counting its requests', async () => {
    const gh = client();
    const queued = githubJobs()
      .filter((j) => j.github.repository === 'acme/app-1' && t.cloud.world.githubJobStatus(j) === 'queued')
      .map((j) => j.github.id);
    expect(queued.length).toBeGreaterThan(1);
    const requests = { count: 0 };
    const found = await gh.listQueuedJobs('acme/app-1', { requests });
    expect(found.map((j) => j.id).sort()).toEqual([...queued].sort());
    expect(found.every((j) => j.status === 'queued' && j.repository === 'acme/app-1')).toBe(true);
    expect(requests.count).toBe(1 + queued.length);
    const bounded = { count: 0 };
    expect(await gh.listQueuedJobs('acme/app-1', { maxRuns: 1, requests: bounded })).toHaveLength(1);
    expect(bounded.count).toBe(2);
    // A repository without jobs: one request, nothing queued.
    expect(await gh.listQueuedJobs('acme/quiet')).toEqual([]);
    expect(t.cloud.contractViolations).toEqual([]);
  });

  it("the workflow_job deliveries keep GitHub's webhook schemas, each action", () => {
    const c = { api: t.cloud.urls.github, owner: 'acme', installationId: 4242 };
    for (const j of githubJobs().slice(0, 5))
      for (const status of ['queued', 'in_progress', 'completed'] as const) {
        if (status !== 'queued' && j.github.runnerName === undefined) continue;
        expect(checkGithubWebhook('workflow_job', workflowJobDelivery(j, { ...c, status }))).toEqual([]);
      }
    // The checker does check: a delivery without its job is refused.
    expect(checkGithubWebhook('workflow_job', { action: 'queued', repository: {} }).length).toBeGreaterThan(
      0,
    );
    expect(checkGithubWebhook('workflow_job', { action: 'requested' })[0]?.rule).toBe('known-operation');
  });
});
