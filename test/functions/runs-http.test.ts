import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';
import type { RunDetail, RunSummary } from '../../src/functions/runs-view.js';

// GET /api/runs and GET /api/runs/{id} through the local host over a running fake cloud: a rollout
// while it moves (phase, children with waves) and after it ended, a cleanup, unknown ids, bad queries.
let sim: SimulationResult;
const ROLLOUT = 'rollout-linux-agent-2026.11.1';

beforeAll(async () => {
  const scenario = parseScenario(
    `
version: 1
name: runs-view
timers: false
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1, 2026.11.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 3, canary: true, version: 2026.10.1 }
  - { name: vmss-gh-linux-weu2, image: linux, region: westeurope, capacity: 2, version: 2026.10.1 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 2 }
`,
    'runs-view.yaml',
  );
  sim = await runSimulation(scenario, { triggers: [], keepRunning: true });
});
afterAll(() => sim?.close());

const call = (method: string, path: string, body?: unknown) =>
  sim.host.invokeHttp({
    method,
    path,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'x-functions-key': sim.host.functionKey },
  });
const runs = async () =>
  JSON.parse((await call('GET', '/api/runs')).body) as { runs: RunSummary[]; days: number };

describe('GET /api/runs and /api/runs/{id}', () => {
  it('answers an empty list before anything ran, and requires the key', async () => {
    expect(await runs()).toMatchObject({ days: 7, runs: [] });
    expect((await sim.host.invokeHttp({ method: 'GET', path: '/api/runs' })).status).toBe(401);
    expect((await sim.host.invokeHttp({ method: 'GET', path: `/api/runs/${ROLLOUT}` })).status).toBe(401);
  });

  it.each([
    ['days=0', /"days" must be an integer from 1 to 400/],
    ['days=401', /"days" must be an integer from 1 to 400/],
    ['days=abc', /"days"/],
    ['top=501', /"top" must be an integer from 1 to 500/],
  ])('answers 400 for %s', async (query, message) => {
    const response = await call('GET', `/api/runs?${query}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
  });

  it('answers 404 naming an unknown run', async () => {
    const response = await call('GET', '/api/runs/rollout-nothing-1.2.3');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body).error).toBe('no run "rollout-nothing-1.2.3"');
  });

  it('shows a running rollout with its phase and its scale sets as children with their wave', async () => {
    expect((await call('POST', '/api/rollouts', { image: 'linux', version: '2026.11.1' })).status).toBe(202);
    await sim.host.runner.runUntilQuiet();
    const list = await runs();
    expect(list.runs).toHaveLength(1);
    const run = list.runs[0]!;
    expect(run).toMatchObject({
      id: ROLLOUT,
      kind: 'rollout',
      status: 'Running',
      subject: 'linux-agent 2026.11.1',
      dryRun: false,
      phase: 'rolling vmss-gh-linux-weu first',
    });
    // The lead's sub-orchestration is a child, not a run of its own.
    expect(run.children!.map((c) => c.id)).toEqual([`${ROLLOUT}:vmss-gh-linux-weu`]);
    expect(run.children![0]).toMatchObject({
      name: 'rolloutScaleSetOrchestrator',
      status: 'Running',
      customStatus: { scaleSet: 'vmss-gh-linux-weu', version: '2026.11.1', wave: expect.any(Number) },
    });

    const child = JSON.parse((await call('GET', `/api/runs/${ROLLOUT}:vmss-gh-linux-weu`)).body);
    expect(child).toMatchObject({ id: `${ROLLOUT}:vmss-gh-linux-weu`, status: 'Running', parent: ROLLOUT });
  });

  it('shows the ended rollout with its output and no failure reason', async () => {
    await sim.host.runner.runToCompletion(ROLLOUT);
    const response = await call('GET', `/api/runs/${ROLLOUT}`);
    expect(response.status).toBe(200);
    const run = JSON.parse(response.body) as RunDetail;
    expect(run).toMatchObject({
      id: ROLLOUT,
      status: 'Completed',
      outcome: 'succeeded',
      phase: 'done',
      input: { definition: 'linux-agent', version: '2026.11.1', source: 'http' },
      output: { state: 'succeeded' },
    });
    expect(run.failureReason).toBeUndefined();
    expect(run.children.map((c) => [c.id, c.status])).toEqual([
      [`${ROLLOUT}:vmss-gh-linux-weu`, 'Completed'],
      [`${ROLLOUT}:vmss-gh-linux-weu2`, 'Completed'],
    ]);
    // A list shows children only for running runs.
    expect((await runs()).runs[0]!.children).toBeUndefined();
  });

  it('shows a failed rollout with its failure reason, newest run first', async () => {
    sim.host.runner.clock.advanceTo(sim.host.runner.clock.nowMs() + 60_000);
    expect((await call('POST', '/api/rollouts', { image: 'linux', version: '2026.12.9' })).status).toBe(202);
    await sim.host.runner.runToCompletion('rollout-linux-agent-2026.12.9');
    const list = await runs();
    expect(list.runs.map((r) => r.id)).toEqual(['rollout-linux-agent-2026.12.9', ROLLOUT]);
    expect(list.runs[0]).toMatchObject({
      outcome: 'failed',
      failureReason: 'gallery version linux-agent/2026.12.9 does not exist',
    });
  });

  it('lists a cleanup with its outcome', async () => {
    sim.host.runner.clock.advanceTo(sim.host.runner.clock.nowMs() + 60_000);
    expect((await call('POST', '/api/cleanups', { dryRun: true })).status).toBe(202);
    await sim.host.runner.runToCompletion('kiln-cleanup');
    const list = await runs();
    expect(list.runs[0]).toMatchObject({
      id: 'kiln-cleanup',
      kind: 'cleanup',
      subject: 'fleet',
      dryRun: true,
      startedBy: 'http',
      status: 'Completed',
      outcome: 'planned',
    });
    expect((await call('GET', '/api/runs?top=1')).body).not.toContain(ROLLOUT);
  });

  it('gives a runner-release watch that could not read the release the outcome failed, with the reason', async () => {
    sim.host.runner.clock.advanceTo(sim.host.runner.clock.nowMs() + 60_000);
    sim.cloud.addFault({ service: 'github', operation: 'getLatestRelease', status: 500, persistent: true });
    await sim.host.fireTimer('runnerReleaseTimer');
    await sim.host.runner.runToCompletion('kiln-runner-release-watch');
    const response = await call('GET', '/api/runs/kiln-runner-release-watch');
    expect(JSON.parse(response.body)).toMatchObject({
      kind: 'runner-release-watch',
      status: 'Completed',
      outcome: 'failed',
      failureReason: expect.stringContaining('500'),
    });
  });
});
