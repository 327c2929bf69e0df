/**
 * The real ARM SDKs (through createArmClient) against the fake ARM: tag lookup, nextLink paging,
 * instance views, reimage accepted without waiting and finished on the virtual clock, retries,
 * and what ARM rejects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArmClient } from '../../src/clients/arm/index.js';
import { createCredential } from '../../src/clients/credential.js';
import { sendJson, serve } from '../../src/local/fake-cloud/http.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { armFetch, makeScenario, startTestCloud, vmssPath, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
const arm = () => createArmClient(t.settings, createCredential(t.settings));
const idOf = (name: string) =>
  `/subscriptions/${t.settings.subscriptionId}/resourceGroups/rg-kiln-runners/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      scaleSets: [
        {
          name: 'vmss-gh-linux-weu',
          image: 'linux',
          region: 'westeurope',
          capacity: 120,
          version: '2026.10.1',
          canary: true,
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
        {
          name: 'vmss-other-team',
          image: 'linux',
          region: 'westeurope',
          capacity: 1,
          version: '2026.10.1',
          canary: false,
          managed: false,
        },
      ],
    }),
    { pageSize: { vms: 50, resources: 2 } },
  );
});
afterAll(async () => t?.close());

describe('ARM client against the fake', () => {
  it('finds the managed scale sets by tag (paging the resources list) and reads their model', async () => {
    const before = t.cloud.requests.arm;
    const sets = await arm().listScaleSetsByTag(t.settings.managedTag);
    expect(sets.map((s) => s.name).sort()).toEqual(['vmss-ado-win-weu', 'vmss-gh-linux-weu']);
    const linux = sets.find((s) => s.name === 'vmss-gh-linux-weu')!;
    expect(linux).toMatchObject({
      osType: 'Linux',
      orchestrationMode: 'Uniform',
      upgradeMode: 'Manual',
      computerNamePrefix: 'vmss-gh-linux-weu-',
      capacity: 120,
    });
    expect(linux.imageReferenceId).toMatch(/\/images\/linux-agent\/versions\/2026\.10\.1$/);
    const win = sets.find((s) => s.name === 'vmss-ado-win-weu')!;
    expect(win.osType).toBe('Windows');
    expect(win.computerNamePrefix.length).toBeLessThanOrEqual(9);
    // 2 pages of resources (page size 2, two matches → one page; the tag filter ran server side) + 2 gets.
    expect(t.cloud.requests.arm - before).toBeGreaterThanOrEqual(3);
  });

  it('getScaleSet answers undefined for a scale set that does not exist', async () => {
    expect(await arm().getScaleSet(idOf('vmss-nope'))).toBeUndefined();
  });

  it('lists all instances with their instance view across nextLink pages', async () => {
    const before = t.cloud.requests.arm;
    const instances = await arm().listInstances(idOf('vmss-gh-linux-weu'));
    expect(instances).toHaveLength(120);
    expect(t.cloud.requests.arm - before).toBe(3);
    const i7 = instances.find((i) => i.instanceId === '7')!;
    expect(i7).toMatchObject({
      name: 'vmss-gh-linux-weu_7',
      computerName: 'vmss-gh-linux-weu-000007',
      latestModelApplied: true,
      provisioningState: 'Succeeded',
      powerState: 'running',
    });
    expect(i7.provisionedAt).toBe('2026-11-30T02:55:00.000Z');
    expect(instances.find((i) => i.instanceId === '35')!.computerName).toBe('vmss-gh-linux-weu-00000z');
  });

  it('startReimage returns once ARM accepted (202) and the instance comes back on the virtual clock', async () => {
    const client = arm();
    const opsBefore = t.cloud.world.operations.size;
    const reqBefore = t.cloud.requests.arm;
    await client.startReimage(idOf('vmss-ado-win-weu'), ['1']);
    // One POST, no polling.
    expect(t.cloud.requests.arm - reqBefore).toBe(1);
    expect(t.cloud.world.operations.size).toBe(opsBefore + 1);
    const during = (await client.listInstances(idOf('vmss-ado-win-weu'))).find((i) => i.instanceId === '1')!;
    expect(during.provisioningState).toBe('Updating');
    const agentName = during.computerName;
    expect(t.cloud.world.findAgentByName(agentName)!.status).toBe('offline');

    t.advance(6); // latency.reimage
    const after = (await client.listInstances(idOf('vmss-ado-win-weu'))).find((i) => i.instanceId === '1')!;
    expect(after.provisioningState).toBe('Succeeded');
    expect(after.provisionedAt).toBe(t.clock.now().toISOString());
    expect(t.cloud.world.findAgentByName(agentName)!.status).toBe('offline');
    t.advance(2); // latency.register
    expect(t.cloud.world.findAgentByName(agentName)!.status).toBe('online');
    expect(t.cloud.ledger.events.some((e) => e.message.includes('reimaging vmss-ado-win-weu_1'))).toBe(true);
  });

  it("reimage of an unmanaged scale set is refused with the Bicep's roles (403, nothing touched)", async () => {
    const before = t.cloud.ledger.foreignTouched;
    const err = (await arm()
      .startReimage(idOf('vmss-other-team'), ['0'])
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('HTTP 403 AuthorizationFailed');
    expect(err.message).toContain(
      `refused Microsoft.Compute/virtualMachineScaleSets/reimage/action on ${idOf('vmss-other-team')}`,
    );
    expect(t.cloud.ledger.foreignTouched).toBe(before);
    expect(t.cloud.access.failures.at(-1)).toMatchObject({
      identity: 'id-kiln-orchestrator',
      action: 'Microsoft.Compute/virtualMachineScaleSets/reimage/action',
      scope: idOf('vmss-other-team'),
      code: 'AuthorizationFailed',
    });
  });

  it('retries a 5xx (SDK retry policy) and honours Retry-After on 429', async () => {
    t.cloud.addFault({ service: 'arm', operation: 'virtualMachineScaleSets.get', status: 500, times: 1 });
    expect((await arm().getScaleSet(idOf('vmss-ado-win-weu')))?.name).toBe('vmss-ado-win-weu');
    t.cloud.addFault({
      service: 'arm',
      operation: 'virtualMachineScaleSets.get',
      status: 429,
      retryAfterSeconds: 2,
      times: 1,
    });
    const started = Date.now();
    expect((await arm().getScaleSet(idOf('vmss-ado-win-weu')))?.name).toBe('vmss-ado-win-weu');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('after its retries a persistent 503 surfaces as TransientError naming the operation and status', async () => {
    t.cloud.addFault({
      service: 'arm',
      operation: 'virtualMachineScaleSetVMs.list',
      status: 503,
      retryAfterSeconds: 0,
      times: 4,
    });
    const err = (await arm()
      .listInstances(idOf('vmss-ado-win-weu'))
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('arm listInstances vmss-ado-win-weu');
    expect(err.message).toContain('503');
    expect(err.message).not.toMatch(/eyJ/);
    // The SDK tried four times (maxRetries 3), so the fault is used up.
    expect(t.cloud.faults.fired['arm:virtualMachineScaleSetVMs.list']).toBe(4);
  });

  it('a 400 is a PermanentError', async () => {
    const err = (await arm()
      .startReimage(idOf('vmss-ado-win-weu'), ['99'])
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toMatch(/reimage vmss-ado-win-weu \[99\] failed \(HTTP 400 InvalidParameter\)/);
  });
});

describe('listAllScaleSets (what pruning keeps, S3) never reads a failed read as "no scale set"', () => {
  it('lists every scale set of the subscription, managed or not', async () => {
    const sets = await arm().listAllScaleSets();
    expect(sets.map((s) => s.name).sort()).toEqual([
      'vmss-ado-win-weu',
      'vmss-gh-linux-weu',
      'vmss-other-team',
    ]);
  });

  it('a scale set the resource list names but whose GET answers 404 fails it as transient', async () => {
    t.cloud.addFault({ service: 'arm', operation: 'virtualMachineScaleSets.get', status: 404, times: 1 });
    const err = (await arm()
      .listAllScaleSets()
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(
      /^arm listAllScaleSets failed: scale set vmss-[a-z-]+ was listed but reading it answered HTTP 404/,
    );
  });

  it('listScaleSetsByTag drops such a scale set instead: that only narrows what kiln acts on', async () => {
    t.cloud.addFault({ service: 'arm', operation: 'virtualMachineScaleSets.get', status: 404, times: 1 });
    expect(await arm().listScaleSetsByTag(t.settings.managedTag)).toHaveLength(1);
  });

  it('a resource list page without its value list (HTTP 200) is a PermanentError, not an empty subscription', async () => {
    const ca = ensureFakeCa();
    const server = await serve({
      service: 'arm',
      tls: { cert: ca.certPem, key: ca.keyPem },
      onRequest: () => {},
      handler: (req) => sendJson(req.res, 200, {}),
    });
    try {
      const client = createArmClient(
        { ...t.settings, arm: { ...t.settings.arm, endpoint: server.origin } },
        createCredential(t.settings),
      );
      for (const list of [
        () => client.listAllScaleSets(),
        () => client.listScaleSetsByTag(t.settings.managedTag),
      ]) {
        const err = (await list().catch((e: unknown) => e)) as Error;
        expect(err.name).toBe('PermanentError');
        expect(err.message).toMatch(
          /^arm list\w+ .*failed \(error\): a page of the answer \(HTTP 200\) holds no list/,
        );
      }
    } finally {
      await server.close();
    }
  });
});

describe('the fake ARM rejects what ARM rejects', () => {
  it('401 without a bearer token, in the ARM error envelope', async () => {
    const res = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`, {
      token: null,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AuthenticationFailed');
    const bad = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`, {
      token: 'forged',
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
  });

  it('401 for a token issued for another audience', async () => {
    const kvToken = await createCredential(t.settings).getToken('https://vault.localhost/.default');
    const res = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2026-04-01`, {
      token: kvToken!.token,
    });
    expect(res.status).toBe(401);
  });

  it('400 for a missing or unknown api-version', async () => {
    const missing = await armFetch(t, vmssPath(t, 'vmss-gh-linux-weu'));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'MissingApiVersionParameter',
    );
    const wrong = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}?api-version=2015-01-01`);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe(
      'InvalidApiVersionParameter',
    );
  });

  it('400 for a malformed JSON body', async () => {
    const res = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/reimage?api-version=2026-04-01`, {
      method: 'POST',
      body: '{"instanceIds": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidRequestContent');
  });

  it('404 ResourceNotFound for an unknown scale set', async () => {
    const res = await armFetch(t, `${vmssPath(t, 'vmss-ghost')}?api-version=2026-04-01`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ResourceNotFound');
  });

  it('manualupgrade without instanceIds is a 400', async () => {
    const res = await armFetch(
      t,
      `${vmssPath(t, 'vmss-gh-linux-weu')}/manualupgrade?api-version=2026-04-01`,
      { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
    );
    expect(res.status).toBe(400);
  });

  it('long-running operations answer 202 with Azure-AsyncOperation, Location and Retry-After', async () => {
    const res = await armFetch(t, `${vmssPath(t, 'vmss-gh-linux-weu')}/reimage?api-version=2026-04-01`, {
      method: 'POST',
      body: JSON.stringify({ instanceIds: ['100'] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
    const opUrl = res.headers.get('azure-asyncoperation')!;
    expect(opUrl).toContain('/providers/Microsoft.Compute/locations/westeurope/capsOperations/');
    expect(res.headers.get('location')).toContain('monitor=true');
    expect(res.headers.get('retry-after')).toBe('0');
    const poll = async () =>
      ((await (await armFetch(t, opUrl.slice(t.settings.arm.endpoint.length))).json()) as { status: string })
        .status;
    expect(await poll()).toBe('InProgress');
    t.advance(6);
    expect(await poll()).toBe('Succeeded');
    t.advance(5);
  });
});

describe('subscription and resource groups', () => {
  it('the real ResourceManagementClient lists and reads resource groups of the fake', async () => {
    const { ResourceManagementClient } = await import('@azure/arm-resources');
    const client = new ResourceManagementClient(createCredential(t.settings), t.settings.subscriptionId, {
      endpoint: t.settings.arm.endpoint,
      $host: t.settings.arm.endpoint,
      credentialScopes: [t.settings.arm.audience],
    });
    const names: string[] = [];
    for await (const g of client.resourceGroups.list()) names.push(g.name!);
    expect(names.sort()).toEqual(['rg-kiln', 'rg-kiln-images', 'rg-kiln-runners']);
    expect((await client.resourceGroups.get('rg-kiln-runners')).location).toBe('westeurope');
    await expect(client.resourceGroups.get('rg-nope')).rejects.toMatchObject({ statusCode: 404 });
  });
});
