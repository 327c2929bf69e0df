/**
 * The ARM client's rebuild and rollout operations against the fake: gallery image versions with
 * replication on the virtual clock (and an injected regional failure), promotion, deletion, the
 * Packer job execution, manual upgrade, and long-running failures and hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArmClient } from '../../src/clients/arm/index.js';
import { createCredential } from '../../src/clients/credential.js';
import type { FullArmClient } from '../../src/clients/types.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
let arm: FullArmClient;
const source =
  '/subscriptions/00000000-0000-4000-8000-00000000c0de/resourceGroups/rg-images/providers/Microsoft.Compute/images/linux-2026.12.1';

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      scaleSets: [
        {
          name: 'vmss-gh-linux-weu',
          image: 'linux',
          region: 'westeurope',
          capacity: 3,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
        {
          name: 'vmss-gh-linux-neu',
          image: 'linux',
          region: 'northeurope',
          capacity: 2,
          version: '2026.10.1',
          canary: false,
          managed: true,
        },
      ],
      images: {
        linux: { buildMinutes: 60, buildFails: false, unhealthy: false },
        windows: { buildMinutes: 120, buildFails: true, unhealthy: false },
      },
    }),
  );
  arm = createArmClient(t.settings, createCredential(t.settings));
});
afterAll(async () => t?.close());

describe('gallery image versions', () => {
  it('lists the existing versions', async () => {
    const versions = await arm.listImageVersions('linux-agent');
    expect(versions.map((v) => v.name).sort()).toEqual(['2026.10.1', '2026.9.1']);
    expect(versions.every((v) => v.provisioningState === 'Succeeded' && !v.excludeFromLatest)).toBe(true);
    expect(await arm.getImageVersion('linux-agent', '9.9.9')).toBeUndefined();
  });

  it('publishes to the build region, replicates on the virtual clock, then to more regions, then promotes', async () => {
    await arm.startCreateImageVersion('linux-agent', '2026.12.1', {
      location: 'westeurope',
      sourceId: source,
      targetRegions: [{ name: 'westeurope', replicas: 1 }],
      excludeFromLatest: true,
      endOfLifeDate: '2027-06-01T00:00:00Z',
      tags: { 'kiln-runner': '2.330.0' },
    });
    let v = (await arm.getImageVersion('linux-agent', '2026.12.1', { replicationStatus: true }))!;
    expect(v).toMatchObject({
      name: '2026.12.1',
      provisioningState: 'Creating',
      excludeFromLatest: true,
      sourceId: source,
      tags: { 'kiln-runner': '2.330.0' },
    });
    expect(v.endOfLifeDate).toBe('2027-06-01T00:00:00.000Z');
    expect(v.replication).toEqual({
      aggregatedState: 'InProgress',
      regions: [{ region: 'West Europe', state: 'Replicating', progress: 0 }],
    });
    t.advance(15);
    expect(
      (await arm.getImageVersion('linux-agent', '2026.12.1', { replicationStatus: true }))!.replication!
        .regions[0]!.progress,
    ).toBe(50);
    t.advance(15);
    v = (await arm.getImageVersion('linux-agent', '2026.12.1', { replicationStatus: true }))!;
    expect(v.provisioningState).toBe('Succeeded');
    expect(v.replication!.aggregatedState).toBe('Completed');
    // Without $expand there is no replication status.
    expect((await arm.getImageVersion('linux-agent', '2026.12.1'))!.replication).toBeUndefined();

    await arm.startUpdateImageVersion('linux-agent', '2026.12.1', {
      targetRegions: [
        { name: 'westeurope', replicas: 1 },
        { name: 'northeurope', replicas: 2 },
      ],
    });
    v = (await arm.getImageVersion('linux-agent', '2026.12.1', { replicationStatus: true }))!;
    expect(v.provisioningState).toBe('Updating');
    expect(v.replication!.regions.map((r) => `${r.region}:${r.state}`)).toEqual([
      'West Europe:Completed',
      'North Europe:Replicating',
    ]);
    t.advance(30);
    v = (await arm.getImageVersion('linux-agent', '2026.12.1', { replicationStatus: true }))!;
    expect(v.replication!.aggregatedState).toBe('Completed');
    expect(v.targetRegions.map((r) => [r.name, r.replicas])).toEqual([
      ['West Europe', 1],
      ['North Europe', 2],
    ]);

    await arm.startUpdateImageVersion('linux-agent', '2026.12.1', { excludeFromLatest: false });
    expect((await arm.getImageVersion('linux-agent', '2026.12.1'))!.excludeFromLatest).toBe(false);
  });

  it('an injected replication failure fails that region and the version', async () => {
    t.cloud.addFault({
      service: 'arm',
      operation: 'replication',
      region: 'northeurope',
      fail: true,
      times: 1,
    });
    await arm.startCreateImageVersion('linux-agent', '2026.12.2', {
      location: 'westeurope',
      sourceId: source,
      targetRegions: [
        { name: 'westeurope', replicas: 1 },
        { name: 'northeurope', replicas: 1 },
      ],
      excludeFromLatest: true,
    });
    t.advance(30);
    const v = (await arm.getImageVersion('linux-agent', '2026.12.2', { replicationStatus: true }))!;
    expect(v.provisioningState).toBe('Failed');
    expect(v.replication!.aggregatedState).toBe('Failed');
    expect(v.replication!.regions.find((r) => r.region === 'North Europe')!.state).toBe('Failed');
    expect(v.replication!.regions.find((r) => r.region === 'West Europe')!.state).toBe('Completed');
  });

  it('a 429 on create is retried by the SDK after Retry-After', async () => {
    t.cloud.addFault({
      service: 'arm',
      operation: 'galleryImageVersions.createOrUpdate',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const started = Date.now();
    await arm.startCreateImageVersion('linux-agent', '2026.12.3', {
      location: 'westeurope',
      sourceId: source,
      targetRegions: [{ name: 'westeurope', replicas: 1 }],
      excludeFromLatest: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await arm.getImageVersion('linux-agent', '2026.12.3'))!.provisioningState).toBe('Creating');
  });

  it('a bad version name is a PermanentError', async () => {
    const err = (await arm
      .startCreateImageVersion('linux-agent', 'latest', {
        location: 'westeurope',
        sourceId: source,
        targetRegions: [{ name: 'westeurope', replicas: 1 }],
        excludeFromLatest: true,
      })
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
  });

  it('deletes a version; deleting it again is success', async () => {
    await arm.startDeleteImageVersion('linux-agent', '2026.12.3');
    expect(await arm.getImageVersion('linux-agent', '2026.12.3')).toBeUndefined();
    await arm.startDeleteImageVersion('linux-agent', '2026.12.3');
    expect(t.cloud.ledger.deleted.galleryVersions).toEqual(['linux-agent/2026.12.3']);
  });
});

describe('rollout operations', () => {
  it('points the model at a version and upgrades instances one by one', async () => {
    const set = (await arm.listScaleSetsByTag(t.settings.managedTag)).find(
      (s) => s.name === 'vmss-gh-linux-weu',
    )!;
    const target = t.cloud.world.versionId('linux', '2026.12.1');
    await arm.setScaleSetImage(set.id, target);
    expect((await arm.getScaleSet(set.id))!.imageReferenceId).toBe(target);
    expect(t.cloud.scaleSetVersion('vmss-gh-linux-weu')).toBe('2026.12.1');
    let instances = await arm.listInstances(set.id);
    expect(instances.every((i) => !i.latestModelApplied)).toBe(true);
    await arm.startManualUpgrade(set.id, ['0', '1']);
    instances = await arm.listInstances(set.id);
    expect(instances.filter((i) => i.provisioningState === 'Updating').map((i) => i.instanceId)).toEqual([
      '0',
      '1',
    ]);
    t.advance(8);
    instances = await arm.listInstances(set.id);
    expect(instances.map((i) => i.latestModelApplied)).toEqual([true, true, false]);
    expect(instances[0]!.imageReferenceId).toBe(target);
    expect(t.cloud.world.findRunnerByName('vmss-gh-linux-weu-000000')!.status).toBe('online');
  });

  it('a long-running failure leaves the instance Failed; it never registers', async () => {
    t.cloud.addFault({
      service: 'arm',
      operation: 'virtualMachineScaleSets.updateInstances',
      fail: true,
      times: 1,
    });
    const set = (await arm.listScaleSetsByTag(t.settings.managedTag)).find(
      (s) => s.name === 'vmss-gh-linux-weu',
    )!;
    await arm.startManualUpgrade(set.id, ['2']);
    t.advance(10);
    expect((await arm.listInstances(set.id)).find((i) => i.instanceId === '2')!.provisioningState).toBe(
      'Failed',
    );
    expect(t.cloud.world.findRunnerByName('vmss-gh-linux-weu-000002')!.status).toBe('offline');
  });

  it('an ARM request that never answers times out as TransientError', async () => {
    const quick = createArmClient(t.settings, createCredential(t.settings), { timeoutMs: 500 });
    t.cloud.addFault({ service: 'arm', operation: 'virtualMachineScaleSets.get', hang: true, times: 1 });
    const err = (await quick
      .getScaleSet(t.cloud.world.findScaleSet('vmss-gh-linux-neu')!.id)
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
  });

  it('a dropped connection is retried by the SDK', async () => {
    t.cloud.addFault({ service: 'arm', operation: 'virtualMachineScaleSets.get', status: 0, times: 1 });
    expect((await arm.getScaleSet(t.cloud.world.findScaleSet('vmss-gh-linux-neu')!.id))!.name).toBe(
      'vmss-gh-linux-neu',
    );
  });
});

describe('Packer job executions', () => {
  const template = (kind: string) => ({
    containers: [
      {
        name: 'packer',
        image: 'crkiln.azurecr.io/kiln-packer:1',
        env: [
          { name: 'KILN_IMAGE', value: kind },
          { name: 'KILN_VERSION', value: '2026.12.1' },
        ],
        resources: { cpu: 2, memory: '4Gi' },
      },
    ],
  });

  it('starts with the full template (recorded), runs buildMinutes on the virtual clock, succeeds', async () => {
    const exec = await arm.startJobExecution(t.settings.packer.jobId, template('linux'));
    expect(exec.id).toContain(`/executions/${exec.name}`);
    expect(t.cloud.world.executions.get(exec.name)!.template).toEqual(template('linux'));
    expect((await arm.getJobExecution(t.settings.packer.jobId, exec.name))!.status).toBe('Running');
    t.advance(60);
    const done = (await arm.getJobExecution(t.settings.packer.jobId, exec.name))!;
    expect(done.status).toBe('Succeeded');
    expect(done.endTime).toBe(t.clock.now().toISOString());
  });

  it('a failing build ends Failed; a stopped one Stopped; an unknown one is undefined', async () => {
    const win = await arm.startJobExecution(t.settings.packer.jobId, template('windows'));
    t.advance(120);
    expect((await arm.getJobExecution(t.settings.packer.jobId, win.name))!.status).toBe('Failed');
    const again = await arm.startJobExecution(t.settings.packer.jobId, template('linux'));
    await arm.stopJobExecution(t.settings.packer.jobId, again.name);
    expect((await arm.getJobExecution(t.settings.packer.jobId, again.name))!.status).toBe('Stopped');
    expect(await arm.getJobExecution(t.settings.packer.jobId, 'job-kiln-packer-nope')).toBeUndefined();
  });

  it('finds the newest execution whose template carries given environment values', async () => {
    const jobId = t.settings.packer.jobId;
    const first = await arm.startJobExecution(jobId, template('linux'));
    t.advance(1);
    const second = await arm.startJobExecution(jobId, template('linux'));
    expect(
      (await arm.findJobExecution(jobId, { KILN_IMAGE: 'linux', KILN_VERSION: '2026.12.1' }))!.name,
    ).toBe(second.name);
    expect(second.name).not.toBe(first.name);
    expect(
      await arm.findJobExecution(jobId, { KILN_IMAGE: 'linux', KILN_VERSION: '2026.12.2' }),
    ).toBeUndefined();
  });
});

describe('the startBuild activity', () => {
  it('starts one build however often it is retried, and a new one once the earlier failed', async () => {
    const { createStartBuildActivity } = await import('../../src/activities/rebuild.js');
    const settings = {
      ...t.settings,
      packer: {
        ...t.settings.packer,
        jobImage: 'crkiln.azurecr.io/kiln-packer:1',
        imageResourceGroup: 'rg-images',
      },
    };
    const start = createStartBuildActivity({ arm, settings } as never);
    const input = { image: 'linux' as const, version: '2026.12.7', runId: 'rebuild-linux-2026-12' };
    const before = t.cloud.world.executions.size;
    const first = await start(input);
    const retried = await start(input);
    expect(first.ok && retried.ok).toBe(true);
    if (!first.ok || !retried.ok) return;
    expect(retried.value.executionName).toBe(first.value.executionName);
    expect(t.cloud.world.executions.size).toBe(before + 1);
    // A stopped (timed-out) build is not the build any more: a new run of the same version starts anew.
    await arm.stopJobExecution(t.settings.packer.jobId, first.value.executionName);
    const again = await start(input);
    expect(again.ok && again.value.executionName).not.toBe(first.value.executionName);
    expect(t.cloud.world.executions.size).toBe(before + 2);
  });
});
