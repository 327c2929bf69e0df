/**
 * GET /api/runs of an app without a run history (KILN_TABLE_ENDPOINT empty, as kiln plan runs the
 * app): runs record nothing, and the list is the durable task hub's latest run of each instance id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/functions/runs-view.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';

let sim: SimulationResult;

beforeAll(async () => {
  const scenario = parseScenario(
    `
version: 1
name: no-run-history
timers: false
until: 2026-12-01T03:00:00Z
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 1, canary: true }
`,
    'no-run-history.yaml',
  );
  // No table endpoint: no history (and no registration broker, which needs one).
  const settings = { KILN_TABLE_ENDPOINT: '', KILN_REGISTRATION_AUDIENCE: '' };
  sim = await runSimulation(scenario, { triggers: [], keepRunning: true, settings });
});
afterAll(() => sim?.close());

describe('GET /api/runs without a run history', () => {
  it('lists the latest run of each instance id from the task hub, and nothing is written to Table storage', async () => {
    const headers = { 'x-functions-key': sim.host.functionKey };
    for (const dryRun of [true, false]) {
      const started = await sim.host.invokeHttp({
        method: 'POST',
        path: '/api/cleanups',
        body: JSON.stringify({ dryRun }),
        headers,
      });
      expect(started.status).toBe(202);
      await sim.host.runner.runToCompletion('kiln-cleanup');
      sim.host.runner.clock.advanceTo(sim.host.runner.clock.nowMs() + 60_000);
    }
    const response = await sim.host.invokeHttp({ method: 'GET', path: '/api/runs?top=5', headers });
    const body = JSON.parse(response.body) as { runs: RunSummary[]; next?: string };
    expect(body.runs.map((r) => [r.id, r.startedBy, r.dryRun, r.outcome])).toEqual([
      ['kiln-cleanup', 'http', false, 'succeeded'],
    ]);
    expect(body.next).toBeUndefined();
    expect(sim.cloud.requests.tables).toBe(0);
  });
});
