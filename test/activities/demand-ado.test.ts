/**
 * readAdoDemand (src/activities/demand-ado.ts): the pool's queued requests oldest first and the
 * agents running one, null without an Azure DevOps fleet, and a read that fails is a failed result:
 * the autoscaler keeps capacity on it, where an empty queue would let it scale in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADO_DEMAND_READ_LIMIT,
  adoDemandOf,
  createReadAdoDemandActivity,
} from '../../src/activities/demand-ado.js';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { PermanentError, TransientError } from '../../src/clients/errors.js';
import type { AdoJobRequest, FullAdoClient } from '../../src/clients/types.js';
import { getRuntime, resetRuntime } from '../../src/functions/runtime.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

const at = (minutes: number) => new Date(Date.parse('2026-12-01T03:00:00Z') + minutes * 60_000).toISOString();

/** Deps with only an Azure DevOps client whose job requests are `read`. */
const depsWith = (read?: () => Promise<AdoJobRequest[]>) =>
  ({ ado: read ? ({ listJobRequests: read } as unknown as FullAdoClient) : undefined }) as ActivityDeps;

describe('adoDemandOf', () => {
  it('queued: no agent and unfinished, oldest first; running: by agent name; finished: neither', () => {
    const demand = adoDemandOf([
      { requestId: 12, queueTime: at(5) },
      { requestId: 10, queueTime: at(1), assignTime: at(2), reservedAgent: { id: 3, name: 'adowin000001' } },
      { requestId: 11, queueTime: at(3) },
      { requestId: 14, queueTime: at(3) },
      { requestId: 9, queueTime: at(0), assignTime: at(1), reservedAgent: { id: 2, name: 'adowin000000' } },
      // Finished, though the read asked for unfinished ones only: neither queued nor running.
      {
        requestId: 8,
        queueTime: at(0),
        finishTime: at(4),
        result: 'succeeded',
        reservedAgent: { id: 4, name: 'adowin000002' },
      },
      { requestId: 7, queueTime: at(0), result: 'canceled' },
    ]);
    expect(demand).toEqual({
      queued: [
        { requestId: 11, queueTime: at(3) },
        { requestId: 14, queueTime: at(3) },
        { requestId: 12, queueTime: at(5) },
      ],
      runningOn: ['adowin000000', 'adowin000001'],
    });
  });

  it(`keeps the oldest ${ADO_DEMAND_READ_LIMIT} queued requests and says it cut the rest`, () => {
    const requests = Array.from({ length: ADO_DEMAND_READ_LIMIT + 20 }, (_, k) => ({
      requestId: 1000 + k,
      queueTime: at(ADO_DEMAND_READ_LIMIT + 20 - k),
    }));
    const demand = adoDemandOf(requests);
    expect(demand.queued).toHaveLength(ADO_DEMAND_READ_LIMIT);
    expect(demand.queued[0]).toEqual({ requestId: 1000 + ADO_DEMAND_READ_LIMIT + 19, queueTime: at(1) });
    expect(demand.queued.at(-1)!.requestId).toBe(1020);
    expect(demand.truncated).toBe(true);
    expect(adoDemandOf(requests.slice(0, ADO_DEMAND_READ_LIMIT)).truncated).toBeUndefined();
  });

  it('no requests: an empty queue, read as such', () => {
    expect(adoDemandOf([])).toEqual({ queued: [], runningOn: [] });
  });
});

describe('readAdoDemand', () => {
  it('null without an Azure DevOps fleet', async () => {
    expect(await createReadAdoDemandActivity(depsWith())()).toEqual({ ok: true, value: null });
  });

  it('a failed read is a failed result, never zero demand', async () => {
    const permanent = await createReadAdoDemandActivity(
      depsWith(() =>
        Promise.reject(new PermanentError('ado GET /pools/17/jobrequests failed (HTTP 404): gone')),
      ),
    )();
    expect(permanent).toEqual({
      ok: false,
      error: {
        name: 'PermanentError',
        message: 'read Azure DevOps demand: ado GET /pools/17/jobrequests failed (HTTP 404): gone',
        transient: false,
      },
    });
    const transient = await createReadAdoDemandActivity(
      depsWith(() => Promise.reject(new TransientError('ado GET /pools/17/jobrequests failed (HTTP 503)'))),
    )();
    expect(transient).toMatchObject({ ok: false, error: { name: 'TransientError', transient: true } });
  });
});

describe('readAdoDemand with the app’s clients against the fake cloud', () => {
  let t: TestCloud;
  let deps: ActivityDeps;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-ado-win-weu',
            image: 'windows',
            region: 'westeurope',
            capacity: 2,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
        ],
        workload: {
          seed: 3,
          streams: [
            {
              fleet: 'ado',
              pool: 'kiln-windows',
              arrivals: [{ from: at(0), to: at(30), perHour: 30 }],
              minutes: { min: 60, max: 60 },
            },
          ],
        },
      }),
    );
    Object.assign(process.env, t.cloud.env, { CLIENT_RETRY_BASE_MS: '1' });
    resetRuntime();
    deps = getRuntime();
  });

  afterAll(async () => {
    process.env = savedEnv;
    resetRuntime();
    await t?.close();
  });

  it('answers the world: its waiting jobs oldest first, the agents running the others', async () => {
    t.advance(35);
    const out = await createReadAdoDemandActivity(deps)();
    const world = t.cloud.world;
    const queued = world.queuedAdoRequests('kiln-windows');
    expect(queued.length).toBeGreaterThanOrEqual(3);
    const busy = [...world.agents.values()].filter((a) => a.assignedRequest && !a.assignedRequest.finishTime);
    expect(busy).toHaveLength(2);
    expect(out).toEqual({
      ok: true,
      value: {
        queued: queued.map((r) => ({ requestId: r.requestId, queueTime: r.queueTime })),
        runningOn: busy.map((a) => a.name).sort(),
      },
    });
    // Plain JSON for the orchestration history.
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('Azure DevOps failing beyond the retries is a transient failure, not an empty queue', async () => {
    t.cloud.addFault({ service: 'ado', operation: 'listJobRequests', status: 503, times: 100 });
    const out = await createReadAdoDemandActivity(deps)();
    expect(out).toMatchObject({ ok: false, error: { name: 'TransientError', transient: true } });
    if (!out.ok) expect(out.error.message).toMatch(/^read Azure DevOps demand: .*HTTP 503/);
  });
});
