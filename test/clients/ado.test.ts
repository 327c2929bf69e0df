/**
 * kiln's Azure DevOps client (fetch) against the fake Azure DevOps: pool lookup, agents with their
 * assigned and last completed requests, delete outcomes, Retry-After, timeouts, dropped connections, PAT and Entra auth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdoClient } from '../../src/clients/ado/index.js';
import { createCredential } from '../../src/clients/credential.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { sendJson, serve } from '../../src/local/fake-cloud/http.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { makeScenario, readEverySecret, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
const ado = (
  overrides: Partial<NonNullable<TestCloud['settings']['ado']>> = {},
  options: Parameters<typeof createAdoClient>[3] = {},
) => {
  const credential = createCredential(t.settings);
  return createAdoClient(
    { ...t.settings.ado!, ...overrides },
    createSecretReader(t.settings.keyVaultUrl, credential),
    credential,
    { backoffMs: 50, ...options },
  );
};

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
      scaleSets: [
        {
          name: 'vmss-ado-win-weu',
          image: 'windows',
          region: 'westeurope',
          capacity: 3,
          version: '2026.10.1',
          canary: true,
          managed: true,
        },
      ],
      jobs: [{ instance: 'vmss-ado-win-weu_0', minutes: 60, startAfterMinutes: 10 }],
      ghosts: { github: 0, ado: 2 },
      foreign: { github: 0, ado: 2 },
    }),
  );
  // The client with a wrong PAT stored under another name: its handling, not the Bicep's grants.
  readEverySecret(t);
});
afterAll(async () => t?.close());

describe('Azure DevOps client against the fake', () => {
  it('looks the pool up once and lists agents; a job makes an agent busy on the virtual clock', async () => {
    const client = ado();
    const before = t.cloud.requests.ado;
    const agents = await client.listAgents();
    expect(agents).toHaveLength(3 + 2 + 2);
    expect(agents.every((a) => a.poolId === 17)).toBe(true);
    const first = agents.find((a) => a.name.endsWith('000000'))!;
    expect(first).toMatchObject({ status: 'online', busy: false, enabled: true });
    expect(first.lastJobFinishedOn).toBeUndefined();
    t.advance(10);
    expect((await client.getAgent(first.id))!.busy).toBe(true);
    expect(t.cloud.requests.ado - before).toBe(3); // pools once, agents, agent
    t.advance(60);
    const done = (await client.getAgent(first.id))!;
    expect(done.busy).toBe(false);
    // The last completed request says when its job ended (hygiene's sign that a --once agent is done).
    expect(done.lastJobFinishedOn).toBe(t.cloud.world.isoNow());
    expect((await client.findAgentsByName(first.name))[0]!.lastJobFinishedOn).toBe(done.lastJobFinishedOn);
  });

  it('findAgentsByName, enable/disable', async () => {
    const client = ado();
    const name = (await client.listAgents())[1]!.name;
    const [agent] = await client.findAgentsByName(name);
    expect(agent).toBeDefined();
    // The Windows agent's NetBIOS name is upper case; Azure DevOps matches names without case.
    expect(await client.findAgentsByName(name.toUpperCase())).toEqual([agent]);
    expect(await client.findAgentsByName(`${name}x`)).toEqual([]);
    expect((await client.setAgentEnabled(agent!.id, false))!.enabled).toBe(false);
    expect((await client.getAgent(agent!.id))!.enabled).toBe(false);
    expect((await client.setAgentEnabled(agent!.id, true))!.enabled).toBe(true);
    expect(await client.setAgentEnabled(987654, true)).toBeUndefined();
  });

  it('delete: 204 → deleted, 404 → gone', async () => {
    const client = ado();
    const ghost = (await client.listAgents()).find(
      (a) => a.status === 'offline' && a.name.startsWith('adowin'),
    )!;
    expect(await client.deleteAgent(ghost.id)).toBe('deleted');
    expect(await client.deleteAgent(ghost.id)).toBe('gone');
    expect(await client.getAgent(ghost.id)).toBeUndefined();
    expect(t.cloud.ledger.deleted.adoAgents).toContain(ghost.name);
  });

  it('deleting a busy agent is allowed by Azure DevOps, and the ledger counts the interrupted job', async () => {
    const client = ado();
    const foreignBusy = (await client.listAgents()).find((a) => a.busy)!;
    expect(foreignBusy.name).toMatch(/^build-agent-/);
    const before = { jobs: t.cloud.ledger.jobsInterrupted, foreign: t.cloud.ledger.foreignTouched };
    expect(await client.deleteAgent(foreignBusy.id)).toBe('deleted');
    expect(t.cloud.ledger.jobsInterrupted).toBe(before.jobs + 1);
    expect(t.cloud.ledger.foreignTouched).toBe(before.foreign + 1);
  });

  it('honours Retry-After on 429 and retries 5xx', async () => {
    const client = ado();
    await client.listAgents();
    t.cloud.addFault({
      service: 'ado',
      operation: 'listAgents',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const started = Date.now();
    await client.listAgents();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    t.cloud.addFault({ service: 'ado', operation: 'deleteAgent', status: 503, times: 2 });
    expect(await client.deleteAgent(424242)).toBe('gone');
    expect(t.cloud.faults.fired['ado:deleteAgent']).toBe(2);
  });

  it('gives up after bounded attempts with a TransientError naming the operation', async () => {
    const client = ado({}, { maxAttempts: 3 });
    await client.listAgents();
    t.cloud.addFault({ service: 'ado', operation: 'getAgent', status: 500, times: 3 });
    const err = (await client.getAgent(101).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/^ado GET \/pools\/17\/agents\/101 failed \(HTTP 500\)/);
  });

  it('times out a request that never answers and retries a dropped connection', async () => {
    const client = ado({}, { timeoutMs: 300, maxAttempts: 2 });
    await client.listAgents();
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 0, times: 1 });
    expect((await client.listAgents()).length).toBeGreaterThan(0);
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', hang: true, times: 2 });
    const err = (await client.listAgents().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('network error');
  });

  it('authenticates with an Entra token for the Azure DevOps resource', async () => {
    const agents = await ado({ auth: 'entra' }).listAgents();
    expect(agents.length).toBeGreaterThan(0);
  });

  it("gives its own credential as the agents' registration secret: the PAT, or an Entra token for Azure DevOps", async () => {
    const pat = await ado().agentRegistrationSecret();
    expect(pat).toBe(
      await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
        t.settings.ado!.patSecret,
      ),
    );
    const token = await ado({ auth: 'entra' }).agentRegistrationSecret();
    expect(t.cloud.tokens.check(token, '499b84ac-1321-427f-aa17-267ca6975798')).toBe('ok');
    // Either is what config.cmd --auth pat sends: Basic with an empty user name.
    for (const secret of [pat, token]) {
      const response = await fetch(`${t.settings.ado!.orgUrl}/_apis/distributedtask/pools?api-version=7.1`, {
        headers: { authorization: `Basic ${Buffer.from(`:${secret}`).toString('base64')}` },
      });
      expect(response.status).toBe(200);
    }
    const missing = (await ado({ patSecret: 'ado-pat-missing' })
      .agentRegistrationSecret()
      .catch((e: unknown) => e)) as Error;
    expect(missing.message).toMatch(/^keyvault getSecret ado-pat-missing failed \(HTTP 404/);
  });

  it('a wrong PAT is a PermanentError without the PAT in it', async () => {
    const wrong = 'wrongpatwrongpatwrongpatwrongpat0123';
    t.cloud.setSecret('ado-pat-wrong', wrong);
    const err = (await ado({ patSecret: 'ado-pat-wrong' })
      .listAgents()
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('401');
    expect(err.message).not.toContain(wrong);
  });
});

describe('a failed list is never an empty pool', () => {
  it('a 404 on the agents list is a PermanentError naming the operation and status', async () => {
    const client = ado();
    const name = (await client.listAgents())[0]!.name;
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 404, times: 1 });
    const err = (await client.listAgents().catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toMatch(/^ado GET \/pools\/17\/agents failed \(HTTP 404\)/);
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 404, times: 1 });
    const byName = (await client.findAgentsByName(name).catch((e: unknown) => e)) as Error;
    expect(byName.name).toBe('PermanentError');
    expect(byName.message).toMatch(/^ado GET \/pools\/17\/agents failed \(HTTP 404\)/);
  });

  it('after a 404 on the agents list the pool is looked up again (it may have a new id)', async () => {
    const client = ado();
    await client.listAgents();
    t.cloud.addFault({ service: 'ado', operation: 'listAgents', status: 404, times: 1 });
    await client.listAgents().catch(() => undefined);
    const from = t.cloud.requestLog.length;
    expect((await client.listAgents()).length).toBeGreaterThan(0);
    expect(
      t.cloud.requestLog.slice(from).map((r) => r.path.replace(/^.*\/_apis\/distributedtask/, '')),
    ).toEqual(['/pools', '/pools/17/agents']);
  });

  it('a 404 on the pool lookup (a wrong organisation URL) is a PermanentError with the status, not "no pool"', async () => {
    const wrongOrg = (await ado({ orgUrl: `${t.settings.ado!.orgUrl}-wrong` })
      .listAgents()
      .catch((e: unknown) => e)) as Error;
    expect(wrongOrg.name).toBe('PermanentError');
    expect(wrongOrg.message).toMatch(/^ado GET \/pools failed \(HTTP 404\)/);
    t.cloud.addFault({ service: 'ado', operation: 'getPools', status: 404, times: 1 });
    const injected = (await ado()
      .findAgentsByName('any')
      .catch((e: unknown) => e)) as Error;
    expect(injected.name).toBe('PermanentError');
    expect(injected.message).toMatch(/^ado GET \/pools failed \(HTTP 404\)/);
  });

  it('a 404 about one agent still means that agent is gone', async () => {
    const client = ado();
    expect(await client.getAgent(987654)).toBeUndefined();
    expect(await client.deleteAgent(987654)).toBe('gone');
    expect(await client.setAgentEnabled(987654, false)).toBeUndefined();
  });

  it('an answer that is not a list (HTTP 200, an HTML page) is a PermanentError, never an empty pool', async () => {
    const ca = ensureFakeCa();
    const server = await serve({
      service: 'ado',
      tls: { cert: ca.certPem, key: ca.keyPem },
      onRequest: () => {},
      handler: (req) => {
        if (/\/pools$/.test(req.url.pathname))
          return sendJson(req.res, 200, { count: 1, value: [{ id: 17, name: t.settings.ado!.pool }] });
        req.res.writeHead(200, { 'content-type': 'text/html' });
        req.res.end('<html><body>Sign in</body></html>');
      },
    });
    try {
      const client = createAdoClient(
        { ...t.settings.ado!, orgUrl: `${server.origin}/acme` },
        { getSecret: async () => 'pat' },
        createCredential(t.settings),
      );
      for (const list of [() => client.listAgents(), () => client.findAgentsByName('x')]) {
        const err = (await list().catch((e: unknown) => e)) as Error;
        expect(err.name).toBe('PermanentError');
        expect(err.message).toMatch(
          /^ado GET \/pools\/17\/agents failed: the answer \(HTTP 200\) holds no list/,
        );
      }
    } finally {
      await server.close();
    }
  });
});

describe('each request stays within its deadline', () => {
  it('a Retry-After longer than the client waits fails the request as transient at once', async () => {
    const client = ado();
    await client.listAgents();
    const fired = t.cloud.faults.fired['ado:getAgent'] ?? 0;
    t.cloud.addFault({
      service: 'ado',
      operation: 'getAgent',
      status: 429,
      retryAfterSeconds: 3600,
      times: 1,
    });
    const err = (await client.getAgent(101).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('HTTP 429');
    expect(t.cloud.faults.fired['ado:getAgent']).toBe(fired + 1);
  });

  it('no attempt starts past the deadline: an attempt that hangs uses it up', async () => {
    // Without the deadline the hung attempt would time out after 10 s and the next one succeed.
    const client = ado({}, { deadlineMs: 400, timeoutMs: 10_000, maxAttempts: 5 });
    await client.listAgents();
    t.cloud.addFault({ service: 'ado', operation: 'getAgent', hang: true, times: 1 });
    const err = (await client.getAgent(101).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('network error');
  });
});

describe('the fake Azure DevOps rejects what Azure DevOps rejects', () => {
  it('401 without credentials, 400 for a missing or wrong api-version', async () => {
    const base = `${t.settings.ado!.orgUrl}/_apis/distributedtask/pools`;
    expect((await fetch(`${base}?api-version=7.1`)).status).toBe(401);
    const pat = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
      'ado-pat',
    );
    const auth = { authorization: `Basic ${Buffer.from(`:${pat}`).toString('base64')}` };
    expect((await fetch(`${base}?api-version=7.1`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}?api-version=7.1-preview.1`, { headers: auth })).status).toBe(200);
    const missing = await fetch(base, { headers: auth });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { typeKey: string }).typeKey).toBe('VssVersionNotSpecifiedException');
    expect((await fetch(`${base}?api-version=5.0`, { headers: auth })).status).toBe(400);
  });

  it('400 for a malformed PATCH body', async () => {
    const pat = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
      'ado-pat',
    );
    const res = await fetch(
      `${t.settings.ado!.orgUrl}/_apis/distributedtask/pools/17/agents/101?api-version=7.1`,
      {
        method: 'PATCH',
        headers: {
          authorization: `Basic ${Buffer.from(`:${pat}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: '{"enabled": fal',
      },
    );
    expect(res.status).toBe(400);
  });
});
