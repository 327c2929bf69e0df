import { describe, expect, it } from 'vitest';
import type { ScaleSet } from '../../src/clients/types.js';
import { instanceIdOfComputerName, scaleSetsOfIdentity } from '../../src/domain/registration.js';
import { createPacer } from '../../src/registration/pacer.js';
import { loadSettings } from '../../src/config/load-settings.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000000';
const UAI = `${SUB}/resourceGroups/rg-kiln/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kiln-linux-runners`;

function set(name: string, identity?: ScaleSet['identity']): ScaleSet {
  return {
    id: `${SUB}/resourceGroups/rg-runners/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`,
    name,
    resourceGroup: 'rg-runners',
    location: 'westeurope',
    tags: {},
    orchestrationMode: 'Uniform',
    computerNamePrefix: name,
    osType: 'Linux',
    capacity: 1,
    ...(identity ? { identity } : {}),
  };
}

describe('scaleSetsOfIdentity', () => {
  const systemAssigned = set('vmss-sys', { principalId: 'oid-sys', userAssigned: [] });
  const shared1 = set('vmss-a', {
    userAssigned: [{ resourceId: UAI, principalId: 'oid-uai', clientId: 'cid-uai' }],
  });
  const shared2 = set('vmss-b', {
    userAssigned: [{ resourceId: UAI, principalId: 'oid-uai', clientId: 'cid-uai' }],
  });
  const managed = [systemAssigned, shared1, shared2, set('vmss-none')];

  it('a system-assigned identity is its own scale set, matched case-insensitively (Entra lowercases resourcegroups)', () => {
    const mirid = systemAssigned.id.replace('resourceGroups', 'resourcegroups');
    expect(scaleSetsOfIdentity({ xmsMirid: mirid, oid: 'oid-sys' }, managed)).toEqual({
      ok: true,
      scaleSets: [systemAssigned],
    });
  });

  it('a user-assigned identity is every managed scale set that carries it', () => {
    expect(scaleSetsOfIdentity({ xmsMirid: UAI.toLowerCase(), oid: 'oid-uai' }, managed)).toEqual({
      ok: true,
      scaleSets: [shared1, shared2],
    });
    // Without xms_mirid the object id decides.
    expect(scaleSetsOfIdentity({ oid: 'oid-uai' }, managed)).toMatchObject({
      ok: true,
      scaleSets: [shared1, shared2],
    });
    expect(scaleSetsOfIdentity({ oid: 'oid-sys' }, managed)).toMatchObject({
      ok: true,
      scaleSets: [systemAssigned],
    });
  });

  it('refuses a plain VM, an unmanaged scale set and an unknown identity', () => {
    const vm = `${SUB}/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`;
    expect(scaleSetsOfIdentity({ xmsMirid: vm, oid: 'oid-sys' }, managed)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/virtual machine/),
    });
    const other = `${SUB}/resourcegroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-other`;
    expect(scaleSetsOfIdentity({ xmsMirid: other }, managed)).toMatchObject({ ok: false });
    const otherUai = UAI.replace('linux-runners', 'someone-else');
    expect(scaleSetsOfIdentity({ xmsMirid: otherUai, oid: 'oid-uai' }, managed)).toMatchObject({ ok: false });
    expect(scaleSetsOfIdentity({ oid: 'nobody' }, managed)).toMatchObject({ ok: false });
    expect(scaleSetsOfIdentity({}, managed)).toMatchObject({ ok: false });
  });
});

