import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestedJson, signAttestedDocument } from '../../src/local/fake-cloud/attested-document.js';
import { REGISTRATION_AUDIENCE } from '../../src/local/fake-cloud/index.js';
import { issueLeaf } from '../../src/local/fake-cloud/tls.js';
import { entraClaims, SigningKey } from '../../src/local/fake-cloud/tokens.js';
import { DEFAULT_NAMES } from '../../src/local/fake-cloud/world.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { brokerHarness } from './harness.js';

// POST /api/registrations through the local host, over the fake cloud: the VM's token and attested
// document come from the fake IMDS, the token is verified by `jose` against the fake authority's
// metadata and keys, the document by pkijs against the fake CA (trusted through NODE_EXTRA_CA_CERTS),
// and the JIT config comes from the fake GitHub. Each refusal is one attack the broker must stop.
const h = brokerHarness();
const TENANT = DEFAULT_NAMES.tenantId;

beforeAll(() =>
  h.start(
    parseScenario(
      `
version: 1
name: registration-broker
timers: false
until: 2026-12-01T03:00:00Z
gallery:
  regions: [westeurope]
  existingVersions: { linux: [2026.10.1], windows: [2026.10.1] }
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 5 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 1 }
  - { name: vmss-unmanaged, image: linux, region: westeurope, capacity: 1, managed: false }
`,
      'registration-broker.yaml',
    ),
  ),
);
afterAll(() => h.sim?.close());

const { imdsToken, attested, register, freshBoot, instances, world } = h;
const sim = () => h.sim;

function removeRunner(computerName: string) {
  const runner = world().findRunnerByName(computerName);
  if (runner) world().runners.delete(runner.id);
}

/** Claims as the fake IMDS gives the Linux runners' identity, for hand-made tokens. */
function runnerClaims(expiresAtMs = Date.now() + 3600_000) {
  const identity = world().scaleSetIdentity(world().findScaleSet('vmss-gh-linux-weu')!);
  return entraClaims(REGISTRATION_AUDIENCE, expiresAtMs, {
    appid: identity.clientId,
    oid: identity.principalId,
    tid: TENANT,
    xms_mirid: identity.resourceId,
  });
}

