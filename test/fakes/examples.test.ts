/**
 * The fake cloud answers in the shapes of the official examples (reference/api-examples):
 * every key an example response carries is in the fake's answer (features kiln does not model,
 * such as disk encryption sets, are listed and skipped), and the example request bodies are
 * accepted by the fake as the real services accept them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { armFetch, examplesDir, makeScenario, startTestCloud, vmssPath, type TestCloud } from './helpers.js';

type Json = unknown;

function example(rel: string): Json {
  return JSON.parse(readFileSync(path.join(examplesDir, rel), 'utf8')) as Json;
}

/** Dotted key paths of a JSON value; array items merge under `[]`. */
function keyPaths(value: Json, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) keyPaths(item, `${prefix}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, Json>)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      keyPaths(v, p, out);
    }
  }
  return out;
}

/** Keys of `expected` missing from `actual`, except under the given (unmodelled) prefixes. */
function missingKeys(expected: Json, actual: Json, skip: string[] = []): string[] {
  const have = keyPaths(actual);
  return [...keyPaths(expected)].filter(
    (p) => !have.has(p) && !skip.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[]`)),
  );
}

function hasPaths(value: Json, paths: string[]): string[] {
  const have = keyPaths(value);
  return paths.filter((p) => !have.has(p));
}

let t: TestCloud;
let ghAuth: Record<string, string>;
let adoAuth: Record<string, string>;

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      jobs: [{ instance: 'vmss-ado-win-weu_0', minutes: 30, startAfterMinutes: 0 }],
      ghosts: { github: 2, ado: 1 },
      foreign: { github: 1, ado: 1 },
    }),
    // These requests authenticate to GitHub with the PAT: a deployment with GitHub auth "pat".
    { roles: { auth: { github: 'pat' } } },
  );
  t.advance(0);
  const secrets = createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings));
  ghAuth = { authorization: `token ${await secrets.getSecret('gh-pat')}` };
  adoAuth = {
    authorization: `Basic ${Buffer.from(`:${await secrets.getSecret('ado-pat')}`).toString('base64')}`,
  };
});
afterAll(async () => t?.close());

const gh = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(`${t.settings.github!.apiUrl}${p}`, {
    ...init,
    headers: { ...ghAuth, ...(init.headers as Record<string, string>) },
  });
  return { status: res.status, body: (await res.json()) as Json };
};
const arm = async (p: string, init: RequestInit = {}) => {
  const res = await armFetch(t, p, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
};
const galleryPath = () =>
  `/subscriptions/${t.settings.subscriptionId}/resourceGroups/rg-kiln-images/providers/Microsoft.Compute/galleries/galKiln/images/linux-agent`;
const jobPath = () => t.settings.packer.jobId;

describe('GitHub examples', () => {
  it('runner, runner list, registration token, JIT config and release carry every example key', async () => {
    const list = await gh('/orgs/acme/actions/runners?per_page=100');
    expect(missingKeys(example('github/runner-paginated.json'), list.body)).toEqual([]);
    const id = (list.body as { runners: { id: number }[] }).runners[0]!.id;
    expect(
      missingKeys(example('github/runner.json'), (await gh(`/orgs/acme/actions/runners/${id}`)).body),
    ).toEqual([]);
    const token = await gh('/orgs/acme/actions/runners/registration-token', { method: 'POST' });
    expect(token.status).toBe(201);
    expect(missingKeys(example('github/authentication-token.json'), token.body)).toEqual([]);
    const jit = await gh('/orgs/acme/actions/runners/generate-jitconfig', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'New runner',
        runner_group_id: 1,
        labels: ['self-hosted', 'X64', 'macOS', 'no-gpu'],
        work_folder: '_work',
      }),
    });
    expect(jit.status).toBe(201);
    expect(missingKeys(example('github/runner-jitconfig.json'), jit.body)).toEqual([]);
    const release = await gh('/repos/actions/runner/releases/latest');
    expect(missingKeys(example('github/release.json'), release.body)).toEqual([]);
  });
});

describe('Key Vault example', () => {
  it('GetSecret carries every example key', async () => {
    const token = await createCredential(t.settings).getToken('https://vault.localhost/.default');
    const res = await fetch(`${t.settings.keyVaultUrl}/secrets/ado-pat?api-version=7.5`, {
      headers: { authorization: `Bearer ${token!.token}` },
    });
    const ex = example('keyvault/GetSecret-example.json') as { responses: { 200: { body: Json } } };
    expect(missingKeys(ex.responses[200].body, await res.json())).toEqual([]);
  });
});