describe('createPacer', () => {
  it('spreads a waiting burst: 100 VMs refused at once come back one token apart, and each then finds one', () => {
    const pacer = createPacer(30);
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    for (let i = 0; i < 30; i++) pacer.take(t0);
    const comeBack = Array.from({ length: 100 }, () => {
      const answer = pacer.take(t0);
      return answer.ok ? 0 : answer.retryAfterSeconds;
    });
    expect(comeBack.slice(0, 3)).toEqual([2, 4, 6]);
    expect(comeBack.at(-1)).toBe(200);
    // Each comes back when told (in order) and gets a token: no second refusal.
    for (const seconds of comeBack) expect(pacer.take(t0 + seconds * 1000).ok).toBe(true);
  });

  it('lets a burst of perMinute through, then asks to wait until the next token', () => {
    const pacer = createPacer(30);
    const t0 = Date.parse('2026-12-01T00:00:00Z');
    for (let i = 0; i < 30; i++) expect(pacer.take(t0)).toEqual({ ok: true });
    expect(pacer.take(t0)).toEqual({ ok: false, retryAfterSeconds: 2 });
    // The next caller refused is told to come one token (2 s) later than the one before it.
    expect(pacer.take(t0 + 1_000)).toEqual({ ok: false, retryAfterSeconds: 3 });
    expect(pacer.take(t0 + 2_000)).toEqual({ ok: true });
    // A quiet minute refills it, never beyond the burst.
    for (let i = 0; i < 30; i++) expect(pacer.take(t0 + 600_000)).toEqual({ ok: true });
    expect(pacer.take(t0 + 600_000).ok).toBe(false);
  });
});

describe('registration settings', () => {
  const base = {
    AZURE_SUBSCRIPTION_ID: '00000000-0000-4000-8000-000000000001',
    KEYVAULT_URL: 'https://kv.vault.azure.net',
  };

  it('is off without an audience, and needs the tenant and the record table with one', () => {
    expect(loadSettings(base).registration).toBeUndefined();
    const noTenant = () => loadSettings({ ...base, KILN_REGISTRATION_AUDIENCE: 'api://kiln' });
    expect(noTenant).toThrow(/AZURE_TENANT_ID: is required when KILN_REGISTRATION_AUDIENCE is set/);
    // Without a shared record each app instance would give a provisioning its own registration.
    expect(noTenant).toThrow(/KILN_TABLE_ENDPOINT: is required when KILN_REGISTRATION_AUDIENCE is set/);
    expect(() =>
      loadSettings({
        ...base,
        KILN_REGISTRATION_AUDIENCE: 'api://kiln',
        AZURE_TENANT_ID: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
        KILN_TABLE_ENDPOINT: 'http://stkiln.table.core.windows.net',
        KILN_REGISTRATION_TABLE: 'kiln-registrations',
      }),
    ).toThrow(
      /KILN_TABLE_ENDPOINT: must use https[\s\S]*KILN_REGISTRATION_TABLE: must be 3-63 letters\/digits/,
    );
    expect(
      loadSettings({
        ...base,
        KILN_REGISTRATION_AUDIENCE: 'api://kiln, 66666666-6666-4666-8666-666666666666',
        AZURE_TENANT_ID: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
        AZURE_AUTHORITY_HOST: 'https://login.chinacloudapi.cn/',
        KILN_TABLE_ENDPOINT: 'https://stkiln.table.core.chinacloudapi.cn/',
      }).registration,
    ).toEqual({
      audiences: ['api://kiln', '66666666-6666-4666-8666-666666666666'],
      tenantId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      authorityHost: 'https://login.chinacloudapi.cn',
      ratePerMinute: 30,
      runnerGroupId: 1,
      labels: ['self-hosted', 'linux', 'x64'],
      issuedTable: { endpoint: 'https://stkiln.table.core.chinacloudapi.cn', name: 'kilnregistrations' },
    });
  });
});

describe('instanceIdOfComputerName', () => {
  it("reads the base-36 instance id a Uniform scale set's computer name carries", () => {
    expect(instanceIdOfComputerName('vmss-gh-linux-', 'vmss-gh-linux-000000')).toBe('0');
    expect(instanceIdOfComputerName('vmss-gh-linux-', 'vmss-gh-linux-00002w')).toBe('104');
    // Windows registers its agent under the upper-case NetBIOS name.
    expect(instanceIdOfComputerName('adowinw2', 'ADOWINW200000Z')).toBe('35');
  });

  it('gives nothing for a name of another form, so the caller lists the instances', () => {
    expect(instanceIdOfComputerName('vmss-gh-linux-', 'other-000001')).toBeUndefined();
    expect(instanceIdOfComputerName('vmss-gh-linux-', 'vmss-gh-linux-0001')).toBeUndefined();
    expect(instanceIdOfComputerName('vmss-gh-linux-', 'vmss-gh-linux-00_001')).toBeUndefined();
  });
});