describe('POST /api/registrations', () => {
  it('gives an unregistered instance of a managed scale set one ephemeral JIT config, which starts once', async () => {
    const [inst] = instances('vmss-gh-linux-weu');
    freshBoot(inst!);
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.json.name).toBe(inst!.computerName);
    const encoded = answer.json.encoded_jit_config!;
    const runner = world().findRunnerByName(inst!.computerName)!;
    expect(runner).toMatchObject({ ephemeral: true, status: 'offline' });
    expect(runner.labels.map((l) => l.name)).toEqual(['self-hosted', 'linux', 'x64']);

    // A job is queued for this instance; it starts once the runner is online.
    world().jobs.push({ id: 9001, instance: inst!.name, minutes: 5, state: 'pending' });
    expect(world().startJitRunner(encoded)).toMatchObject({ ok: true });
    expect(runner).toMatchObject({ status: 'online', busy: true });
    // Replaying the config (a job that read it from the VM) is refused by GitHub.
    expect(world().startJitRunner(encoded)).toEqual({
      ok: false,
      reason: 'a runner already started with this config',
    });

    // The job asks the broker for another config with the VM's identity: the instance has a runner.
    const again = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already registered/);
    expect(again.json.reason).toBe('registered');

    // The job ends; GitHub removes the ephemeral runner, and its config stays useless.
    const clock = world().clock;
    clock.advanceTo(clock.nowMs() + 6 * 60_000);
    clock.runDue();
    expect(world().findRunnerByName(inst!.computerName)).toBeUndefined();
    expect(world().startJitRunner(encoded)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not registered/),
    });
  });

  it('refuses a second config for the same provisioning even after its ephemeral runner is gone (409)', async () => {
    const [inst] = instances('vmss-gh-linux-weu');
    removeRunner(inst!.computerName);
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status).toBe(409);
    expect(answer.json.error).toMatch(/since it was provisioned/);
    expect(answer.json.reason).toBe('already-issued');
  });

  it('refuses an instance whose runner is registered (409), e.g. a job running on it', async () => {
    const [, inst] = instances('vmss-gh-linux-weu');
    expect(world().findRunnerByName(inst!.computerName)).toBeDefined();
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status).toBe(409);
  });

  it("replaces an offline runner of the instance's name (left by a reimage outside kiln), never an online or busy one", async () => {
    const inst = instances('vmss-gh-linux-weu')[4];
    const left = world().findRunnerByName(inst!.computerName)!;
    left.status = 'offline';
    freshBoot(inst!, { keepRegistration: true });
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
    expect(world().ledger.deleted.githubRunners).toContain(inst!.computerName);
    const now = world().findRunnerByName(inst!.computerName)!;
    expect(now.id).not.toBe(left.id);
    expect(now.ephemeral).toBe(true);
  });

  it('refuses an instance provisioned longer ago than the boot deadline (403): a job cannot register in the name of a long-lived instance', async () => {
    const [, inst] = instances('vmss-gh-linux-weu');
    removeRunner(inst!.computerName);
    inst!.provisionedAt = world().clock.nowMs() - 21 * 60_000;
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status).toBe(403);
    expect(answer.json.error).toMatch(/registration window is closed/);
    expect(answer.json.reason).toBe('window-closed');
    expect(world().findRunnerByName(inst!.computerName)).toBeUndefined();
  });

  it('refuses without a valid token (401), and says why without echoing it', async () => {
    const [, , inst] = instances('vmss-gh-linux-weu');
    freshBoot(inst!);
    const name = inst!.computerName;
    const forger = new SigningKey();
    const cases: [string, string | undefined, RegExp][] = [
      ['no token', undefined, /Bearer header/],
      ['garbage', 'not-a-jwt', /well-formed/],
      ['another audience', await imdsToken(inst!.name, 'https://management.azure.com/'), /audience/],
      ['expired', sim().cloud.tokens.signingKey.signJwt(runnerClaims(Date.now() - 3 * 3600_000)), /expired/],
      [
        'another tenant',
        sim().cloud.tokens.signingKey.signJwt({
          ...runnerClaims(),
          tid: '99999999-9999-4999-8999-999999999999',
        }),
        /another tenant/,
      ],
      [
        "another tenant's issuer",
        sim().cloud.tokens.signingKey.signJwt({
          ...runnerClaims(),
          iss: 'https://sts.windows.net/99999999-9999-4999-8999-999999999999/',
        }),
        /issuer/,
      ],
      // Signed by a key the authority does not publish, under the published key's id, and under its own.
      ['forged signature', forger.signJwt(runnerClaims(), sim().cloud.tokens.signingKey.kid), /signature/],
      ['unknown key', forger.signJwt(runnerClaims()), /key the identity provider does not publish/],
    ];
    for (const [what, token, reason] of cases) {
      const answer = await register(token, name);
      expect(answer.status, what).toBe(401);
      expect(answer.json.error, what).toMatch(reason);
      if (token) expect(answer.body, what).not.toContain(token);
    }
    expect(world().findRunnerByName(name)).toBeUndefined();
  });

  it('refuses identities that are no managed scale set, and instances not in it (403)', async () => {
    const [linux] = instances('vmss-gh-linux-weu');
    const [unmanaged] = instances('vmss-unmanaged');
    const plainVm = sim().cloud.tokens.issueFor(REGISTRATION_AUDIENCE, {
      appid: '55555555-5555-4555-8555-000000000002',
      oid: '55555555-5555-4555-8555-000000000001',
      tid: TENANT,
      xms_mirid: `/subscriptions/${DEFAULT_NAMES.subscriptionId}/resourcegroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm-build`,
    }).token;
    const cases: [string, string, string, RegExp][] = [
      [
        'unmanaged scale set',
        await imdsToken(unmanaged!.name),
        unmanaged!.computerName,
        /no scale set kiln manages/,
      ],
      ['plain VM', plainVm, linux!.computerName, /virtual machine/],
      [
        'instance of another scale set',
        await imdsToken(linux!.name),
        unmanaged!.computerName,
        /no instance named/,
      ],
    ];
    for (const [what, token, instance, reason] of cases) {
      const answer = await register(token, instance);
      expect(answer.status, what).toBe(403);
      expect(answer.json.error, what).toMatch(reason);
    }
  });

  it("accepts a scale set's system-assigned identity (xms_mirid names the scale set)", async () => {
    const set = world().findScaleSet('vmss-gh-linux-weu')!;
    const [, , inst] = instances('vmss-gh-linux-weu');
    freshBoot(inst!);
    const token = sim().cloud.tokens.issueFor(REGISTRATION_AUDIENCE, {
      appid: '77777777-7777-4777-8777-000000000002',
      oid: '77777777-7777-4777-8777-000000000001',
      tid: TENANT,
      // Entra writes the resource group segment in lower case.
      xms_mirid: set.id.replace('/resourceGroups/', '/resourcegroups/'),
    }).token;
    const answer = await register(token, inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
  });

  it('lets an instance register again once it was provisioned again (a reimage)', async () => {
    const [inst] = instances('vmss-gh-linux-weu');
    freshBoot(inst!);
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(200);
  });

  it("binds a request to its VM: a job on one instance cannot take another's registration, even from the same scale set", async () => {
    // A new provisioning of B a minute on (the tests above registered B's last one).
    const clock = world().clock;
    clock.advanceTo(clock.nowMs() + 60_000);
    clock.runDue();
    const [a, , b] = instances('vmss-gh-linux-weu');
    expect(world().findRunnerByName(a!.computerName)).toBeDefined();
    freshBoot(b!);
    const githubBefore = sim().cloud.requests.github;

    // A job on A has A's identity (the scale set's) and A's IMDS: it asks in B's name.
    const tokenOfA = await imdsToken(a!.name);
    const fromA = await register(tokenOfA, b!.computerName, await attested(a!.name));
    expect(fromA.status, fromA.body).toBe(403);
    expect(fromA.json.error).toBe(
      `the attested document is from another VM (vmId ${a!.vmId}) than ${b!.computerName} (vmId ${b!.vmId}): a VM may only register itself`,
    );
    // It cannot make B's document either: one naming B's vmId, signed by a metadata.azure.com
    // certificate of any CA but Azure's (here the job's own), is refused.
    const jobCa = ensureFakeCa(mkdtempSync(join(tmpdir(), 'kiln-job-ca-')));
    const jobCertificate = issueLeaf(jobCa, ['metadata.azure.com']);
    const forged = await signAttestedDocument(
      attestedJson({
        nonce: '0123456789',
        vmId: b!.vmId,
        subscriptionId: DEFAULT_NAMES.subscriptionId,
        createdAtMs: Date.now(),
      }),
      { certPem: jobCertificate.cert, keyPem: jobCertificate.key },
    );
    h.documents.push(forged);
    const forgedAnswer = await register(tokenOfA, b!.computerName, forged);
    expect(forgedAnswer.status).toBe(403);
    expect(forgedAnswer.json.error).toMatch(/signer is not trusted/);
    // Without a document, or with something else, it is told how to get one.
    for (const [what, document] of [
      ['no document', null],
      ['not a document', 'not-a-document'],
    ] as const) {
      const answer = await register(tokenOfA, b!.computerName, document);
      expect(answer.status, what).toBe(400);
      expect(answer.json.error, what).toMatch(/attestedDocument|attested document/);
      expect(answer.json.error, what).toContain('/metadata/attested/document?api-version=2018-10-01&nonce=');
    }
    // None of that reached GitHub, and B is still free to register itself.
    expect(sim().cloud.requests.github).toBe(githubBefore);
    expect(world().findRunnerByName(b!.computerName)).toBeUndefined();
    const own = await register(await imdsToken(b!.name), b!.computerName);
    expect(own.status, own.body).toBe(200);
    expect(own.json.name).toBe(b!.computerName);
  });

  it('answers 400 naming the field for a bad body', async () => {
    const response = await sim().host.invokeHttp({
      method: 'POST',
      path: '/api/registrations',
      body: JSON.stringify({ instance: '../etc', extra: 1 }),
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatch(/extra|instance/);
  });

  it('answers 429 with Retry-After when GitHub rate-limits kiln itself', async () => {
    const [, , , inst] = instances('vmss-gh-linux-weu');
    freshBoot(inst!);
    sim().cloud.addFault({
      service: 'github',
      operation: 'generateJitConfig',
      status: 403,
      retryAfterSeconds: 120,
      times: 1,
    });
    const answer = await register(await imdsToken(inst!.name), inst!.computerName);
    expect(answer.status, answer.body).toBe(429);
    expect(answer.headers['retry-after']).toBe('60');
    expect(answer.json.error).toMatch(/GitHub is rate limiting kiln/);
    expect(answer.json.reason).toBe('service-rate-limited');
    // Nothing was registered: the VM asks again later and gets its config.
    expect(world().findRunnerByName(inst!.computerName)).toBeUndefined();
  });

  it('paces a flood with 429 and Retry-After instead of meeting GitHub rate limits', async () => {
    const all = instances('vmss-gh-linux-weu');
    const tokens = await Promise.all(all.map((i) => imdsToken(i.name)));
    const documents = await Promise.all(all.map((i) => attested(i.name)));
    const githubBefore = sim().cloud.requests.github;
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, n) =>
        register(tokens[n % all.length], all[n % all.length]!.computerName, documents[n % all.length]),
      ),
    );
    const statuses = new Set(answers.map((a) => a.status));
    expect(
      [...statuses].every((s) => [200, 403, 409, 429].includes(s)),
      [...statuses].join(),
    ).toBe(true);
    // Unpaced, 1,000 look-ups in one virtual minute would pass GitHub's 900 points a minute.
    expect(answers.filter((a) => /GitHub is rate limiting/.test(a.body))).toEqual([]);
    const paced = answers.filter((a) => a.status === 429);
    expect(paced.length).toBeGreaterThan(0);
    for (const a of paced) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(a.json.error).toMatch(/pacing/);
    }
    // At most the pace (30 a minute, less what the tests above took) reached GitHub, two requests each.
    expect(sim().cloud.requests.github - githubBefore).toBeLessThanOrEqual(2 * 30 + 2);
  });

  it('never logs a token or a JIT config, nor an attested document', () => {
    expect(h.secrets.length).toBeGreaterThan(5);
    expect(h.documents.length).toBeGreaterThan(5);
    const text = h.logs.join('\n');
    expect(text).toMatch(/registration of .* refused/);
    for (const secret of h.secrets) expect(text).not.toContain(secret);
    for (const document of h.documents) expect(text).not.toContain(document.slice(0, 64));
  });
});
