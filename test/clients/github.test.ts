/**
 * The real Octokit client (throttling + retry plugins, GitHub App auth) against the fake GitHub:
 * App installation-token flow, Link pagination past 100 runners, 404/422 on delete, Retry-After on
 * 429, 5xx retried, rejected credentials.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createGitHubClient } from '../../src/clients/github/index.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { sendJson, serve } from '../../src/local/fake-cloud/http.js';
import { ensureFakeCa } from '../../src/local/tls/fake-ca.js';
import { makeScenario, readEverySecret, startTestCloud, type TestCloud } from '../fakes/helpers.js';

let t: TestCloud;
const github = (
  overrides: Partial<NonNullable<TestCloud['settings']['github']>> = {},
  options: Parameters<typeof createGitHubClient>[2] = {},
) =>
  createGitHubClient(
    { ...t.settings.github!, ...overrides },
    createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
    { writeSpacingMs: 0, ...options },
  );

beforeAll(async () => {
  t = await startTestCloud(
    makeScenario({
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
      ],
      jobs: [{ instance: 'vmss-gh-linux-weu_1', minutes: 120, startAfterMinutes: 0 }],
      ghosts: { github: 230, ado: 0 },
      foreign: { github: 3, ado: 0 },
    }),
  );
  // The client is tried with the App key and with the PAT in one file.
  readEverySecret(t);
  t.advance(0);
});
afterAll(async () => t?.close());

describe('GitHub client against the fake', () => {
  it('authenticates as the App: installation lookup by org, then an installation token', async () => {
    const before = t.cloud.requests.github;
    const runners = await github().listRunners();
    expect(runners.length).toBe(4 + 230 + 3);
    // installation lookup + access token + 3 pages of 100
    expect(t.cloud.requests.github - before).toBe(2 + 3);
  });

  it('follows Link pagination past 100 runners and maps busy/online', async () => {
    const runners = await github().listRunners();
    const busy = runners.find((r) => r.name === 'vmss-gh-linux-weu-000001')!;
    expect(busy).toMatchObject({ status: 'online', busy: true });
    expect(busy.labels).toContain('vmss-gh-linux-weu');
    expect(new Set(runners.map((r) => r.id)).size).toBe(runners.length);
    expect(runners.filter((r) => r.status === 'offline').length).toBeGreaterThanOrEqual(230);
  });

  it('findRunnersByName asks for one name', async () => {
    const found = await github().findRunnersByName('vmss-gh-linux-weu-000002');
    expect(found.map((r) => r.name)).toEqual(['vmss-gh-linux-weu-000002']);
    expect(await github().findRunnersByName('no-such-runner')).toEqual([]);
  });

  it('delete: 204 → deleted, 404 → gone, 422 (busy) → busy', async () => {
    const client = github();
    const runners = await client.listRunners();
    const ghost = runners.find((r) => r.status === 'offline' && r.name.startsWith('vmss-gh-linux-weu-'))!;
    expect(await client.deleteRunner(ghost.id)).toBe('deleted');
    expect(await client.deleteRunner(ghost.id)).toBe('gone');
    expect(await client.getRunner(ghost.id)).toBeUndefined();
    const busy = runners.find((r) => r.busy && r.name === 'vmss-gh-linux-weu-000001')!;
    expect(await client.deleteRunner(busy.id)).toBe('busy');
    expect(t.cloud.ledger.deleted.githubRunners).toContain(ghost.name);
    expect(t.cloud.ledger.jobsInterrupted).toBe(0);
  });

  it('deleting a foreign runner is recorded as a foreign touch', async () => {
    const client = github();
    const foreign = (await client.listRunners()).find((r) => r.name.startsWith('gpu-runner'))!;
    const before = t.cloud.ledger.foreignTouched;
    await client.deleteRunner(foreign.id);
    expect(t.cloud.ledger.foreignTouched).toBe(before + 1);
  });

  it('honours Retry-After on a 429 (secondary rate limit)', async () => {
    const warnings: string[] = [];
    const client = github({}, { log: { warn: (m: string) => warnings.push(m) } });
    await client.listRunners();
    t.cloud.addFault({
      service: 'github',
      operation: 'listRunners',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const started = Date.now();
    const runners = await client.listRunners();
    expect(warnings).toContain('github secondary rate limit hit; retry after 1s (attempt 1)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(runners.length).toBeGreaterThan(200);
    expect(t.cloud.faults.fired['github:listRunners']).toBe(1);
  });

  it('honours Retry-After on a 403 secondary rate limit', async () => {
    const client = github();
    await client.listRunners();
    t.cloud.addFault({
      service: 'github',
      operation: 'getRunner',
      status: 403,
      retryAfterSeconds: 1,
      times: 1,
    });
    const started = Date.now();
    expect((await client.getRunner(1001))?.id).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('retries a 5xx on delete and then succeeds', async () => {
    // A millisecond's backoff: the retry is the point here, not how long the plugin waits.
    const client = github({}, { retryBaseMs: 1 });
    const ghost = (await client.listRunners()).find(
      (r) => r.status === 'offline' && r.name.startsWith('vmss-gh-linux-weu-'),
    )!;
    t.cloud.addFault({ service: 'github', operation: 'deleteRunner', status: 500, times: 2 });
    expect(await client.deleteRunner(ghost.id)).toBe('deleted');
    expect(t.cloud.faults.fired['github:deleteRunner']).toBe(2);
  }, 30_000);

  it('a persistent 5xx ends as TransientError naming the operation and status', async () => {
    // Three attempts (GITHUB_MAX_RETRIES 2): the fault is used up.
    const fired = t.cloud.faults.fired['github:getRunner'] ?? 0;
    t.cloud.addFault({ service: 'github', operation: 'getRunner', status: 502, times: 3 });
    const quick = createGitHubClient(
      t.settings.github!,
      createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
      {
        retryBaseMs: 50,
      },
    );
    const err = (await quick.getRunner(1001).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('github getRunner 1001');
    expect(err.message).toContain('502');
    expect(t.cloud.faults.fired['github:getRunner']).toBe(fired + 3);
  }, 30_000);

  it('a request that never answers times out (per attempt), is retried, and ends as TransientError', async () => {
    const warnings: string[] = [];
    const client = createGitHubClient(
      t.settings.github!,
      createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
      {
        writeSpacingMs: 0,
        timeoutMs: 300,
        retryBaseMs: 50,
        log: { warn: (m) => warnings.push(m) },
      },
    );
    await client.listRunners();
    t.cloud.addFault({ service: 'github', operation: 'getRunner', hang: true, times: 1 });
    expect((await client.getRunner(1001))?.id).toBe(1001);
    t.cloud.addFault({ service: 'github', operation: 'getRunner', hang: true, times: 3 });
    const err = (await client.getRunner(1001).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    for (const w of warnings) expect(w).not.toMatch(/ghs_|Bearer|token [A-Za-z0-9]/);
  }, 30_000);

  it('works with a PAT from Key Vault, and a wrong PAT fails without leaking it', async () => {
    const pat = await github({ auth: 'pat' }).listRunners();
    expect(pat.length).toBeGreaterThan(0);
    const wrongPat = 'ghp_WRONGWRONGWRONGWRONG0123456789';
    t.cloud.setSecret('gh-pat-wrong', wrongPat);
    const err = (await github({ auth: 'pat', patSecret: 'gh-pat-wrong' })
      .listRunners()
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('401');
    expect(err.message).not.toContain(wrongPat);
  });

  it('repo scope: installation looked up for the repository; a configured installation id skips the lookup', async () => {
    const before = t.cloud.requests.github;
    const repoRunners = await github({ scope: 'repo', repo: 'runners' }).listRunners();
    expect(repoRunners.length).toBeGreaterThan(200);
    expect(t.cloud.requests.github - before).toBe(2 + 3);
    const mid = t.cloud.requests.github;
    await github({ installationId: '4242' }).findRunnersByName('vmss-gh-linux-weu-000002');
    expect(t.cloud.requests.github - mid).toBe(2); // access token + one list, no lookup
    const err = (await github({ installationId: '999' })
      .listRunners()
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('404');
  });

  it('registration token and latest runner release', async () => {
    const client = github();
    const token = await client.createRegistrationToken();
    expect(token.token).toMatch(/^[A-Z0-9]{20,}$/);
    const release = await client.getLatestRunnerRelease();
    expect(release.tag).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(release.version).toBe(release.tag.slice(1));
  });
});

describe('each call stays within its deadline', () => {
  it('a rate limit longer than the client waits fails the call as transient at once', async () => {
    const client = github();
    await client.listRunners();
    const fired = t.cloud.faults.fired['github:getRunner'] ?? 0;
    t.cloud.addFault({
      service: 'github',
      operation: 'getRunner',
      status: 429,
      retryAfterSeconds: 3600,
      times: 1,
    });
    const err = (await client.getRunner(1001).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toContain('rate limited');
    expect(t.cloud.faults.fired['github:getRunner']).toBe(fired + 1);
  });

  it('retries and waits end at the deadline: the call fails as transient, naming it', async () => {
    // Without the deadline the hung attempt would time out after 10 s and the retry succeed.
    const client = createGitHubClient(
      t.settings.github!,
      createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
      { writeSpacingMs: 0, timeoutMs: 10_000, deadlineMs: 500 },
    );
    await client.listRunners();
    t.cloud.addFault({ service: 'github', operation: 'getRunner', hang: true, times: 1 });
    const err = (await client.getRunner(1001).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toBe('github getRunner 1001 failed: no answer within 0.5 s, retries included');
  });
});

describe('the per-attempt timeout under the call deadline', () => {
  it('still fires after a garbage collection (AbortSignal.any holds its sources weakly)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const client = createGitHubClient(
      t.settings.github!,
      createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)),
      { writeSpacingMs: 0, timeoutMs: 300, deadlineMs: 5_000, retryBaseMs: 1 },
    );
    await client.listRunners();
    t.cloud.addFault({ service: 'github', operation: 'listRunners', hang: true, times: 1 });
    const pending = client.findRunnersByName('vmss-gh-linux-weu-000002');
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 20));
      gc();
    }
    // The hung attempt times out after 300 ms and the retry answers; without the timeout the call
    // would fail at its 5 s deadline.
    expect((await pending).map((r) => r.name)).toEqual(['vmss-gh-linux-weu-000002']);
  });
});

describe('a failed list is never an empty fleet', () => {
  it('a 404 on a list is a PermanentError', async () => {
    t.cloud.addFault({ service: 'github', operation: 'listRunners', status: 404, times: 2 });
    for (const list of [() => github().listRunners(), () => github().findRunnersByName('any')]) {
      const err = (await list().catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('PermanentError');
      expect(err.message).toMatch(/^github (listRunners|findRunnersByName any) failed \(HTTP 404\)/);
    }
  });

  it('an answer that is not a list of runners (HTTP 200) is a PermanentError', async () => {
    const ca = ensureFakeCa();
    const server = await serve({
      service: 'github',
      tls: { cert: ca.certPem, key: ca.keyPem },
      onRequest: () => {},
      handler: (req) => sendJson(req.res, 200, {}),
    });
    try {
      const client = createGitHubClient(
        { ...t.settings.github!, apiUrl: server.origin, auth: 'pat' },
        { getSecret: async () => 'ghp_notarealtoken' },
        { writeSpacingMs: 0 },
      );
      for (const list of [() => client.listRunners(), () => client.findRunnersByName('any')]) {
        const err = (await list().catch((e: unknown) => e)) as Error;
        expect(err.name).toBe('PermanentError');
        expect(err.message).toMatch(/failed \(error\): the answer \(HTTP 200\) holds no list of runners$/);
      }
    } finally {
      await server.close();
    }
  });
});

describe('the fake GitHub rejects what GitHub rejects', () => {
  it('401 Bad credentials for a missing or unknown token', async () => {
    const none = await fetch(`${t.settings.github!.apiUrl}/orgs/acme/actions/runners`);
    expect(none.status).toBe(401);
    const bad = await fetch(`${t.settings.github!.apiUrl}/orgs/acme/actions/runners`, {
      headers: { authorization: 'token ghs_forged' },
    });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { message: string }).message).toBe('Bad credentials');
  });

  it('sends rate-limit headers and a Link header, per_page capped at 100', async () => {
    const pat = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
      'gh-pat',
    );
    const res = await fetch(`${t.settings.github!.apiUrl}/orgs/acme/actions/runners?per_page=500`, {
      headers: { authorization: `token ${pat}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeLessThan(5000);
    expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    expect(res.headers.get('link')).toMatch(/rel="next"/);
    const body = (await res.json()) as { runners: unknown[]; total_count: number };
    expect(body.runners).toHaveLength(100);
  });

  it('JIT config needs runner_group_id and refuses a duplicate name (409)', async () => {
    const pat = await createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings)).getSecret(
      'gh-pat',
    );
    const post = (body: unknown) =>
      fetch(`${t.settings.github!.apiUrl}/orgs/acme/actions/runners/generate-jitconfig`, {
        method: 'POST',
        headers: { authorization: `token ${pat}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ name: 'jit-1', labels: ['self-hosted'] })).status).toBe(422);
    const ok = await post({ name: 'jit-1', runner_group_id: 1, labels: ['self-hosted'] });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { encoded_jit_config: string }).encoded_jit_config.length).toBeGreaterThan(
      10,
    );
    expect((await post({ name: 'jit-1', runner_group_id: 1, labels: ['self-hosted'] })).status).toBe(409);
  });

  it('generateJitConfig registers an ephemeral runner at org and repo scope; a taken name is "exists"', async () => {
    const request = { runnerGroupId: 1, labels: ['self-hosted', 'linux'] };
    const org = await github().generateJitConfig({ name: 'jit-org-1', ...request });
    expect(org).toMatchObject({ runnerId: expect.any(Number), encodedJitConfig: expect.any(String) });
    expect(t.cloud.world.findRunnerByName('jit-org-1')).toMatchObject({ ephemeral: true, status: 'offline' });
    expect(await github().generateJitConfig({ name: 'jit-org-1', ...request })).toBe('exists');

    const repo = github({ scope: 'repo', repo: t.cloud.world.names.githubRepo });
    expect(await repo.generateJitConfig({ name: 'jit-repo-1', ...request })).toMatchObject({
      encodedJitConfig: expect.any(String),
    });
    expect(await repo.generateJitConfig({ name: 'jit-repo-1', ...request })).toBe('exists');
  });
});

describe('primary rate limit on the virtual clock', () => {
  it('answers 403 with remaining 0 past the limit (a TransientError for kiln) and resets with the virtual hour', async () => {
    const tc = await startTestCloud(makeScenario(), {
      githubRateLimit: 3,
      roles: { auth: { github: 'pat' } },
    });
    try {
      const client = createGitHubClient(
        { ...tc.settings.github!, auth: 'pat' },
        createSecretReader(tc.settings.keyVaultUrl, createCredential(tc.settings)),
        { writeSpacingMs: 0 },
      );
      for (let i = 0; i < 3; i++) await client.listRunners();
      const err = (await client.listRunners().catch((e: unknown) => e)) as Error;
      expect(err.name).toBe('TransientError');
      expect(err.message).toContain('rate limited');
      tc.advance(60);
      expect((await client.listRunners()).length).toBeGreaterThan(0);
    } finally {
      await tc.close();
    }
  });
});

describe('secondary rate limits on the virtual clock', () => {
  it('refuses past 900 points a minute (a DELETE costs 5, a GET 1) with Retry-After, and counts anew each minute', async () => {
    const tc = await startTestCloud(makeScenario(), { roles: { auth: { github: 'pat' } } });
    try {
      const pat = await createSecretReader(tc.settings.keyVaultUrl, createCredential(tc.settings)).getSecret(
        'gh-pat',
      );
      const call = (method: string, path: string) =>
        fetch(`${tc.settings.github!.apiUrl}${path}`, { method, headers: { authorization: `token ${pat}` } });
      // 179 DELETEs of runners that do not exist (404, still counted) = 895 points; 5 GETs fill the minute.
      for (let i = 0; i < 179; i++)
        expect((await call('DELETE', `/orgs/acme/actions/runners/${90000 + i}`)).status).toBe(404);
      for (let i = 0; i < 5; i++) expect((await call('GET', '/orgs/acme/actions/runners')).status).toBe(200);
      const refused = await call('GET', '/orgs/acme/actions/runners');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toMatch(/secondary rate limit/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      tc.advance(1);
      expect((await call('GET', '/orgs/acme/actions/runners')).status).toBe(200);
    } finally {
      await tc.close();
    }
  });
});

describe('rate-limit headers on every response', () => {
  it('unauthenticated and App (JWT) answers carry them too', async () => {
    const res = await fetch(`${t.settings.github!.apiUrl}/orgs/acme/actions/runners`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-ratelimit-limit')).toBe('60');
    expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
  });
});
