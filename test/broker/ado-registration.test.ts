import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRATION_AUDIENCE } from '../../src/local/fake-cloud/index.js';
import { entraClaims } from '../../src/local/fake-cloud/tokens.js';
import { DEFAULT_NAMES } from '../../src/local/fake-cloud/world.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { brokerHarness } from './harness.js';

// POST /api/registrations for Azure DevOps agents, through the local host over the fake cloud: the
// VM's token comes from the fake IMDS and is verified against the fake authority; the agent check
// asks the fake Azure DevOps; the secret comes from the fake Key Vault (ADO_AUTH=pat) or is an Entra
// token of kiln's identity (ADO_AUTH=entra). Each refusal is one attack the broker must stop.
const TENANT = DEFAULT_NAMES.tenantId;
const ADO_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';
const ADO_PAT = 'adobrokersentinelpat0123456789abcdefghijklmnopqrs';

const scenario = () =>
  parseScenario(
    `
version: 1
name: ado-registration
timers: false
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 2 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 6 }
  - { name: vmss-unmanaged-win, image: windows, region: westeurope, capacity: 1, managed: false }
jobs:
  - { instance: vmss-ado-win-weu_1, minutes: 600 }
registration: { ado: broker }
`,
    'ado-registration.yaml',
  );

/** The broker over one simulation of the scenario, for the tests of the enclosing describe. */
function simulated(settings: Record<string, string> = {}) {
  const h = brokerHarness();
  beforeAll(() => h.start(scenario(), { settings, secrets: { adoPat: ADO_PAT } }));
  afterAll(() => h.sim?.close());
  return h;
}

/** What `config.cmd --auth pat` does with the secret: Basic with an empty user name. */
async function adoAccepts(h: ReturnType<typeof brokerHarness>, secret: string): Promise<number> {
  const url = `${h.sim.cloud.urls.ado}/_apis/distributedtask/pools?poolName=${encodeURIComponent(DEFAULT_NAMES.adoPoolName)}&api-version=7.1`;
  const response = await fetch(url, {
    headers: { authorization: `Basic ${Buffer.from(`:${secret}`).toString('base64')}` },
  });
  return response.status;
}

