/**
 * The pool's job requests (FullAdoClient.listJobRequests) against the fake Azure DevOps: a workload
 * job's request is queued from its arrival (no reservedAgent) and keeps its id and queue time when an
 * agent takes it (reservedAgent, assignTime), a finished one is left out (completedRequestCount=0), and
 * a read that fails (a 404 pool, an answer without a list, a request without its id) is an error,
 * never an empty queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdoClient } from '../../src/clients/ado/index.js';
import { createCredential } from '../../src/clients/credential.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import type { AdoJobRequest } from '../../src/clients/types.js';
import { formatViolation } from '../../src/local/contracts/index.js';
import { sendJson, serve } from '../../src/local/fake-cloud/http.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let auth: Record<string, string>;
const POOL = 'kiln-windows';
const at = (minutes: number) => new Date(Date.parse('2026-12-01T02:55:00Z') + minutes * 60_000).toISOString();

const ado = (
  overrides: Partial<NonNullable<TestCloud['settings']['ado']>> = {},
  options: Parameters<typeof createAdoClient>[3] = {},
) => {
  const credential = createCredential(t.settings);
  return createAdoClient(
    { ...t.settings.ado!, ...overrides },
    createSecretReader(t.settings.keyVaultUrl, credential),
    credential,
    { backoffMs: 1, ...options },
  );
};

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      scaleSets: [
        {
          name: 'vmss-ado-win-weu',
          image: 'windows',
          region: 'westeurope',
          capacity: 1,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
      ],
      // build-agent-01 (another fleet's agent of the pool) runs a job from the start.
      foreign: { github: 0, ado: 1 },
      workload: {
        seed: 7,
        streams: [
          {
            fleet: 'ado',
            pool: POOL,
            arrivals: [{ from: at(10), to: at(40), perHour: 20 }],
            minutes: { min: 20, max: 20 },
          },
          // Jobs of another pool are not this pool's requests.
          {
            fleet: 'ado',
            pool: 'other-pool',
            arrivals: [{ from: at(10), to: at(40), perHour: 20 }],
            minutes: { min: 20, max: 20 },
          },
        ],
      },
    }),
  );
  const pat = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
    'ado-pat',
  );
  auth = { authorization: `Basic ${Buffer.from(`:${pat}`).toString('base64')}` };
});
afterAll(async () => t?.close());

/** What the world says: the pool's queued requests and the agents running one. */
function truth() {
  const world = t.cloud.world;
  return {
    queued: world.queuedAdoRequests(POOL).map((r) => r.requestId),
    running: [...world.agents.values()]
      .filter((a) => a.assignedRequest && !a.assignedRequest.finishTime)
      .map((a) => ({ requestId: a.assignedRequest!.requestId, agent: a.name }))
      .sort((x, y) => x.requestId - y.requestId),
  };
}

const queuedOf = (rs: AdoJobRequest[]) => rs.filter((r) => !r.reservedAgent);
const runningOf = (rs: AdoJobRequest[]) =>
  rs
    .filter((r) => r.reservedAgent)
    .map((r) => ({ requestId: r.requestId, agent: r.reservedAgent!.name }))
    .sort((x, y) => x.requestId - y.requestId);

const jobRequestsUrl = (query: string, pool = 17) =>
  `${t.settings.ado!.orgUrl}/_apis/distributedtask/pools/${pool}/jobrequests?${query}`;

