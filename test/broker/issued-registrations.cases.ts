/**
 * The cases the registration broker's record of issued registrations must pass, on any Table
 * service: the fake cloud's (test/broker/issued-registrations.test.ts) and Azurite, the real
 * emulator (test/evidence/issued-registrations-azurite.test.ts). The same cases on both prove the
 * fake answers as the emulator does, for the SDK and on the wire.
 */
import { randomBytes } from 'node:crypto';
import { odata, TableClient } from '@azure/data-tables';
import { expect, it } from 'vitest';
import { tableKey } from '../../src/clients/tables.js';
import {
  ISSUED_RECORD_TTL_MS,
  type IssuedRegistrations,
} from '../../src/registration/issued-registrations.js';

export interface TableTarget {
  /** A new app instance's record (its own client and memory) on the shared table. */
  open(): IssuedRegistrations;
  /** A raw client on the same table, to look at what is stored. */
  inspect(): TableClient;
  /** The service's endpoint (account URL) and a token it accepts, for requests on the wire. */
  endpoint(): string;
  token(): Promise<string>;
}

const T0 = Date.parse('2026-12-01T03:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
/** A provisioning as the broker names it, unique per call. */
const provisioning = (instance = randomBytes(3).toString('hex')) =>
  `/subscriptions/00000000-0000-4000-8000-00000000c0de/resourceGroups/rg-kiln-runners/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-gh-linux-weu/${instance}@2026-12-01t02:58:00.000z`;

async function stored(target: TableTarget, key: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for await (const e of target.inspect().listEntities({
    queryOptions: { filter: odata`RowKey eq ${tableKey(key)}` },
  }))
    found.push(e);
  return found;
}

export function issuedRegistrationCases(target: () => TableTarget): void {
  it('claims a provisioning once: the next claim, from this app instance or another, is taken', async () => {
    const key = provisioning();
    const [one, other] = [target().open(), target().open()];
    expect(await one.claim(key, at(0))).toBe('claimed');
    expect(await one.claim(key, at(60_000))).toBe('taken');
    expect(await other.claim(key, at(120_000))).toBe('taken');
    const records = await stored(target(), key);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ claimedAt: at(0) });
  });

  it('of concurrent claims of one provisioning on two app instances, exactly one wins', async () => {
    const key = provisioning();
    const instances = [target().open(), target().open()];
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => instances[i % 2]!.claim(key, at(i))),
    );
    expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'taken')).toHaveLength(7);
  });

  it('a released claim can be claimed again; releasing what is not claimed is no error', async () => {
    const key = provisioning();
    const issued = target().open();
    expect(await issued.claim(key, at(0))).toBe('claimed');
    await issued.release(key);
    expect(await stored(target(), key)).toHaveLength(0);
    expect(await target().open().claim(key, at(1_000))).toBe('claimed');
    expect(await issued.claim(key, at(2_000))).toBe('taken');
    await issued.release(provisioning());
  });

  it('a record stands for 24 hours; an older one is replaced by the next claim, which then stands', async () => {
    const key = provisioning();
    const issued = target().open();
    expect(await issued.claim(key, at(0))).toBe('claimed');
    // This instance's hourly sweep runs before this claim and leaves the record: exactly 24 h old, it stands.
    expect(await issued.claim(key, at(ISSUED_RECORD_TTL_MS))).toBe('taken');
    // A second later it has expired; no sweep is due, so the claim finds it and replaces it.
    expect(await issued.claim(key, at(ISSUED_RECORD_TTL_MS + 1_000))).toBe('claimed');
    expect(
      await target()
        .open()
        .claim(key, at(ISSUED_RECORD_TTL_MS + 2_000)),
    ).toBe('taken');
    expect(await stored(target(), key)).toEqual([
      expect.objectContaining({ claimedAt: at(ISSUED_RECORD_TTL_MS + 1_000) }),
    ]);
  });

  it('of concurrent claims replacing one expired record, exactly one wins', async () => {
    const key = provisioning();
    expect(await target().open().claim(key, at(0))).toBe('claimed');
    // Three app instances that swept half an hour before the record expired: none sweeps it now.
    const instances = [target().open(), target().open(), target().open()];
    for (const issued of instances)
      expect(await issued.claim(provisioning(), at(ISSUED_RECORD_TTL_MS - 1_800_000))).toBe('claimed');
    const later = ISSUED_RECORD_TTL_MS + 60_000;
    const outcomes = await Promise.all(instances.map((issued, i) => issued.claim(key, at(later + i))));
    expect(outcomes.sort()).toEqual(['claimed', 'taken', 'taken']);
  });

  it("keys with the characters Table keys forbid (/ \\ # ? control), with @, % and ' work, and stay distinct", async () => {
    const issued = target().open();
    const keys = [
      provisioning(),
      "a/b\\c#d?e\u0001f@g%h'i~j",
      'a~2Fb', // what 'a/b' would read as if '~' were not escaped itself
      'a/b',
    ];
    for (const key of keys) expect(await issued.claim(key, at(0)), key).toBe('claimed');
    for (const key of keys) expect(await issued.claim(key, at(1_000)), key).toBe('taken');
    await issued.release(keys[1]!);
    expect(await issued.claim(keys[1]!, at(2_000))).toBe('claimed');
  });

  it('a claim deletes expired records, never a standing one', async () => {
    const [old, recent] = [provisioning(), provisioning()];
    expect(await target().open().claim(old, at(0))).toBe('claimed');
    expect(await target().open().claim(recent, at(ISSUED_RECORD_TTL_MS))).toBe('claimed');
    // A new app instance sweeps before its first claim: `old` is past 24 h, `recent` is not.
    expect(
      await target()
        .open()
        .claim(provisioning(), at(ISSUED_RECORD_TTL_MS + 60_000)),
    ).toBe('claimed');
    expect(await stored(target(), old)).toHaveLength(0);
    expect(await stored(target(), recent)).toHaveLength(1);
  });

  /** One request on the wire, as the SDK sends it. */
  async function send(path: string, init: { method?: string; body?: string; token?: string | null } = {}) {
    const token = init.token === undefined ? await target().token() : init.token;
    const res = await fetch(`${target().endpoint()}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'x-ms-version': '2019-02-02',
        accept: 'application/json;odata=minimalmetadata',
        'content-type': 'application/json',
        dataserviceversion: '3.0',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: init.body,
    });
    return { status: res.status, code: res.headers.get('x-ms-error-code'), text: await res.text() };
  }

  it('on the wire: the service refuses a request without a token, or with one it cannot verify', async () => {
    const table = await tableName();
    const body = JSON.stringify({ PartitionKey: 'p', RowKey: 'r' });
    expect(await send(`/${table}`, { method: 'POST', body, token: null })).toMatchObject({
      status: 403,
      code: 'AuthorizationFailure',
    });
    expect(await send(`/${table}`, { method: 'POST', body, token: 'not-a-token' })).toMatchObject({
      status: 403,
      code: 'AuthenticationFailed',
    });
  });

  it("on the wire: a second insert is 409 EntityAlreadyExists in the service's error body; a bad key 400; missing things 404", async () => {
    const table = await tableName();
    const body = JSON.stringify({ PartitionKey: 'p', RowKey: `r${randomBytes(3).toString('hex')}` });
    expect((await send(`/${table}`, { method: 'POST', body })).status).toBe(201);
    const again = await send(`/${table}`, { method: 'POST', body });
    expect(again).toMatchObject({ status: 409, code: 'EntityAlreadyExists' });
    expect(JSON.parse(again.text)).toEqual({
      'odata.error': {
        code: 'EntityAlreadyExists',
        message: {
          lang: 'en-US',
          value: expect.stringMatching(/^The specified entity already exists\.\nRequestId:\S+\nTime:\S+$/),
        },
      },
    });
    const badKey = JSON.stringify({ PartitionKey: 'p', RowKey: 'a/b' });
    expect(await send(`/${table}`, { method: 'POST', body: badKey })).toMatchObject({
      status: 400,
      code: 'InvalidInput',
    });
    expect(await send(`/${table}(PartitionKey='p',RowKey='nothing')`)).toMatchObject({
      status: 404,
      code: 'ResourceNotFound',
    });
    expect(
      await send(`/nosuchtable${randomBytes(3).toString('hex')}`, { method: 'POST', body }),
    ).toMatchObject({
      status: 404,
      code: 'TableNotFound',
    });
  });

  /** The records' table, made by a first claim if no case made it yet. */
  async function tableName(): Promise<string> {
    await target().open().claim(provisioning(), at(0));
    return target().inspect().tableName;
  }
}
