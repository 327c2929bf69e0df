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
import type { Scenario } from '../../src/local/scenario/types.js';
import { makeScenario, startTestCloud, type TestCloud } from '../fakes/helpers.js';

// `kiln doctor`'s role checks in-process against the fake cloud, whose ARM enforces the role
// assignments of kiln's compiled Bicep (the fake cloud's default) and serves their list. The
// Bicep's registration modes follow the scenario's: jit/broker by default (no runner or agent
// identity may read a secret), pat/pat where a describe says so.

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

/** Text as a regular expression that matches it literally. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const KEY_VAULT_SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
/** A role definition no built-in role has: a custom role doctor cannot evaluate. */
const CUSTOM_ROLE = '0ddba11c-0000-4000-8000-000000000001';
const failing = (checks: CheckResult[]) => checks.filter((c) => c.status === 'fail');
const byRoleAt = (role: string, scope: string) => (a: RoleAssignment) =>
  roleName(a.roleDefinitionId) === role && a.scope.toLowerCase() === scope.toLowerCase();

/** A fake cloud doctor checks, with its settings file and the project's role assignments. */
class DoctorCloud {
  t!: TestCloud;
  /** The access control of kiln's compiled Bicep, as the cloud started with. */
  project!: AccessControl;
  settingsFile = '';

  constructor(private readonly scenario: Scenario) {}

  async start(): Promise<void> {
    this.t = await startTestCloud(this.scenario);
    this.project = this.t.cloud.world.access;
    expect(this.project.grantsAll, "the fake cloud enforces the project's roles").toBe(false);
    this.settingsFile = join(mkdtempSync(join(tmpdir(), 'kiln-doctor-roles-')), 'settings.json');
    writeFileSync(this.settingsFile, JSON.stringify(this.t.cloud.env));
  }

  identity(role: FakeIdentity['role']): FakeIdentity {
    return this.project.identity(role);
  }

  get projectAssignments(): readonly RoleAssignment[] {
    return this.project.assignments as readonly RoleAssignment[];
  }

  /** Puts these assignments in force instead of the project's (`restore` puts those back). */
  useAssignments(assignments: readonly RoleAssignment[]): void {
    this.t.cloud.world.access = new AccessControl(this.project.identities, assignments, () =>
      new Date(this.t.clock.nowMs()).toISOString(),
    );
  }

  restore(): void {
    this.t.cloud.world.access = this.project;
  }

  async doctor(): Promise<{ code: number; checks: CheckResult[] }> {
    const { code, stdout } = await run(['--settings', this.settingsFile, '--json']);
    return { code, checks: (JSON.parse(stdout) as { checks: CheckResult[] }).checks };
  }

  /** Runs doctor with the project's assignments minus the one `drop` picks. */
  doctorWithout(drop: (a: RoleAssignment) => boolean): Promise<{ code: number; checks: CheckResult[] }> {
    const kept = this.projectAssignments.filter((a) => !drop(a));
    expect(this.projectAssignments.length - kept.length, 'exactly one assignment removed').toBe(1);
    this.useAssignments(kept);
    return this.doctor();
  }

  /** A scale set's tags as the fake ARM shows them on its model. */
  tags(scaleSet: string): Record<string, string> {
    return this.t.cloud.world.scaleSets.get(scaleSet)!.tags;
  }

  /** The id ARM lists for an assignment (what `az role assignment delete --ids` takes). */
  assignmentId(principalId: string, scope: string): string {
    const listed = this.t.cloud.world.access
      .listedAssignments()
      .filter((a) => a.principalId === principalId && a.scope === scope);
    expect(listed, `one assignment of ${principalId} at ${scope}`).toHaveLength(1);
    return `${scope}/providers/Microsoft.Authorization/roleAssignments/${listed[0]!.name}`;
  }
}

