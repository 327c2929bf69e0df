/**
 * Every operation name the fault module documents (FAULT_OPERATIONS) is one a fake really answers
 * to: a status fault on it fires on the matching request. Keeps the documented list, the scenario
 * files and the fakes in step for the fault matrix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { FAULT_OPERATIONS, type FakeService } from '../../src/local/fake-cloud/faults.js';
import {
  armFetch,
  makeScenario,
  readEverySecret,
  startTestCloud,
  vmssPath,
  type TestCloud,
} from './helpers.js';

let t: TestCloud;
let ghToken: string;
let adoBasic: string;
let kvToken: string;
let storageToken: string;
let execName: string;

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  // Both GitHub authentications are exercised here (the PAT directly, the App key by the client).
  readEverySecret(t);
  const credential = createCredential(t.settings);
  const secrets = createSecretReader(t.settings.keyVaultUrl, credential);
  ghToken = await secrets.getSecret('gh-pat');
  adoBasic = Buffer.from(`:${await secrets.getSecret('ado-pat')}`).toString('base64');
  kvToken = (await credential.getToken('https://vault.localhost/.default'))!.token;
  storageToken = (await credential.getToken('https://storage.azure.com/.default'))!.token;
  const started = await armFetch(t, `${t.settings.packer.jobId}/start?api-version=2025-07-01`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ containers: [{ name: 'packer', image: 'x:1' }] }),
  });
  execName = ((await started.json()) as { name: string }).name;
});
afterAll(async () => t?.close());

const json = { 'content-type': 'application/json' };
const gallery = () =>
  `/subscriptions/${t.settings.subscriptionId}/resourceGroups/rg-kiln-images/providers/Microsoft.Compute/galleries/galKiln/images/linux-agent`;
const sub = () => `/subscriptions/${t.settings.subscriptionId}`;

/** One request per documented operation. */
const requests: Record<FakeService, Record<string, () => Promise<Response>>> = {
  identity: {
    getToken: () =>
      fetch(`${t.cloud.urls.identity}?resource=https://vault.localhost&api-version=2019-08-01`, {
        headers: { 'x-identity-header': t.cloud.env.IDENTITY_HEADER! },
      }),
    getAttestedDocument: () => {
      const [vm] = t.cloud.world.findScaleSet('vmss-gh-linux-weu')!.instances.values();
      return fetch(`${t.cloud.imdsAttestedUrl(vm!.name)}?api-version=2018-10-01&nonce=0123456789`, {
        headers: { Metadata: 'true' },
      });
    },
  },
  keyvault: {
    getSecret: () =>
      fetch(`${t.settings.keyVaultUrl}/secrets/ado-pat?api-version=2025-07-01`, {
        headers: { authorization: `Bearer ${kvToken}` },
      }),
  },
  arm: {
    'subscriptions.get': () => armFetch(t, `${sub()}?api-version=2025-04-01`),
    'resourceGroups.list': () => armFetch(t, `${sub()}/resourcegroups?api-version=2025-04-01`),
    'resourceGroups.get': () => armFetch(t, `${sub()}/resourcegroups/rg-kiln-runners?api-version=2025-04-01`),
    'resources.list': () => armFetch(t, `${sub()}/resources?api-version=2025-04-01`),
    'virtualMachineScaleSets.get': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`),
    'virtualMachineScaleSets.update': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`, {
        method: 'PATCH',
        headers: json,
        body: '{"tags":{"kiln-managed":"true"}}',
      }),
    'virtualMachineScaleSets.reimage': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/reimage?api-version=2026-04-01`, {
        method: 'POST',
        headers: json,
        body: '{"instanceIds":["0"]}',
      }),
    'virtualMachineScaleSets.updateInstances': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/manualupgrade?api-version=2026-04-01`, {
        method: 'POST',
        headers: json,
        body: '{"instanceIds":["0"]}',
      }),
    'virtualMachineScaleSets.deleteInstances': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/delete?api-version=2026-04-01`, {
        method: 'POST',
        headers: json,
        body: '{"instanceIds":["0"]}',
      }),
    'virtualMachineScaleSetVMs.list': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/virtualMachines?api-version=2026-04-01`),
    'virtualMachineScaleSetVMs.get': () =>
      armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/virtualMachines/1?api-version=2026-04-01`),
    'virtualMachineScaleSetVMs.getInstanceView': () =>
      armFetch(
        t,
        `${vmssPath(t, 'vmss-gh-linux-weu')}/virtualMachines/1/instanceView?api-version=2026-04-01`,
      ),
    'galleryImages.get': () => armFetch(t, `${gallery()}?api-version=2025-12-03`),
    'galleryImageVersions.get': () => armFetch(t, `${gallery()}/versions/2026.10.1?api-version=2025-12-03`),
    'galleryImageVersions.listByGalleryImage': () =>
      armFetch(t, `${gallery()}/versions?api-version=2025-12-03`),
    'galleryImageVersions.createOrUpdate': () =>
      armFetch(t, `${gallery()}/versions/2026.12.9?api-version=2025-12-03`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify({
          location: 'westeurope',
          properties: { storageProfile: { source: { id: '/x/images/y' } } },
        }),
      }),
    'galleryImageVersions.update': () =>
      armFetch(t, `${gallery()}/versions/2026.10.1?api-version=2025-12-03`, {
        method: 'PATCH',
        headers: json,
        body: '{"properties":{"publishingProfile":{"excludeFromLatest":false}}}',
      }),
    'galleryImageVersions.delete': () =>
      armFetch(t, `${gallery()}/versions/2026.9.1?api-version=2025-12-03`, { method: 'DELETE' }),
    'jobs.get': () => armFetch(t, `${t.settings.packer.jobId}?api-version=2025-07-01`),
    'jobs.start': () =>
      armFetch(t, `${t.settings.packer.jobId}/start?api-version=2025-07-01`, { method: 'POST' }),
    'jobs.listExecutions': () => armFetch(t, `${t.settings.packer.jobId}/executions?api-version=2025-07-01`),
    'jobs.stopExecution': () =>
      armFetch(t, `${t.settings.packer.jobId}/executions/${execName}/stop?api-version=2025-07-01`, {
        method: 'POST',
      }),
    jobExecution: () =>
      armFetch(t, `${t.settings.packer.jobId}/executions/${execName}?api-version=2025-07-01`),
    'operations.get': () =>
      armFetch(
        t,
        `${sub()}/providers/Microsoft.Compute/locations/westeurope/capsOperations/nope?api-version=2026-04-01`,
      ),
  },
  github: {
    getOrgInstallation: async () =>
      fetch(`${t.settings.github!.apiUrl}/orgs/acme/installation`, {
        headers: { authorization: `Bearer ${await appJwt()}` },
      }),
    getRepoInstallation: async () =>
      fetch(`${t.settings.github!.apiUrl}/repos/acme/runners/installation`, {
        headers: { authorization: `Bearer ${await appJwt()}` },
      }),
    createInstallationAccessToken: async () =>
      fetch(`${t.settings.github!.apiUrl}/app/installations/4242/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await appJwt()}` },
      }),
    listRunners: () => gh('/orgs/acme/actions/runners'),
    listRunnerGroups: () => gh('/orgs/acme/actions/runner-groups'),
    getRunner: () => gh('/orgs/acme/actions/runners/1001'),
    deleteRunner: () => gh('/orgs/acme/actions/runners/999999', { method: 'DELETE' }),
    createRegistrationToken: () => gh('/orgs/acme/actions/runners/registration-token', { method: 'POST' }),
    generateJitConfig: () =>
      gh('/orgs/acme/actions/runners/generate-jitconfig', { method: 'POST', body: '{}' }),
    getLatestRelease: () => gh('/repos/actions/runner/releases/latest'),
    getJobForWorkflowRun: () => gh('/repos/acme/app-0/actions/jobs/30000000001'),
    listWorkflowRunsForRepo: () => gh('/repos/acme/app-0/actions/runs?status=queued'),
    listJobsForWorkflowRun: () => gh('/repos/acme/app-0/actions/runs/12000000001/jobs'),
  },
  tables: {
    createTable: () => table('/Tables', { method: 'POST', body: '{"TableName":"faults"}' }),
    createEntity: () => table('/faults', { method: 'POST', body: '{"PartitionKey":"p","RowKey":"r"}' }),
    getEntity: () => table("/faults(PartitionKey='p',RowKey='r')"),
    updateEntity: () =>
      table("/faults(PartitionKey='p',RowKey='r')", {
        method: 'PUT',
        headers: { 'if-match': '*' },
        body: '{}',
      }),
    deleteEntity: () =>
      table("/faults(PartitionKey='p',RowKey='r')", { method: 'DELETE', headers: { 'if-match': '*' } }),
    listEntities: () => table("/faults()?$filter=PartitionKey%20eq%20'p'"),
    mergeEntity: () => table("/faults(PartitionKey='p',RowKey='r')", { method: 'PATCH', body: '{}' }),
  },
  blobs: {
    getBlob: () => blob('/software-reports/linux-agent/2026.10.1/software.json'),
    getBlobProperties: () =>
      blob('/software-reports/linux-agent/2026.10.1/software.json', { method: 'HEAD' }),
    putBlob: () =>
      blob('/software-reports/faults/x.json', {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob' },
        body: '{}',
      }),
  },
  ado: {
    getPools: () => ado('/pools?poolName=kiln-windows'),
    listAgents: () => ado('/pools/17/agents'),
    getAgent: () => ado('/pools/17/agents/101'),
    updateAgent: () =>
      ado('/pools/17/agents/101', { method: 'PATCH', headers: json, body: '{"id":101,"enabled":true}' }),
    deleteAgent: () => ado('/pools/17/agents/999999', { method: 'DELETE' }),
    listJobRequests: () => ado('/pools/17/jobrequests?completedRequestCount=0'),
  },
};

function gh(p: string, init: RequestInit = {}) {
  return fetch(`${t.settings.github!.apiUrl}${p}`, {
    ...init,
    headers: { authorization: `token ${ghToken}`, ...(init.headers as object) },
  });
}

function table(p: string, init: RequestInit = {}) {
  return fetch(`${t.cloud.urls.tables}${p}`, {
    ...init,
    headers: {
      authorization: `Bearer ${storageToken}`,
      'x-ms-version': '2019-02-02',
      accept: 'application/json;odata=minimalmetadata',
      'content-type': 'application/json',
      ...(init.headers as object),
    },
  });
}
function blob(p: string, init: RequestInit = {}) {
  return fetch(`${t.cloud.urls.blobs}${p}`, {
    ...init,
    headers: {
      authorization: `Bearer ${storageToken}`,
      'x-ms-version': '2026-04-06',
      ...(init.headers as object),
    },
  });
}
function ado(p: string, init: RequestInit = {}) {
  const sep = p.includes('?') ? '&' : '?';
  return fetch(`${t.settings.ado!.orgUrl}/_apis/distributedtask${p}${sep}api-version=7.1`, {
    ...init,
    headers: { authorization: `Basic ${adoBasic}`, ...(init.headers as object) },
  });
}

async function appJwt(): Promise<string> {
  const { createSign } = await import('node:crypto');
  const key = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
    'github-app-key',
  );
  const now = Math.floor(Date.now() / 1000);
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc({ iat: now - 30, exp: now + 540, iss: t.settings.github!.appId })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key, 'base64url')}`;
}

describe('documented fault operations', () => {
  const cases = (Object.entries(FAULT_OPERATIONS) as [FakeService, readonly string[]][]).flatMap(
    ([service, ops]) => ops.filter((op) => op !== 'replication').map((op) => [service, op] as const),
  );

  it('every documented operation has a request here', () => {
    for (const [service, op] of cases)
      expect(requests[service][op], `${service}:${op}`).toBeTypeOf('function');
  });

  it.each(cases)('%s %s fires an injected 418', async (service, op) => {
    t.cloud.addFault({ service, operation: op, status: 418, times: 1 });
    const before = t.cloud.faults.fired[`${service}:${op}`] ?? 0;
    const res = await requests[service][op]!();
    expect(res.status).toBe(418);
    expect(t.cloud.faults.fired[`${service}:${op}`]).toBe(before + 1);
  });
});
