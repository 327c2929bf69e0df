/**
 * The fake Blob service (src/local/fake-cloud/blobs.ts) against what Azure Blob storage answers:
 * on the wire, each refusal in the service's status, error code (x-ms-error-code and the XML body)
 * and message; then the real @azure/storage-blob SDK and kiln's report store
 * (src/clients/blobs.ts) reading and writing through it with kiln's managed identity.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftwareReportStore } from '../../src/clients/blobs.js';
import { createCredential } from '../../src/clients/credential.js';
import { PermanentError } from '../../src/clients/errors.js';
import { STORAGE_AUDIENCE } from '../../src/local/fake-cloud/tables.js';
import { makeScenario, startTestCloud, type TestCloud } from './helpers.js';

const VERSION = '2026-04-06';
const CONTAINER = 'software-reports';
const BLOB = 'linux-agent/2026.10.1/software.json';

let t: TestCloud;
let token: string;

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  token = (await createCredential(t.settings).getToken(`${STORAGE_AUDIENCE}/.default`))!.token;
  t.cloud.world.blobs.put(CONTAINER, BLOB, Buffer.from('{"schemaVersion":1}'), 'application/json');
});
afterAll(async () => t?.close());

const url = (path: string) => `${t.cloud.urls.blobs}/${path}`;
const send = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  fetch(url(path), {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'x-ms-version': VERSION, ...init.headers },
  });

/** The error as the service sends it: status, x-ms-error-code, and the XML body's Code and Message. */
async function errorOf(res: Response) {
  const body = await res.text();
  return {
    status: res.status,
    header: res.headers.get('x-ms-error-code'),
    contentType: res.headers.get('content-type'),
    code: /<Code>([^<]*)<\/Code>/.exec(body)?.[1],
    message: /<Message>([^\n<]*)/.exec(body)?.[1],
    body,
  };
}

/** A token the fake's identity provider issues for one of the deployment's other identities. */
function tokenFor(role: 'linuxRunners' | 'packer', audience = STORAGE_AUDIENCE) {
  return t.cloud.tokens.issue(audience, 'entra', t.cloud.access.identity(role).clientId).token;
}