describe('kiln doctor: Azure roles', () => {
  // The deployment's defaults: every fleet registers through the broker.
  const cloud = new DoctorCloud(makeScenario({ registration: { github: 'jit', ado: 'broker' } }));
  let t: TestCloud;
  let settingsFile: string;
  const sub = () => `/subscriptions/${t.settings.subscriptionId}`;
  const identity = (role: FakeIdentity['role']) => cloud.identity(role);
  const doctorWithout = (drop: (a: RoleAssignment) => boolean) => cloud.doctorWithout(drop);

  beforeAll(async () => {
    await cloud.start();
    ({ t, settingsFile } = cloud);
  });
  afterEach(() => cloud.restore());
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
    // Their VMs register through the broker: their identities may read no secret doctor knows of.
    expect(stdout).toMatch(
      /^✓ registration secret vmss-gh-linux-weu: .*id-kiln-linux-runners.* may read none of the registration secrets gh-pat, github-app-key, ado-pat: .* \(kiln-registration=jit\)$/m,
    );
    expect(stdout).toMatch(
      /^✓ registration secret vmss-ado-win-weu: .*id-kiln-windows-agents.* may read none of the registration secrets gh-pat, github-app-key, ado-pat: .* \(kiln-registration=broker\)$/m,
    );
    expect(stdout, stdout).not.toMatch(/^✗/m);
    expect(code).toBe(0);
    // One list at the subscription answers for every scope below it; each scale set identity is
    // looked up once on the vault, whose list answers for every secret in it.
    const lists = t.cloud.requestLog.filter((r) =>
      /\/providers\/Microsoft\.Authorization\/roleAssignments$/i.test(r.path),
    );
    expect(lists.map((r) => r.path)).toEqual([
      `${sub()}/providers/Microsoft.Authorization/roleAssignments`,
      `${t.cloud.world.keyVaultId()}/providers/Microsoft.Authorization/roleAssignments`,
      `${t.cloud.world.keyVaultId()}/providers/Microsoft.Authorization/roleAssignments`,
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
    cloud.useAssignments(
      cloud.projectAssignments.filter((a) => !byRoleAt('Container Apps Jobs Operator', job)(a)),
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

  it('says when a custom role it cannot evaluate may grant what is missing', async () => {
    const job = t.settings.packer.jobId;
    const orchestrator = identity('orchestrator');
    const kept = cloud.projectAssignments.filter((a) => !byRoleAt('Container Apps Jobs Operator', job)(a));
    const custom = {
      principalId: orchestrator.principalId,
      roleDefinitionId: CUSTOM_ROLE,
      scope: job,
    };
    cloud.useAssignments([...kept, custom]);
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

  describe('registration secrets of scale sets whose VMs register through the broker', () => {
    const vmssCheck = (checks: CheckResult[], name: string) =>
      checks.find((c) => c.check === `registration secret ${name}`);

    it('fails naming the identity, the secrets and the assignment that lets a jit or broker identity read them', async () => {
      const runners = identity('linuxRunners');
      const agents = identity('windowsAgents');
      const vault = t.cloud.world.keyVaultId();
      const adoPat = `${vault}/secrets/ado-pat`;
      cloud.useAssignments([
        ...cloud.projectAssignments,
        { principalId: runners.principalId, roleDefinitionId: KEY_VAULT_SECRETS_USER, scope: vault },
        { principalId: agents.principalId, roleDefinitionId: KEY_VAULT_SECRETS_USER, scope: adoPat },
      ]);
      const { code, checks } = await cloud.doctor();
      expect(code).toBe(1);
      expect(failing(checks)).toEqual([
        {
          check: 'registration secret vmss-ado-win-weu',
          status: 'fail',
          detail:
            `vmss-ado-win-weu's identity id-kiln-windows-agents (client ${agents.clientId}, object ${agents.principalId}) ` +
            `may read the registration secret ado-pat through "Key Vault Secrets User" assigned at ${adoPat}, ` +
            `though vmss-ado-win-weu's VMs register through kiln's broker (kiln-registration=broker): ` +
            'a job on these VMs could read it through IMDS',
          fix:
            `remove that role assignment: az role assignment delete --ids ${cloud.assignmentId(agents.principalId, adoPat)}; ` +
            "or, if vmss-ado-win-weu's VMs are meant to read a PAT, set its registration to pat on purpose " +
            "(infra/main.bicep ado.registration: 'pat', which tags it kiln-registration=pat)",
        },
        {
          check: 'registration secret vmss-gh-linux-weu',
          status: 'fail',
          // One assignment on the vault grants every secret in it: one line names them all.
          detail: expect.stringContaining(
            `vmss-gh-linux-weu's identity id-kiln-linux-runners (client ${runners.clientId}, object ${runners.principalId}) ` +
              `may read the registration secrets gh-pat, github-app-key, ado-pat through "Key Vault Secrets User" assigned at ${vault}, ` +
              "though vmss-gh-linux-weu's VMs register through kiln's broker (kiln-registration=jit)",
          ),
          fix: expect.stringMatching(
            new RegExp(
              `^remove that role assignment: az role assignment delete --ids ${escape(cloud.assignmentId(runners.principalId, vault))}; .*github\\.registration: 'pat'`,
            ),
          ),
        },
      ]);
    });

    it('passes, saying so, when a custom role it cannot evaluate might grant a read', async () => {
      const runners = identity('linuxRunners');
      const vault = t.cloud.world.keyVaultId();
      cloud.useAssignments([
        ...cloud.projectAssignments,
        { principalId: runners.principalId, roleDefinitionId: CUSTOM_ROLE, scope: vault },
      ]);
      const { checks } = await cloud.doctor();
      expect(vmssCheck(checks, 'vmss-gh-linux-weu')).toMatchObject({
        status: 'pass',
        detail: expect.stringMatching(
          /may read none of the registration secrets .*; it holds a custom role doctor cannot evaluate on .*\/secrets\/gh-pat, which may grant a read$/,
        ),
      });
      expect(vmssCheck(checks, 'vmss-ado-win-weu')?.detail).not.toContain('custom role');
    });

    it('checks an untagged scale set as one whose VMs read a PAT (deployed before the tag existed)', async () => {
      const tags = cloud.tags('vmss-gh-linux-weu');
      const runners = identity('linuxRunners');
      const secret = `${t.cloud.world.keyVaultId()}/secrets/gh-pat`;
      delete tags['kiln-registration'];
      try {
        const { code, checks } = await cloud.doctor();
        expect(code).toBe(1);
        // The jit Bicep gave its identity no Key Vault role: read as a PAT scale set, that is a gap.
        expect(failing(checks)).toEqual([
          {
            check: 'registration secret vmss-gh-linux-weu',
            status: 'fail',
            detail: expect.stringContaining(
              `may not Microsoft.KeyVault/vaults/secrets/getSecret/action on ${secret} (needed for vmss-gh-linux-weu's instances to register at boot)`,
            ),
            fix: expect.stringContaining(
              `--assignee-object-id ${runners.principalId} --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" --scope ${secret}`,
            ),
          },
        ]);
        expect(vmssCheck(checks, 'vmss-ado-win-weu')?.status).toBe('pass');
      } finally {
        tags['kiln-registration'] = 'jit';
      }
    });

    it('fails on a tag value kiln does not know, naming the valid ones for the fleet', async () => {
      const tags = cloud.tags('vmss-gh-linux-weu');
      // Valid on an Azure DevOps scale set, not on a GitHub one.
      tags['kiln-registration'] = 'broker';
      try {
        const { code, checks } = await cloud.doctor();
        expect(code).toBe(1);
        expect(failing(checks)).toEqual([
          {
            check: 'registration secret vmss-gh-linux-weu',
            status: 'fail',
            detail: expect.stringContaining(
              `its kiln-registration tag is "broker", which kiln does not know (a GitHub scale set's is jit or pat)`,
            ),
            fix: expect.stringContaining(
              "set vmss-gh-linux-weu's tag kiln-registration to what its VMs do: jit (they register through kiln's broker) or pat",
            ),
          },
        ]);
      } finally {
        tags['kiln-registration'] = 'jit';
      }
    });
  });
});

describe('kiln doctor: registration secrets of scale sets whose VMs read a PAT', () => {
  // The Bicep in pat mode: each runner and agent identity may read its own PAT.
  const cloud = new DoctorCloud(makeScenario({ registration: { github: 'pat', ado: 'pat' } }));
  let t: TestCloud;
  const identity = (role: FakeIdentity['role']) => cloud.identity(role);
  const doctorWithout = (drop: (a: RoleAssignment) => boolean) => cloud.doctorWithout(drop);

  beforeAll(async () => {
    await cloud.start();
    t = cloud.t;
  });
  afterEach(() => cloud.restore());
  afterAll(() => t.close());

  it('passes when each scale set identity may read its PAT', async () => {
    const { code, checks } = await cloud.doctor();
    expect(failing(checks)).toEqual([]);
    expect(code).toBe(0);
    expect(checks.filter((c) => c.check.startsWith('registration secret '))).toEqual([
      {
        check: 'registration secret vmss-ado-win-weu',
        status: 'pass',
        detail: expect.stringMatching(/id-kiln-windows-agents .* may read the secret ado-pat$/),
      },
      {
        check: 'registration secret vmss-gh-linux-weu',
        status: 'pass',
        detail: expect.stringMatching(/id-kiln-linux-runners .* may read the secret gh-pat$/),
      },
    ]);
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

  it('fails when the tag says jit but the identity may still read its PAT, naming the assignment', async () => {
    const runners = identity('linuxRunners');
    const granted = cloud.projectAssignments.filter(
      (a) =>
        a.principalId === runners.principalId && roleName(a.roleDefinitionId) === 'Key Vault Secrets User',
    );
    expect(granted, "the pat Bicep's one Key Vault role of the runners").toHaveLength(1);
    const tags = cloud.tags('vmss-gh-linux-weu');
    tags['kiln-registration'] = 'jit';
    try {
      const { code, checks } = await cloud.doctor();
      expect(code).toBe(1);
      expect(failing(checks)).toEqual([
        {
          check: 'registration secret vmss-gh-linux-weu',
          status: 'fail',
          detail: expect.stringMatching(
            new RegExp(
              `id-kiln-linux-runners .* may read the registration secrets? .*gh-pat.* through "Key Vault Secrets User" assigned at ${escape(granted[0]!.scope)}, .*a job on these VMs could read (it|them) through IMDS$`,
            ),
          ),
          fix: expect.stringContaining(
            `az role assignment delete --ids ${cloud.assignmentId(runners.principalId, granted[0]!.scope)}`,
          ),
        },
      ]);
    } finally {
      tags['kiln-registration'] = 'pat';
    }
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