describe('POST /api/registrations for Azure DevOps agents (ADO_AUTH=pat)', () => {
  const h = simulated();

  it('gives an instance with no agent the registration secret, which registers as config.cmd uses it', async () => {
    const [inst] = h.instances('vmss-ado-win-weu');
    h.freshBoot(inst!);
    const answer = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
    expect(Object.keys(answer.json).sort()).toEqual(['name', 'token']);
    expect(answer.json.name).toBe(inst!.computerName);
    // kiln's own PAT, read from Key Vault with kiln's identity: the VM's identity reads no secret.
    expect(answer.json.token).toBe(ADO_PAT);
    expect(await adoAccepts(h, answer.json.token!)).toBe(200);
    // What the simulator's agent VMs configure with: the fake Azure DevOps takes it too.
    expect(h.sim.cloud.acceptsAdoPat(answer.json.token!)).toBe(true);
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('refuses a second ask for the same provisioning (409), even before the agent registered', async () => {
    const [inst] = h.instances('vmss-ado-win-weu');
    expect(h.world().findAgentByName(inst!.computerName)).toBeUndefined();
    const again = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already gave .* a registration secret since it was provisioned/);
    expect(again.body).not.toContain(ADO_PAT);
  });

  it('refuses an instance whose agent is online (409): a job on the agent cannot fetch the secret', async () => {
    const [, busy, idle] = h.instances('vmss-ado-win-weu');
    // A job runs on one agent; the other is online and idle. A job asks the broker with the VM's
    // identity, in the agent's name and in the upper-case NetBIOS name Windows gives the machine.
    expect(h.world().findAgentByName(busy!.computerName)?.assignedRequest).toBeDefined();
    expect(h.world().findAgentByName(idle!.computerName)).toMatchObject({ status: 'online' });
    for (const inst of [busy!, idle!]) {
      // Within the boot deadline, so only the agent check stands between the job and the secret.
      inst.provisionedAt = h.world().clock.nowMs();
      for (const name of [inst.computerName, inst.computerName.toUpperCase()]) {
        const answer = await h.register(await h.imdsToken(inst.name), name);
        expect(answer.status, name).toBe(409);
        expect(answer.json.error).toMatch(
          /an agent named .* is online or running a job: one agent per instance/,
        );
        expect(answer.body).not.toContain(ADO_PAT);
      }
    }
  });

  it('answers an instance whose agent went offline with its reimage: config.cmd --replace takes the agent over', async () => {
    const [, , , , , inst] = h.instances('vmss-ado-win-weu');
    const agent = h.world().findAgentByName(inst!.computerName)!;
    // What a reimage or an upgrade leaves: Azure DevOps keeps the agent, offline, and the VM boots anew.
    agent.status = 'offline';
    inst!.provisionedAt = h.world().clock.nowMs();
    const answer = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.json.token).toBe(ADO_PAT);
  });

  it('refuses an instance provisioned longer ago than the boot deadline (403)', async () => {
    const [, , inst] = h.instances('vmss-ado-win-weu');
    h.freshBoot(inst!);
    inst!.provisionedAt = h.world().clock.nowMs() - 21 * 60_000;
    const answer = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(answer.status).toBe(403);
    expect(answer.json.error).toMatch(/registration window is closed/);
  });

  it('refuses a token for another audience (401) and identities that are no managed scale set (403)', async () => {
    const [, , , inst] = h.instances('vmss-ado-win-weu');
    const [unmanaged] = h.instances('vmss-unmanaged-win');
    h.freshBoot(inst!);
    const armToken = await h.imdsToken(inst!.name, 'https://management.azure.com/');
    const wrongAudience = await h.register(armToken, inst!.computerName);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.json.error).toMatch(/audience/);
    expect(wrongAudience.body).not.toContain(armToken);

    const plainVm = h.sim.cloud.tokens.issueFor(REGISTRATION_AUDIENCE, {
      appid: '55555555-5555-4555-8555-000000000002',
      oid: '55555555-5555-4555-8555-000000000001',
      tid: TENANT,
      xms_mirid: `/subscriptions/${DEFAULT_NAMES.subscriptionId}/resourcegroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm-build`,
    }).token;
    const cases: [string, string, string, RegExp][] = [
      ['plain VM', plainVm, inst!.computerName, /virtual machine/],
      [
        'unmanaged scale set',
        await h.imdsToken(unmanaged!.name),
        unmanaged!.computerName,
        /no scale set kiln manages/,
      ],
    ];
    for (const [what, token, instance, reason] of cases) {
      const answer = await h.register(token, instance);
      expect(answer.status, what).toBe(403);
      expect(answer.json.error, what).toMatch(reason);
    }
    // None of it left the instance's window used up: it still gets its secret.
    const own = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(own.status, own.body).toBe(200);
  });

  it('never gives a GitHub instance the Azure DevOps secret, nor a Windows instance a GitHub config', async () => {
    const [linux] = h.instances('vmss-gh-linux-weu');
    const [, , , , windows] = h.instances('vmss-ado-win-weu');
    h.freshBoot(linux!);
    h.freshBoot(windows!);
    // Each identity asking in the name of an instance of the other fleet: not its scale set's.
    const linuxToken = await h.imdsToken(linux!.name);
    const windowsToken = await h.imdsToken(windows!.name);
    for (const [token, instance] of [
      [linuxToken, windows!.computerName],
      [windowsToken, linux!.computerName],
    ] as const) {
      const answer = await h.register(token, instance);
      expect(answer.status, instance).toBe(403);
      expect(answer.json.error).toMatch(/no instance named/);
    }

    // An identity that speaks for both fleets (here: the runner identity's object id with the agent
    // identity's client id): the instance's own scale set decides what it gets.
    const world = h.world();
    const runnerIdentity = world.scaleSetIdentity(world.findScaleSet('vmss-gh-linux-weu')!);
    const agentIdentity = world.scaleSetIdentity(world.findScaleSet('vmss-ado-win-weu')!);
    const both = h.sim.cloud.tokens.signingKey.signJwt(
      entraClaims(REGISTRATION_AUDIENCE, Date.now() + 3600_000, {
        oid: runnerIdentity.principalId,
        appid: agentIdentity.clientId,
        tid: TENANT,
      }),
    );
    const forLinux = await h.register(both, linux!.computerName);
    expect(forLinux.status, forLinux.body).toBe(200);
    expect(Object.keys(forLinux.json).sort()).toEqual(['encoded_jit_config', 'name']);
    expect(forLinux.body).not.toContain(ADO_PAT);
    const forWindows = await h.register(both, windows!.computerName);
    expect(forWindows.status, forWindows.body).toBe(200);
    expect(Object.keys(forWindows.json).sort()).toEqual(['name', 'token']);
    expect(forWindows.json.token).toBe(ADO_PAT);
  });

  it('answers 503 with Retry-After when Azure DevOps cannot be asked, and gives nothing', async () => {
    const [inst] = h.instances('vmss-ado-win-weu');
    h.freshBoot(inst!);
    // Every attempt of the client fails (nothing in this simulation asks Azure DevOps afterwards).
    h.sim.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 503, times: 10 });
    const answer = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(503);
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.json.error).toMatch(
      /could not prepare an Azure DevOps registration: ado GET .* failed \(HTTP 503/,
    );
    expect(answer.body).not.toContain(ADO_PAT);
  });

  it('never logs a token or the registration secret', () => {
    expect(h.secrets).toContain(ADO_PAT);
    const text = h.logs.join('\n');
    expect(text).toMatch(/gave .* the Azure DevOps registration secret \(the PAT in ado-pat\)/);
    expect(text).toMatch(/registration of .* refused \(409 registered\)/);
    for (const secret of h.secrets) expect(text).not.toContain(secret);
  });
});