describe('the fake Blob service refuses what Azure refuses', () => {
  it('serves an existing blob with the service headers', async () => {
    const res = await send(`${CONTAINER}/${BLOB}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"schemaVersion":1}');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-ms-blob-type')).toBe('BlockBlob');
    expect(res.headers.get('etag')).toMatch(/^"0x8[0-9A-F]+"$/);
    expect(res.headers.get('x-ms-version')).toBe(VERSION);
    expect(res.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('no x-ms-version: 400 MissingRequiredHeader naming it; an unknown one: 400 InvalidHeaderValue', async () => {
    const missing = await errorOf(
      await fetch(url(`${CONTAINER}/${BLOB}`), { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(missing).toMatchObject({
      status: 400,
      header: 'MissingRequiredHeader',
      code: 'MissingRequiredHeader',
      contentType: 'application/xml',
      message: 'An HTTP header that is mandatory for this request is not specified.',
    });
    expect(missing.body).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>/);
    expect(missing.body).toContain('<HeaderName>x-ms-version</HeaderName>');
    const unknown = await errorOf(
      await send(`${CONTAINER}/${BLOB}`, { headers: { 'x-ms-version': '2016-05-31' } }),
    );
    expect(unknown).toMatchObject({ status: 400, code: 'InvalidHeaderValue' });
    expect(unknown.body).toContain('<HeaderValue>2016-05-31</HeaderValue>');
  });

  it('no Authorization: 401 NoAuthenticationInformation with the bearer challenge for https://storage.azure.com', async () => {
    const res = await fetch(url(`${CONTAINER}/${BLOB}`), { headers: { 'x-ms-version': VERSION } });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer authorization_uri=https://login.microsoftonline.com/${t.cloud.world.names.tenantId}/oauth2/authorize resource_id=https://storage.azure.com`,
    );
    expect(await errorOf(res)).toMatchObject({
      status: 401,
      code: 'NoAuthenticationInformation',
      message:
        'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
    });
  });

  it('a token for another audience, or none this cloud issued: 401 InvalidAuthenticationInfo with the detail', async () => {
    const vault = await errorOf(
      await send(`${CONTAINER}/${BLOB}`, {
        headers: { authorization: `Bearer ${tokenFor('packer', 'https://vault.localhost')}` },
      }),
    );
    expect(vault).toMatchObject({ status: 401, code: 'InvalidAuthenticationInfo' });
    expect(vault.body).toContain(
      '<AuthenticationErrorDetail>Audience validation failed. Audience did not match.</AuthenticationErrorDetail>',
    );
    const forged = await errorOf(
      await send(`${CONTAINER}/${BLOB}`, { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } }),
    );
    expect(forged).toMatchObject({ status: 401, code: 'InvalidAuthenticationInfo' });
  });

  it('an account key: 403 KeyBasedAuthenticationNotPermitted (kiln allows no shared key)', async () => {
    const res = await send(`${CONTAINER}/${BLOB}`, {
      headers: { authorization: 'SharedKey stkiln:c2lnbmF0dXJl' },
    });
    expect(await errorOf(res)).toMatchObject({ status: 403, code: 'KeyBasedAuthenticationNotPermitted' });
  });

  it('a caller without a Blob data role on the container: 403 AuthorizationPermissionMismatch, recorded, before any 404', async () => {
    const before = t.cloud.access.failures.length;
    const runner = { authorization: `Bearer ${tokenFor('linuxRunners')}` };
    for (const path of [`${CONTAINER}/${BLOB}`, 'no-such-container/x.json']) {
      expect(await errorOf(await send(path, { headers: runner }))).toMatchObject({
        status: 403,
        code: 'AuthorizationPermissionMismatch',
        message: 'This request is not authorized to perform this operation using this permission.',
      });
    }
    expect(t.cloud.access.failures.slice(before)[0]).toMatchObject({
      identity: 'id-kiln-linux-runners',
      action: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
      scope: `${t.cloud.world.storageAccountId()}/blobServices/default/containers/${CONTAINER}`,
      code: 'AuthorizationPermissionMismatch',
    });
  });

  it('a container or blob that does not exist: 404 ContainerNotFound / BlobNotFound; a HEAD says it in the header only', async () => {
    expect(await errorOf(await send('no-such-container/x.json'))).toMatchObject({
      status: 404,
      code: 'ContainerNotFound',
      message: 'The specified container does not exist.',
    });
    expect(await errorOf(await send(`${CONTAINER}/linux-agent/9.9.9/software.json`))).toMatchObject({
      status: 404,
      header: 'BlobNotFound',
      code: 'BlobNotFound',
      message: 'The specified blob does not exist.',
    });
    const head = await send(`${CONTAINER}/linux-agent/9.9.9/software.json`, { method: 'HEAD' });
    expect([head.status, head.headers.get('x-ms-error-code'), await head.text()]).toEqual([
      404,
      'BlobNotFound',
      '',
    ]);
  });

  it('Put Blob needs x-ms-blob-type (400 MissingRequiredHeader) of a known type (400 InvalidHeaderValue)', async () => {
    const put = (headers: Record<string, string>, body = '{}') =>
      send(`${CONTAINER}/put/a.json`, { method: 'PUT', headers, body });
    const missing = await errorOf(await put({}));
    expect(missing).toMatchObject({ status: 400, code: 'MissingRequiredHeader' });
    expect(missing.body).toContain('<HeaderName>x-ms-blob-type</HeaderName>');
    expect(await errorOf(await put({ 'x-ms-blob-type': 'Block' }))).toMatchObject({
      status: 400,
      code: 'InvalidHeaderValue',
    });
    expect(
      await errorOf(await put({ 'x-ms-blob-type': 'BlockBlob', 'content-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    ).toMatchObject({ status: 400, code: 'Md5Mismatch' });
    const created = await put({
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-blob-content-type': 'application/json',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-md5')).toBe('mZFLkyvTelC5g8XnyQrpOw==');
    expect(await errorOf(await put({ 'x-ms-blob-type': 'BlockBlob', 'if-none-match': '*' }))).toMatchObject({
      status: 409,
      code: 'BlobAlreadyExists',
    });
    expect(
      await errorOf(
        await send('no-such-container/a.json', {
          method: 'PUT',
          headers: { 'x-ms-blob-type': 'BlockBlob' },
          body: '{}',
        }),
      ),
    ).toMatchObject({ status: 404, code: 'ContainerNotFound' });
  });

  it("with the Bicep's roles the Packer job writes the reports container and nowhere else", async () => {
    t.cloud.world.blobs.createContainer('app-package');
    const packer = { authorization: `Bearer ${tokenFor('packer')}`, 'x-ms-blob-type': 'BlockBlob' };
    const write = (path: string) => send(path, { method: 'PUT', headers: packer, body: '{}' });
    expect((await write(`${CONTAINER}/windows-agent/2026.12.1/software.json`)).status).toBe(201);
    expect(await errorOf(await write('app-package/released-package.zip'))).toMatchObject({
      status: 403,
      code: 'AuthorizationPermissionMismatch',
    });
    // Storage Blob Data Contributor reads too, on its container only.
    expect(
      (await send(`${CONTAINER}/${BLOB}`, { headers: { authorization: packer.authorization } })).status,
    ).toBe(200);
  });

  it('what kiln never sends (lists, container operations) answers 501 naming the fake', async () => {
    const list = await errorOf(await send(`${CONTAINER}?restype=container&comp=list`));
    expect(list).toMatchObject({ status: 501, code: 'NotImplemented' });
    expect(list.message).toContain('fake Blob service');
  });

  it('counts its requests', async () => {
    const before = t.cloud.requests.blobs;
    await send(`${CONTAINER}/${BLOB}`);
    expect(t.cloud.requests.blobs).toBe(before + 1);
  });
});

describe('the real SDK and kiln’s report store through the fake Blob service', () => {
  const store = () =>
    createSoftwareReportStore({
      endpoint: t.settings.softwareReports!.endpoint,
      container: t.settings.softwareReports!.container,
      credential: createCredential(t.settings),
      retryBaseMs: 0,
    });

  it('the fake cloud names the endpoint and the container as a deployment does', () => {
    expect(t.settings.softwareReports).toEqual({
      endpoint: t.cloud.urls.blobs,
      container: 'software-reports',
    });
    expect(t.cloud.urls.blobs).toMatch(/^https:\/\/stkiln\.blob\.localhost:\d+$/);
  });

  it('reads a report whole; a blob that is not there is undefined', async () => {
    expect(await store().read(BLOB)).toBe('{"schemaVersion":1}');
    expect(await store().read('linux-agent/2026.12.1/software.json')).toBeUndefined();
  });

  it('the SDK uploads a block blob and downloads it back in ranges (HEAD, then ranged GETs)', async () => {
    const container = new BlobServiceClient(
      t.cloud.urls.blobs,
      createCredential(t.settings),
    ).getContainerClient(CONTAINER);
    const text = 'é'.repeat(5000);
    const blob = container.getBlockBlobClient('sdk/round-trip.md');
    await blob.upload(text, Buffer.byteLength(text), {
      blobHTTPHeaders: { blobContentType: 'text/markdown' },
    });
    expect(t.cloud.world.blobs.get(CONTAINER, 'sdk/round-trip.md')?.contentType).toBe('text/markdown');
    const buffer = await blob.downloadToBuffer(0, undefined, { blockSize: 4096 });
    expect(buffer.toString('utf8')).toBe(text);
    expect((await blob.getProperties()).contentLength).toBe(10_000);
  });

  it('a missing container throws, naming it and the fix (not "no report")', async () => {
    const wrong = createSoftwareReportStore({
      endpoint: t.settings.softwareReports!.endpoint,
      container: 'reports-typo',
      credential: createCredential(t.settings),
      retryBaseMs: 0,
    });
    const error = await wrong.read(BLOB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain(
      'blob reports-typo/linux-agent/2026.10.1/software.json read failed (HTTP 404',
    );
    expect((error as Error).message).toContain('KILN_SOFTWARE_REPORTS_CONTAINER');
  });

  it('an identity without a Blob data role: the error names the blob and the role to grant', async () => {
    const runner: TokenCredential = {
      getToken: async () => ({ token: tokenFor('linuxRunners'), expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const refused = createSoftwareReportStore({
      endpoint: t.settings.softwareReports!.endpoint,
      container: CONTAINER,
      credential: runner,
      retryBaseMs: 0,
    });
    const error = await refused.read(BLOB).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(
      /^blob software-reports\/linux-agent\/2026\.10\.1\/software\.json read failed \(HTTP 403 AuthorizationPermissionMismatch\)/,
    );
    expect((error as Error).message).toContain(
      'grant it Storage Blob Data Reader on the container software-reports',
    );
  });

  it('a storage outage: the SDK retries 503, then the read fails as transient', async () => {
    t.cloud.addFault({ service: 'blobs', operation: 'getBlob', status: 503, times: 4 });
    const error = await store()
      .read(BLOB)
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('TransientError');
    expect((error as Error).message).toContain('HTTP 503');
    t.cloud.addFault({ service: 'blobs', operation: 'getBlob', status: 503, times: 3 });
    expect(await store().read(BLOB)).toBe('{"schemaVersion":1}');
  });
});
