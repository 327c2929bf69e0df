/**
 * GitHub job demand end to end on the fake cloud (issue 19): the simulator's signed workflow_job
 * deliveries to POST /api/github/webhooks through the local host, the job demand table they fill,
 * refusals (a bad or missing signature: 401 and nothing recorded), a storm of duplicated and
 * reordered deliveries, and the reconcile read (readGitHubDemand) making up for lost deliveries
 * against the fake GitHub, within its request budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadGitHubDemandActivity, MAX_REQUESTS } from '../../src/activities/demand-github.js';
import { createCredential } from '../../src/clients/credential.js';
import { createJobDemandTable, type JobDemandStore } from '../../src/demand/job-demand-table.js';
import { getRuntime } from '../../src/functions/runtime.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { isGitHubJob, workflowJobDelivery } from '../../src/local/fake-cloud/github-jobs.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';
import { signature, WEBHOOK_PATH } from '../../src/local/simulate/webhook-deliveries.js';

const scenario = (lose: number) =>
  parseScenario(
    `
version: 1
name: webhooks
seed: 11
timers: false
start: 2026-12-01T03:00:00Z
until: 2026-12-01T04:30:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 1, version: 2026.10.1 }
workload:
  webhooks: { lose: ${lose} }
  streams:
    - fleet: github
      labels: [self-hosted, linux]
      arrivals: [{ from: 2026-12-01T03:00:00Z, to: 2026-12-01T04:00:00Z, perHour: 30 }]
      minutes: { min: 5, max: 15 }
    - fleet: github
      labels: [self-hosted, gpu]
      arrivals: [{ from: 2026-12-01T03:00:00Z, to: 2026-12-01T04:00:00Z, perHour: 6 }]
      minutes: { min: 5, max: 15 }
`,
    'webhooks.yaml',
  );

let sim: SimulationResult;
let store: (table?: string) => JobDemandStore;

beforeAll(async () => {
  sim = await runSimulation(scenario(0), { triggers: [], keepRunning: true });
  const settings = loadSettings({ ...sim.cloud.env });
  const credential = createCredential(settings);
  store = (table = settings.jobDemand!.table.name) =>
    createJobDemandTable({
      endpoint: settings.jobDemand!.table.endpoint,
      tableName: table,
      credential,
      retryBaseMs: 1,
    });
});
afterAll(() => sim?.close());

const world = () => sim.cloud.world;
const githubJobs = () => world().jobs.filter(isGitHubJob);
const statusOf = (j: ReturnType<typeof githubJobs>[number]) => world().githubJobStatus(j);
const openInWorld = () =>
  githubJobs()
    .filter((j) => statusOf(j) === 'queued')
    .map((j) => j.github.id)
    .sort();
const openInTable = async (s = store()) => (await s.open(10_000)).map((j) => j.id).sort();

const post = (headers: Record<string, string>, body: string) =>
  sim.host.invokeHttp({ method: 'POST', path: WEBHOOK_PATH, headers, body });
const signed = (event: string, body: string, secret = sim.cloud.githubWebhookSecret()) =>
  post(
    {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': signature(secret, body),
    },
    body,
  );
const deliveryOf = (
  job: ReturnType<typeof githubJobs>[number],
  status: 'queued' | 'in_progress' | 'completed',
) =>
  JSON.stringify(
    workflowJobDelivery(job, { api: sim.cloud.urls.github, owner: 'acme', installationId: 4242, status }),
  );

describe('POST /api/github/webhooks', () => {
  it("the simulator's deliveries keep the table equal to GitHub's truth: the same jobs wait", async () => {
    expect(githubJobs().length).toBeGreaterThan(20);
    expect(openInWorld().length).toBeGreaterThan(3);
    expect(await openInTable()).toEqual(openInWorld());
    expect(sim.cloud.contractViolations).toEqual([]);
  });

  it('a bad signature: 401, and nothing changes', async () => {
    const job = githubJobs().find((j) => statusOf(j) === 'queued')!;
    const before = await openInTable();
    const body = deliveryOf(job, 'completed');
    const forged = await signed('workflow_job', body, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toEqual({ error: 'the signature does not match the body' });
    // The right signature of another body does not sign this one.
    const other = await post(
      {
        'x-github-event': 'workflow_job',
        'x-hub-signature-256': signature(sim.cloud.githubWebhookSecret(), deliveryOf(job, 'queued')),
      },
      body,
    );
    expect(other.status).toBe(401);
    expect(await openInTable()).toEqual(before);
  });

  it('a missing or malformed signature: 401, and nothing changes', async () => {
    const job = githubJobs().find((j) => statusOf(j) === 'queued')!;
    const before = await openInTable();
    const body = deliveryOf(job, 'completed');
    for (const headers of <Record<string, string>[]>[
      { 'x-github-event': 'workflow_job' },
      { 'x-github-event': 'workflow_job', 'x-hub-signature-256': 'sha1=abc' },
      { 'x-github-event': 'workflow_job', 'x-hub-signature': `sha1=${'0'.repeat(40)}` },
    ]) {
      const answer = await post(headers, body);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body).error).toMatch(/X-Hub-Signature-256 is missing/);
    }
    expect(await openInTable()).toEqual(before);
  });

  it('ping: 200; another event: 202 ignored; a signed body that is no workflow_job: 400 naming why', async () => {
    expect((await signed('ping', '{"zen":"Keep it logically awesome.","hook_id":1}')).status).toBe(200);
    const push = await signed('push', '{"ref":"refs/heads/main"}');
    expect(push.status).toBe(202);
    expect(JSON.parse(push.body).ignored).toMatch(/workflow_job events only, not push/);
    const notJson = await signed('workflow_job', '{"action":');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error).toMatch(/^the body is not JSON/);
    const wrong = await signed('workflow_job', '{"action":"queued","workflow_job":{"id":"x"}}');
    expect(wrong.status).toBe(400);
    expect(JSON.parse(wrong.body).error).toBe(
      'not a workflow_job delivery: field "workflow_job.id": must be a positive whole number',
    );
  });

  it('a storm of ~400 deliveries, duplicated and out of order, at once: each job ends where GitHub says', async () => {
    // Jobs the table has never seen (new ids in another repository), each queued → in_progress →
    // completed or left queued, every delivery twice, the whole lot shuffled and sent concurrently.
    const template = githubJobs()[0]!;
    const storm = Array.from({ length: 100 }, (_, i) => ({
      ...template,
      github: {
        ...template.github,
        id: 90_000_000_000 + i,
        runId: 91_000_000_000 + i,
        repository: 'acme/storm',
      },
    }));
    const ends = storm.map((_, i) => (['queued', 'in_progress', 'completed'] as const)[i % 3]!);
    const bodies = storm.flatMap((job, i) =>
      (['queued', 'in_progress', 'completed'] as const)
        .slice(0, (i % 3) + 1)
        .flatMap((s) => [deliveryOf(job, s), deliveryOf(job, s)]),
    );
    expect(bodies.length).toBe(2 * (34 * 1 + 33 * 2 + 33 * 3));
    // A fixed shuffle (the seed is the test's).
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = bodies.length - 1; i > 0; i--) {
      const k = Math.floor(next() * (i + 1));
      [bodies[i], bodies[k]] = [bodies[k]!, bodies[i]!];
    }
    const answers = await Promise.all(bodies.map((b) => signed('workflow_job', b)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const open = new Set(await openInTable());
    storm.forEach((job, i) =>
      expect(open.has(job.github.id), `${job.github.id} ${ends[i]}`).toBe(ends[i] === 'queued'),
    );
  });
});

describe('readGitHubDemand', () => {
  const read = async (s: JobDemandStore, now = world().clock.nowMs()) => {
    const result = await createReadGitHubDemandActivity({ ...getRuntime(), jobDemand: s })({
      now: new Date(now).toISOString(),
    });
    if (!result.ok) throw new Error(result.error.message);
    return result.value!;
  };

  it('finds a lost completed and a lost queued delivery, and changes nothing when read again', async () => {
    const s = store('demandreconcile');
    const done = githubJobs().filter((j) => statusOf(j) === 'completed');
    const queued = githubJobs().filter((j) => statusOf(j) === 'queued');
    // The table as lost deliveries left it: a job whose in_progress and completed never came, and
    // every queued job of one repository but one (its queued delivery lost).
    const lostCompleted = done[0]!;
    const repo = queued[0]!.github.repository;
    const mates = queued.filter((j) => j.github.repository === repo);
    expect(mates.length).toBeGreaterThan(1);
    const [lostQueued, ...seen] = mates;
    const asJob = (j: (typeof queued)[number], status: 'queued' | 'completed') => ({
      id: j.github.id,
      runId: j.github.runId,
      repository: j.github.repository,
      status,
      labels: ['self-hosted', 'linux'],
      createdAt: new Date(j.demand.arrivedAt).toISOString(),
    });
    const nowIso = new Date(world().clock.nowMs()).toISOString();
    await s.record(asJob(lostCompleted, 'queued'), nowIso);
    for (const j of seen) await s.record(asJob(j, 'queued'), nowIso);
    expect(await openInTable(s)).toContain(lostCompleted.github.id);
    expect(await openInTable(s)).not.toContain(lostQueued!.github.id);

    const demand = await read(s);
    expect(demand.failures).toBeUndefined();
    expect(demand.corrected).toBe(2);
    expect(demand.requests).toBeLessThanOrEqual(MAX_REQUESTS);
    const ids = demand.queued.map((q) => q.id);
    expect(ids).not.toContain(lostCompleted.github.id);
    expect(ids).toContain(lostQueued!.github.id);
    expect(ids.sort()).toEqual(mates.map((j) => j.github.id).sort());
    // Oldest first, with the labels and when each was queued.
    expect(demand.queued.map((q) => q.queuedAt)).toEqual([...demand.queued.map((q) => q.queuedAt)].sort());
    expect(demand.queued[0]).toMatchObject({ repository: repo, labels: expect.any(Array) });
    // Idempotent: the same read again corrects nothing.
    const again = await read(s);
    expect(again.corrected).toBe(0);
    expect(again.queued.map((q) => q.id).sort()).toEqual(ids.sort());
  });

  it('keeps its request budget however many jobs wait unseen, and a table no job reached answers none', async () => {
    const s = store('demandbudget');
    // Every job as queued (thirty-odd stale ones): more checks than a read makes.
    for (const j of githubJobs())
      await s.record(
        {
          id: j.github.id,
          runId: j.github.runId,
          repository: j.github.repository,
          status: 'queued',
          labels: [],
          createdAt: new Date(j.demand.arrivedAt).toISOString(),
        },
        new Date(world().clock.nowMs()).toISOString(),
      );
    const before = sim.cloud.requests.github;
    const first = await read(s);
    expect(first.requests).toBeLessThanOrEqual(MAX_REQUESTS);
    expect(sim.cloud.requests.github - before).toBeLessThanOrEqual(MAX_REQUESTS);
    // Enough reads put it right: each checks the ones checked longest ago.
    for (let i = 0; i < 4; i++) await read(s);
    expect(await openInTable(s)).toEqual(openInWorld());
    expect((await read(store('demandempty'))).queued).toEqual([]);
  });
});

describe('readGitHubDemand when GitHub fails', () => {
  it('stops asking after three failures in a row, says why, and still answers what the table knows', async () => {
    const s = store('demanddown');
    const jobs = githubJobs().filter((j) => statusOf(j) === 'queued');
    for (const j of jobs)
      await s.record(
        {
          id: j.github.id,
          runId: j.github.runId,
          repository: j.github.repository,
          status: 'queued',
          labels: [],
          createdAt: new Date(j.demand.arrivedAt).toISOString(),
        },
        new Date(world().clock.nowMs()).toISOString(),
      );
    // GitHub answers 502 to everything from here on (the last test of this simulation to ask it).
    sim.cloud.addFault({ service: 'github', operation: '*', status: 502, times: 1000 });
    const result = await createReadGitHubDemandActivity({ ...getRuntime(), jobDemand: s })({
      now: new Date(world().clock.nowMs()).toISOString(),
    });
    if (!result.ok) throw new Error(result.error.message);
    const demand = result.value!;
    expect(demand.failures).toHaveLength(3);
    expect(demand.failures![0]).toMatch(/queued runs: .*502/);
    expect(demand.requests).toBe(3);
    expect(demand.corrected).toBe(0);
    expect(demand.queued.map((q) => q.id).sort()).toEqual(jobs.map((j) => j.github.id).sort());
  });
});

describe('lost deliveries in a simulation', () => {
  it('with a share of deliveries lost the table drifts, and the reconcile reads bring it back', async () => {
    const lossy = await runSimulation(scenario(0.3), { triggers: [], keepRunning: true });
    try {
      const truth = lossy.cloud.world.jobs
        .filter(isGitHubJob)
        .filter((j) => lossy.cloud.world.githubJobStatus(j) === 'queued')
        .map((j) => j.github.id)
        .sort();
      const deps = getRuntime();
      const table = deps.jobDemand!;
      const open = async () => (await table.open(10_000)).map((j) => j.id).sort();
      expect(await open()).not.toEqual(truth);
      const now = new Date(lossy.cloud.world.clock.nowMs()).toISOString();
      let corrected = 0;
      for (let i = 0; i < 5; i++) {
        const r = await createReadGitHubDemandActivity(deps)({ now });
        if (!r.ok) throw new Error(r.error.message);
        corrected += r.value!.corrected;
        expect(r.value!.requests).toBeLessThanOrEqual(MAX_REQUESTS);
      }
      expect(corrected).toBeGreaterThan(0);
      expect(await open()).toEqual(truth);
    } finally {
      await lossy.close();
    }
  });
});
