/**
 * The registration broker's record of issued registrations (src/registration/issued-registrations.ts)
 * with the real @azure/data-tables client and kiln's managed identity credential, against the fake
 * cloud's Table storage over HTTPS: the shared cases (also run against Azurite, in the evidence
 * suite), then what only the fake checks — API versions, the account's refusal of keys, Azure RBAC,
 * faults — and how the record surfaces them.
 */
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential } from '../../src/clients/credential.js';
import { STORAGE_AUDIENCE } from '../../src/local/fake-cloud/tables.js';
import { createIssuedRegistrationsTable } from '../../src/registration/issued-registrations.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';
import { issuedRegistrationCases, type TableTarget } from './issued-registrations.cases.js';

let t: TestCloud;
let target: TableTarget;

beforeAll(async () => {
  t = await startTestCloud(makeScenario());
  // The fake cloud's settings name the record's table as a deployment's would.
  const table = t.settings.registration!.issuedTable;
  const credential = createCredential(t.settings);
  target = {
    open: () =>
      createIssuedRegistrationsTable({
        endpoint: table.endpoint,
        tableName: table.name,
        credential,
        retryBaseMs: 10,
      }),
    inspect: () => new TableClient(table.endpoint, table.name, credential),
    endpoint: () => table.endpoint,
    token: async () => (await credential.getToken(`${STORAGE_AUDIENCE}/.default`))!.token,
  };
});
afterAll(async () => t?.close());

describe('the record on the fake Table storage', () => {
  issuedRegistrationCases(() => target);
});

describe('the fake Table storage refuses what the service refuses', () => {
  const post = (init: { headers?: Record<string, string>; body?: string; path?: string } = {}) =>
    fetch(`${target.endpoint()}${init.path ?? '/Tables'}`, {
      method: 'POST',
      headers: {
        'x-ms-version': '2019-02-02',
        accept: 'application/json;odata=minimalmetadata',
        'content-type': 'application/json',
        ...init.headers,
      },
      body: init.body ?? '{"TableName":"refusals"}',
    }).then(async (res) => ({
      status: res.status,
      code: res.headers.get('x-ms-error-code'),
      body: (await res.json()) as { 'odata.error': Record<string, unknown> },
    }));

  it('an API version it does not know, or none (400)', async () => {
    const bearer = `Bearer ${await target.token()}`;
    expect(await post({ headers: { authorization: bearer, 'x-ms-version': '1999-01-01' } })).toMatchObject({
      status: 400,
      code: 'InvalidHeaderValue',
      body: { 'odata.error': { HeaderName: 'x-ms-version', HeaderValue: '1999-01-01' } },
    });
    const res = await fetch(`${target.endpoint()}/Tables`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: '{"TableName":"refusals"}',
    });
    expect([res.status, res.headers.get('x-ms-error-code')]).toEqual([400, 'MissingRequiredHeader']);
  });

  it('a token for another audience or of another issuer, and an account key (403)', async () => {
    const armToken = (await createCredential(t.settings).getToken(t.settings.arm.audience))!.token;
    expect(await post({ headers: { authorization: `Bearer ${armToken}` } })).toMatchObject({
      status: 403,
      code: 'AuthenticationFailed',
      body: { 'odata.error': { AuthenticationErrorDetail: 'Invalid token audience.' } },
    });
    expect(await post({ headers: { authorization: 'SharedKey stkiln:c2lnbmF0dXJl' } })).toMatchObject({
      status: 403,
      code: 'KeyBasedAuthenticationNotPermitted',
    });
  });

  it('an identity without a Table data role on the account (403), recorded as a refusal', async () => {
    const packer = t.cloud.access.identity('packer');
    const token = t.cloud.tokens.issue(STORAGE_AUDIENCE, 'entra', packer.clientId).token;
    expect(await post({ headers: { authorization: `Bearer ${token}` } })).toMatchObject({
      status: 403,
      code: 'AuthorizationPermissionMismatch',
    });
    expect(t.cloud.access.failures.at(-1)).toMatchObject({
      identity: packer.name,
      action: 'Microsoft.Storage/storageAccounts/tableServices/tables/write',
      code: 'AuthorizationPermissionMismatch',
    });
  });

  it('a body that is not a JSON object (400 InvalidInput), an entity without keys (400), a bad table name (400)', async () => {
    const authorization = `Bearer ${await target.token()}`;
    expect(await post({ headers: { authorization }, body: '{"TableName":' })).toMatchObject({
      status: 400,
      code: 'InvalidInput',
    });
    expect(await post({ headers: { authorization }, body: '["refusals"]' })).toMatchObject({
      status: 400,
      code: 'InvalidInput',
    });
    expect(
      await post({ headers: { authorization }, body: '{"TableName":"kiln-registrations"}' }),
    ).toMatchObject({
      status: 400,
      code: 'InvalidResourceName',
    });
    const table = target.inspect().tableName;
    expect(
      await post({ headers: { authorization }, path: `/${table}`, body: '{"RowKey":"r"}' }),
    ).toMatchObject({
      status: 400,
      code: 'PropertiesNeedValue',
    });
  });
});

