/**
 * World semantics of the fake cloud, driven through the real clients where a write is involved:
 * the initial fleet, jobs on the virtual clock, ghosts and foreign registrations, interrupted jobs,
 * foreign touches, unhealthy images, and the faults that are not a status code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAdoClient } from '../../src/clients/ado/index.js';
import { createArmClient } from '../../src/clients/arm/index.js';
import { createCredential } from '../../src/clients/credential.js';
import { createGitHubClient } from '../../src/clients/github/index.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { makeScenario, startTestCloud, type TestCloud } from './helpers.js';

let t: TestCloud | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function clients(tc: TestCloud) {
  const credential = createCredential(tc.settings);
  const secrets = createSecretReader(tc.settings.keyVaultUrl, credential);
  return {
    arm: createArmClient(tc.settings, credential),
    github: createGitHubClient(tc.settings.github!, secrets, { writeSpacingMs: 0 }),
    ado: createAdoClient(tc.settings.ado!, secrets, credential, { backoffMs: 10 }),
  };
}

const busyAndGhosts = () =>
  makeScenario({
    gallery: {
      regions: ['westeurope', 'northeurope'],
      existingVersions: { linux: ['2026.8.1', '2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
    },
    scaleSets: [
      {
        name: 'vmss-gh-linux-weu',
        image: 'linux',
        region: 'westeurope',
        capacity: 4,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
      {
        name: 'vmss-gh-linux-neu',
        image: 'linux',
        region: 'northeurope',
        capacity: 4,
        version: '2026.10.1',
        canary: false,
        managed: true,
      },
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
    jobs: [
      { instance: 'vmss-gh-linux-neu_1', minutes: 300, startAfterMinutes: 0 },
      { instance: 'vmss-ado-win-weu_0', minutes: 45, startAfterMinutes: 200 },
    ],
    ghosts: { github: 12, ado: 2 },
    foreign: { github: 3, ado: 0 },
  });

describe('initial fleet', () => {
  it('builds scale sets, computer names, registrations, ghosts and foreign registrations as described', async () => {
    t = await startTestCloud(busyAndGhosts());
    const w = t.cloud.world;
    const linux = w.findScaleSet('vmss-gh-linux-weu')!;
    expect(linux.tags).toEqual({
      'kiln-managed': 'true',
      'kiln-image': 'linux',
      'kiln-canary': 'true',
      'kiln-registration': 'pat',
    });
    expect(w.findScaleSet('vmss-gh-linux-neu')!.tags['kiln-canary']).toBeUndefined();
    expect([...linux.instances.values()].map((i) => i.computerName)).toEqual([
      'vmss-gh-linux-weu-000000',
      'vmss-gh-linux-weu-000001',
      'vmss-gh-linux-weu-000002',
      'vmss-gh-linux-weu-000003',
    ]);
    const win = w.findScaleSet('vmss-ado-win-weu')!;
    expect(win.computerNamePrefix.length).toBeLessThanOrEqual(9);
    for (const i of win.instances.values()) expect(w.findAgentByName(i.computerName)?.status).toBe('online');
    for (const i of linux.instances.values())
      expect(w.findRunnerByName(i.computerName)?.status).toBe('online');

    const runners = [...w.runners.values()];
    const ghosts = runners.filter((r) => !r.foreign && !w.instanceByComputerName(r.name));
    expect(ghosts).toHaveLength(12);
    expect(
      ghosts.every((g) => g.status === 'offline' && /^vmss-gh-linux-(weu|neu)-[0-9a-z]{6}$/.test(g.name)),
    ).toBe(true);
    const foreign = runners.filter((r) => r.foreign);
    expect(foreign).toHaveLength(3);
    expect(foreign.some((r) => r.busy)).toBe(true);
    expect(foreign.some((r) => r.status === 'offline')).toBe(true);
    expect([...w.agents.values()].filter((a) => !w.instanceByComputerName(a.name))).toHaveLength(2);
  });

  it('an unmanaged scale set carries no managed tag and is not found by the tag', async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-mine',
            image: 'linux',
            region: 'westeurope',
            capacity: 1,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
          {
            name: 'vmss-theirs',
            image: 'linux',
            region: 'westeurope',
            capacity: 1,
            version: '2026.10.1',
            canary: false,
            managed: false,
          },
        ],
      }),
    );
    const sets = await clients(t).arm.listScaleSetsByTag(t.settings.managedTag);
    expect(sets.map((s) => s.name)).toEqual(['vmss-mine']);
  });

  it("gives existing versions the scenario's tags and their software report's, published 30 days before the start", async () => {
    t = await startTestCloud(
      makeScenario({
        gallery: {
          regions: ['westeurope'],
          existingVersions: { linux: ['2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
          versionTags: {
            linux: { '2026.10.1': { 'kiln-runner-version': '2.329.0' } },
            // A scenario's own kiln-software-report tag wins: empty, the version has no report.
            windows: { '2026.10.1': { 'kiln-software-report': '' } },
          },
        },
      }),
    );
    const versions = await clients(t).arm.listImageVersions(t.settings.gallery.definitions.linux);
    expect(versions.map((v) => [v.name, v.tags, v.publishedDate])).toEqual([
      [
        '2026.9.1',
        { 'kiln-software-report': 'linux-agent/2026.9.1/software.json' },
        '2026-11-01T02:55:00.000Z',
      ],
      [
        '2026.10.1',
        { 'kiln-runner-version': '2.329.0', 'kiln-software-report': 'linux-agent/2026.10.1/software.json' },
        '2026-11-01T02:55:00.000Z',
      ],
    ]);
    const windows = await clients(t).arm.listImageVersions(t.settings.gallery.definitions.windows);
    expect(windows.map((v) => v.tags)).toEqual([{ 'kiln-software-report': '' }]);
    expect(t.cloud.world.blobs.list('software-reports', 'windows-agent/')).toEqual([]);
    // The report says which runner the version baked in, as its tag does.
    const report = JSON.parse(
      t.cloud.world.blobs.get('software-reports', 'linux-agent/2026.10.1/software.json')!.body.toString(),
    ) as { agent: unknown };
    expect(report.agent).toEqual({ name: 'actions-runner', version: '2.329.0' });
  });
});

describe('jobs on the virtual clock', () => {
  it('make a runner busy from startAfterMinutes for minutes', async () => {
    t = await startTestCloud(busyAndGhosts());
    const { github, ado } = clients(t);
    t.advance(0);
    const busyNow = async (name: string) => (await github.listRunners()).find((r) => r.name === name)!.busy;
    expect(await busyNow('vmss-gh-linux-neu-000001')).toBe(true);
    expect(await busyNow('vmss-gh-linux-neu-000002')).toBe(false);
    const winAgent = t.cloud.world.findScaleSet('vmss-ado-win-weu')!.instances.get('0')!.computerName;
    const agentBusy = async () => (await ado.listAgents()).find((a) => a.name === winAgent)!.busy;
    expect(await agentBusy()).toBe(false);
    t.advance(200);
    expect(await agentBusy()).toBe(true);
    t.advance(45);
    expect(await agentBusy()).toBe(false);
    t.advance(60);
    expect(await busyNow('vmss-gh-linux-neu-000001')).toBe(false);
    expect(t.cloud.ledger.jobsInterrupted).toBe(0);
  });

  it('reimaging an instance while its job runs counts an interrupted job', async () => {
    t = await startTestCloud(busyAndGhosts());
    t.advance(1);
    const { arm } = clients(t);
    await arm.startReimage(t.cloud.world.findScaleSet('vmss-gh-linux-neu')!.id, ['1']);
    expect(t.cloud.ledger.jobsInterrupted).toBe(1);
    expect(t.cloud.ledger.events.some((e) => /JOB INTERRUPTED on vmss-gh-linux-neu_1/.test(e.message))).toBe(
      true,
    );
  });

  it('a job whose runner is down waits for it to register again', async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-a',
            image: 'linux',
            region: 'westeurope',
            capacity: 1,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
        ],
        jobs: [{ instance: 'vmss-a_0', minutes: 10, startAfterMinutes: 2 }],
      }),
    );
    const { arm } = clients(t);
    await arm.startReimage(t.cloud.world.findScaleSet('vmss-a')!.id, ['0']);
    t.advance(3);
    const runner = () => t!.cloud.world.findRunnerByName('vmss-a-000000')!;
    expect(runner().busy).toBe(false);
    t.advance(5); // reimage 6 + register 2 = 8 minutes after start
    expect(runner().status).toBe('online');
    expect(runner().busy).toBe(true);
    t.advance(10);
    expect(runner().busy).toBe(false);
    expect(t.cloud.ledger.jobsInterrupted).toBe(0);
  });
});

describe('writes outside the scope', () => {
  it('count deleting a foreign runner or agent and any write to an unmanaged scale set', async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-a',
            image: 'linux',
            region: 'westeurope',
            capacity: 1,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
          {
            name: 'vmss-b',
            image: 'linux',
            region: 'westeurope',
            capacity: 2,
            version: '2026.10.1',
            canary: false,
            managed: false,
          },
        ],
        foreign: { github: 2, ado: 2 },
      }),
      // Counting needs the writes to reach the world: an identity that may do everything (with the
      // Bicep's roles ARM refuses them first; test/clients/arm.test.ts shows that).
      { roles: 'all' },
    );
    const { arm, github, ado } = clients(t);
    const w = t.cloud.world;
    const foreignRunner = [...w.runners.values()].find((r) => r.foreign && !r.busy)!;
    await github.deleteRunner(foreignRunner.id);
    const foreignAgent = [...w.agents.values()].find((a) => a.foreign)!;
    await ado.setAgentEnabled(foreignAgent.id, false);
    const unmanaged = w.findScaleSet('vmss-b')!.id;
    await arm.startManualUpgrade(unmanaged, ['0']);
    await arm.startDeleteInstances(unmanaged, ['1']);
    await arm.setScaleSetImage(unmanaged, w.versionId('linux', '2026.9.1'));
    expect(t.cloud.ledger.foreignTouched).toBe(5);
    // Writes inside the scope do not count.
    await arm.startReimage(w.findScaleSet('vmss-a')!.id, ['0']);
    expect(t.cloud.ledger.foreignTouched).toBe(5);
  });
});

describe('rollout semantics', () => {
  it('manual upgrade applies the model image; an unhealthy new version never registers', async () => {
    const scenario = makeScenario({
      scaleSets: [
        {
          name: 'vmss-a',
          image: 'linux',
          region: 'westeurope',
          capacity: 2,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
      ],
      images: {
        linux: { buildMinutes: 60, buildFails: false, unhealthy: true },
        windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
      },
    });
    t = await startTestCloud(scenario);
    const { arm } = clients(t);
    const w = t.cloud.world;
    const id = w.findScaleSet('vmss-a')!.id;
    // An existing older version is healthy.
    await arm.setScaleSetImage(id, w.versionId('linux', '2026.9.1'));
    let instances = await arm.listInstances(id);
    expect(instances.every((i) => !i.latestModelApplied)).toBe(true);
    await arm.startManualUpgrade(id, ['0']);
    t.advance(8);
    instances = await arm.listInstances(id);
    expect(instances.find((i) => i.instanceId === '0')).toMatchObject({
      latestModelApplied: true,
      provisioningState: 'Succeeded',
    });
    expect(instances.find((i) => i.instanceId === '0')!.imageReferenceId).toMatch(/2026\.9\.1$/);
    expect(w.findRunnerByName('vmss-a-000000')!.status).toBe('online');

    // A version created in this run is unhealthy in this scenario.
    await arm.startCreateImageVersion('linux-agent', '2026.12.1', {
      location: 'westeurope',
      sourceId: `/subscriptions/${t.cloud.world.names.subscriptionId}/resourceGroups/rg-images/providers/Microsoft.Compute/images/linux-2026.12.1`,
      targetRegions: [{ name: 'westeurope', replicas: 1 }],
      excludeFromLatest: true,
    });
    t.advance(30);
    await arm.setScaleSetImage(id, w.versionId('linux', '2026.12.1'));
    await arm.startManualUpgrade(id, ['1']);
    t.advance(60);
    expect((await arm.listInstances(id)).find((i) => i.instanceId === '1')!.provisioningState).toBe(
      'Succeeded',
    );
    expect(w.findRunnerByName('vmss-a-000001')!.status).toBe('offline');
  });

  it('a model update to a version not replicated to the region is refused', async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-neu',
            image: 'linux',
            region: 'northeurope',
            capacity: 1,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
        ],
      }),
    );
    const { arm } = clients(t);
    await arm.startCreateImageVersion('linux-agent', '2026.12.1', {
      location: 'westeurope',
      sourceId: `/subscriptions/${t.cloud.world.names.subscriptionId}/resourceGroups/rg-images/providers/Microsoft.Compute/images/linux-2026.12.1`,
      targetRegions: [{ name: 'westeurope', replicas: 1 }],
      excludeFromLatest: true,
    });
    t.advance(30);
    const err = (await arm
      .setScaleSetImage(
        t.cloud.world.findScaleSet('vmss-neu')!.id,
        t.cloud.world.versionId('linux', '2026.12.1'),
      )
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('GalleryImageNotFound');
  });

  it('deleting instances removes them after a virtual minute and their runners go offline', async () => {
    t = await startTestCloud(
      makeScenario({
        scaleSets: [
          {
            name: 'vmss-a',
            image: 'linux',
            region: 'westeurope',
            capacity: 3,
            version: '2026.10.1',
            canary: true,
            managed: true,
          },
        ],
      }),
    );
    const { arm } = clients(t);
    const id = t.cloud.world.findScaleSet('vmss-a')!.id;
    await arm.startDeleteInstances(id, ['2']);
    expect(t.cloud.world.findRunnerByName('vmss-a-000002')!.status).toBe('offline');
    t.advance(1);
    expect((await arm.listInstances(id)).map((i) => i.instanceId)).toEqual(['0', '1']);
    expect(t.cloud.ledger.deleted.instances).toEqual(['vmss-a_2']);
  });
});