describe('Azure DevOps examples (agents embedded in deployment targets, the closest official examples)', () => {
  it('an agent carries every key of the example agent, and the list its envelope', async () => {
    const single = example('ado/GET__distributedtask_DeploymentTargets__Id_.json') as {
      responses: { 200: { body: { agent: Json } } };
    };
    const list = example('ado/GET__distributedtask_DeploymentTargets.json') as {
      responses: { 200: { body: { value: { agent: Json }[] } } };
    };
    const res = await fetch(
      `${t.settings.ado!.orgUrl}/_apis/distributedtask/pools/17/agents?includeAssignedRequest=true&api-version=7.1`,
      { headers: adoAuth },
    );
    const body = (await res.json()) as { count: number; value: Json[] };
    expect(missingKeys({ count: 1, value: [] }, body)).toEqual([]);
    expect(missingKeys(single.responses[200].body.agent, body.value[0])).toEqual([]);
    expect(missingKeys(list.responses[200].body.value[0]!.agent, body.value[0])).toEqual([]);
    const busy = body.value.find((a) => (a as { assignedRequest?: unknown }).assignedRequest) as {
      assignedRequest: Record<string, unknown>;
    };
    expect(Object.keys(busy.assignedRequest)).toEqual(
      expect.arrayContaining(['requestId', 'jobId', 'planId', 'queueTime', 'assignTime']),
    );
  });
});

