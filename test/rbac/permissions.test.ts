import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  authorizationFailed,
  builtInRole,
  grantingAssignments,
  isAllowed,
  linkedAuthorizationFailed,
  parseAuthorizationError,
  roleAllows,
  rolesGranting,
  scopeContains,
  type RoleAssignment,
  type RoleDefinition,
} from '../../src/rbac/index.js';

function role(name: string): RoleDefinition {
  const r = builtInRole(name);
  if (!r) throw new Error(`no built-in role ${name}`);
  return r;
}

const SUB = '/subscriptions/11111111-2222-3333-4444-555555555555';
const RG = `${SUB}/resourceGroups/rg-kiln`;
const VMSS = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-gh-linux`;
const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv-kiln`;
const SECRET = `${VAULT}/secrets/github-app-key`;
const PRINCIPAL = 'aaaaaaaa-0000-0000-0000-000000000001';

describe('actionMatches', () => {
  it.each([
    ['*', 'Microsoft.Compute/virtualMachineScaleSets/write', true],
    ['*/read', 'Microsoft.Compute/galleries/images/versions/read', true],
    ['*/read', 'Microsoft.Compute/virtualMachineScaleSets/write', false],
    ['Microsoft.Compute/*', 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write', true],
    ['Microsoft.Compute/*', 'Microsoft.ComputeSchedule/foo/read', false],
    ['Microsoft.App/jobs/*/action', 'microsoft.app/jobs/start/action', true],
    ['Microsoft.App/jobs/*/action', 'Microsoft.App/jobs/read', false],
    ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Microsoft.Compute/disks/read', 'MICROSOFT.COMPUTE/DISKS/READ', true],
    ['Microsoft.Compute/disks/read', 'Microsoft.Compute/disks/readx', false],
    ['Microsoft.Compute/disks/read', 'Microsoft.Compute/disks', false],
    // The pattern is not a regular expression: a dot is a dot.
    ['Microsoft.Compute/disks/read', 'MicrosoftXCompute/disks/read', false],
    // `/*/` also covers no segment (Managed Identity Operator's assign pattern).
    [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      true,
    ],
  ])('%s vs %s → %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('roleAllows', () => {
  it('subtracts Contributor notActions: no role assignments, but scale-set writes', () => {
    const c = role('Contributor');
    expect(roleAllows(c, 'Microsoft.Authorization/roleAssignments/write')).toBe(false);
    expect(roleAllows(c, 'Microsoft.Authorization/roleAssignments/delete')).toBe(false);
    expect(roleAllows(c, 'Microsoft.Authorization/roleAssignments/read')).toBe(true);
    expect(roleAllows(c, 'Microsoft.Compute/galleries/share/action')).toBe(false);
    expect(roleAllows(c, 'Microsoft.Compute/virtualMachineScaleSets/write')).toBe(true);
    expect(roleAllows(role('Owner'), 'Microsoft.Authorization/roleAssignments/write')).toBe(true);
  });

  it('keeps control and data planes apart', () => {
    const user = role('Key Vault Secrets User');
    expect(roleAllows(user, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'data')).toBe(true);
    expect(roleAllows(user, 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'control')).toBe(false);
    expect(roleAllows(user, 'Microsoft.KeyVault/vaults/secrets/setSecret/action', 'data')).toBe(false);
    expect(
      roleAllows(
        role('Key Vault Secrets Officer'),
        'Microsoft.KeyVault/vaults/secrets/setSecret/action',
        'data',
      ),
    ).toBe(true);
    // Reader reads every resource but no data; Owner's `*` does not reach data actions either.
    expect(roleAllows(role('Reader'), 'Microsoft.KeyVault/vaults/read')).toBe(true);
    expect(roleAllows(role('Reader'), 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'data')).toBe(
      false,
    );
    expect(
      roleAllows(
        role('Reader'),
        'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
        'data',
      ),
    ).toBe(false);
    expect(roleAllows(role('Owner'), 'Microsoft.KeyVault/vaults/secrets/getSecret/action', 'data')).toBe(
      false,
    );
  });

  it('subtracts notDataActions from the same role only', () => {
    const custom: RoleDefinition = {
      id: 'custom',
      name: 'Blob writer without delete',
      actions: [],
      notActions: [],
      dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
      notDataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'],
    };
    const blobs = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';
    expect(roleAllows(custom, `${blobs}/write`, 'data')).toBe(true);
    expect(roleAllows(custom, `${blobs}/delete`, 'data')).toBe(false);
  });

  it('Virtual Machine Contributor: scale sets and network joins, but no identity assign or gallery read', () => {
    const vmc = role('Virtual Machine Contributor');
    for (const action of [
      'Microsoft.Compute/virtualMachineScaleSets/write',
      'Microsoft.Compute/virtualMachineScaleSets/delete',
      'Microsoft.Compute/virtualMachineScaleSets/delete/action',
      'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
      'Microsoft.Compute/virtualMachineScaleSets/reimageAll/action',
      'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/write',
      'Microsoft.Compute/virtualMachines/delete',
      'Microsoft.Compute/disks/delete',
      'Microsoft.Network/virtualNetworks/subnets/join/action',
      'Microsoft.Network/networkSecurityGroups/join/action',
      'Microsoft.Network/loadBalancers/backendAddressPools/join/action',
      'Microsoft.Network/publicIPAddresses/join/action',
      'Microsoft.Network/applicationGateways/backendAddressPools/join/action',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
    ]) {
      expect(roleAllows(vmc, action), action).toBe(true);
    }
    for (const action of [
      'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      'Microsoft.Compute/galleries/images/versions/read',
      'Microsoft.Compute/images/delete',
      'Microsoft.Network/virtualNetworks/write',
      'Microsoft.Authorization/roleAssignments/write',
    ]) {
      expect(roleAllows(vmc, action), action).toBe(false);
    }
  });

  it('Compute Gallery Artifacts Publisher: image versions and managed images, not sharing', () => {
    const pub = role('Compute Gallery Artifacts Publisher');
    expect(roleAllows(pub, 'Microsoft.Compute/images/delete')).toBe(true);
    expect(roleAllows(pub, 'Microsoft.Compute/galleries/images/versions/write')).toBe(true);
    expect(roleAllows(pub, 'Microsoft.Compute/galleries/images/versions/delete')).toBe(true);
    expect(roleAllows(pub, 'Microsoft.Compute/galleries/share/action')).toBe(false);
    expect(roleAllows(pub, 'Microsoft.Compute/virtualMachineScaleSets/write')).toBe(false);
    expect(
      roleAllows(role('Compute Gallery Image Reader'), 'Microsoft.Compute/galleries/images/versions/read'),
    ).toBe(true);
    expect(
      roleAllows(role('Compute Gallery Image Reader'), 'Microsoft.Compute/galleries/images/versions/write'),
    ).toBe(false);
  });

  it('Container Apps Jobs Operator: start, stop and reads, not writes', () => {
    const op = role('Container Apps Jobs Operator');
    expect(roleAllows(op, 'Microsoft.App/jobs/start/action')).toBe(true);
    expect(roleAllows(op, 'Microsoft.App/jobs/stop/action')).toBe(true);
    expect(roleAllows(op, 'microsoft.app/jobs/read')).toBe(true);
    expect(roleAllows(op, 'Microsoft.App/jobs/executions/read')).toBe(true);
    expect(roleAllows(op, 'Microsoft.App/jobs/write')).toBe(false);
    expect(roleAllows(op, 'Microsoft.App/jobs/delete')).toBe(false);
    expect(roleAllows(op, 'Microsoft.App/jobs/exec/action', 'data')).toBe(true);
  });

  it('Managed Identity Operator assigns identities; AcrPull only pulls', () => {
    const mio = role('Managed Identity Operator');
    expect(roleAllows(mio, 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action')).toBe(true);
    expect(roleAllows(mio, 'Microsoft.ManagedIdentity/userAssignedIdentities/read')).toBe(true);
    expect(roleAllows(mio, 'Microsoft.ManagedIdentity/userAssignedIdentities/write')).toBe(false);
    expect(roleAllows(role('AcrPull'), 'Microsoft.ContainerRegistry/registries/pull/read')).toBe(true);
    expect(roleAllows(role('AcrPull'), 'Microsoft.ContainerRegistry/registries/push/write')).toBe(false);
    expect(roleAllows(role('AcrPush'), 'Microsoft.ContainerRegistry/registries/push/write')).toBe(true);
  });
});

describe('scopeContains', () => {
  it.each([
    [RG, `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/x`, true],
    [RG, RG, true],
    [`${RG}/`, RG, true],
    [RG, `${SUB}/resourceGroups/rg-kiln2`, false],
    [RG, `${SUB}/resourceGroups/rg-kiln2/providers/Microsoft.Compute/virtualMachineScaleSets/x`, false],
    [`${SUB}/resourceGroups/rg-kiln-2`, RG, false],
    [RG.toUpperCase(), VMSS.replace('resourceGroups', 'resourcegroups'), true],
    [SUB, VMSS, true],
    [VMSS, RG, false],
    ['/', VMSS, true],
    [VAULT, SECRET, true],
    [SECRET, VAULT, false],
    ['/subscriptions/other', VMSS, false],
  ])('%s contains %s → %s', (scope, resource, expected) => {
    expect(scopeContains(scope, resource)).toBe(expected);
  });
});

describe('isAllowed / grantingAssignments', () => {
  const assignments: RoleAssignment[] = [
    {
      principalId: PRINCIPAL.toUpperCase(),
      roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/9980E02C-C2BE-4D73-94E8-173B1DC7CF3C`,
      scope: RG,
    },
    { principalId: PRINCIPAL, roleDefinitionId: '4633458b-17de-408a-b874-0445c86b69e6', scope: VAULT },
    { principalId: PRINCIPAL, roleDefinitionId: '00000000-0000-0000-0000-00000000dead', scope: '/' },
    { principalId: 'someone-else', roleDefinitionId: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', scope: '/' },
  ];

  it('grants through an assignment above the resource, comparing ids without case', () => {
    const req = {
      principalId: PRINCIPAL,
      action: 'Microsoft.Compute/virtualMachineScaleSets/write',
      scope: VMSS,
    };
    expect(isAllowed(req, assignments)).toBe(true);
    expect(grantingAssignments(req, assignments)).toEqual([assignments[0]]);
  });

  it('refuses what no assignment of this principal grants (another principal is Owner)', () => {
    const req = {
      principalId: PRINCIPAL,
      action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
      scope: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-runner`,
    };
    expect(isAllowed(req, assignments)).toBe(false);
    expect(grantingAssignments(req, assignments)).toEqual([]);
    expect(isAllowed({ ...req, principalId: 'SOMEONE-ELSE' }, assignments)).toBe(true);
  });

  it('refuses outside the assignment scope', () => {
    const other = `${SUB}/resourceGroups/rg-kiln2/providers/Microsoft.Compute/virtualMachineScaleSets/x`;
    expect(
      isAllowed(
        { principalId: PRINCIPAL, action: 'Microsoft.Compute/virtualMachineScaleSets/write', scope: other },
        assignments,
      ),
    ).toBe(false);
  });

  it('reads a secret value on the data plane only, within the vault', () => {
    const get = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
    expect(isAllowed({ principalId: PRINCIPAL, action: get, scope: SECRET, kind: 'data' }, assignments)).toBe(
      true,
    );
    expect(isAllowed({ principalId: PRINCIPAL, action: get, scope: SECRET }, assignments)).toBe(false);
    const otherVault = `${RG}/providers/Microsoft.KeyVault/vaults/kv-other/secrets/github-app-key`;
    expect(
      isAllowed({ principalId: PRINCIPAL, action: get, scope: otherVault, kind: 'data' }, assignments),
    ).toBe(false);
  });

  it('lets an unknown role grant nothing, and accepts a custom role lookup', () => {
    const req = {
      principalId: PRINCIPAL,
      action: 'Microsoft.Web/sites/write',
      scope: `${RG}/providers/Microsoft.Web/sites/a`,
    };
    expect(isAllowed(req, assignments)).toBe(false);
    const custom: RoleDefinition = {
      id: '00000000-0000-0000-0000-00000000dead',
      name: 'Site writer',
      actions: ['Microsoft.Web/sites/*'],
      notActions: [],
      dataActions: [],
      notDataActions: [],
    };
    const lookup = (id: string) => (id === custom.id ? custom : builtInRole(id));
    expect(isAllowed(req, assignments, lookup)).toBe(true);
    expect(grantingAssignments(req, assignments, lookup)).toEqual([assignments[2]]);
  });

  it('lets a second role grant what one role’s notActions removed', () => {
    const both: RoleAssignment[] = [
      { principalId: PRINCIPAL, roleDefinitionId: 'b24988ac-6180-42a0-ab88-20f7382dd24c', scope: SUB },
      { principalId: PRINCIPAL, roleDefinitionId: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', scope: RG },
    ];
    const write = 'Microsoft.Authorization/roleAssignments/write';
    expect(isAllowed({ principalId: PRINCIPAL, action: write, scope: VMSS }, both)).toBe(true);
    expect(
      isAllowed({ principalId: PRINCIPAL, action: write, scope: `${SUB}/resourceGroups/other` }, both),
    ).toBe(false);
  });
});

describe('rolesGranting', () => {
  const names = (action: string, kind?: 'control' | 'data') => rolesGranting(action, kind).map((r) => r.name);

  it('names the narrowest role first and Contributor, Owner last', () => {
    expect(names('Microsoft.ContainerRegistry/registries/pull/read')).toEqual([
      'AcrPull',
      'AcrPush',
      'Reader',
      'Contributor',
      'Owner',
    ]);
    expect(names('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action')).toEqual([
      'Managed Identity Operator',
      'Contributor',
      'Owner',
    ]);
    expect(names('Microsoft.Compute/galleries/images/versions/read')[0]).toBe('Compute Gallery Image Reader');
    expect(names('Microsoft.App/jobs/start/action')).toEqual([
      'Container Apps Jobs Operator',
      'Contributor',
      'Owner',
    ]);
  });

  it('lists only data roles for a data action, and only Owner for role assignment', () => {
    expect(names('Microsoft.KeyVault/vaults/secrets/getSecret/action', 'data')).toEqual([
      'Key Vault Secrets User',
      'Key Vault Secrets Officer',
    ]);
    expect(names('Microsoft.Authorization/roleAssignments/write')).toEqual(['Owner']);
  });
});

describe('ARM 403 bodies', () => {
  const client = 'c0ffee00-0000-0000-0000-000000000001';
  const oid = 'c0ffee00-0000-0000-0000-000000000002';

  it('words AuthorizationFailed exactly as ARM does', () => {
    expect(
      authorizationFailed({
        clientId: client,
        objectId: oid,
        action: 'Microsoft.Compute/images/delete',
        scope: RG,
      }),
    ).toEqual({
      code: 'AuthorizationFailed',
      message:
        "The client 'c0ffee00-0000-0000-0000-000000000001' with object id 'c0ffee00-0000-0000-0000-000000000002' " +
        "does not have authorization to perform action 'Microsoft.Compute/images/delete' over scope " +
        "'/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-kiln' or the scope is invalid. " +
        'If access was recently granted, please refresh your credentials.',
    });
  });

  it('words LinkedAuthorizationFailed exactly as ARM does', () => {
    const body = linkedAuthorizationFailed({
      clientId: client,
      objectId: oid,
      action: 'Microsoft.Compute/virtualMachineScaleSets/write',
      scope: VMSS,
      linked: [
        {
          action: 'Microsoft.Network/virtualNetworks/subnets/join/action',
          scope: `${RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s`,
        },
        {
          action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
          scope: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id`,
        },
      ],
    });
    expect(body.code).toBe('LinkedAuthorizationFailed');
    expect(body.message).toBe(
      `The client '${client}' with object id '${oid}' has permission to perform action ` +
        `'Microsoft.Compute/virtualMachineScaleSets/write' on scope '${VMSS}'; however, it does not have ` +
        `permission to perform action(s) 'Microsoft.Network/virtualNetworks/subnets/join/action,` +
        `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) ` +
        `'${RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s,` +
        `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id' (respectively) or the linked ` +
        'scope(s) are invalid.',
    );
  });
});

describe('parseAuthorizationError', () => {
  const client = 'c1';
  const oid = 'o1';

  it('round-trips AuthorizationFailed', () => {
    const { message } = authorizationFailed({
      clientId: client,
      objectId: oid,
      action: 'Microsoft.App/jobs/start/action',
      scope: RG,
    });
    expect(parseAuthorizationError(message)).toEqual({
      code: 'AuthorizationFailed',
      action: 'Microsoft.App/jobs/start/action',
      scope: RG,
    });
  });

  it('round-trips LinkedAuthorizationFailed, pairing actions with scopes', () => {
    const linked = [
      {
        action: 'Microsoft.Compute/galleries/images/versions/read',
        scope: `${RG}/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0`,
      },
      {
        action: 'Microsoft.Network/networkSecurityGroups/join/action',
        scope: `${RG}/providers/Microsoft.Network/networkSecurityGroups/nsg`,
      },
    ];
    const { message } = linkedAuthorizationFailed({
      clientId: client,
      objectId: oid,
      action: 'Microsoft.Compute/virtualMachineScaleSets/write',
      scope: VMSS,
      linked,
    });
    expect(parseAuthorizationError(message)).toEqual({
      code: 'LinkedAuthorizationFailed',
      action: 'Microsoft.Compute/virtualMachineScaleSets/write',
      scope: VMSS,
      linked,
    });
  });

  it('reads the older linked wording and one action over two scopes, inside an SDK error text', () => {
    const idA = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a`;
    const idB = `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b`;
    const message =
      `compute.VirtualMachineScaleSetsClient#Update: StatusCode=403 -- Original Error: Code="LinkedAuthorizationFailed" ` +
      `Message="The client '${client}' with object id '${oid}' has permission to perform action ` +
      `'Microsoft.Compute/virtualMachineScaleSets/write' on scope '${VMSS}'; however, it does not have permission ` +
      `to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) ` +
      `'${idA},${idB}' or the linked scope(s) are invalid."`;
    expect(parseAuthorizationError(message)?.linked).toEqual([
      { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', scope: idA },
      { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', scope: idB },
    ]);
  });

  it('reads the deployment-wrapped form', () => {
    const message =
      "Authorization failed for template resource 'vmss-gh-linux' of type 'Microsoft.Compute/virtualMachineScaleSets'. " +
      `The client '${client}' with object id '${oid}' does not have permission to perform action ` +
      `'Microsoft.Compute/virtualMachineScaleSets/write' at scope '${VMSS}'.`;
    expect(parseAuthorizationError(message)).toEqual({
      code: 'AuthorizationFailed',
      action: 'Microsoft.Compute/virtualMachineScaleSets/write',
      scope: VMSS,
    });
  });

  it('returns undefined for other messages', () => {
    expect(parseAuthorizationError('The resource was not found.')).toBeUndefined();
    expect(parseAuthorizationError('')).toBeUndefined();
  });
});
