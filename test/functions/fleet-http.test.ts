import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation, type SimulationResult } from '../../src/local/simulate/run-simulation.js';
import type { FleetView } from '../../src/domain/fleet.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { publishOutsideKiln } from '../../src/local/simulate/gallery-events.js';

// GET /api/fleet through the local host over a running fake cloud: what an operator sees after a
// rollout of one scale set and a cleanup left some state behind.
let sim: SimulationResult;
let scenario: Scenario;
const ADO_PAT = 'fleetviewtestpat0123456789abcdefghijklmnopq';

beforeAll(async () => {
  scenario = parseScenario(
    `
version: 1
name: fleet-view
timers: false
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope, northeurope]
  existingVersions: { linux: [2026.9.1, 2026.10.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 3, canary: true, version: 2026.9.1 }
  - { name: vmss-gh-linux-neu, image: linux, region: northeurope, capacity: 2, version: 2026.10.1 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 2 }
  - { name: vmss-unmanaged, image: linux, region: westeurope, capacity: 1, managed: false }
jobs:
  - { instance: vmss-gh-linux-neu_1, minutes: 600 }
ghosts: { github: 2 }
foreign: { github: 1 }
`,
    'fleet-view.yaml',
  );
  sim = await runSimulation(scenario, {
    triggers: [],
    keepRunning: true,
    onStart: (cloud) => cloud.setSecret(cloud.secretNames.adoPat, ADO_PAT),
  });
});
afterAll(() => sim?.close());

const get = (path: string, key?: string) =>
  sim.host.invokeHttp({
    method: 'GET',
    path,
    headers:
      key === undefined ? { 'x-functions-key': sim.host.functionKey } : key ? { 'x-functions-key': key } : {},
  });