describe('listJobRequests against the fake Azure DevOps', () => {
  let firstQueued: AdoJobRequest;

  it('queued requests have no reservedAgent and the world still holds their jobs; running ones name their agent', async () => {
    t.advance(30);
    const client = ado();
    const requests = await client.listJobRequests();
    const world = truth();
    // The seeded arrivals queue more jobs than the one agent takes: some wait.
    expect(world.queued.length).toBeGreaterThanOrEqual(2);
    expect(
      queuedOf(requests)
        .map((r) => r.requestId)
        .sort((a, b) => a - b),
    ).toEqual([...world.queued].sort((a, b) => a - b));
    expect(runningOf(requests)).toEqual(world.running);
    // The kiln agent runs the first arrival; build-agent-01 its own job.
    expect(world.running.map((r) => r.agent)).toEqual(
      expect.arrayContaining(['build-agent-01', expect.stringMatching(/^adowin/)]),
    );
    for (const r of queuedOf(requests)) {
      expect(r.assignTime).toBeUndefined();
      expect(r.queueTime >= at(10) && r.queueTime <= t.cloud.world.isoNow()).toBe(true);
    }
    for (const r of requests) expect([r.finishTime, r.result]).toEqual([undefined, undefined]);
    // The other pool's jobs are not this pool's requests.
    const otherPool = t.cloud.world.queuedAdoRequests('other-pool');
    expect(otherPool.length).toBeGreaterThan(0);
    expect(requests.map((r) => r.requestId)).not.toEqual(expect.arrayContaining([otherPool[0]!.requestId]));
    firstQueued = [...queuedOf(requests)].sort((a, b) => a.queueTime.localeCompare(b.queueTime))[0]!;
    expect(t.cloud.contractViolations.map(formatViolation)).toEqual([]);
  });

  it('a queued request keeps its id and queue time when an agent takes it; the finished one is left out', async () => {
    const finished = truth().running.find((r) => r.agent.startsWith('adowin'))!;
    t.advance(20);
    const requests = await ado().listJobRequests();
    const now = requests.find((r) => r.requestId === firstQueued.requestId)!;
    expect(now.reservedAgent?.name).toBe(finished.agent);
    expect(now.queueTime).toBe(firstQueued.queueTime);
    expect(now.assignTime).toBeDefined();
    expect(requests.map((r) => r.requestId)).not.toContain(finished.requestId);
    expect(runningOf(requests)).toEqual(truth().running);

    // Without completedRequestCount=0 the service lists finished requests too (what the client never asks for).
    const all = (await (await fetch(jobRequestsUrl('api-version=7.1'), { headers: auth })).json()) as {
      count: number;
      value: { requestId: number; finishTime?: string; result: string | null }[];
    };
    expect(all.count).toBe(all.value.length);
    expect(all.value.find((r) => r.requestId === finished.requestId)).toMatchObject({
      result: 'succeeded',
      finishTime: expect.any(String),
    });
    expect(t.cloud.contractViolations.map(formatViolation)).toEqual([]);
  });

  it('reads with an Entra token as well as the PAT, within the contract (api-version 7.1, documented query)', async () => {
    const from = t.cloud.requestLog.length;
    const requests = await ado({ auth: 'entra' }).listJobRequests();
    expect(runningOf(requests)).toEqual(truth().running);
    const sent = t.cloud.requestLog.slice(from).filter((r) => r.service === 'ado');
    expect(sent.map((r) => r.path)).toEqual([
      '/acme/_apis/distributedtask/pools',
      '/acme/_apis/distributedtask/pools/17/jobrequests',
    ]);
    // The contract check holds every exchange to api-version 7.1 and the documented query parameters.
    expect(t.cloud.contractViolations.map(formatViolation)).toEqual([]);
  });
});

describe('the fake answers in the shape of the service', () => {
  it('queued: result null, no reservedAgent, its matched agents; running: reservedAgent, assign and receive times', async () => {
    const res = await fetch(jobRequestsUrl('completedRequestCount=0&api-version=7.1'), { headers: auth });
    const body = (await res.json()) as { count: number; value: Record<string, unknown>[] };
    expect(body.count).toBe(body.value.length);
    const common = [
      'requestId',
      'queueTime',
      'result',
      'serviceOwner',
      'hostId',
      'scopeId',
      'planType',
      'planId',
      'jobId',
      'demands',
      'definition',
      'owner',
      'data',
      'poolId',
      'orchestrationId',
      'priority',
    ];
    const queued = body.value.find((r) => !r.reservedAgent)!;
    expect(Object.keys(queued)).toEqual(expect.arrayContaining([...common, 'matchedAgents']));
    expect(queued).toMatchObject({ result: null, poolId: 17 });
    expect(queued.assignTime).toBeUndefined();
    const running = body.value.find((r) => r.reservedAgent)!;
    expect(Object.keys(running)).toEqual(
      expect.arrayContaining([...common, 'assignTime', 'receiveTime', 'lockedUntil', 'reservedAgent']),
    );
    expect(running.reservedAgent).toMatchObject({ id: expect.any(Number), name: expect.any(String) });
    expect(running.finishTime).toBeUndefined();
  });
});

