import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { doctorCommand } from '../../src/cli/doctor.js';
import type { CheckResult } from '../../src/cli/doctor-checks.js';
import {
  checkRoles,
  labelOf,
  ORCHESTRATOR_NEEDS,
  rolesFor,
  tokenIdentity,
} from '../../src/cli/doctor-roles.js';
import { AccessControl, type FakeIdentity } from '../../src/local/fake-cloud/access.js';
import { roleName } from '../../src/rbac/index.js';
import type { RoleAssignment } from '../../src/rbac/types.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

// `kiln doctor`'s role checks in-process against the fake cloud, whose ARM enforces the role
// assignments of kiln's compiled Bicep (the fake cloud's default) and serves their list.

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await doctorCommand(argv), stdout };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('kiln doctor: Azure roles', () => {
  let t: TestCloud;
  let dir: string;
  let project: AccessControl;
  let settingsFile: string;
  const sub = () => `/subscriptions/${t.settings.subscriptionId}`;
  const identity = (role: FakeIdentity['role']) => project.identity(role);

  /** Runs doctor with the project's assignments minus those `drop` picks. */
  const doctorWithout = async (drop: (a: RoleAssignment) => boolean) => {
    const all = project.assignments as readonly RoleAssignment[];
    const kept = all.filter((a) => !drop(a));
    expect(all.length - kept.length, 'exactly one assignment removed').toBe(1);
    t.cloud.world.access = new AccessControl(project.identities, kept, () =>
      new Date(t.clock.nowMs()).toISOString(),
    );
    const { code, stdout } = await run(['--settings', settingsFile, '--json']);
    return { code, checks: (JSON.parse(stdout) as { checks: CheckResult[] }).checks };
  };
  const failing = (checks: CheckResult[]) => checks.filter((c) => c.status === 'fail');
  const byRoleAt = (role: string, scope: string) => (a: RoleAssignment) =>
    roleName(a.roleDefinitionId) === role && a.scope.toLowerCase() === scope.toLowerCase();

  beforeAll(async () => {
    t = await startTestCloud(makeScenario());
    project = t.cloud.world.access;
    expect(project.grantsAll, "the fake cloud enforces the project's roles").toBe(false);
    dir = mkdtempSync(join(tmpdir(), 'kiln-doctor-roles-'));
    settingsFile = join(dir, 'settings.json');
    writeFileSync(settingsFile, JSON.stringify(t.cloud.env));
  });
  afterEach(() => {
    t.cloud.world.access = project;
  });
  afterAll(() => t.close());

  it("passes every role check with the project's roles, reading the role assignments once per identity", async () => {
    t.cloud.requestLog.length = 0;
    const { code, stdout } = await run(['--settings', settingsFile]);
    const orchestrator = identity('orchestrator');
    expect(stdout).toContain(
      `✓ azure identity: object id ${orchestrator.principalId}, client id ${orchestrator.clientId}`,
    );
    expect(stdout).toMatch(
      /^✓ roles: kiln's identity .* holds every role kiln needs: \d+ action\(s\) on \d+ scope\(s\)$/m,
    );
    expect(stdout).toMatch(
      /^✓ registration secret vmss-gh-linux-weu: .*id-kiln-linux-runners.* may read the secret gh-pat$/m,
    );
    expect(stdout).toMatch(
      /^✓ registration secret vmss-ado-win-weu: .*id-kiln-windows-agents.* may read the secret ado-pat$/m,
    );
    expect(stdout, stdout).not.toMatch(/^✗/m);
    expect(code).toBe(0);
    // One list at the subscription answers for every scope below it; each scale set identity is
    // looked up once on its secret.
    const lists = t.cloud.requestLog.filter((r) =>
      /\/providers\/Microsoft\.Authorization\/roleAssignments$/i.test(r.path),
    );
    expect(lists.map((r) => r.path)).toEqual([
      `${sub()}/providers/Microsoft.Authorization/roleAssignments`,
      expect.stringMatching(/\/secrets\/ado-pat\/providers\/Microsoft\.Authorization\/roleAssignments$/),
      expect.stringMatching(/\/secrets\/gh-pat\/providers\/Microsoft\.Authorization\/roleAssignments$/),
    ]);
    expect(t.cloud.requestLog.filter((r) => r.method !== 'GET' && r.service === 'arm')).toEqual([]);
    // Every other exchange keeps to the official API descriptions (src/local/contracts does not
    // describe @azure/arm-authorization's role assignment list yet).
    expect(
      t.cloud.contractViolations.filter(
        (v) => !/\/providers\/Microsoft\.Authorization\/roleAssignments$/i.test(v.operation),
      ),
    ).toEqual([]);
    // Nothing token-like is printed: doctor names the object id, which is no secret.
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  it('names exactly the role, identity and scope of a removed assignment, with the az command, and exits 1', async () => {
    const job = t.settings.packer.jobId;
    const { code, checks } = await doctorWithout(byRoleAt('Container Apps Jobs Operator', job));
    expect(code).toBe(1);
    const orchestrator = identity('orchestrator');
    expect(failing(checks)).toEqual([
      {
        check: 'role Container Apps Jobs Operator on job job-kiln-packer',
        status: 'fail',
        // Reader on the subscription still grants jobs/read and executions/read: only these are missing.
        detail: expect.stringContaining(
          `kiln's identity (client ${orchestrator.clientId}, object ${orchestrator.principalId}) may not ` +
            `Microsoft.App/jobs/start/action, Microsoft.App/jobs/stop/action on ${job} (needed for rebuild:`,
        ),
        fix:
          `assign "Container Apps Jobs Operator": az role assignment create --assignee-object-id ${orchestrator.principalId} ` +
          `--assignee-principal-type ServicePrincipal --role "Container Apps Jobs Operator" --scope ${job}`,
      },
    ]);
    // The same line as text.
    t.cloud.world.access = new AccessControl(
      project.identities,
      (project.assignments as RoleAssignment[]).filter(
        (a) => !byRoleAt('Container Apps Jobs Operator', job)(a),
      ),
      () => new Date(t.clock.nowMs()).toISOString(),
    );
    const text = await run(['--settings', settingsFile]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /^✗ role Container Apps Jobs Operator on job job-kiln-packer: kiln's identity .* — fix: assign "Container Apps Jobs Operator": az role assignment create /m,
    );
  });

  it.each([
    [
      'Managed Identity Operator',
      'identity id-kiln-linux-runners',
      () => identity('linuxRunners').resourceId,
    ],
    [
      // Network Contributor grants it too; doctor names the role the deployment already uses.
      'Virtual Machine Contributor',
      'subnet runners',
      () => t.cloud.world.subnetId(),
    ],
    [
      'Compute Gallery Artifacts Publisher',
      'resource group rg-images',
      () => `${sub()}/resourceGroups/rg-images`,
    ],
    [
      'Compute Gallery Artifacts Publisher',
      'image definition windows-agent',
      () => t.cloud.world.definitionId('windows'),
    ],
    [
      'Key Vault Secrets User',
      'secret github-app-key',
      () => `${t.cloud.world.keyVaultId()}/secrets/github-app-key`,
    ],
    [
      'Virtual Machine Contributor',
      'scale set vmss-gh-linux-weu',
      () =>
        `${sub()}/resourceGroups/rg-kiln-runners/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-gh-linux-weu`,
    ],
  ])("without kiln's %s on %s, doctor names that role there", async (role, label, scope) => {
    const orchestrator = identity('orchestrator');
    const { code, checks } = await doctorWithout(
      (a) => a.principalId === orchestrator.principalId && byRoleAt(role, scope())(a),
    );
    expect(code).toBe(1);
    const roleLines = failing(checks).filter((c) => c.check.startsWith('role '));
    expect(roleLines.map((c) => c.check)).toEqual([`role ${role} on ${label}`]);
    expect(roleLines[0]!.fix).toContain(
      `--assignee-object-id ${orchestrator.principalId} --assignee-principal-type ServicePrincipal --role "${role}" --scope ${scope()}`,
    );
  });

  it('names a scale set identity without Key Vault Secrets User on its registration secret', async () => {
    const runners = identity('linuxRunners');
    const secret = `${t.cloud.world.keyVaultId()}/secrets/gh-pat`;
    const { code, checks } = await doctorWithout(
      (a) => a.principalId === runners.principalId && byRoleAt('Key Vault Secrets User', secret)(a),
    );
    expect(code).toBe(1);
    expect(failing(checks)).toEqual([
      {
        check: 'registration secret vmss-gh-linux-weu',
        status: 'fail',
        detail: expect.stringContaining(
          `vmss-gh-linux-weu's identity id-kiln-linux-runners (client ${runners.clientId}, object ${runners.principalId}) ` +
            `may not Microsoft.KeyVault/vaults/secrets/getSecret/action on ${secret}`,
        ),
        fix: `assign "Key Vault Secrets User": az role assignment create --assignee-object-id ${runners.principalId} --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" --scope ${secret}`,
      },
    ]);
    expect(checks.find((c) => c.check === 'registration secret vmss-ado-win-weu')?.status).toBe('pass');
  });

  it('says when a custom role it cannot evaluate may grant what is missing', async () => {
    const job = t.settings.packer.jobId;
    const orchestrator = identity('orchestrator');
    const kept = (project.assignments as RoleAssignment[]).filter(
      (a) => !byRoleAt('Container Apps Jobs Operator', job)(a),
    );
    const custom = {
      principalId: orchestrator.principalId,
      roleDefinitionId: '0ddba11c-0000-4000-8000-000000000001',
      scope: job,
    };
    t.cloud.world.access = new AccessControl(project.identities, [...kept, custom], () =>
      new Date(t.clock.nowMs()).toISOString(),
    );
    const { stdout } = await run(['--settings', settingsFile]);
    expect(stdout).toMatch(
      /^✗ role Container Apps Jobs Operator on job job-kiln-packer: .*; it holds a custom role doctor cannot evaluate, which may grant this — fix: /m,
    );
  });

  it('fails with a fix when the token names no object id', async () => {
    // A credential whose token is not a JWT with `oid` (the fake identity endpoint always names one).
    const opaque = {
      getToken: () => Promise.resolve({ token: 'opaque', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const checks = await checkRoles({
      settings: t.settings,
      credential: opaque,
      scaleSets: [],
      secretNames: [],
    });
    expect(checks).toEqual([
      {
        check: 'azure identity',
        status: 'fail',
        detail: expect.stringContaining('no object id (oid claim)'),
        fix: expect.stringContaining('AZURE_CLIENT_ID'),
      },
      { check: 'roles', status: 'skip', detail: expect.stringContaining('object id') },
    ]);
  });

  it('says it cannot check roles where the role assignment list is refused, and does not crash', async () => {
    // Without Reader on the subscription the orchestrator may not read role assignments there (nor
    // see the vault); the scopes its other roles cover are still checked.
    const orchestrator = identity('orchestrator');
    const { code, checks } = await doctorWithout(
      (a) => a.principalId === orchestrator.principalId && byRoleAt('Reader', sub())(a),
    );
    expect(code).toBe(1);
    expect(failing(checks).map((c) => c.check)).toEqual([
      'key vault resource',
      `roles at subscription ${t.settings.subscriptionId}`,
    ]);
    const refused = checks.find((c) => c.check.startsWith('roles at subscription'))!;
    expect(refused.detail).toContain('doctor cannot check the roles of');
    expect(refused.detail).toContain('HTTP 403');
    expect(refused.detail).toContain('Microsoft.Authorization/roleAssignments/read');
    expect(refused.fix).toContain(`--role "Reader" --scope ${sub()}`);
    expect(checks.find((c) => c.check === 'key vault resource')?.fix).toContain(
      'Reader on the subscription or the vault',
    );
    expect(checks.find((c) => c.check === 'registration secret vmss-gh-linux-weu')?.status).toBe('skip');
  });
});

describe('doctor-roles helpers', () => {
  const jwt = (claims: object) =>
    `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('reads who a token was issued to, and nothing from a token that is not a JWT', () => {
    expect(tokenIdentity(jwt({ oid: 'o1', appid: 'a1' }))).toEqual({ oid: 'o1', appid: 'a1' });
    expect(tokenIdentity(jwt({ oid: 'o2', azp: 'a2', idtyp: 'user' }))).toEqual({
      oid: 'o2',
      appid: 'a2',
      idtyp: 'user',
    });
    expect(tokenIdentity('opaque').oid).toBeUndefined();
    expect(tokenIdentity('a.!!!.c').oid).toBeUndefined();
  });

  it('suggests one role per scope where one covers every missing action, Reader for reads, never Owner', () => {
    const need = (action: string) => ORCHESTRATOR_NEEDS.find((n) => n.action === action)!;
    const names = (...actions: string[]) => rolesFor(actions.map(need)).map((r) => r.role?.name);
    expect(
      names(
        'Microsoft.Compute/virtualMachineScaleSets/write',
        'Microsoft.Compute/virtualMachineScaleSets/reimage/action',
        'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
      ),
    ).toEqual(['Virtual Machine Contributor']);
    expect(names('Microsoft.Compute/virtualMachineScaleSets/read')).toEqual(['Reader']);
    expect(
      names(
        'Microsoft.Compute/galleries/images/versions/read',
        'Microsoft.Compute/galleries/images/versions/delete',
      ),
    ).toEqual(['Compute Gallery Artifacts Publisher']);
    expect(names('Microsoft.KeyVault/vaults/secrets/getSecret/action')).toEqual(['Key Vault Secrets User']);
    expect(names('Microsoft.App/jobs/start/action')).toEqual(['Container Apps Jobs Operator']);
    expect(names('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action')).toEqual([
      'Managed Identity Operator',
    ]);
  });

  it('labels scopes for check names', () => {
    const rg = '/subscriptions/s/resourceGroups/rg';
    expect(labelOf('/subscriptions/s')).toBe('subscription s');
    expect(labelOf(rg)).toBe('resource group rg');
    expect(labelOf(`${rg}/providers/Microsoft.KeyVault/vaults/kv/secrets/gh-pat`)).toBe('secret gh-pat');
    expect(labelOf(`${rg}/providers/Microsoft.Network/virtualNetworks/v/subnets/runners`)).toBe(
      'subnet runners',
    );
  });
});
