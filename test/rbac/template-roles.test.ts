// The ARM expression evaluator and the role-assignment reader: expressions on their own, small
// hand-written templates, and kiln's compiled template (dist/infra/main.json) against the table in
// infra/README.md "Who may do what".
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArmExpressionError,
  armGuid,
  armUniqueString,
  evaluateJson,
  evaluateString,
  withCopyIndex,
  type EvalHost,
} from '../../src/rbac/arm-expressions.js';
import { roleName } from '../../src/rbac/built-in-roles.js';
import {
  KILN_TEMPLATE_PARAMETERS,
  readTemplateRoles,
  TemplateRolesError,
  type TemplateRoleAssignment,
} from '../../src/rbac/template-roles.js';

const SUB = '00000000-0000-0000-0000-00000000a001';
const TENANT = '00000000-0000-0000-0000-00000000b002';
const CONTEXT = { subscriptionId: SUB, tenantId: TENANT, location: 'westeurope' };

function host(params: Record<string, unknown> = {}, vars: Record<string, unknown> = {}): EvalHost {
  return {
    parameter: (n) => {
      if (!(n in params)) throw new Error(`no parameter ${n}`);
      return params[n];
    },
    variable: (n) => vars[n],
    copyIndex: () => {
      throw new ArmExpressionError('copyIndex() outside a copy loop');
    },
    reference: () => ({ principalId: 'principal:x' }),
    subscription: () => ({ id: `/subscriptions/${SUB}`, subscriptionId: SUB, tenantId: TENANT }),
    resourceGroup: () => ({ id: `/subscriptions/${SUB}/resourceGroups/rg-a`, name: 'rg-a' }),
    deployment: () => ({ name: 'main' }),
    tenant: () => ({ tenantId: TENANT }),
    defaultScope: () => ({ subscriptionId: SUB, resourceGroup: 'rg-a' }),
  };
}

const ev = (text: string, h: EvalHost = host()) => evaluateString(text, h);