describe('the record on the wire and when storage fails', () => {
  const key = (name: string) =>
    `/subscriptions/x/virtualMachineScaleSets/vmss/${name}@2026-12-01t03:00:00.000z`;

  it('makes its table on the first claim in a new account, then inserts with one request', async () => {
    const fresh = createIssuedRegistrationsTable({
      endpoint: target.endpoint(),
      tableName: 'kilnfreshaccount',
      credential: createCredential(t.settings),
      retryBaseMs: 10,
    });
    const before = t.cloud.requestLog.length;
    expect(await fresh.claim(key('fresh-0'), '2026-12-01T03:00:00.000Z')).toBe('claimed');
    expect(t.cloud.requestLog.slice(before).map((r) => `${r.method} ${decodeURIComponent(r.path)}`)).toEqual([
      'GET /kilnfreshaccount()', // the sweep before an app instance's first claim: no table yet
      'POST /kilnfreshaccount', // 404 TableNotFound
      'POST /Tables',
      'POST /kilnfreshaccount',
    ]);
    const next = t.cloud.requestLog.length;
    expect(await fresh.claim(key('fresh-1'), '2026-12-01T03:01:00.000Z')).toBe('claimed');
    expect(t.cloud.requestLog.slice(next).map((r) => r.method)).toEqual(['POST']);
    expect(t.cloud.requests.tables).toBeGreaterThan(4);
  });

  it('replaces an expired record it finds conditionally on the ETag it read', async () => {
    const issued = target.open();
    expect(await issued.claim(key('etag'), '2026-12-01T03:00:00.000Z')).toBe('claimed');
    // A sweep half an hour before the record expires: none is due when the claim finds it.
    expect(await issued.claim(key('etag-sweep'), '2026-12-02T02:30:00.000Z')).toBe('claimed');
    const before = t.cloud.requestLog.length;
    expect(await issued.claim(key('etag'), '2026-12-02T03:00:01.000Z')).toBe('claimed');
    expect(t.cloud.requestLog.slice(before).map((r) => r.method)).toEqual(['POST', 'GET', 'PUT']);
  });

  it('storage unavailable: a claim fails as transient, naming the table and the status, and records nothing', async () => {
    const issued = target.open();
    const k = key('outage');
    expect(await issued.claim(key('warm-up'), '2026-12-01T03:00:00.000Z')).toBe('claimed');
    // One request and the SDK's three retries.
    t.cloud.addFault({ service: 'tables', operation: 'createEntity', status: 503, times: 4 });
    const err = (await issued.claim(k, '2026-12-01T03:00:10.000Z').catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/^table kilnregistrations insert failed \(HTTP 503 ServerBusy\)/);
    expect(t.cloud.faults.fired['tables:createEntity']).toBe(4);
    expect(await issued.claim(k, '2026-12-01T03:00:20.000Z')).toBe('claimed');
  });

  it('a refused role is a permanent error that says so; a release that fails throws', async () => {
    t.cloud.addFault({ service: 'tables', operation: 'deleteEntity', status: 500, times: 4 });
    const err = (await target
      .open()
      .release(key('release-outage'))
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('TransientError');
    expect(err.message).toMatch(/^table kilnregistrations delete failed \(HTTP 500 InternalError\)/);

    const packer = t.cloud.access.identity('packer');
    const asPacker = createIssuedRegistrationsTable({
      endpoint: target.endpoint(),
      tableName: target.inspect().tableName,
      credential: {
        getToken: async () => ({
          token: t.cloud.tokens.issue(STORAGE_AUDIENCE, 'entra', packer.clientId).token,
          expiresOnTimestamp: Date.now() + 3600_000,
        }),
      },
      retryBaseMs: 10,
    });
    const refused = (await asPacker
      .claim(key('no-role'), '2026-12-01T03:00:00.000Z')
      .catch((e: unknown) => e)) as Error;
    expect(refused.name).toBe('PermanentError');
    expect(refused.message).toMatch(
      /^table kilnregistrations query failed \(HTTP 403 AuthorizationPermissionMismatch\)/,
    );
  });

  it('refuses a claim time that is not a time, and a key too long for Table storage', async () => {
    await expect(target.open().claim(key('x'), 'yesterday')).rejects.toThrow(
      /"yesterday" is not an ISO 8601 time/,
    );
    await expect(target.open().claim('/'.repeat(200), '2026-12-01T03:00:00.000Z')).rejects.toThrow(
      /is 600 characters as a Table key; Table storage keys hold at most 512/,
    );
  });
});