describe('GET /api/fleet', () => {
  it('requires the function key and only answers GET', async () => {
    expect((await get('/api/fleet', '')).status).toBe(401);
    expect((await get('/api/fleet', 'wrong')).status).toBe(401);
    const post = await sim.host.invokeHttp({
      method: 'POST',
      path: '/api/fleet',
      headers: { 'x-functions-key': sim.host.functionKey },
    });
    expect(post.status).toBe(405);
  });

  it('lists every managed scale set with instances by version and runners online, busy, offline', async () => {
    const response = await get('/api/fleet');
    expect(response.status).toBe(200);
    const fleet = JSON.parse(response.body) as FleetView;
    expect(fleet.errors).toEqual([]);
    expect(fleet.scaleSets.map((s) => s.name)).toEqual([
      'vmss-gh-linux-neu',
      'vmss-gh-linux-weu',
      'vmss-ado-win-weu',
    ]);
    const weu = fleet.scaleSets.find((s) => s.name === 'vmss-gh-linux-weu')!;
    expect(weu).toMatchObject({
      region: 'westeurope',
      image: 'linux',
      fleet: 'github',
      canary: true,
      modelVersion: '2026.9.1',
      instances: 3,
      instancesByVersion: [{ version: '2026.9.1', count: 3 }],
    });
    expect(weu.runners.online + weu.runners.offline).toBeGreaterThanOrEqual(3);
    const neu = fleet.scaleSets.find((s) => s.name === 'vmss-gh-linux-neu')!;
    expect(neu.runners.busy).toBe(1);
    expect(fleet.scaleSets.find((s) => s.name === 'vmss-ado-win-weu')).toMatchObject({
      fleet: 'ado',
      modelVersion: '2026.10.1',
      instancesByVersion: [{ version: '2026.10.1', count: 2 }],
    });
    // Ghosts belong to a scale set by name and count as offline; foreign runners and the unmanaged
    // scale set's count nowhere (S2).
    const offline = fleet.scaleSets.reduce((n, s) => n + s.runners.offline, 0);
    expect(offline).toBe(2);
    expect(fleet.scaleSets.reduce((n, s) => n + s.runners.online, 0)).toBe(7);
  });

  it("lists the gallery's versions per image with their state, regions and users", async () => {
    const fleet = JSON.parse((await get('/api/fleet')).body) as FleetView;
    const linux = fleet.images.find((i) => i.image === 'linux')!;
    expect(linux.versions.map((v) => v.version)).toEqual(['2026.10.1', '2026.9.1']);
    expect(linux.versions[0]).toMatchObject({ state: 'promoted', usedBy: ['vmss-gh-linux-neu'] });
    expect(linux.versions[1]!.usedBy).toEqual(['vmss-gh-linux-weu']);
    expect(linux.versions[0]!.regions.map((r) => r.region.replace(/\s/g, '').toLowerCase())).toEqual(
      expect.arrayContaining(['westeurope']),
    );
  });

  it("gives each scale set its images' age, versions behind and runner compliance, and no rollout's pace when none runs", async () => {
    const tag = (version: string, tags: Record<string, string>) =>
      Object.assign(sim.cloud.world.versions.get(sim.cloud.world.versionKey('linux', version))!.tags, tags);
    tag('2026.9.1', { 'kiln-runner-version': '2.329.0' });
    tag('2026.10.1', { 'kiln-runner-version': '2.330.0' });
    const fleet = JSON.parse((await get('/api/fleet')).body) as FleetView;
    expect(fleet.generatedAt).toBe('2026-12-01T02:55:00.000Z');
    // The fake's latest runner release came out 10 days before the scenario's start.
    expect(fleet.runnerRelease).toEqual({ version: '2.330.0', publishedAt: '2026-11-21T02:55:00Z' });
    expect(fleet.rollouts).toEqual([]);
    const weu = fleet.scaleSets.find((s) => s.name === 'vmss-gh-linux-weu')!;
    // The scenario's versions were published 30 days before its start.
    expect(weu.drift).toEqual({
      latestPromoted: '2026.10.1',
      notOnLatest: 3,
      versions: [
        { version: '2026.9.1', count: 3, publishedDate: '2026-11-01T02:55:00.000Z', ageDays: 30, behind: 1 },
      ],
    });
    expect(weu.compliance).toMatchObject({
      kind: 'runner',
      state: 'updateDue',
      versions: [
        {
          version: '2026.9.1',
          installed: '2.329.0',
          latest: '2.330.0',
          deadline: '2026-12-21T02:55:00.000Z',
          daysLeft: 20,
        },
      ],
    });
    const neu = fleet.scaleSets.find((s) => s.name === 'vmss-gh-linux-neu')!;
    expect(neu.compliance.state).toBe('current');
    expect(neu.drift.versions).toEqual([expect.objectContaining({ version: '2026.10.1', behind: 0 })]);
    // Untagged, and AGENT_VERSION unset here: kiln cannot know.
    expect(fleet.scaleSets.find((s) => s.fleet === 'ado')!.compliance).toMatchObject({
      kind: 'agent',
      state: 'unknown',
    });
  });

  it('shows a version being replicated as replicating, and one tagged rejected as rejected', async () => {
    publishOutsideKiln(sim.cloud, scenario, 'linux', '2026.11.1');
    sim.cloud.world.versions.get(sim.cloud.world.versionKey('linux', '2026.9.1'))!.tags['kiln-state'] =
      'rejected';
    const fleet = JSON.parse((await get('/api/fleet')).body) as FleetView;
    const linux = fleet.images.find((i) => i.image === 'linux')!;
    expect(linux.versions.map((v) => [v.version, v.state])).toEqual([
      ['2026.11.1', 'replicating'],
      ['2026.10.1', 'promoted'],
      ['2026.9.1', 'rejected'],
    ]);
    expect(linux.versions[0]!.regions.map((r) => r.state)).toEqual(['Replicating', 'Replicating']);
  });

  it('reads the latest runner release once an hour, not on every refresh of an open dashboard', async () => {
    const releaseReads = () =>
      sim.cloud.requestLog.filter((r) => r.path.endsWith('/repos/actions/runner/releases/latest')).length;
    const clock = sim.host.runner.clock;
    clock.advanceTo(clock.nowMs() + 61 * 60_000); // past what earlier tests read
    const before = releaseReads();
    for (let k = 0; k < 3; k++) expect((await get('/api/fleet')).status).toBe(200);
    expect(releaseReads()).toBe(before + 1);
    clock.advanceTo(clock.nowMs() + 61 * 60_000);
    expect((await get('/api/fleet')).status).toBe(200);
    expect(releaseReads()).toBe(before + 2);
  });

  it('names what it could not read and still answers the rest', async () => {
    sim.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 401, times: 5 });
    const response = await get('/api/fleet');
    expect(response.status).toBe(200);
    const fleet = JSON.parse(response.body) as FleetView;
    expect(fleet.errors).toEqual([expect.stringMatching(/could not read the Azure DevOps agents/)]);
    expect(fleet.scaleSets).toHaveLength(3);
    expect(fleet.scaleSets.find((s) => s.fleet === 'ado')!.runners).toEqual({
      online: 0,
      busy: 0,
      offline: 0,
    });
  });

  it('never answers a secret (S6)', async () => {
    const body = (await get('/api/fleet')).body;
    expect(body).not.toContain(ADO_PAT);
    expect(body).not.toContain(sim.host.functionKey);
  });
});