describe('POST /api/registrations for Azure DevOps agents (ADO_AUTH=entra)', () => {
  const h = simulated({ ADO_AUTH: 'entra' });

  it("gives an instance with no agent an Entra token of kiln's identity for Azure DevOps, never the PAT", async () => {
    const [inst] = h.instances('vmss-ado-win-weu');
    h.freshBoot(inst!);
    const answer = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
    const token = answer.json.token!;
    expect(token).not.toBe(ADO_PAT);
    expect(h.sim.cloud.tokens.check(token, ADO_RESOURCE)).toBe('ok');
    expect(h.sim.cloud.tokens.clientIdOf(token)).toBe(h.sim.cloud.env.AZURE_CLIENT_ID);
    expect(await adoAccepts(h, token)).toBe(200);
    expect(h.sim.cloud.acceptsAdoPat(token)).toBe(true);

    const again = await h.register(await h.imdsToken(inst!.name), inst!.computerName);
    expect(again.status).toBe(409);
    const text = h.logs.join('\n');
    expect(text).toMatch(/an Entra token of kiln's identity, ADO_AUTH=entra/);
    for (const secret of h.secrets) expect(text).not.toContain(secret);
  });
});

describe('POST /api/registrations without Azure DevOps settings', () => {
  const h = simulated({ ADO_ORG_URL: '' });

  it('refuses a Windows instance (403), saying which setting is missing, and still serves GitHub', async () => {
    const [windows] = h.instances('vmss-ado-win-weu');
    const [linux] = h.instances('vmss-gh-linux-weu');
    h.freshBoot(windows!);
    h.freshBoot(linux!);
    const refused = await h.register(await h.imdsToken(windows!.name), windows!.computerName);
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatch(
      /Azure DevOps agent fleet, and kiln has no Azure DevOps settings \(ADO_ORG_URL\)/,
    );
    const runner = await h.register(await h.imdsToken(linux!.name), linux!.computerName);
    expect(runner.status, runner.body).toBe(200);
  });
});