describe('VM scale set examples', () => {
  it('scale set GET carries the keys kiln reads, in the example layout', async () => {
    const ex = (
      example('arm-vmss/VirtualMachineScaleSet_Get_WithUserData.json') as {
        responses: { 200: { body: Json } };
      }
    ).responses[200].body;
    const fake = (await arm(`${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`)).body;
    const paths = [
      'id',
      'name',
      'type',
      'location',
      'tags',
      'sku.name',
      'sku.tier',
      'sku.capacity',
      'properties.upgradePolicy.mode',
      'properties.provisioningState',
      'properties.singlePlacementGroup',
      'properties.virtualMachineProfile.osProfile.computerNamePrefix',
      'properties.virtualMachineProfile.osProfile.linuxConfiguration',
      'properties.virtualMachineProfile.storageProfile.imageReference',
      'properties.virtualMachineProfile.storageProfile.osDisk.createOption',
      'properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[].properties.ipConfigurations[].properties.subnet.id',
    ];
    expect(hasPaths(ex, paths)).toEqual([]);
    expect(hasPaths(fake, paths)).toEqual([]);
    const shared = (
      example('arm-vmss/VirtualMachineScaleSet_Create_FromAGeneralizedSharedImage.json') as {
        responses: { 200: { body: Json } };
      }
    ).responses[200].body;
    expect(
      hasPaths(
        shared,
        [
          'properties.virtualMachineProfile.storageProfile.imageReference.id',
          'properties.orchestrationMode',
        ].filter((p) => keyPaths(shared).has(p)),
      ),
    ).toEqual([]);
    expect(
      hasPaths(fake, [
        'properties.virtualMachineProfile.storageProfile.imageReference.id',
        'properties.orchestrationMode',
      ]),
    ).toEqual([]);
  });

  it('VM list with instance view and one VM instance view carry the keys of the examples', async () => {
    const ex = (
      example('arm-vmss/VirtualMachineScaleSetVM_List_MaximumSet_Gen.json') as {
        responses: { 200: { body: { value: Json[] } } };
      }
    ).responses[200].body;
    const fake = (
      await arm(
        `${vmssPath(t, 'vmss-gh-linux-weu')}/virtualMachines?$expand=instanceView&api-version=2026-04-01`,
      )
    ).body as { value: Json[] };
    const paths = [
      'id',
      'name',
      'type',
      'instanceId',
      'location',
      'sku.name',
      'properties.latestModelApplied',
      'properties.modelDefinitionApplied',
      'properties.vmId',
      'properties.provisioningState',
      'properties.timeCreated',
      'properties.hardwareProfile.vmSize',
      'properties.storageProfile.imageReference.id',
      'properties.storageProfile.imageReference.exactVersion',
      'properties.storageProfile.osDisk.osType',
      'properties.osProfile.computerName',
      'properties.networkProfile.networkInterfaces[].id',
      'properties.instanceView.platformUpdateDomain',
      'properties.instanceView.platformFaultDomain',
      'properties.instanceView.vmAgent.vmAgentVersion',
      'properties.instanceView.vmAgent.statuses[].code',
      'properties.instanceView.disks[].name',
      'properties.instanceView.disks[].statuses[].code',
      'properties.instanceView.statuses[].code',
      'properties.instanceView.statuses[].level',
      'properties.instanceView.statuses[].displayStatus',
      'properties.instanceView.statuses[].time',
    ];
    expect(hasPaths(ex.value[0], paths)).toEqual([]);
    expect(hasPaths(fake.value[0], paths)).toEqual([]);

    const view = (
      example('arm-vmss/VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json') as {
        responses: { 200: { body: Json } };
      }
    ).responses[200].body;
    const fakeView = (
      await arm(`${vmssPath(t, 'vmss-gh-linux-weu')}/virtualMachines/0/instanceView?api-version=2026-04-01`)
    ).body;
    expect(
      missingKeys(view, fakeView, [
        'rdpThumbPrint',
        'vmAgent.extensionHandlers',
        'disks[].encryptionSettings',
        'extensions',
        'assignedHost',
        'bootDiagnostics',
        'disks[].statuses[].message',
        'statuses[].message',
      ]),
    ).toEqual([]);
  });

  it('accepts the example request bodies of reimage, manualupgrade and delete instances', async () => {
    const reimage = (
      example('arm-vmss/VirtualMachineScaleSet_Reimage_MaximumSet_Gen.json') as {
        parameters: { vmScaleSetReimageInput: { instanceIds: string[] } };
      }
    ).parameters.vmScaleSetReimageInput;
    const upgrade = (
      example('arm-vmss/VirtualMachineScaleSet_UpdateInstances_MaximumSet_Gen.json') as {
        parameters: { vmInstanceIDs: Json };
      }
    ).parameters.vmInstanceIDs;
    const del = (
      example('arm-vmss/VirtualMachineScaleSet_DeleteInstances_MaximumSet_Gen.json') as {
        parameters: { vmInstanceIDs: Json };
      }
    ).parameters.vmInstanceIDs;
    const withIds = (body: Json, ids: string[]) => JSON.stringify({ ...(body as object), instanceIds: ids });
    const base = vmssPath(t, 'vmss-gh-linux-weu');
    expect(
      (await arm(`${base}/reimage?api-version=2026-04-01`, { method: 'POST', body: withIds(reimage, ['0']) }))
        .status,
    ).toBe(202);
    expect(
      (
        await arm(`${base}/manualupgrade?api-version=2026-04-01`, {
          method: 'POST',
          body: withIds(upgrade, ['1']),
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await arm(`${base}/delete?forceDeletion=true&api-version=2026-04-01`, {
          method: 'POST',
          body: withIds(del, ['2']),
        })
      ).status,
    ).toBe(202);
    // The example ids name no instance of ours: ARM answers 400 for those.
    expect(
      (await arm(`${base}/reimage?api-version=2026-04-01`, { method: 'POST', body: JSON.stringify(reimage) }))
        .status,
    ).toBe(400);
    t.advance(10);
  });
});

describe('Compute Gallery examples', () => {
  it('accepts the example create body and answers get (with replication status) and list in the example shape', async () => {
    const create = example('arm-gallery/GalleryImageVersion_Create.json') as {
      parameters: { galleryImageVersion: { location: string; properties: Record<string, unknown> } };
      responses: { 201: { body: Json } };
    };
    // The example's source names a placeholder image: publishing reads its source (a linked check),
    // so it is the managed image of a build in the world's images resource group, which kiln may read.
    const names = t.cloud.world.names;
    const source = `/subscriptions/${names.subscriptionId}/resourceGroups/${names.imagesResourceGroup}/providers/Microsoft.Compute/images/kiln-linux-2026.12.1`;
    const properties = create.parameters.galleryImageVersion.properties as {
      storageProfile: { source: Record<string, unknown> };
    };
    const body = {
      ...create.parameters.galleryImageVersion,
      location: 'westeurope',
      properties: { ...properties, storageProfile: { ...properties.storageProfile, source: { id: source } } },
    };
    const put = await arm(`${galleryPath()}/versions/2026.12.1?api-version=2025-12-03`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
    expect(put.status).toBe(201);
    expect((put.body as { properties: { provisioningState: string } }).properties.provisioningState).toBe(
      'Creating',
    );
    const skip = [
      'properties.publishingProfile.targetRegions[].encryption',
      'properties.storageProfile.dataDiskImages',
      'properties.safetyProfile.policyViolations',
      'properties.storageProfile.source.virtualMachineId',
    ];
    expect(
      missingKeys(create.responses[201].body, put.body, [
        ...skip,
        'properties.publishingProfile.targetRegions[].encryption',
      ]),
    ).toEqual([]);

    const withStatus = example('arm-gallery/GalleryImageVersion_Get_WithReplicationStatus.json') as {
      responses: { 200: { body: Json } };
    };
    const during = await arm(
      `${galleryPath()}/versions/2026.12.1?$expand=ReplicationStatus&api-version=2025-12-03`,
    );
    expect(missingKeys(withStatus.responses[200].body, during.body, skip)).toEqual([]);
    expect(
      (during.body as { properties: { replicationStatus: { aggregatedState: string } } }).properties
        .replicationStatus.aggregatedState,
    ).toBe('InProgress');
    t.advance(30);
    const after = (
      await arm(`${galleryPath()}/versions/2026.12.1?$expand=ReplicationStatus&api-version=2025-12-03`)
    ).body as {
      properties: {
        provisioningState: string;
        replicationStatus: {
          aggregatedState: string;
          summary: { region: string; state: string; progress: number }[];
        };
      };
    };
    expect(after.properties.provisioningState).toBe('Succeeded');
    expect(after.properties.replicationStatus.aggregatedState).toBe('Completed');
    expect(after.properties.replicationStatus.summary.map((s) => s.region).sort()).toEqual([
      'East US',
      'West US',
    ]);

    const plain = example('arm-gallery/GalleryImageVersion_Get.json') as {
      responses: { 200: { body: Json } };
    };
    expect(
      missingKeys(
        plain.responses[200].body,
        (await arm(`${galleryPath()}/versions/2026.12.1?api-version=2025-12-03`)).body,
        skip,
      ),
    ).toEqual([]);

    const list = example('arm-gallery/GalleryImageVersion_ListByGalleryImage.json') as {
      responses: { 200: { body: Json } };
    };
    const fakeList = (await arm(`${galleryPath()}/versions?api-version=2025-12-03`)).body;
    expect(
      missingKeys(list.responses[200].body, fakeList, [...skip.map((s) => `value[].${s}`), 'nextLink']),
    ).toEqual([]);
  });

  it('accepts the example update body and answers with the example keys; delete answers 202 then 204', async () => {
    const update = example('arm-gallery/GalleryImageVersion_Update.json') as {
      parameters: { galleryImageVersion: Json };
      responses: { 200: { body: Json } };
    };
    const patch = await arm(`${galleryPath()}/versions/2026.10.1?api-version=2025-12-03`, {
      method: 'PATCH',
      body: JSON.stringify(update.parameters.galleryImageVersion),
    });
    expect(patch.status).toBe(200);
    expect(
      missingKeys(update.responses[200].body, patch.body, [
        'properties.publishingProfile.targetRegions[].encryption',
        'properties.storageProfile.dataDiskImages',
        'properties.safetyProfile.policyViolations',
      ]),
    ).toEqual([]);
    const del = example('arm-gallery/GalleryImageVersion_Delete.json') as {
      responses: Record<string, { headers: Record<string, string> }>;
    };
    const first = await armFetch(t, `${galleryPath()}/versions/2026.9.1?api-version=2025-12-03`, {
      method: 'DELETE',
    });
    expect(first.status).toBe(202);
    for (const h of Object.keys(del.responses['202']!.headers)) expect(first.headers.get(h)).toBeTruthy();
    expect(
      (await armFetch(t, `${galleryPath()}/versions/2026.9.1?api-version=2025-12-03`, { method: 'DELETE' }))
        .status,
    ).toBe(204);
    expect(t.cloud.ledger.deleted.galleryVersions).toContain('linux-agent/2026.9.1');
  });
});

describe('Container Apps job examples', () => {
  it('start with the example template, then get the execution in the example shape; stop answers 200', async () => {
    const start = example('arm-containerapps-jobs/Job_Start.json') as {
      parameters: { template: Json };
      responses: { 200: { body: Json } };
    };
    const started = await arm(`${jobPath()}/start?api-version=2025-07-01`, {
      method: 'POST',
      body: JSON.stringify(start.parameters.template),
    });
    expect(started.status).toBe(200);
    expect(missingKeys(start.responses[200].body, started.body)).toEqual([]);
    const name = (started.body as { name: string }).name;
    const get = example('arm-containerapps-jobs/Job_Execution_Get.json') as {
      responses: { 200: { body: Json } };
    };
    t.advance(60);
    const exec = await arm(`${jobPath()}/executions/${name}?api-version=2025-07-01`);
    expect(missingKeys(get.responses[200].body, exec.body)).toEqual([]);
    expect((exec.body as { properties: { status: string } }).properties.status).toBe('Succeeded');
    const list = example('arm-containerapps-jobs/Job_Executions_Get.json') as {
      responses: { 200: { body: Json } };
    };
    expect(
      missingKeys(
        list.responses[200].body,
        (await arm(`${jobPath()}/executions?api-version=2025-07-01`)).body,
      ),
    ).toEqual([]);
    const job = example('arm-containerapps-jobs/Job_Get.json') as { responses: { 200: { body: Json } } };
    // The Packer job has no init containers.
    expect(
      missingKeys(job.responses[200].body, (await arm(`${jobPath()}?api-version=2025-07-01`)).body, [
        'properties.template.initContainers',
      ]),
    ).toEqual([]);
    expect(
      (await arm(`${jobPath()}/executions/${name}/stop?api-version=2025-07-01`, { method: 'POST' })).status,
    ).toBe(200);
  });
});
