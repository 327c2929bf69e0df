/**
 * The contract checks catch what they are for: a fake answer that breaks the official description
 * (a field missing, a number as a string, an unknown enum value, a status the operation does not
 * document) and a request kiln never sends (no api-version, an invalid body), each named by its
 * operation, field and rule. Exchanges go through `serve()` and its observer, as in the fake cloud.
 */
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createContractChecker, type ContractViolation } from '../../src/local/contracts/index.js';
import type { FakeService } from '../../src/local/fake-cloud/faults.js';
import { sendJson, serve, type Handler, type RunningServer } from '../../src/local/fake-cloud/http.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import { exitCodeFor } from '../../src/local/simulate/report.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** One plain-HTTP fake answering with `handler`, every exchange checked; returns the violations after one request. */
async function exchange(
  service: FakeService,
  handler: Handler,
  request: { method: string; path: string; body?: unknown },
): Promise<ContractViolation[]> {
  const checker = await createContractChecker();
  const server = await serve({
    service,
    onRequest: () => {},
    handler,
    observe: (ex) => checker.check(service, ex),
  });
  servers.push(server);
  const res = await fetch(`${server.origin}${request.path}`, {
    method: request.method,
    headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  await res.text();
  // The observer runs on the response's 'finish', right after the last byte is written.
  await new Promise((r) => setTimeout(r, 20));
  return checker.violations;
}

const answer =
  (status: number, body?: unknown): Handler =>
  (req) =>
    sendJson(req.res, status, body);

const RUNNER = { id: 7, name: 'gh-1', os: 'linux', status: 'online', busy: false, labels: [] };
const VMSS =
  '/subscriptions/00000000-0000-4000-8000-00000000c0de/resourceGroups/rg-kiln/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-gh';
const SCALE_SET = {
  id: VMSS,
  name: 'vmss-gh',
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  location: 'westeurope',
  sku: { name: 'Standard_D2s_v5', tier: 'Standard', capacity: 2 },
  properties: { upgradePolicy: { mode: 'Manual' }, provisioningState: 'Succeeded' },
};
const AGENTS = '/acme/_apis/distributedtask/pools/1/agents';

describe('planted malformed answers are caught', () => {
  it('GitHub: a runner without its required status', async () => {
    const { status: _dropped, ...runner } = RUNNER;
    const v = await exchange('github', answer(200, runner), {
      method: 'GET',
      path: '/orgs/acme/actions/runners/7',
    });
    expect(v).toContainEqual(
      expect.objectContaining({
        service: 'github',
        operation: 'GET /orgs/{org}/actions/runners/{runner_id}',
        direction: 'response',
        field: 'body/status',
        rule: 'required',
      }),
    );
    // Checked against GitHub Enterprise Server's description too.
    expect(v.some((x) => /\[ghes-\d+\.\d+\]$/.test(x.operation) && x.field === 'body/status')).toBe(true);
  });

  it('GitHub: an unknown enum value and a status the operation does not document', async () => {
    const labelled = { ...RUNNER, labels: [{ id: 1, name: 'x', type: 'sometimes' }] };
    const v1 = await exchange('github', answer(200, labelled), {
      method: 'GET',
      path: '/orgs/acme/actions/runners/7',
    });
    expect(v1).toContainEqual(
      expect.objectContaining({ field: 'body/labels/0/type', rule: 'enum', direction: 'response' }),
    );
    const v2 = await exchange('github', answer(200, {}), {
      method: 'DELETE',
      path: '/orgs/acme/actions/runners/7',
    });
    expect(v2).toContainEqual(
      expect.objectContaining({
        operation: 'DELETE /orgs/{org}/actions/runners/{runner_id}',
        field: 'status',
        rule: 'documented-status',
      }),
    );
  });

  it('ARM: a scale set whose sku.capacity is a string, and an unknown fixed-enum value', async () => {
    const bad = {
      ...SCALE_SET,
      sku: { ...SCALE_SET.sku, capacity: '2' },
      properties: { ...SCALE_SET.properties, upgradePolicy: { mode: 'Sometimes' } },
    };
    const v = await exchange('arm', answer(200, bad), {
      method: 'GET',
      path: `${VMSS}?api-version=2026-04-01`,
    });
    expect(v).toEqual([
      expect.objectContaining({
        service: 'arm',
        operation: 'virtualMachineScaleSets.get',
        direction: 'response',
        field: 'body/sku/capacity',
        rule: 'type',
      }),
      expect.objectContaining({ field: 'body/properties/upgradePolicy/mode', rule: 'enum' }),
    ]);
  });

  it('ARM: a status the operation does not document', async () => {
    const v = await exchange('arm', answer(201, SCALE_SET), {
      method: 'GET',
      path: `${VMSS}?api-version=2026-04-01`,
    });
    expect(v).toEqual([
      expect.objectContaining({
        operation: 'virtualMachineScaleSets.get',
        field: 'status',
        rule: 'documented-status',
      }),
    ]);
  });

  it('ADO: an agent status outside TaskAgentStatus, and a list without its count', async () => {
    const agent = { id: 3, name: 'win-1', enabled: true, status: 'sleeping' };
    const v = await exchange('ado', answer(200, { value: [agent] }), {
      method: 'GET',
      path: `${AGENTS}?api-version=7.1`,
    });
    expect(v).toEqual([
      expect.objectContaining({
        service: 'ado',
        operation: 'Agents - List',
        field: 'body/count',
        rule: 'required',
      }),
      expect.objectContaining({ field: 'body/value/0/status', rule: 'enum' }),
      expect.objectContaining({ field: 'body/count', rule: 'count' }),
    ]);
  });

  it('ADO: a job request without its queue time, a demand that is no demand string, a result outside TaskResult', async () => {
    const request = {
      requestId: 5001,
      result: 'pending',
      demands: [{ name: 'Agent.OS', value: 'Windows_NT' }],
      reservedAgent: { id: 3, name: 'win-1', status: 'online' },
    };
    const v = await exchange('ado', answer(200, { count: 1, value: [request] }), {
      method: 'GET',
      path: `${AGENTS.replace(/agents$/, 'jobrequests')}?completedRequestCount=0&api-version=7.1`,
    });
    expect(v).toEqual([
      expect.objectContaining({
        operation: 'Requests - List',
        field: 'body/value/0/queueTime',
        rule: 'required',
      }),
      expect.objectContaining({ field: 'body/value/0/result', rule: 'enum' }),
      expect.objectContaining({ field: 'body/value/0/demands/0', rule: 'format' }),
    ]);
  });

  it('a well-formed answer passes', async () => {
    expect(
      await exchange('github', answer(200, RUNNER), { method: 'GET', path: '/orgs/acme/actions/runners/7' }),
    ).toEqual([]);
    expect(
      await exchange('arm', answer(200, SCALE_SET), {
        method: 'GET',
        path: `${VMSS}?api-version=2026-04-01`,
      }),
    ).toEqual([]);
  });
});

describe('requests kiln never sends are caught', () => {
  it('ARM: no api-version, and a scale set update whose body breaks the model', async () => {
    const v1 = await exchange('arm', answer(200, SCALE_SET), { method: 'GET', path: VMSS });
    expect(v1).toEqual([
      expect.objectContaining({
        operation: 'virtualMachineScaleSets.get',
        direction: 'request',
        field: 'query.api-version',
        rule: 'required',
      }),
    ]);
    const v2 = await exchange('arm', answer(200, SCALE_SET), {
      method: 'PATCH',
      path: `${VMSS}?api-version=2025-01-01`,
      body: { sku: { capacity: 'many' }, properties: { provisioningState: 'Succeeded' } },
    });
    expect(v2).toEqual([
      expect.objectContaining({ direction: 'request', field: 'query.api-version', rule: 'enum' }),
      expect.objectContaining({ direction: 'request', field: 'body/sku/capacity', rule: 'type' }),
    ]);
  });

  it('GitHub: a JIT config request without its required fields', async () => {
    const v = await exchange('github', answer(201, {}), {
      method: 'POST',
      path: '/orgs/acme/actions/runners/generate-jitconfig',
      body: { name: 'gh-1', labels: 'linux' },
    });
    expect(v).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ direction: 'request', field: 'body/runner_group_id', rule: 'required' }),
        expect.objectContaining({ direction: 'request', field: 'body/labels', rule: 'type' }),
        expect.objectContaining({ direction: 'response', field: 'body/runner', rule: 'required' }),
      ]),
    );
  });

  it('ADO: no api-version, an unknown query parameter, a non-integer agent id', async () => {
    const v = await exchange('ado', answer(200, { id: 3, name: 'a' }), {
      method: 'GET',
      path: `${AGENTS}/three?includeEverything=true`,
    });
    expect(v).toEqual([
      expect.objectContaining({ operation: 'Agents - Get', field: 'path.agentId', rule: 'type' }),
      expect.objectContaining({ field: 'query.api-version', rule: 'required' }),
      expect.objectContaining({ field: 'query.includeEverything', rule: 'documented-parameter' }),
    ]);
  });
});

describe('in a simulation', () => {
  it('a malformed fake answer lands in the report and fails the run (exit 1)', async () => {
    const scenario = loadScenarioFile(
      resolve(import.meta.dirname, '..', '..', 'scenarios', 'monthly-small.yaml'),
    );
    const result = await runSimulation(scenario, {
      keepRunning: true,
      roles: 'all',
      settings: { CLIENT_RETRY_BASE_MS: '1' },
      // A runner label of a type GitHub does not have: every runner list answer now breaks the contract.
      onStart: (cloud) => {
        const runner = [...cloud.world.runners.values()][0]!;
        (runner.labels[0] as { type: string }).type = 'sometimes';
      },
    });
    await result.close();
    expect(result.report.contractViolations.length).toBeGreaterThan(0);
    expect(result.report.contractViolations[0]).toMatchObject({
      service: 'github',
      direction: 'response',
      rule: 'enum',
      field: expect.stringMatching(/^body\/runners\/\d+\/labels\/0\/type$/) as unknown,
    });
    expect(exitCodeFor(result.report)).toBe(1);
  }, 120_000);
});