describe('the fake refuses what Azure DevOps refuses', () => {
  it('401 without credentials, 400 without or with a wrong api-version, 404 for another pool', async () => {
    expect((await fetch(jobRequestsUrl('completedRequestCount=0&api-version=7.1'))).status).toBe(401);
    const missing = await fetch(jobRequestsUrl('completedRequestCount=0'), { headers: auth });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { typeKey: string }).typeKey).toBe('VssVersionNotSpecifiedException');
    const wrong = await fetch(jobRequestsUrl('completedRequestCount=0&api-version=5.0'), { headers: auth });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { typeKey: string }).typeKey).toBe('VssVersionOutOfRangeException');
    const other = await fetch(jobRequestsUrl('completedRequestCount=0&api-version=7.1', 999), {
      headers: auth,
    });
    expect(other.status).toBe(404);
    expect(((await other.json()) as { typeKey: string }).typeKey).toBe('TaskAgentPoolNotFoundException');
  });
});

describe('a failed read is never an empty queue', () => {
  it('a 404 on the list is a PermanentError naming the operation, and the pool is looked up again', async () => {
    const client = ado();
    await client.listJobRequests();
    t.cloud.addFault({ service: 'ado', operation: 'listJobRequests', status: 404, times: 1 });
    const err = (await client.listJobRequests().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toMatch(/^ado GET \/pools\/17\/jobrequests failed \(HTTP 404\)/);
    const from = t.cloud.requestLog.length;
    expect((await client.listJobRequests()).length).toBeGreaterThan(0);
    expect(
      t.cloud.requestLog
        .slice(from)
        .map((r) => r.path.replace(/^.*\/_apis\/distributedtask/, '').split('?')[0]),
    ).toEqual(['/pools', '/pools/17/jobrequests']);
  });

  it('a 503 that outlasts the retries is a TransientError', async () => {
    const client = ado({}, { maxAttempts: 2 });
    await client.listJobRequests();
    t.cloud.addFault({ service: 'ado', operation: 'listJobRequests', status: 503, times: 2 });
    const err = (await client.listJobRequests().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/^ado GET \/pools\/17\/jobrequests failed \(HTTP 503\)/);
  });

  it('an answer without a list, or with a request without its id or queue time, is a PermanentError', async () => {
    const ca = ensureFakeCa();
    let answer: unknown;
    const server = await serve({
      service: 'ado',
      tls: { cert: ca.certPem, key: ca.keyPem },
      onRequest: () => {},
      handler: (req) => {
        if (/\/pools$/.test(req.url.pathname))
          return sendJson(req.res, 200, { count: 1, value: [{ id: 17, name: POOL }] });
        sendJson(req.res, 200, answer);
      },
    });
    try {
      const client = createAdoClient(
        { ...t.settings.ado!, orgUrl: `${server.origin}/acme` },
        { getSecret: async () => 'pat' },
        createCredential(t.settings),
      );
      answer = { count: 0 };
      const noList = (await client.listJobRequests().catch((e: unknown) => e)) as Error;
      expect(noList.name).toBe('PermanentError');
      expect(noList.message).toMatch(
        /^ado GET \/pools\/17\/jobrequests failed: the answer \(HTTP 200\) holds no list/,
      );
      answer = { count: 2, value: [{ requestId: 1, queueTime: at(1) }, { requestId: 2 }] };
      const noTime = (await client.listJobRequests().catch((e: unknown) => e)) as Error;
      expect(noTime.name).toBe('PermanentError');
      expect(noTime.message).toMatch(/without requestId or queueTime/);
      // A well-formed answer: finished requests the service still lists come back as they are.
      answer = {
        count: 2,
        value: [
          { requestId: 1, queueTime: at(1), result: null, reservedAgent: null },
          {
            requestId: 2,
            queueTime: at(2),
            assignTime: at(3),
            finishTime: at(4),
            result: 'succeeded',
            reservedAgent: { id: 5, name: 'adowin000000', status: 'online' },
          },
        ],
      };
      expect(await client.listJobRequests()).toEqual([
        { requestId: 1, queueTime: at(1) },
        {
          requestId: 2,
          queueTime: at(2),
          assignTime: at(3),
          finishTime: at(4),
          result: 'succeeded',
          reservedAgent: { id: 5, name: 'adowin000000' },
        },
      ]);
    } finally {
      await server.close();
    }
  });
});