describe('ARM expressions', () => {
  it('literals, escapes and plain strings', () => {
    expect(ev("['it''s']")).toBe("it's");
    expect(ev('[42]')).toBe(42);
    expect(ev('[-3]')).toBe(-3);
    expect(ev('[true]')).toBe(true);
    expect(ev('[false()]')).toBe(false);
    expect(ev('[null()]')).toBeNull();
    expect(ev('plain text')).toBe('plain text');
    expect(ev('[[not an expression]')).toBe('[not an expression]');
    expect(ev("[concat('[', 'x', ']')]")).toBe('[x]');
  });

  it('nesting, property access and indexes', () => {
    const h = host({ o: { a: [1, { b: 'deep' }], Name: 'n' } });
    expect(ev("[toLower(concat('A', toUpper('b'), 'C'))]")).toBe('abc');
    expect(ev("[parameters('o').a[1].b]", h)).toBe('deep');
    expect(ev("[parameters('o')['a'][0]]", h)).toBe(1);
    expect(ev("[parameters('o').name]", h)).toBe('n'); // property names are case-insensitive
    expect(ev("[length(split('a=b=c', '='))]")).toBe(3);
    expect(ev("[split('k=v', '=')[1]]")).toBe('v');
    expect(ev("[parameters('o').?missing]", h)).toBeNull();
    expect(ev("[parameters('o').a[?5]]", h)).toBeNull();
    expect(ev("[parameters('o')?.missing?.deeper]", h)).toBeNull();
  });

  it('format(): positions, escaped braces, .NET booleans', () => {
    expect(ev("[format('{0}-{1}-{0}', 'a', 1)]")).toBe('a-1-a');
    expect(ev("[format('{{{0}}}', 'x')]")).toBe('{x}');
    expect(ev("[format('{0}', true())]")).toBe('True');
    expect(ev('[string(false())]')).toBe('False');
  });

  it('union and concat of objects, arrays and strings', () => {
    expect(
      ev(
        "[union(createObject('a', 1, 'n', createObject('x', 1)), createObject('b', 2, 'n', createObject('y', 2)))]",
      ),
    ).toEqual({
      a: 1,
      b: 2,
      n: { x: 1, y: 2 },
    });
    expect(ev("[union(createObject('a', 1), createObject('a', 2))]")).toEqual({ a: 2 });
    expect(ev('[union(createArray(1, 2), createArray(2, 3))]')).toEqual([1, 2, 3]);
    expect(ev('[concat(createArray(1), createArray(), createArray(2, 3))]')).toEqual([1, 2, 3]);
    expect(ev("[concat('a', 'b', 1)]")).toBe('ab1');
  });

  it('copyIndex(): the current loop, a named loop, an offset', () => {
    const h = withCopyIndex(withCopyIndex(host(), 'outer', 5), 'inner', 2);
    expect(ev('[copyIndex()]', h)).toBe(2);
    expect(ev("[copyIndex('outer')]", h)).toBe(5);
    expect(ev("[copyIndex('inner', 10)]", h)).toBe(12);
    expect(ev('[copyIndex(1)]', h)).toBe(3);
    expect(() => ev('[copyIndex()]')).toThrow(/outside a copy loop/);
  });

  it('variables() copy loops and expression keys in JSON values', () => {
    const value = evaluateJson(
      {
        copy: [{ name: 'rules', count: 2, input: "[format('r{0}', copyIndex('rules'))]" }],
        "[concat('k', '1')]": 'v',
      },
      host(),
    );
    expect(value).toEqual({ rules: ['r0', 'r1'], k1: 'v' });
  });

  it('lambdas: map, filter, reduce, toObject, items, nested lambdas', () => {
    const h = host({ xs: [1, 2, 3], o: { b: 2, a: 1 } });
    expect(ev("[map(parameters('xs'), lambda('x', mul(lambdaVariables('x'), 10)))]", h)).toEqual([
      10, 20, 30,
    ]);
    expect(ev("[filter(parameters('xs'), lambda('x', greater(lambdaVariables('x'), 1)))]", h)).toEqual([
      2, 3,
    ]);
    expect(
      ev(
        "[reduce(parameters('xs'), 0, lambda('acc', 'x', add(lambdaVariables('acc'), lambdaVariables('x'))))]",
        h,
      ),
    ).toBe(6);
    expect(
      ev(
        "[toObject(items(parameters('o')), lambda('e', lambdaVariables('e').key), lambda('e', string(lambdaVariables('e').value)))]",
        h,
      ),
    ).toEqual({ a: '1', b: '2' });
    // The gallery module's grant matrix: every role assignment for every image definition.
    expect(
      ev(
        "[flatten(map(range(0, 2), lambda('i', map(createArray('p', 'q'), lambda('ra', createObject('index', lambdaVariables('i'), 'ra', lambdaVariables('ra')))))))]",
      ),
    ).toEqual([
      { index: 0, ra: 'p' },
      { index: 0, ra: 'q' },
      { index: 1, ra: 'p' },
      { index: 1, ra: 'q' },
    ]);
  });

  it('if, coalesce, and, or only evaluate what they need', () => {
    expect(ev("[if(true(), 'yes', listKeys('x', '2020-01-01'))]")).toBe('yes');
    expect(ev("[if(equals(1, 2), listKeys('x'), 'no')]")).toBe('no');
    expect(ev("[coalesce(null(), 'first', listKeys('x'))]")).toBe('first');
    expect(ev("[and(false(), listKeys('x'))]")).toBe(false);
    expect(ev("[or(true(), listKeys('x'))]")).toBe(true);
  });

  it('tryGet and coalesce for optional properties', () => {
    const h = host({ github: { scope: 'org', nested: { k: 'v' } } });
    expect(ev("[coalesce(tryGet(parameters('github'), 'auth'), 'app')]", h)).toBe('app');
    expect(ev("[tryGet(parameters('github'), 'scope')]", h)).toBe('org');
    expect(ev("[tryGet(parameters('github'), 'nested', 'k')]", h)).toBe('v');
    expect(ev("[tryGet(parameters('github'), 'nested', 'missing', 'deeper')]", h)).toBeNull();
    expect(ev("[empty(parameters('github'))]", h)).toBe(false);
    expect(ev("[empty('')]")).toBe(true);
  });

  it('resource ids', () => {
    expect(ev("[resourceId('Microsoft.KeyVault/vaults/secrets', 'kv', 'gh-pat')]")).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-a/providers/Microsoft.KeyVault/vaults/kv/secrets/gh-pat`,
    );
    expect(ev("[resourceId('s2', 'rg-b', 'Microsoft.Compute/galleries/images', 'g', 'linux')]")).toBe(
      '/subscriptions/s2/resourceGroups/rg-b/providers/Microsoft.Compute/galleries/g/images/linux',
    );
    expect(ev("[resourceId('rg-c', 'Microsoft.App/jobs', 'j')]")).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-c/providers/Microsoft.App/jobs/j`,
    );
    expect(ev("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'abc')]")).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/abc`,
    );
    expect(
      ev("[extensionResourceId('/subscriptions/s/resourceGroups/r', 'Microsoft.Authorization/locks', 'l')]"),
    ).toBe('/subscriptions/s/resourceGroups/r/providers/Microsoft.Authorization/locks/l');
    expect(ev('[subscription().id]')).toBe(`/subscriptions/${SUB}`);
    expect(ev('[environment().resourceManager]')).toBe('https://management.azure.com/');
  });

  it("guid() and uniqueString() are Azure's (values produced by bicep snapshot)", () => {
    expect(armUniqueString(`/subscriptions/${SUB}`, 'kiln', 'westeurope')).toBe('g2phbbdyye7go');
    expect(ev(`[uniqueString('/subscriptions/${SUB}', 'kiln', 'westeurope')]`)).toBe('g2phbbdyye7go');
    expect(armUniqueString('test')).toBe('rbgf3xv4ufgzg');
    expect(armUniqueString('foo', 'bar', 'baz')).toBe('xzi4ioaxtmth4');
    expect(
      armGuid(
        `/subscriptions/${SUB}/resourceGroups/rg-kiln/providers/Microsoft.KeyVault/vaults/kv-g2phbbdyye7go`,
        '11111111-2222-3333-4444-555555555555',
        `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7`,
      ),
    ).toBe('64aaedd8-5bb6-5434-99d8-2f9fb213b596');
  });

  it('errors name the function and the expression', () => {
    expect(() => ev("[listKeys('x', '2020-01-01').keys[0]]")).toThrow(
      `unsupported function 'listKeys' in expression "[listKeys('x', '2020-01-01').keys[0]]"`,
    );
    expect(() => ev("[concat('a']")).toThrow(ArmExpressionError);
    expect(() => ev("[concat('a', )]")).toThrow(/syntax error/);
    expect(() => ev("[parameters('o').missing]", host({ o: {} }))).toThrow(
      /property 'missing' does not exist/,
    );
    expect(() => ev('[createArray(1)[3]]')).toThrow(/out of range/);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written templates
// ---------------------------------------------------------------------------------------------

const SUB_SCHEMA =
  'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#';
const RG_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const VMC = '9980e02c-c2be-4d73-94e8-173b1dc7cf3c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const role = (guid: string) =>
  `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${guid}')]`;

const identityModule = {
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2025-04-01',
  name: 'identity',
  resourceGroup: "[parameters('rg')]",
  properties: {
    expressionEvaluationOptions: { scope: 'inner' },
    mode: 'Incremental',
    parameters: { name: { value: "[format('id-{0}', parameters('env'))]" } },
    template: {
      $schema: RG_SCHEMA,
      languageVersion: '2.0',
      contentVersion: '1.0.0.0',
      parameters: { name: { type: 'string' } },
      resources: {
        identity: {
          type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
          apiVersion: '2024-11-30',
          name: "[parameters('name')]",
          location: '[resourceGroup().location]',
        },
      },
      outputs: {
        principalId: { type: 'string', value: "[reference('identity').principalId]" },
        endpoint: { type: 'string', value: "[listKeys('somewhere', '2020-01-01').primary]" },
      },
    },
  },
};

const scaleSetsModule = {
  copy: { name: 'sets', count: "[length(parameters('sets'))]" },
  type: 'Microsoft.Resources/deployments',
  apiVersion: '2025-04-01',
  name: "[format('sets-{0}', copyIndex())]",
  resourceGroup: "[parameters('rg')]",
  properties: {
    expressionEvaluationOptions: { scope: 'inner' },
    parameters: {
      name: { value: "[parameters('sets')[copyIndex()]]" },
      canary: { value: '[equals(copyIndex(), 1)]' },
      principalId: { value: "[reference('identity').outputs.principalId.value]" },
      unused: { value: "[reference('identity').outputs.endpoint.value]" },
    },
    template: {
      $schema: RG_SCHEMA,
      languageVersion: '2.0',
      contentVersion: '1.0.0.0',
      parameters: {
        name: { type: 'string' },
        canary: { type: 'bool' },
        principalId: { type: 'string' },
        unused: { type: 'string' },
        roles: { type: 'array', defaultValue: [VMC] },
      },
      resources: {
        scaleSet: {
          type: 'Microsoft.Compute/virtualMachineScaleSets',
          apiVersion: '2024-07-01',
          name: "[parameters('name')]",
          tags: "[union(createObject('kiln-managed', 'true'), if(parameters('canary'), createObject('kiln-canary', 'true'), createObject()))]",
        },
        roles: {
          copy: { name: 'roles', count: "[length(parameters('roles'))]" },
          type: 'Microsoft.Authorization/roleAssignments',
          apiVersion: '2022-04-01',
          scope: "[resourceId('Microsoft.Compute/virtualMachineScaleSets', parameters('name'))]",
          name: "[guid(parameters('name'), parameters('principalId'))]",
          properties: {
            principalId: "[parameters('principalId')]",
            roleDefinitionId:
              "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('roles')[copyIndex()])]",
            description: 'Manages the scale set.',
          },
        },
      },
    },
  },
};

function subTemplate(resources: Record<string, unknown>, parameters: Record<string, unknown> = {}) {
  return {
    $schema: SUB_SCHEMA,
    languageVersion: '2.0',
    contentVersion: '1.0.0.0',
    parameters: {
      env: { type: 'string' },
      rg: { type: 'string', defaultValue: "[format('rg-{0}', parameters('env'))]" },
      sets: { type: 'array', defaultValue: ['vmss-a', 'vmss-b'] },
      operator: { type: 'string', defaultValue: '' },
      ...parameters,
    },
    resources,
  };
}

describe('readTemplateRoles on hand-written templates', () => {
  it('a copy loop of nested deployments granting an identity that comes through a module output', () => {
    const roles = readTemplateRoles(
      subTemplate({
        rg: {
          type: 'Microsoft.Resources/resourceGroups',
          apiVersion: '2024-11-01',
          name: "[parameters('rg')]",
          location: 'westeurope',
          tags: { env: "[parameters('env')]" },
        },
        identity: identityModule,
        sets: scaleSetsModule,
      }),
      { env: 'dev' },
      CONTEXT,
    );
    const rgId = `/subscriptions/${SUB}/resourceGroups/rg-dev`;
    expect(roles.identities).toEqual([
      {
        name: 'id-dev',
        resourceId: `${rgId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-dev`,
      },
    ]);
    expect(roles.assignments).toEqual([
      {
        principal: { kind: 'identity', name: 'id-dev' },
        roleDefinitionId: VMC,
        scope: `${rgId}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-a`,
        scopeType: 'Microsoft.Compute/virtualMachineScaleSets',
        scopeTags: { 'kiln-managed': 'true' },
        description: 'Manages the scale set.',
        source: 'sets[0] > roles[0]',
      },
      {
        principal: { kind: 'identity', name: 'id-dev' },
        roleDefinitionId: VMC,
        scope: `${rgId}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-b`,
        scopeType: 'Microsoft.Compute/virtualMachineScaleSets',
        scopeTags: { 'kiln-managed': 'true', 'kiln-canary': 'true' },
        description: 'Manages the scale set.',
        source: 'sets[1] > roles[0]',
      },
    ]);
  });

  it('skips resources whose condition is false, and reads a parameter principal at resource-group scope', () => {
    const grant = (condition: string) => ({
      type: 'Microsoft.Resources/deployments',
      apiVersion: '2025-04-01',
      name: 'operator',
      condition,
      resourceGroup: "[parameters('rg')]",
      properties: {
        expressionEvaluationOptions: { scope: 'inner' },
        parameters: { principalId: { value: "[parameters('operator')]" } },
        template: {
          $schema: RG_SCHEMA,
          contentVersion: '1.0.0.0',
          parameters: { principalId: { type: 'string' } },
          resources: [
            {
              type: 'Microsoft.Authorization/roleAssignments',
              apiVersion: '2022-04-01',
              name: "[guid(resourceGroup().id, parameters('principalId'))]",
              properties: { principalId: "[parameters('principalId')]", roleDefinitionId: role(READER) },
            },
          ],
        },
      },
    });
    const template = subTemplate({ operator: grant("[not(empty(parameters('operator')))]") });
    expect(readTemplateRoles(template, { env: 'dev' }, CONTEXT).assignments).toEqual([]);
    expect(readTemplateRoles(template, { env: 'dev', operator: 'op-1' }, CONTEXT).assignments).toEqual([
      {
        principal: { kind: 'parameter', value: 'op-1' },
        roleDefinitionId: READER,
        scope: `/subscriptions/${SUB}/resourceGroups/rg-dev`,
        scopeType: 'resourceGroup',
        source: 'operator > resources[0]',
      },
    ]);
  });

  it('an outer-scope nested template sees the parent parameters; a subscription-scope grant', () => {
    const template = subTemplate({
      atSub: {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: "[guid('x')]",
        properties: { principalId: "[parameters('operator')]", roleDefinitionId: role(READER) },
      },
      outer: {
        type: 'Microsoft.Resources/deployments',
        apiVersion: '2025-04-01',
        name: 'outer',
        resourceGroup: 'rg-outer',
        properties: {
          template: {
            $schema: RG_SCHEMA,
            contentVersion: '1.0.0.0',
            resources: [
              {
                type: 'Microsoft.Authorization/roleAssignments',
                apiVersion: '2022-04-01',
                name: "[guid('y')]",
                scope: 'Microsoft.Compute/galleries/g',
                properties: {
                  principalId: "[parameters('operator')]",
                  roleDefinitionId: READER.toUpperCase(),
                },
              },
            ],
          },
        },
      },
    });
    const roles = readTemplateRoles(template, { env: 'dev', operator: 'op-2' }, CONTEXT);
    expect(roles.assignments.map((a) => [a.scope, a.scopeType, a.roleDefinitionId, a.source])).toEqual([
      [`/subscriptions/${SUB}`, 'subscription', READER, 'atSub'],
      [
        `/subscriptions/${SUB}/resourceGroups/rg-outer/providers/Microsoft.Compute/galleries/g`,
        'Microsoft.Compute/galleries',
        READER,
        'outer > resources[0]',
      ],
    ]);
  });

  it('errors: not a template, missing or unknown parameter, an unsupported function that is needed', () => {
    expect(() => readTemplateRoles({ resources: [] }, {}, CONTEXT)).toThrow(/not an ARM template/);
    expect(() => readTemplateRoles(null, {}, CONTEXT)).toThrow(TemplateRolesError);
    expect(() => readTemplateRoles(subTemplate({}), {}, CONTEXT)).toThrow('missing required parameter env');
    expect(() => readTemplateRoles(subTemplate({}), { env: 'x', typo: 1 }, CONTEXT)).toThrow(
      'unknown parameter typo',
    );
    const needsListKeys = subTemplate({
      bad: {
        type: 'Microsoft.Authorization/roleAssignments',
        apiVersion: '2022-04-01',
        name: 'x',
        properties: { principalId: "[listKeys('k', '2020-01-01').id]", roleDefinitionId: READER },
      },
    });
    expect(() => readTemplateRoles(needsListKeys, { env: 'x' }, CONTEXT)).toThrow(
      /unsupported function 'listKeys' in expression .* \(in bad\)/,
    );
    // A module output that needs listKeys is fine while no role assignment reads it (see above).
  });
});

// ---------------------------------------------------------------------------------------------
// kiln's own template
// ---------------------------------------------------------------------------------------------

const MAIN = new URL('../../dist/infra/main.json', import.meta.url);
const haveMain = existsSync(MAIN);
if (!haveMain) console.warn('skipping the dist/infra/main.json tests: run npm run build:infra first');

/** "who | role | scope" rows with the subscription prefix dropped. */
function table(assignments: TemplateRoleAssignment[]): string[] {
  return assignments
    .map((a) => {
      const who = a.principal.kind === 'identity' ? a.principal.name : `operator ${a.principal.value}`;
      const scope = a.scope.replace(`/subscriptions/${SUB}`, '');
      return `${who} | ${roleName(a.roleDefinitionId)} | ${scope}`;
    })
    .sort();
}

describe.skipIf(!haveMain)("kiln's template (dist/infra/main.json)", () => {
  const template = haveMain ? (JSON.parse(readFileSync(MAIN, 'utf8')) as unknown) : undefined;
  // The resource token: uniqueString(subscription().id, 'kiln', 'westeurope'), as bicep snapshot computes it.
  const token = 'g2phbbdyye7go';
  const rg = '/resourceGroups/rg-kiln/providers';
  const kv = `${rg}/Microsoft.KeyVault/vaults/kv-${token}`;
  const gallery = `${rg}/Microsoft.Compute/galleries/gal_kiln_kiln/images`;
  const registry = `${rg}/Microsoft.ContainerRegistry/registries/cr${token}`;
  const orchestrator = 'id-kiln-orchestrator';
  const packer = 'id-kiln-packer';

  // infra/README.md "Who may do what", for auth app (github-app-key), ADO PAT, secretsReady.
  const expected = [
    ...['Storage Blob Data Owner', 'Storage Queue Data Contributor', 'Storage Table Data Contributor'].map(
      (r) => `${orchestrator} | ${r} | ${rg}/Microsoft.Storage/storageAccounts/st${token}`,
    ),
    `${orchestrator} | Monitoring Metrics Publisher | ${rg}/Microsoft.Insights/components/appi-kiln-${token}`,
    `${orchestrator} | Compute Gallery Artifacts Publisher | ${gallery}/linux-agent`,
    `${orchestrator} | Compute Gallery Artifacts Publisher | ${gallery}/windows-agent`,
    `${orchestrator} | Compute Gallery Artifacts Publisher | /resourceGroups/rg-kiln-images`,
    `${orchestrator} | Reader | `,
    `${orchestrator} | Virtual Machine Contributor | ${rg}/Microsoft.Network/virtualNetworks/vnet-kiln/subnets/runners`,
    ...['linux-runners', 'windows-agents'].map(
      (i) =>
        `${orchestrator} | Managed Identity Operator | ${rg}/Microsoft.ManagedIdentity/userAssignedIdentities/id-kiln-${i}`,
    ),
    `${orchestrator} | Container Apps Jobs Operator | ${rg}/Microsoft.App/jobs/job-kiln-packer`,
    ...['linux', 'linux-canary', 'windows', 'windows-canary'].map(
      (s) =>
        `${orchestrator} | Virtual Machine Contributor | ${rg}/Microsoft.Compute/virtualMachineScaleSets/vmss-kiln-${s}`,
    ),
    `${orchestrator} | Key Vault Secrets User | ${kv}/secrets/github-app-key`,
    `${orchestrator} | Key Vault Secrets User | ${kv}/secrets/ado-pat`,
    `${packer} | Contributor | /resourceGroups/rg-kiln-packer-build`,
    `${packer} | Contributor | /resourceGroups/rg-kiln-images`,
    `${packer} | AcrPull | ${registry}`,
    `${packer} | Storage Blob Data Contributor | ${rg}/Microsoft.Storage/storageAccounts/st${token}/blobServices/default/containers/software-reports`,
  ].sort();
  // In PAT registration mode each fleet's identity reads its PAT at boot (the broker modes are the default).
  const patModeRunnerGrants = [
    `id-kiln-linux-runners | Key Vault Secrets User | ${kv}/secrets/gh-pat`,
    `id-kiln-windows-agents | Key Vault Secrets User | ${kv}/secrets/ado-pat`,
  ];

  it('with the simulator parameters: exactly the table of infra/README.md', () => {
    const roles = readTemplateRoles(template, KILN_TEMPLATE_PARAMETERS, CONTEXT);
    expect(table(roles.assignments)).toEqual(expected);
    expect(roles.identities.map((i) => i.name).sort()).toEqual([
      'id-kiln-linux-runners',
      'id-kiln-orchestrator',
      'id-kiln-packer',
      'id-kiln-windows-agents',
    ]);
    expect(roles.identities.find((i) => i.name === orchestrator)?.resourceId).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg-kiln/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${orchestrator}`,
    );
  });

  it("PAT registration mode adds each fleet identity's read of its PAT, and only that", () => {
    const base = KILN_TEMPLATE_PARAMETERS as { github: object; ado: object };
    const pat = (github: string, ado: string) =>
      table(
        readTemplateRoles(
          template,
          {
            ...KILN_TEMPLATE_PARAMETERS,
            github: { ...base.github, registration: github },
            ado: { ...base.ado, registration: ado },
          },
          CONTEXT,
        ).assignments,
      );
    expect(pat('pat', 'pat')).toEqual([...expected, ...patModeRunnerGrants].sort());
    expect(pat('pat', 'broker')).toEqual([...expected, patModeRunnerGrants[0]!].sort());
    expect(pat('jit', 'pat')).toEqual([...expected, patModeRunnerGrants[1]!].sort());
    expect(pat('jit', 'broker')).toEqual(expected);
  });

  it('an operator principalId adds Key Vault Secrets Officer on the vault and AcrPush on the registry', () => {
    const op = '11111111-2222-3333-4444-555555555555';
    const roles = readTemplateRoles(template, { ...KILN_TEMPLATE_PARAMETERS, principalId: op }, CONTEXT);
    expect(table(roles.assignments)).toEqual(
      [
        ...expected,
        `operator ${op} | Key Vault Secrets Officer | ${kv}`,
        `operator ${op} | AcrPush | ${registry}`,
      ].sort(),
    );
  });

  it("the scale sets' grants carry the scale sets' tags; the secret grants name the secret type", () => {
    const roles = readTemplateRoles(template, KILN_TEMPLATE_PARAMETERS, CONTEXT);
    const vmc = roles.assignments.filter(
      (a) => a.roleDefinitionId === VMC && a.scopeType === 'Microsoft.Compute/virtualMachineScaleSets',
    );
    expect(vmc.map((a) => [a.source, a.scopeType, a.scopeTags])).toEqual([
      [
        'linuxRunners[0] > roles[0]',
        'Microsoft.Compute/virtualMachineScaleSets',
        {
          'azd-env-name': 'kiln',
          'kiln-managed': 'true',
          'kiln-image': 'linux',
          'kiln-registration': 'jit',
          'kiln-recycle': 'true',
        },
      ],
      [
        'linuxRunners[1] > roles[0]',
        'Microsoft.Compute/virtualMachineScaleSets',
        {
          'azd-env-name': 'kiln',
          'kiln-managed': 'true',
          'kiln-image': 'linux',
          'kiln-registration': 'jit',
          'kiln-canary': 'true',
          'kiln-recycle': 'true',
        },
      ],
      [
        'windowsAgents[0] > roles[0]',
        'Microsoft.Compute/virtualMachineScaleSets',
        {
          'azd-env-name': 'kiln',
          'kiln-managed': 'true',
          'kiln-image': 'windows',
          'kiln-registration': 'broker',
          'kiln-recycle': 'false',
        },
      ],
      [
        'windowsAgents[1] > roles[0]',
        'Microsoft.Compute/virtualMachineScaleSets',
        {
          'azd-env-name': 'kiln',
          'kiln-managed': 'true',
          'kiln-image': 'windows',
          'kiln-registration': 'broker',
          'kiln-canary': 'true',
          'kiln-recycle': 'false',
        },
      ],
    ]);
    const secrets = roles.assignments.filter((a) => a.scopeType === 'Microsoft.KeyVault/vaults/secrets');
    expect(secrets).toHaveLength(2); // the orchestrator's GitHub App key and Azure DevOps PAT
    // The secrets are `existing` in the template (the operator creates them): no tags to report.
    for (const s of secrets) expect(s.scopeTags).toBeUndefined();
    const rgGrant = roles.assignments.find((a) => a.scope.endsWith('/resourceGroups/rg-kiln-images'));
    expect(rgGrant?.scopeType).toBe('resourceGroup');
    expect(rgGrant?.scopeTags).toEqual({ 'kiln-env': 'kiln' });
  });

  it('without secretsReady, a PAT-authenticated GitHub and no Windows fleet: fewer secret grants', () => {
    const roles = readTemplateRoles(
      template,
      {
        ...KILN_TEMPLATE_PARAMETERS,
        secretsReady: false,
        github: { scope: 'org', owner: 'acme', auth: 'pat' },
        windowsFleet: { enabled: false },
      },
      CONTEXT,
    );
    expect(roles.assignments.filter((a) => a.scopeType === 'Microsoft.KeyVault/vaults/secrets')).toEqual([]);
    // Two scale sets (Linux and its canary) and the subnet.
    expect(roles.assignments.filter((a) => a.roleDefinitionId === VMC)).toHaveLength(3);
    expect(roles.identities).toHaveLength(4); // the identities exist whatever the fleets
  });
});
