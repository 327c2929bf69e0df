/**
 * The real @azure/identity and @azure/keyvault-secrets against the fake managed identity endpoint
 * and the fake Key Vault: App Service MSI tokens, the Key Vault challenge flow, errors that carry
 * no secret; a runner VM's IMDS attested document, checked by kiln's verifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { createSecretReader } from '../../src/clients/keyvault.js';
import { verifyAttestedDocument } from '../../src/registration/attestation.js';
import { makeScenario, readEverySecret, startTestCloud, type TestCloud } from '../fakes/helpers.js';

const SENTINEL_PAT = 'SENTINEL-ado-pat-value-0123456789';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud(makeScenario(), { secrets: { adoPat: SENTINEL_PAT } });
  // The secret client's handling of missing secrets and retries, not the Bicep's grants.
  readEverySecret(t);
});
afterAll(async () => t?.close());

describe('managed identity (App Service form, as in Azure Functions)', () => {
  it('DefaultAzureCredential gets a token from IDENTITY_ENDPOINT with the configured client id', async () => {
    const before = t.cloud.requests.identity;
    const token = await createCredential(t.settings).getToken(t.settings.arm.audience);
    expect(token?.token).toMatch(/^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    expect(token!.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(t.cloud.requests.identity).toBe(before + 1);
  });

  it('refuses a request without the X-IDENTITY-HEADER secret', async () => {
    const url = new URL(t.cloud.urls.identity);
    url.searchParams.set('resource', 'https://management.azure.com');
    url.searchParams.set('api-version', '2019-08-01');
    const res = await fetch(url);
    expect(res.status).toBe(401);
  });

  it('also serves the IMDS form, numbers as JSON strings, and needs Metadata: true', async () => {
    const url = new URL('/metadata/identity/oauth2/token', t.cloud.urls.identity);
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', 'https://vault.localhost');
    const missing = await fetch(url);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
    const res = await fetch(url, { headers: { Metadata: 'true' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(typeof body.expires_in).toBe('string');
    expect(typeof body.expires_on).toBe('string');
    expect(body.token_type).toBe('Bearer');
    expect(body.resource).toBe('https://vault.localhost');
  });
});

describe("a runner VM's IMDS attested document", () => {
  const vm = () => [...t.cloud.world.findScaleSet('vmss-gh-linux-weu')!.instances.values()][0]!;
  const ask = (query: string, headers: Record<string, string> = { Metadata: 'true' }, vmName = vm().name) =>
    fetch(`${t.cloud.imdsAttestedUrl(vmName)}?${query}`, { headers });

  it('is signed as IMDS signs it, names the VM and the nonce, and verifies with the trust kiln runs with', async () => {
    const response = await ask('api-version=2018-10-01&nonce=0123456789');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { encoding: string; signature: string };
    expect(body.encoding).toBe('pkcs7');
    // NODE_EXTRA_CA_CERTS names the fake CA (vitest.shared.ts), as a private CA would be trusted.
    expect(
      await verifyAttestedDocument(body.signature, { now: new Date(), expectedNonce: '0123456789' }),
    ).toEqual({
      ok: true,
      vmId: vm().vmId,
      subscriptionId: t.cloud.world.names.subscriptionId,
      nonce: '0123456789',
    });
  });

  it('refuses what IMDS refuses: no Metadata header, no or an unknown api-version, a nonce not of 10 digits', async () => {
    const cases: [string, Promise<Response>, RegExp][] = [
      ['no Metadata header', ask('api-version=2018-10-01', {}), /Required metadata header not specified/],
      ['no api-version', ask('nonce=0123456789'), /api-version is invalid or was not specified/],
      ['a version before the attested category', ask('api-version=2018-02-01'), /api-version is invalid/],
      ['an unknown version', ask('api-version=2018-10-02'), /api-version is invalid/],
      ['a nonce of letters', ask('api-version=2018-10-01&nonce=abcdefghij'), /nonce/],
    ];
    for (const [what, pending, error] of cases) {
      const response = await pending;
      expect(response.status, what).toBe(400);
      expect(((await response.json()) as { error: string }).error, what).toMatch(error);
    }
    expect((await ask('api-version=2018-10-01', { Metadata: 'true' }, 'vmss-nowhere_0')).status).toBe(404);
  });

  it('without a nonce names the time instead, as IMDS does', async () => {
    const body = (await (await ask('api-version=2021-02-01')).json()) as { signature: string };
    expect(await verifyAttestedDocument(body.signature, { now: new Date() })).toMatchObject({
      ok: true,
      nonce: expect.stringMatching(/^\d{8}-\d{6}$/),
    });
  });
});

describe('Key Vault', () => {
  it('follows the challenge: first request unauthenticated (401 + WWW-Authenticate), then with a vault token', async () => {
    const before = t.cloud.requests.keyvault;
    const reader = createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings));
    expect(await reader.getSecret('ado-pat')).toBe(SENTINEL_PAT);
    expect(t.cloud.requests.keyvault - before).toBe(2);
    // Cached: no further request.
    expect(await reader.getSecret('ado-pat')).toBe(SENTINEL_PAT);
    expect(t.cloud.requests.keyvault - before).toBe(2);
  });

  it('answers an unauthenticated request with the challenge naming its resource', async () => {
    const res = await fetch(`${t.settings.keyVaultUrl}/secrets/ado-pat?api-version=2025-07-01`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.localhost"$/,
    );
  });

  it('rejects a token issued for another audience with 403 and a bad api-version with 400', async () => {
    const armToken = await createCredential(t.settings).getToken(t.settings.arm.audience);
    const wrong = await fetch(`${t.settings.keyVaultUrl}/secrets/ado-pat?api-version=2025-07-01`, {
      headers: { authorization: `Bearer ${armToken!.token}` },
    });
    expect(wrong.status).toBe(403);
    const badVersion = await fetch(`${t.settings.keyVaultUrl}/secrets/ado-pat?api-version=1999-01-01`, {
      headers: { authorization: `Bearer ${armToken!.token}` },
    });
    expect(badVersion.status).toBe(400);
  });

  it('a missing secret is a PermanentError naming the operation and status, with no secret in it', async () => {
    const reader = createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings));
    const err = (await reader.getSecret('nope').catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('PermanentError');
    expect(err.message).toContain('keyvault getSecret nope');
    expect(err.message).toContain('404');
    expect(err.message).not.toContain(SENTINEL_PAT);
  });

  it('retries a 503 from the vault (SDK retry policy) and then succeeds', async () => {
    t.cloud.addFault({
      service: 'keyvault',
      operation: 'getSecret',
      status: 503,
      retryAfterSeconds: 0,
      times: 1,
    });
    const reader = createSecretReader(t.settings.keyVaultUrl, createCredential(t.settings));
    expect(await reader.getSecret('gh-pat')).toMatch(/^ghp_/);
    expect(t.cloud.faults.fired['keyvault:getSecret']).toBe(1);
  });
});
