/**
 * Issue 17 end to end: runs started as an operator and the app start them (HTTP with the CLI's
 * User-Agent, the cleanup timer), through the local host over the fake cloud, with the run history
 * in its Table storage. Instance ids are fixed (one cleanup, one rollout per version), so the durable
 * task hub keeps only the latest run of each; GET /api/runs must still list every run with its own
 * outcome and who started it, page through them exactly once, show a run terminated from outside as
 * it ended, and never list (and delete) runs older than RUN_HISTORY_DAYS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRun } from '../../src/functions/runs-view.js';
import { getRuntime } from '../../src/functions/runtime.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';

let sim: SimulationResult;
const ROLLOUT = 'rollout-linux-agent-2026.11.1';
const CLI = { 'user-agent': 'kiln-cli/0.1.0 node/20' };

beforeAll(async () => {
  const scenario = parseScenario(
    `
version: 1
name: run-history
timers: false
start: 2026-12-01T02:55:00Z
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1, 2026.11.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 2, canary: true, version: 2026.10.1 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 1 }
ghosts: { github: 2 }
`,
    'run-history.yaml',
  );
  sim = await runSimulation(scenario, {
    triggers: [],
    keepRunning: true,
    settings: { RUN_HISTORY_DAYS: '2' },
  });
});
afterAll(() => sim?.close());

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  sim.host.invokeHttp({
    method,
    path,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'x-functions-key': sim.host.functionKey, ...headers },
  });
const runs = async (query = '') => {
  const response = await call('GET', `/api/runs${query}`);
  expect(response.status, response.body).toBe(200);
  return JSON.parse(response.body) as { runs: HistoryRun[]; days: number; next?: string };
};
const minutesLater = (minutes: number) =>
  sim.host.runner.clock.advanceTo(sim.host.runner.clock.nowMs() + minutes * 60_000);

describe('the run history: every run of a fixed instance id, listed and paged', () => {
  it('keeps a manual dry-run cleanup and the timer cleanup after it, and two runs of one rollout, each as it ended', async () => {
    expect((await call('POST', '/api/cleanups', { dryRun: true }, CLI)).status).toBe(202);
    await sim.host.runner.runToCompletion('kiln-cleanup');
    minutesLater(15);
    await sim.host.fireTimer('cleanupTimer');
    await sim.host.runner.runToCompletion('kiln-cleanup');
    minutesLater(1);
    // A typo in the scale sets fails the rollout before it moves anything; the retry rolls it.
    const typo = { image: 'linux', version: '2026.11.1', scaleSets: ['vmss-gh-linux-wue'] };
    expect((await call('POST', '/api/rollouts', typo, CLI)).status).toBe(202);
    await sim.host.runner.runToCompletion(ROLLOUT);
    minutesLater(1);
    expect((await call('POST', '/api/rollouts', { image: 'linux', version: '2026.11.1' })).status).toBe(202);
    await sim.host.runner.runToCompletion(ROLLOUT);

    const { runs: listed, next } = await runs();
    expect(next).toBeUndefined();
    expect(
      listed.map((r) => [r.id, r.startedBy, r.dryRun, r.status, r.outcome, r.failureReason?.slice(0, 40)]),
    ).toEqual([
      [ROLLOUT, 'http', false, 'Completed', 'succeeded', undefined],
      [
        ROLLOUT,
        'http kiln-cli/0.1.0',
        false,
        'Completed',
        'failed',
        'not a managed scale set: vmss-gh-linux-w',
      ],
      ['kiln-cleanup', 'timer cleanupTimer', false, 'Completed', 'succeeded', undefined],
      ['kiln-cleanup', 'http kiln-cli/0.1.0', true, 'Completed', 'planned', undefined],
    ]);
    expect(listed[0]).toMatchObject({
      subject: 'linux-agent 2026.11.1',
      input: { definition: 'linux-agent', version: '2026.11.1', source: 'http', dryRun: false },
      versions: ['2026.11.1'],
      scaleSets: ['vmss-gh-linux-weu'],
    });
    expect(listed[1]).toMatchObject({ input: { scaleSets: ['vmss-gh-linux-wue'] }, scaleSets: [] });
    // Newest first, each with its own start and end.
    const starts = listed.map((r) => r.createdTime);
    expect([...starts].sort().reverse()).toEqual(starts);
    for (const r of listed) expect(r.endedAt! >= r.createdTime).toBe(true);
    // GET /api/runs/{id} still answers the latest run of an id, from the task hub.
    expect(JSON.parse((await call('GET', `/api/runs/${ROLLOUT}`)).body)).toMatchObject({
      id: ROLLOUT,
      outcome: 'succeeded',
      startedBy: 'http',
    });
  });

  it("lists one kind of run (?kind=cleanup), each real cleanup with the ghosts it deleted, for the dashboard's ghosts per day", async () => {
    const cleanups = (await runs('?kind=cleanup')).runs;
    expect(cleanups.map((r) => [r.kind, r.startedBy, r.dryRun])).toEqual([
      ['cleanup', 'timer cleanupTimer', false],
      ['cleanup', 'http kiln-cli/0.1.0', true],
    ]);
    // The timer's cleanup deleted the scenario's two ghost runners (the fake holds none now); the dry run deleted nothing.
    const computerNames = new Set(
      [...sim.cloud.world.scaleSets.values()].flatMap((set) =>
        [...set.instances.values()].map((i) => i.computerName),
      ),
    );
    const ghostsLeft = [...sim.cloud.world.runners.values()].filter((r) => !computerNames.has(r.name));
    expect(ghostsLeft).toEqual([]);
    expect(cleanups[0]!.ghostsRemoved).toEqual({ github: 2, ado: 0 });
    expect(cleanups[1]!.ghostsRemoved).toBeUndefined();
    const bad = await call('GET', '/api/runs?kind=cleanups');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/"kind" must be one of rebuild, rollout, cleanup/);
  });

  it('pages through every run exactly once by following the next links (at the host asked, without the key)', async () => {
    const all = (await runs()).runs.map((r) => `${r.id}@${r.createdTime}`);
    const paged: string[] = [];
    let page = await runs('?top=1');
    for (;;) {
      paged.push(...page.runs.map((r) => `${r.id}@${r.createdTime}`));
      if (!page.next) break;
      const link = new URL(page.next);
      expect(link.origin).toBe('http://localhost:7071');
      expect(link.searchParams.get('code')).toBeNull();
      expect(link.searchParams.get('top')).toBe('1');
      page = await runs(link.search);
    }
    expect(paged).toEqual(all);
    expect(all).toHaveLength(4);
    const bad = await call('GET', '/api/runs?next=bm90LWEtdG9rZW4');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/"next": .* is no continuation of this history/);
  });

  it('shows a running run with its phase and children, and as terminated once an operator stops it', async () => {
    minutesLater(1);
    const back = { image: 'linux', version: '2026.10.1', allowOlder: true };
    expect((await call('POST', '/api/rollouts', back)).status).toBe(202);
    await sim.host.runner.runUntilQuiet();
    const running = (await runs()).runs[0]!;
    expect(running).toMatchObject({ id: 'rollout-linux-agent-2026.10.1', status: 'Running' });
    expect(running.phase).toMatch(/rolling vmss-gh-linux-weu first/);
    expect(running.children!.map((c) => c.id)).toEqual(['rollout-linux-agent-2026.10.1:vmss-gh-linux-weu']);
    sim.host.runner.terminate('rollout-linux-agent-2026.10.1', 'stopped by the operator');
    expect((await runs()).runs[0]).toMatchObject({
      id: 'rollout-linux-agent-2026.10.1',
      status: 'Terminated',
      failureReason: 'stopped by the operator',
    });
    // Run again, the task hub forgets the terminated run; the history still has it, as unknown.
    // (Terminating a run leaves its sub-orchestrations running, in Azure too: the operator stops them.)
    sim.host.runner.terminate('rollout-linux-agent-2026.10.1:vmss-gh-linux-weu', 'stopped by the operator');
    minutesLater(1);
    expect((await call('POST', '/api/rollouts', back)).status).toBe(202);
    await sim.host.runner.runUntilQuiet();
    expect((await runs()).runs.slice(0, 2).map((r) => [r.id, r.status, r.failureReason])).toEqual([
      ['rollout-linux-agent-2026.10.1', 'Running', undefined],
      [
        'rollout-linux-agent-2026.10.1',
        'Unknown',
        'its end was not recorded, and the durable task hub no longer holds this run (a later run of the same id replaced it, or it was purged)',
      ],
    ]);
    for (const id of ['rollout-linux-agent-2026.10.1', 'rollout-linux-agent-2026.10.1:vmss-gh-linux-weu'])
      sim.host.runner.terminate(id, 'stopped by the operator');
  });

  it('never lists runs older than RUN_HISTORY_DAYS, and the next run deletes them', async () => {
    expect((await call('GET', '/api/runs?days=3')).status).toBe(400);
    minutesLater(3 * 24 * 60);
    expect((await runs('?days=2')).runs).toEqual([]);
    expect((await call('POST', '/api/cleanups', {}, CLI)).status).toBe(202);
    await sim.host.runner.runToCompletion('kiln-cleanup');
    expect((await runs('?days=2')).runs.map((r) => [r.id, r.startedBy])).toEqual([
      ['kiln-cleanup', 'http kiln-cli/0.1.0'],
    ]);
    // Deleted, not only hidden: the table holds the new run alone.
    const stored = await getRuntime().runHistory!.list({ sinceIso: '2000-01-01T00:00:00.000Z', top: 50 });
    expect(stored.runs.map((r) => r.instanceId)).toEqual(['kiln-cleanup']);
  });
});
