// Rules read from the template evaluated with real parameter sets (bicep snapshot): the resources
// each scenario would deploy, their security settings, the exact set of role assignments (least
// privilege, narrowest scope, guid() names), the scale set contract kiln relies on, and the app
// settings contract with src/config.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { SUBSCRIPTION_ID, TENANT_ID, loadCompiledTemplate, repoRoot, snapshot } from './lib/bicep.mjs';
import { findResource, resourcesOf, roleAssignments, scopeKind } from './lib/arm.mjs';
import { OPERATOR_ID, expectedScaleSets, scenarios } from './scenarios.mjs';

const snaps = {};
before(() => {
  for (const [name, run] of Object.entries(scenarios)) snaps[name] = run();
});

const rgId = (rg) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}`;
const token = (snap) => resourcesOf(snap, 'Microsoft.Storage/storageAccounts')[0].name.replace(/^st/, '');

/** "actor | role | scope" with the resource token and subscription replaced, for exact comparisons. */
function grants(snap) {
  const t = token(snap);
  return roleAssignments(snap)
    .map((g) => {
      const actor = g.actor.startsWith('principal:')
        ? g.actor === `principal:${OPERATOR_ID}`
          ? 'operator'
          : g.actor
        : g.actor;
      const scope = g.scope.replace(`/subscriptions/${SUBSCRIPTION_ID}`, '').split(t).join('<token>');
      return `${actor} | ${g.role} | ${scope}`;
    })
    .sort();
}

const base = (env) => [
  `orchestrator | Compute Gallery Artifacts Publisher | /resourceGroups/rg-${env}/providers/Microsoft.Compute/galleries/gal_kiln_${env}/images/linux-agent`,
  `orchestrator | Compute Gallery Artifacts Publisher | /resourceGroups/rg-${env}/providers/Microsoft.Compute/galleries/gal_kiln_${env}/images/windows-agent`,
  `orchestrator | Container Apps Jobs Operator | /resourceGroups/rg-${env}/providers/Microsoft.App/jobs/job-${env}-packer`,
  `orchestrator | Compute Gallery Artifacts Publisher | /resourceGroups/rg-${env}-images`,
  ...['linux-runners', 'windows-agents'].map(
    (i) =>
      `orchestrator | Managed Identity Operator | /resourceGroups/rg-${env}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${env}-${i}`,
  ),
  `orchestrator | Monitoring Metrics Publisher | /resourceGroups/rg-${env}/providers/Microsoft.Insights/components/appi-${env}-<token>`,
  `orchestrator | Reader | `,
  `orchestrator | Storage Blob Data Owner | /resourceGroups/rg-${env}/providers/Microsoft.Storage/storageAccounts/st<token>`,
  `orchestrator | Storage Queue Data Contributor | /resourceGroups/rg-${env}/providers/Microsoft.Storage/storageAccounts/st<token>`,
  `orchestrator | Storage Table Data Contributor | /resourceGroups/rg-${env}/providers/Microsoft.Storage/storageAccounts/st<token>`,
  ...['linux', 'linux-canary', 'windows', 'windows-canary'].map(
    (s) =>
      `orchestrator | Virtual Machine Contributor | /resourceGroups/rg-${env}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-${env}-${s}`,
  ),
  `orchestrator | Virtual Machine Contributor | /resourceGroups/rg-${env}/providers/Microsoft.Network/virtualNetworks/vnet-${env}/subnets/runners`,
  `packer | AcrPull | /resourceGroups/rg-${env}/providers/Microsoft.ContainerRegistry/registries/cr<token>`,
  `packer | Contributor | /resourceGroups/rg-${env}-images`,
  `packer | Contributor | /resourceGroups/rg-${env}-packer-build`,
  `packer | Storage Blob Data Contributor | /resourceGroups/rg-${env}/providers/Microsoft.Storage/storageAccounts/st<token>/blobServices/default/containers/software-reports`,
];

describe('role assignments', () => {
  it('dev (first deployment, no secrets yet): exactly the grants each identity needs', () => {
    assert.deepEqual(grants(snaps.dev), base('dev').sort());
  });

  it('prod (secrets in place, an operator): adds secret-scoped readers and the operator, nothing else', () => {
    const kv = `/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-<token>`;
    // The runner and agent identities read no secret: both fleets register through the broker (default).
    const expected = [
      ...base('prod'),
      `orchestrator | Key Vault Secrets User | ${kv}/secrets/github-app-key`,
      `orchestrator | Key Vault Secrets User | ${kv}/secrets/ado-pat`,
      `operator | Key Vault Secrets Officer | ${kv}`,
      `operator | AcrPush | /resourceGroups/rg-prod/providers/Microsoft.ContainerRegistry/registries/cr<token>`,
    ];
    assert.deepEqual(grants(snaps.prod), expected.sort());
  });

  for (const name of Object.keys(scenarios)) {
    it(`${name}: no Owner, at subscription scope only the orchestrator's Reader, Contributor only on Packer's resource groups`, () => {
      for (const g of roleAssignments(snaps[name])) {
        assert.notEqual(g.role, 'Owner');
        assert.ok(!g.role.startsWith('unknown'), g.role);
        if (scopeKind(g.scope) === 'subscription')
          assert.equal(`${g.actor} ${g.role}`, 'orchestrator Reader', `${g.actor} ${g.role} at ${g.scope}`);
        assert.notEqual(scopeKind(g.scope), 'unknown', g.scope);
        if (g.role === 'Contributor') {
          assert.equal(scopeKind(g.scope), 'resourceGroup');
          assert.match(g.scope, /\/resourceGroups\/rg-[a-z0-9-]+-(packer-build|images)$/);
          assert.equal(g.actor, 'packer');
        }
      }
    });

    it(`${name}: every name is guid(scope, principal, role) of its own assignment, and unique`, () => {
      const names = new Set();
      for (const g of roleAssignments(snaps[name])) {
        if (g.principalExpr.startsWith('reference(')) {
          assert.equal(
            g.nameExpr,
            `[guid('${g.scope}', ${g.principalExpr}, '${g.resource.properties.roleDefinitionId}')]`,
          );
        } else {
          // A principal known before deployment (the operator): ARM's guid() is already evaluated.
          assert.match(g.nameExpr, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        }
        assert.ok(!names.has(g.nameExpr), `duplicate role assignment name for ${g.actor} ${g.role}`);
        names.add(g.nameExpr);
      }
    });

    it(`${name}: Key Vault Secrets User is granted on single secrets, never on the vault`, () => {
      for (const g of roleAssignments(snaps[name]).filter((x) => x.role === 'Key Vault Secrets User')) {
        assert.match(g.scope, /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/secrets\/[^/]+$/);
      }
    });
  }
});

describe('security settings', () => {
  for (const name of Object.keys(scenarios)) {
    it(`${name}: Key Vault in RBAC mode with soft delete and purge protection; the template writes no secret`, () => {
      const [kv] = resourcesOf(snaps[name], 'Microsoft.KeyVault/vaults');
      assert.equal(kv.properties.enableRbacAuthorization, true);
      assert.equal(kv.properties.enableSoftDelete, true);
      assert.equal(kv.properties.enablePurgeProtection, true);
      assert.ok(kv.properties.softDeleteRetentionInDays >= 7);
      assert.deepEqual(resourcesOf(snaps[name], 'Microsoft.KeyVault/vaults/secrets'), []);
    });

    it(`${name}: storage without shared keys, HTTPS only, TLS 1.2, no public blobs`, () => {
      for (const st of resourcesOf(snaps[name], 'Microsoft.Storage/storageAccounts')) {
        assert.equal(st.properties.allowSharedKeyAccess, false);
        assert.equal(st.properties.supportsHttpsTrafficOnly, true);
        assert.equal(st.properties.minimumTlsVersion, 'TLS1_2');
        assert.equal(st.properties.allowBlobPublicAccess, false);
      }
    });

    it(`${name}: Function App on Flex Consumption, Node 22, user-assigned identity, HTTPS only, TLS 1.2`, () => {
      const [plan] = resourcesOf(snaps[name], 'Microsoft.Web/serverfarms');
      assert.deepEqual(plan.sku, { tier: 'FlexConsumption', name: 'FC1' });
      const [site] = resourcesOf(snaps[name], 'Microsoft.Web/sites');
      assert.equal(site.kind, 'functionapp,linux');
      assert.equal(site.identity.type, 'UserAssigned');
      assert.equal(site.properties.httpsOnly, true);
      assert.equal(site.properties.siteConfig.minTlsVersion, '1.2');
      assert.equal(site.properties.siteConfig.ftpsState, 'Disabled');
      assert.deepEqual(site.properties.functionAppConfig.runtime, { name: 'node', version: '22' });
      const storage = site.properties.functionAppConfig.deployment.storage;
      assert.equal(storage.type, 'blobContainer');
      assert.equal(storage.authentication.type, 'UserAssignedIdentity');
      assert.equal(site.tags['azd-service-name'], 'kiln');
      for (const policy of resourcesOf(
        snaps[name],
        'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
      )) {
        assert.equal(policy.properties.allow, false, policy.name);
      }
    });

    it(`${name}: Application Insights accepts only Entra ID telemetry`, () => {
      const [ai] = resourcesOf(snaps[name], 'Microsoft.Insights/components');
      assert.equal(ai.properties.DisableLocalAuth, true);
    });

    it(`${name}: registry without admin user; the Packer job pulls with its identity`, () => {
      const [acr] = resourcesOf(snaps[name], 'Microsoft.ContainerRegistry/registries');
      assert.equal(acr.properties.adminUserEnabled, false);
      const [job] = resourcesOf(snaps[name], 'Microsoft.App/jobs');
      assert.equal(job.identity.type, 'UserAssigned');
      assert.equal(job.properties.configuration.triggerType, 'Manual');
      for (const reg of job.properties.configuration.registries) {
        assert.ok(reg.identity, 'registry access by identity');
        assert.equal(reg.passwordSecretRef, undefined);
      }
      assert.equal(job.properties.configuration.secrets, undefined);
    });

    it(`${name}: every identity is user-assigned`, () => {
      for (const r of snaps[name].predictedResources.filter((x) => x.identity)) {
        assert.equal(r.identity.type, 'UserAssigned', `${r.type} ${r.name}`);
      }
    });

    it(`${name}: the runner subnet's NSG denies all inbound traffic`, () => {
      const [nsg] = resourcesOf(snaps[name], 'Microsoft.Network/networkSecurityGroups');
      const inbound = nsg.properties.securityRules.filter((r) => r.properties.direction === 'Inbound');
      assert.deepEqual(
        inbound.map((r) => [
          r.properties.access,
          r.properties.sourceAddressPrefix,
          r.properties.destinationPortRange,
        ]),
        [['Deny', '*', '*']],
      );
      const [vnet] = resourcesOf(snaps[name], 'Microsoft.Network/virtualNetworks');
      for (const subnet of vnet.properties.subnets)
        assert.ok(subnet.properties.networkSecurityGroup.id.endsWith(`/networkSecurityGroups/${nsg.name}`));
    });
  }

  it('the Packer job may run a full Windows build (default 8 hours)', () => {
    const [job] = resourcesOf(snaps.defaults, 'Microsoft.App/jobs');
    assert.equal(job.properties.configuration.replicaTimeout, 8 * 3600);
    assert.equal(job.properties.configuration.replicaRetryLimit, 0);
  });

  it('dev leaves egress open; prod (restrictEgress) allows only the listed service tags and ports', () => {
    const outbound = (snap) =>
      resourcesOf(snap, 'Microsoft.Network/networkSecurityGroups')[0].properties.securityRules.filter(
        (r) => r.properties.direction === 'Outbound',
      );
    assert.deepEqual(outbound(snaps.dev), []);
    const rules = outbound(snaps.prod);
    const deny = rules.find((r) => r.properties.access === 'Deny');
    assert.equal(deny.properties.destinationAddressPrefix, '*');
    const allows = rules.filter((r) => r.properties.access === 'Allow');
    assert.deepEqual([...new Set(allows.map((r) => r.properties.destinationAddressPrefix))].sort(), [
      'AzureActiveDirectory',
      'AzureKeyVault',
      'AzureMonitor',
      'Internet',
      'Storage',
    ]);
    for (const r of allows) {
      assert.ok(r.properties.priority < deny.properties.priority);
      for (const port of r.properties.destinationPortRanges)
        assert.ok(['443', '80', '1688'].includes(port), port);
    }
  });
});

describe('scale sets', () => {
  for (const name of Object.keys(scenarios)) {
    it(`${name}: Uniform, upgrade policy Manual, no overprovisioning, kiln's tags, explicit computer names`, () => {
      const sets = resourcesOf(snaps[name], 'Microsoft.Compute/virtualMachineScaleSets');
      assert.deepEqual(sets.map((v) => v.name).sort(), [...expectedScaleSets[name]].sort());
      const prefixes = new Set();
      for (const vmss of sets) {
        const p = vmss.properties;
        assert.equal(p.orchestrationMode, 'Uniform', vmss.name);
        assert.equal(p.upgradePolicy.mode, 'Manual', vmss.name);
        assert.equal(p.overprovision, false, vmss.name);
        assert.equal(vmss.identity.type, 'UserAssigned');
        const os = p.virtualMachineProfile.osProfile;
        const platform = os.linuxConfiguration ? 'linux' : 'windows';
        assert.equal(vmss.tags['kiln-managed'], 'true', vmss.name);
        assert.equal(vmss.tags['kiln-image'], platform, vmss.name);
        assert.equal(vmss.tags['kiln-canary'], vmss.name.endsWith('-canary') ? 'true' : undefined, vmss.name);
        assert.ok(
          os.computerNamePrefix.length >= 1 && os.computerNamePrefix.length <= 9,
          os.computerNamePrefix,
        );
        assert.ok(!prefixes.has(os.computerNamePrefix), `duplicate prefix ${os.computerNamePrefix}`);
        prefixes.add(os.computerNamePrefix);
      }
    });

    it(`${name}: Linux runners sign in with an SSH key only`, () => {
      for (const vmss of resourcesOf(snaps[name], 'Microsoft.Compute/virtualMachineScaleSets')) {
        const os = vmss.properties.virtualMachineProfile.osProfile;
        if (!os.linuxConfiguration) continue;
        assert.equal(os.linuxConfiguration.disablePasswordAuthentication, true);
        assert.equal(os.linuxConfiguration.ssh.publicKeys.length, 1);
        assert.equal(os.adminPassword, null);
      }
    });

    it(`${name}: the Azure Monitor agent runs and a data collection rule takes the service logs`, () => {
      const sets = resourcesOf(snaps[name], 'Microsoft.Compute/virtualMachineScaleSets');
      const associations = resourcesOf(snaps[name], 'Microsoft.Insights/dataCollectionRuleAssociations');
      assert.equal(associations.length, sets.length);
      for (const vmss of sets) {
        const names = vmss.properties.virtualMachineProfile.extensionProfile.extensions.map(
          (e) => e.properties.type,
        );
        assert.ok(
          names.includes('AzureMonitorLinuxAgent') || names.includes('AzureMonitorWindowsAgent'),
          names.join(),
        );
      }
      const rules = resourcesOf(snaps[name], 'Microsoft.Insights/dataCollectionRules');
      assert.equal(rules.length, 2);
      assert.ok(rules.some((r) => r.properties.dataSources.syslog?.length));
      assert.ok(rules.some((r) => r.properties.dataSources.windowsEventLogs?.length));
    });
  }

  it('marketplace base images until useGalleryImages, then the gallery definitions (latest)', () => {
    const image = (snap, n) =>
      findResource(snap, 'Microsoft.Compute/virtualMachineScaleSets', n).properties.virtualMachineProfile
        .storageProfile.imageReference;
    assert.equal(image(snaps.dev, 'vmss-dev-linux').publisher, 'Canonical');
    assert.equal(image(snaps.dev, 'vmss-dev-windows').sku, '2022-datacenter-azure-edition');
    assert.ok(
      image(snaps.prod, 'vmss-prod-linux').id.endsWith(
        '/providers/Microsoft.Compute/galleries/gal_kiln_prod/images/linux-agent',
      ),
    );
    assert.ok(image(snaps.prod, 'vmss-prod-windows-canary').id.endsWith('/images/windows-agent'));
  });
});

describe('an existing gallery (createGallery false)', () => {
  const galleryRg = () => rgId('rg-shared-images');

  it("creates no gallery or image definition, and nothing in the gallery's resource group but role assignments", () => {
    const snap = snaps.existing;
    assert.deepEqual(resourcesOf(snap, 'Microsoft.Compute/galleries'), []);
    assert.deepEqual(resourcesOf(snap, 'Microsoft.Compute/galleries/images'), []);
    assert.deepEqual(
      resourcesOf(snap, 'Microsoft.Resources/resourceGroups')
        .map((r) => r.name)
        .sort(),
      ['rg-ops', 'rg-ops-images', 'rg-ops-packer-build'],
    );
  });

  it('grants the orchestrator (not Packer) the publisher role on the existing definitions, and the repo-scope PAT to the orchestrator only', () => {
    const g = grants(snaps.existing);
    for (const def of ['linux-agent', 'windows-agent']) {
      const scope = `/resourceGroups/rg-shared-images/providers/Microsoft.Compute/galleries/gal_shared/images/${def}`;
      assert.ok(g.includes(`orchestrator | Compute Gallery Artifacts Publisher | ${scope}`), `orchestrator ${def}`);
      assert.ok(!g.some((x) => x.startsWith('packer |') && x.endsWith(scope)), `packer ${def}`);
    }
    const secrets = g.filter((x) => x.includes('Key Vault Secrets User'));
    // jit registration (the default): the runners read no secret.
    assert.deepEqual(secrets, [
      'orchestrator | Key Vault Secrets User | /resourceGroups/rg-ops/providers/Microsoft.KeyVault/vaults/kv-<token>/secrets/gh-pat',
    ]);
  });

  it('pins the scale set to the requested gallery version and points the app at that gallery', () => {
    const vmss = findResource(snaps.existing, 'Microsoft.Compute/virtualMachineScaleSets', 'vmss-ops-linux');
    assert.equal(
      vmss.properties.virtualMachineProfile.storageProfile.imageReference.id,
      `${galleryRg()}/providers/Microsoft.Compute/galleries/gal_shared/images/linux-agent/versions/1.2.3`,
    );
    assert.equal(vmss.sku.capacity, 5);
    const settings = resourcesOf(snaps.existing, 'Microsoft.Web/sites/config')[0].properties;
    assert.ok(
      settings.includes("createObject('key', 'GALLERY_RESOURCE_GROUP', 'value', 'rg-shared-images')"),
    );
    assert.ok(settings.includes("createObject('key', 'GALLERY_NAME', 'value', 'gal_shared')"));
    assert.ok(settings.includes("createObject('key', 'GITHUB_REPO', 'value', 'build')"));
  });
});

describe('gallery and its events', () => {
  it('creates linux-agent and windows-agent as generalized V2 definitions', () => {
    const defs = resourcesOf(snaps.dev, 'Microsoft.Compute/galleries/images');
    assert.deepEqual(
      defs
        .map((d) => [
          d.name.split('/')[1],
          d.properties.osType,
          d.properties.osState,
          d.properties.hyperVGeneration,
        ])
        .sort(),
      [
        ['linux-agent', 'Linux', 'Generalized', 'V2'],
        ['windows-agent', 'Windows', 'Generalized', 'V2'],
      ],
    );
  });

  it("prod subscribes the app's Event Grid function to image version writes in the gallery's resource group", () => {
    const [topic] = resourcesOf(snaps.prod, 'Microsoft.EventGrid/systemTopics');
    assert.equal(topic.properties.topicType, 'Microsoft.Resources.ResourceGroups');
    assert.equal(topic.properties.source, rgId('rg-prod'));
    const [sub] = resourcesOf(snaps.prod, 'Microsoft.EventGrid/systemTopics/eventSubscriptions');
    const f = sub.properties.filter;
    assert.deepEqual(f.includedEventTypes, ['Microsoft.Resources.ResourceWriteSuccess']);
    assert.equal(
      f.subjectBeginsWith,
      `${rgId('rg-prod')}/providers/Microsoft.Compute/galleries/gal_kiln_prod/images/`,
    );
    assert.deepEqual(f.advancedFilters, [
      {
        operatorType: 'StringIn',
        key: 'data.operationName',
        values: ['Microsoft.Compute/galleries/images/versions/write'],
      },
    ]);
    assert.equal(sub.properties.destination.endpointType, 'AzureFunction');
    // The app registers app.eventGrid('galleryVersionEvents', ...) in src/functions/rollout.ts.
    assert.match(
      sub.properties.destination.properties.resourceId,
      /\/providers\/Microsoft\.Web\/sites\/func-prod-[a-z0-9]+\/functions\/galleryVersionEvents$/,
    );
  });

  it("the default function name is the app's Event Grid function", () => {
    const dir = path.join(repoRoot, 'src/functions');
    if (!existsSync(dir)) return; // the app is not in this checkout
    const names = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [...readFileSync(path.join(dir, f), 'utf8').matchAll(/app\.eventGrid\(\s*'([^']+)'/g)].map(
          (m) => m[1],
        ),
      );
    assert.ok(
      names.includes(loadCompiledTemplate().parameters.galleryEventFunctionName.defaultValue),
      `app registers ${names.join(', ')}`,
    );
  });

  it('dev (app not deployed yet) creates no Event Grid subscription', () => {
    assert.deepEqual(resourcesOf(snaps.dev, 'Microsoft.EventGrid/systemTopics/eventSubscriptions'), []);
  });
});

describe('app settings contract with src/config', () => {
  const CONTRACT = [
    'AZURE_SUBSCRIPTION_ID',
    'AZURE_CLIENT_ID',
    'ARM_ENDPOINT',
    'KILN_TASK_HUB',
    'MANAGED_TAG',
    'CANARY_TAG',
    'KEYVAULT_URL',
    'GITHUB_API_URL',
    'GITHUB_SCOPE',
    'GITHUB_OWNER',
    'GITHUB_REPO',
    'GITHUB_AUTH',
    'GITHUB_APP_ID',
    'GITHUB_APP_INSTALLATION_ID',
    'GITHUB_APP_KEY_SECRET',
    'GITHUB_PAT_SECRET',
    'ADO_ORG_URL',
    'ADO_POOL',
    'ADO_AUTH',
    'ADO_PAT_SECRET',
    'CLEANUP_SCHEDULE',
    'REBUILD_SCHEDULE',
    'RUNNER_RELEASE_SCHEDULE',
    'OFFLINE_GRACE_MINUTES',
    'BOOT_DEADLINE_MINUTES',
    'GALLERY_RESOURCE_GROUP',
    'GALLERY_NAME',
    'LINUX_IMAGE_DEFINITION',
    'WINDOWS_IMAGE_DEFINITION',
    'TARGET_REGIONS',
    'PACKER_JOB_ID',
    'PACKER_JOB_IMAGE',
    'PACKER_IMAGE_RG',
    'PACKER_TEMP_RG',
    'PACKER_VM_SIZE',
    'TAG_ORG',
    'TAG_ENV',
    'BUILD_TIMEOUT_HOURS',
    'CANARY_SOAK_MINUTES',
    'PRUNE_KEEP',
    'RUNNER_MAX_AGE_DAYS',
    'IMAGE_EOL_DAYS',
    'AGENT_VERSION',
    'KILN_SOFTWARE_REPORTS_CONTAINER',
  ];
  const HOST = [
    'AzureWebJobsStorage__accountName',
    'AzureWebJobsStorage__credential',
    'AzureWebJobsStorage__clientId',
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  ];

  // The settings object still holds runtime references (identity client id, Key Vault URI), so it is
  // read from the evaluated expression: kiln's settings as key/value pairs, the host's as an object.
  const settingsExpr = (snap) => resourcesOf(snap, 'Microsoft.Web/sites/config')[0].properties;
  const literalSettings = (snap) => {
    const map = {};
    for (const m of settingsExpr(snap).matchAll(/createObject\('key', '(\w+)', 'value', '((?:[^']|'')*)'\)/g))
      map[m[1]] = m[2].replace(/''/g, "'");
    return map;
  };

  it("sets every setting the config loader reads, and the host's identity-based storage and telemetry", () => {
    const expr = settingsExpr(snaps.prod);
    assert.equal(typeof expr, 'string');
    const keys = new Set([...expr.matchAll(/createObject\('key', '(\w+)'/g)].map((m) => m[1]));
    assert.deepEqual(
      CONTRACT.filter((k) => !keys.has(k)),
      [],
    );
    for (const k of HOST) assert.ok(expr.includes(`'${k}'`), k);
    assert.ok(expr.includes("'AzureWebJobsStorage__credential', 'managedidentity'"));
    assert.ok(!/AccountKey=|SharedAccessSignature/i.test(expr), 'no key-based connection string');
  });

  it("gives the broker's record of issued registrations the Table endpoint of the app's own storage account, read from it", () => {
    for (const name of ['dev', 'prod', 'jit']) {
      const snap = snaps[name];
      const account = resourcesOf(snap, 'Microsoft.Storage/storageAccounts')[0].name;
      // Read from the account at deployment (sovereign clouds have other suffixes), never spelled out.
      const m = /createObject\('KILN_TABLE_ENDPOINT', reference\('([^']+)', '[^']+'\)\.primaryEndpoints\.table[,)]/.exec(
        settingsExpr(snap),
      );
      assert.ok(m, `${name}: KILN_TABLE_ENDPOINT is the storage account's primaryEndpoints.table`);
      assert.match(m[1], new RegExp(`/providers/Microsoft\\.Storage/storageAccounts/${account}$`), name);
      // The app's identity may write its tables there (the Durable task hub's role, shared).
      assert.ok(
        grants(snap).includes(
          `orchestrator | Storage Table Data Contributor | /resourceGroups/rg-${name}/providers/Microsoft.Storage/storageAccounts/st<token>`,
        ),
        name,
      );
    }
  });

  it("gives the software reports the Blob endpoint and container of the app's own storage account; only the Packer job writes there", () => {
    for (const name of ['dev', 'prod', 'jit']) {
      const snap = snaps[name];
      const account = resourcesOf(snap, 'Microsoft.Storage/storageAccounts')[0].name;
      const m = /'KILN_BLOB_ENDPOINT', reference\('([^']+)', '[^']+'\)\.primaryEndpoints\.blob[,)]/.exec(
        settingsExpr(snap),
      );
      assert.ok(m, `${name}: KILN_BLOB_ENDPOINT is the storage account's primaryEndpoints.blob`);
      assert.match(m[1], new RegExp(`/providers/Microsoft\\.Storage/storageAccounts/${account}$`), name);
      const containers = resourcesOf(snap, 'Microsoft.Storage/storageAccounts/blobServices/containers');
      assert.ok(
        containers.some((c) => c.name === `${account}/default/software-reports` && c.properties.publicAccess === 'None'),
        `${name}: the software-reports container, private`,
      );
      assert.match(settingsExpr(snap), /'key', 'KILN_SOFTWARE_REPORTS_CONTAINER'/, name);
      const container = `/resourceGroups/rg-${name}/providers/Microsoft.Storage/storageAccounts/st<token>/blobServices/default/containers/software-reports`;
      assert.deepEqual(
        grants(snap).filter((g) => g.endsWith(container)),
        [`packer | Storage Blob Data Contributor | ${container}`],
        name,
      );
    }
  });

  it('sets every setting src/config requires (those without a default)', (t) => {
    const file = path.join(repoRoot, 'src/config/settings.ts');
    const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
    if (!existsSync(file) || !existsSync(tsx))
      return t.skip("the app's config loader is not in this checkout");
    // The loader's own table, loaded as the app loads it (TypeScript through tsx), not parsed as text.
    let specs;
    try {
      const script = `import { SETTINGS } from './src/config/settings.ts';
        console.log(JSON.stringify(Object.values(SETTINGS).map((s) => ({ env: s.spec.env, required: !('default' in s.spec) }))));`;
      specs = JSON.parse(execFileSync(tsx, ['-e', script], { cwd: repoRoot, encoding: 'utf8' }));
    } catch (error) {
      return t.skip(`src/config/settings.ts does not load: ${String(error).split('\n')[0]}`);
    }
    assert.ok(specs.length > 10, 'settings.ts lists the settings');
    const keys = new Set(
      [...settingsExpr(snaps.prod).matchAll(/createObject\('key', '(\w+)'/g)].map((m) => m[1]),
    );
    assert.deepEqual(
      specs.filter((s) => s.required && !keys.has(s.env)).map((s) => s.env),
      [],
    );
    // Tuning settings with a default may be added to the app before infra sets them: report them.
    const unset = specs.filter((s) => !s.required && !keys.has(s.env)).map((s) => s.env);
    if (unset.length) t.diagnostic(`left to the app's defaults: ${unset.join(', ')}`);
  });

  it('defaults match the contract', () => {
    const s = literalSettings(snaps.defaults);
    assert.deepEqual(
      {
        MANAGED_TAG: s.MANAGED_TAG,
        CANARY_TAG: s.CANARY_TAG,
        CLEANUP_SCHEDULE: s.CLEANUP_SCHEDULE,
        REBUILD_SCHEDULE: s.REBUILD_SCHEDULE,
        RUNNER_RELEASE_SCHEDULE: s.RUNNER_RELEASE_SCHEDULE,
        OFFLINE_GRACE_MINUTES: s.OFFLINE_GRACE_MINUTES,
        BOOT_DEADLINE_MINUTES: s.BOOT_DEADLINE_MINUTES,
        LINUX_IMAGE_DEFINITION: s.LINUX_IMAGE_DEFINITION,
        WINDOWS_IMAGE_DEFINITION: s.WINDOWS_IMAGE_DEFINITION,
        BUILD_TIMEOUT_HOURS: s.BUILD_TIMEOUT_HOURS,
        CANARY_SOAK_MINUTES: s.CANARY_SOAK_MINUTES,
        PRUNE_KEEP: s.PRUNE_KEEP,
        RUNNER_MAX_AGE_DAYS: s.RUNNER_MAX_AGE_DAYS,
        IMAGE_EOL_DAYS: s.IMAGE_EOL_DAYS,
        GITHUB_APP_KEY_SECRET: s.GITHUB_APP_KEY_SECRET,
        GITHUB_PAT_SECRET: s.GITHUB_PAT_SECRET,
        ADO_PAT_SECRET: s.ADO_PAT_SECRET,
        ADO_POOL: s.ADO_POOL,
        GITHUB_API_URL: s.GITHUB_API_URL,
        TARGET_REGIONS: s.TARGET_REGIONS,
        KILN_TASK_HUB: s.KILN_TASK_HUB,
        AZURE_SUBSCRIPTION_ID: s.AZURE_SUBSCRIPTION_ID,
      },
      {
        MANAGED_TAG: 'kiln-managed=true',
        CANARY_TAG: 'kiln-canary=true',
        CLEANUP_SCHEDULE: '0 */15 * * * *',
        REBUILD_SCHEDULE: '0 0 3 1 * *',
        RUNNER_RELEASE_SCHEDULE: '0 0 6 * * *',
        OFFLINE_GRACE_MINUTES: '30',
        BOOT_DEADLINE_MINUTES: '20',
        LINUX_IMAGE_DEFINITION: 'linux-agent',
        WINDOWS_IMAGE_DEFINITION: 'windows-agent',
        BUILD_TIMEOUT_HOURS: '8',
        CANARY_SOAK_MINUTES: '30',
        PRUNE_KEEP: '3',
        RUNNER_MAX_AGE_DAYS: '21',
        IMAGE_EOL_DAYS: '180',
        GITHUB_APP_KEY_SECRET: 'github-app-key',
        GITHUB_PAT_SECRET: 'gh-pat',
        ADO_PAT_SECRET: 'ado-pat',
        ADO_POOL: 'Default',
        GITHUB_API_URL: 'https://api.github.com',
        TARGET_REGIONS: 'northeurope=1',
        KILN_TASK_HUB: 'kilnminenv',
        AZURE_SUBSCRIPTION_ID: SUBSCRIPTION_ID,
      },
    );
  });

  // The broker (POST /api/registrations) is on exactly when KILN_REGISTRATION_AUDIENCE is set; it
  // accepts tokens of the deployment's tenant, with keys read from the cloud's Entra authority.
  const BROKER_SETTINGS = [
    'KILN_REGISTRATION_AUDIENCE',
    'AZURE_TENANT_ID',
    'AZURE_AUTHORITY_HOST',
    'GITHUB_RUNNER_LABELS',
    'GITHUB_RUNNER_GROUP_ID',
  ];

  it("jit / broker: the app's broker gets the runners' audience, the tenant and this cloud's Entra authority", () => {
    const s = literalSettings(snaps.jit);
    assert.equal(s.KILN_REGISTRATION_AUDIENCE, 'api://kiln-jit-registrations');
    assert.equal(s.AZURE_TENANT_ID, TENANT_ID);
    // environment() is known only at deployment (sovereign clouds differ): the expression names it.
    assert.ok(
      settingsExpr(snaps.jit).includes(
        "createObject('key', 'AZURE_AUTHORITY_HOST', 'value', environment().authentication.loginEndpoint)",
      ),
    );
  });

  it("jit: the broker registers runners with config.sh's own labels plus the fleet's, in the fleet's group by id", () => {
    const s = literalSettings(snaps.jit);
    assert.equal(s.GITHUB_RUNNER_LABELS, 'self-hosted,linux,x64');
    assert.equal(s.GITHUB_RUNNER_GROUP_ID, '1');
    const snap = snapshot('jit-labels', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'jitlabels',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'jit' },
        ado: { orgUrl: 'https://dev.azure.com/acme' },
        linuxFleet: { runnerLabels: 'gpu,big', runnerGroupId: 7 },
      },
    });
    const labelled = literalSettings(snap);
    assert.equal(labelled.GITHUB_RUNNER_LABELS, 'self-hosted,linux,x64,gpu,big');
    assert.equal(labelled.GITHUB_RUNNER_GROUP_ID, '7');
  });

  it('pat on both platforms: the broker stays off (no audience, tenant or authority setting)', () => {
    const snap = snapshot('pat-both', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'pat',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'pat' },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'pat' },
      },
    });
    const expr = settingsExpr(snap);
    for (const key of BROKER_SETTINGS) assert.ok(!expr.includes(`'${key}'`), key);
    assert.ok(expr.includes("'GITHUB_OWNER', 'value', 'acme'"), 'the settings were read');
  });

  it('broker for Azure DevOps alone, and a chosen audience: the app gets that audience', () => {
    const snap = snapshot('ado-broker', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'ado',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'pat' },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'broker' },
        registrationAudience: 'api://kiln-registrations',
      },
    });
    const s = literalSettings(snap);
    assert.equal(s.KILN_REGISTRATION_AUDIENCE, 'api://kiln-registrations');
    assert.equal(s.AZURE_TENANT_ID, TENANT_ID);
  });

  it("takes the parameters files' values (prod: GitHub App, two regions, its pool)", () => {
    const s = literalSettings(snaps.prod);
    assert.equal(s.GITHUB_AUTH, 'app');
    assert.equal(s.GITHUB_APP_ID, '123456');
    assert.equal(s.TARGET_REGIONS, 'westeurope=2,northeurope=1');
    assert.equal(s.ADO_POOL, 'kiln-windows');
    assert.equal(s.TAG_ENV, 'prod');
    assert.equal(s.PACKER_TEMP_RG, 'rg-prod-packer-build');
    assert.equal(s.PACKER_IMAGE_RG, 'rg-prod-images');
  });
});

describe('registration modes (issue 16)', () => {
  /**
   * The runtime environment a scale set hands its VMs: name -> value (Windows: '' clears a variable).
   * A value only known at deployment (a module output) reads as <module.output>, e.g. <keyVault.name>.
   */
  function vmEnv(snap, name) {
    const vmss = findResource(snap, 'Microsoft.Compute/virtualMachineScaleSets', name);
    const ext = vmss.properties.virtualMachineProfile.extensionProfile.extensions.find(
      (e) => e.name === 'kiln-runtime-env',
    );
    const text = ext.properties.settings.commandToExecute ?? ext.properties.settings.script;
    const out = (m) => `<${m[2]}.${m[3]}>`;
    const ref = String.raw`coalesce\(reference\(resourceId\([^]*?format\('(\w+)-\{0\}'[^]*?\.outputs\.(\w+)\.value`;
    const env = {};
    if (ext.properties.settings.commandToExecute) {
      // Fully evaluated (single quotes) or an expression (quotes doubled) when it holds an output.
      for (const m of text.matchAll(/SetEnvironmentVariable\('(\w+)', '((?:[^']|'')*)', 'Machine'\)/g))
        env[m[1]] = m[2].replaceAll("''", "'");
      for (const m of text.matchAll(/SetEnvironmentVariable\(''(\w+)'', ''((?:[^']|'''')*)'', ''Machine''\)/g))
        env[m[1]] = m[2].replaceAll("''''", "'");
      for (const m of text.matchAll(new RegExp(String.raw`'(\w+)', format\('''\{0\}''', replace\(replace\(` + ref, 'g')))
        env[m[1]] = out(m);
      return env;
    }
    // The Linux script holds the runner identity's client id (an output), so it stays an expression;
    // empty values are filtered out at deployment and left out here the same way.
    for (const m of text.matchAll(/createObject\('key', '(\w+)', 'value', '((?:[^']|'')*)'\)/g))
      if (m[2] !== '') env[m[1]] = m[2].replaceAll("''", "'");
    for (const m of text.matchAll(new RegExp(String.raw`createObject\('key', '(\w+)', 'value', ` + ref, 'g')))
      env[m[1]] = out(m);
    return env;
  }
  const runnerGrants = (snap) => grants(snap).filter((g) => /^(linuxRunner|windowsAgent) /.test(g));

  /** Both fleets in PAT mode, the secrets in place. */
  const patBoth = () =>
    snapshot('pat-both-ready', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'prod',
        location: 'westeurope',
        secretsReady: true,
        github: { scope: 'org', owner: 'acme', registration: 'pat' },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'pat' },
      },
    });

  it('pat: each runner identity reads its own secret and nothing else', () => {
    const kv = `/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-<token>`;
    assert.deepEqual(runnerGrants(patBoth()), [
      `linuxRunner | Key Vault Secrets User | ${kv}/secrets/gh-pat`,
      `windowsAgent | Key Vault Secrets User | ${kv}/secrets/ado-pat`,
    ]);
  });

  it('jit / broker: the runner and agent identities get no role at all, with the secrets in place', () => {
    assert.deepEqual(runnerGrants(snaps.jit), []);
    // The orchestrator (which runs the broker) still reads its own credentials.
    const kv = `/resourceGroups/rg-jit/providers/Microsoft.KeyVault/vaults/kv-<token>`;
    assert.deepEqual(
      grants(snaps.jit).filter((g) => g.includes('Key Vault')),
      [
        `orchestrator | Key Vault Secrets User | ${kv}/secrets/ado-pat`,
        `orchestrator | Key Vault Secrets User | ${kv}/secrets/github-app-key`,
      ],
    );
  });

  it('pat: the runners get the vault and secret names, and no broker settings', () => {
    const snap = patBoth();
    const linux = vmEnv(snap, 'vmss-prod-linux');
    assert.equal(linux.KEYVAULT_NAME, '<keyVault.name>');
    assert.equal(linux.AZURE_CLIENT_ID, '<linuxRunnerIdentity.clientId>');
    assert.equal(linux.SECRET_NAME, 'gh-pat');
    assert.equal(linux.KILN_REGISTRATION_URL, undefined);
    assert.equal(linux.KILN_REGISTRATION_AUDIENCE, undefined);
    const windows = vmEnv(snap, 'vmss-prod-windows');
    assert.equal(windows.KEYVAULT_NAME, '<keyVault.name>');
    assert.equal(windows.ADO_PAT_SECRET, 'ado-pat');
    assert.equal(windows.KILN_REGISTRATION_URL, '', 'cleared on the VM');
    assert.equal(windows.KILN_REGISTRATION_AUDIENCE, '', 'cleared on the VM');
  });

  it("jit / broker: the broker's URL (the app's /api/registrations) and audience reach every VM, no vault or secret name", () => {
    const t = token(snaps.jit);
    const url = `https://func-jit-${t}.azurewebsites.net/api/registrations`;
    const app = findResource(snaps.jit, 'Microsoft.Web/sites', `func-jit-${t}`);
    assert.ok(app, 'the URL names the deployed function app');
    for (const name of ['vmss-jit-linux', 'vmss-jit-linux-canary']) {
      const env = vmEnv(snaps.jit, name);
      assert.equal(env.KILN_REGISTRATION_URL, url, name);
      assert.equal(env.KILN_REGISTRATION_AUDIENCE, 'api://kiln-jit-registrations', name);
      assert.equal(env.KEYVAULT_NAME, undefined, name);
      assert.equal(env.SECRET_NAME, undefined, name);
      // GitHub Enterprise Server reaches the runners too.
      assert.equal(env.GITHUB_URL, 'https://ghes.example.com', name);
      assert.equal(env.GITHUB_API_URL, 'https://ghes.example.com/api/v3', name);
    }
    for (const name of ['vmss-jit-windows', 'vmss-jit-windows-canary']) {
      const env = vmEnv(snaps.jit, name);
      assert.equal(env.KILN_REGISTRATION_URL, url, name);
      assert.equal(env.KILN_REGISTRATION_AUDIENCE, 'api://kiln-jit-registrations', name);
      assert.equal(env.KEYVAULT_NAME, '', `${name}: a vault name left from PAT mode is deleted`);
      assert.equal(env.ADO_PAT_SECRET, '', name);
    }
  });

  it('registrationUrl and registrationAudience override the defaults; the modes are set per platform', () => {
    const snap = snapshot('jit-custom', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'gov',
        location: 'usgovvirginia',
        github: { scope: 'org', owner: 'acme', registration: 'jit' },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'pat' },
        registrationUrl: 'https://kiln.example.us/api/registrations',
        registrationAudience: 'api://kiln-registrations',
        secretsReady: true,
      },
    });
    const linux = vmEnv(snap, 'vmss-gov-linux');
    assert.equal(linux.KILN_REGISTRATION_URL, 'https://kiln.example.us/api/registrations');
    assert.equal(linux.KILN_REGISTRATION_AUDIENCE, 'api://kiln-registrations');
    assert.equal(linux.GITHUB_URL, undefined, 'github.com: bootstrap.sh defaults');
    // ADO stays on pat: its agents still read their secret, the Linux runners read none.
    const kv = `/resourceGroups/rg-gov/providers/Microsoft.KeyVault/vaults/kv-<token>`;
    assert.deepEqual(runnerGrants(snap), [`windowsAgent | Key Vault Secrets User | ${kv}/secrets/ado-pat`]);
    assert.equal(vmEnv(snap, 'vmss-gov-windows').KILN_REGISTRATION_URL, '');
  });
});

describe('one job per machine (kiln-recycle)', () => {
  /** name -> [its kiln-recycle tag, KILN_RECYCLE of its VMs (Windows)] */
  function recycling(snap) {
    return Object.fromEntries(
      resourcesOf(snap, 'Microsoft.Compute/virtualMachineScaleSets').map((vmss) => {
        const settings = vmss.properties.virtualMachineProfile.extensionProfile.extensions.find(
          (e) => e.name === 'kiln-runtime-env',
        ).properties.settings;
        const env = /SetEnvironmentVariable\('+KILN_RECYCLE'+, '+(\w+)'+, /.exec(settings.commandToExecute ?? '');
        return [vmss.name, [vmss.tags['kiln-recycle'], env?.[1]]];
      }),
    );
  }

  it('defaults to on for GitHub runners in jit mode, off in pat mode and for Azure DevOps agents', () => {
    const pat = snapshot('recycle-pat-default', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'recpat',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'pat' },
        ado: { orgUrl: 'https://dev.azure.com/acme', registration: 'pat' },
        linuxFleet: { canaryInstanceCount: 0 },
        windowsFleet: { canaryInstanceCount: 0 },
      },
    });
    assert.deepEqual(recycling(pat), {
      'vmss-recpat-linux': ['false', undefined],
      'vmss-recpat-windows': ['false', 'false'],
    });
    assert.deepEqual(recycling(snaps.jit), {
      'vmss-jit-linux': ['true', undefined],
      'vmss-jit-linux-canary': ['true', undefined],
      'vmss-jit-windows': ['false', 'false'],
      'vmss-jit-windows-canary': ['false', 'false'],
    });
  });

  it('github.recycle and ado.recycle override the defaults', () => {
    const snap = snapshot('recycle-overrides', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'rec',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'jit', recycle: 'false' },
        ado: { orgUrl: 'https://dev.azure.com/acme', recycle: 'true' },
        linuxFleet: { canaryInstanceCount: 0 },
        windowsFleet: { canaryInstanceCount: 0 },
      },
    });
    assert.deepEqual(recycling(snap), {
      'vmss-rec-linux': ['false', undefined],
      'vmss-rec-windows': ['true', 'true'],
    });
    const pat = snapshot('recycle-pat', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'recpat1',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme', registration: 'pat', recycle: 'true' },
        linuxFleet: { canaryInstanceCount: 0 },
        windowsFleet: { enabled: false },
      },
    });
    assert.deepEqual(recycling(pat), { 'vmss-recpat1-linux': ['true', undefined] });
  });

  it("azd maps KILN_GITHUB_RECYCLE and KILN_ADO_RECYCLE (empty: the mode's default)", () => {
    const p = JSON.parse(readFileSync(path.join(repoRoot, 'infra/main.parameters.json'), 'utf8')).parameters;
    assert.equal(p.github.value.recycle, '${KILN_GITHUB_RECYCLE}');
    assert.equal(p.ado.value.recycle, '${KILN_ADO_RECYCLE}');
  });
});

describe('capacity on demand (autoscale)', () => {
  const capacityTags = (snap) =>
    Object.fromEntries(
      resourcesOf(snap, 'Microsoft.Compute/virtualMachineScaleSets').map((vmss) => [
        vmss.name,
        Object.fromEntries(
          Object.entries(vmss.tags).filter(([k]) =>
            /^kiln-(min|max|warm|warm-schedule|idle-minutes|labels)$/.test(k),
          ),
        ),
      ]),
    );

  it("writes a fleet's autoscale as the main scale set's capacity tags, never the canary's", () => {
    const snap = snapshot('autoscale', {
      template: 'infra/main.bicep',
      params: {
        environmentName: 'auto',
        location: 'westeurope',
        github: { scope: 'org', owner: 'acme' },
        ado: { orgUrl: 'https://dev.azure.com/acme' },
        linuxFleet: {
          runnerLabels: 'gpu',
          autoscale: { max: 40, warm: 2, warmSchedule: 'Mon-Fri 07:00-19:00 Europe/Berlin:4', idleMinutes: 5 },
        },
        windowsFleet: { autoscale: { min: 1, max: 10 } },
      },
    });
    assert.deepEqual(capacityTags(snap), {
      'vmss-auto-linux': {
        'kiln-min': '0',
        'kiln-max': '40',
        'kiln-warm': '2',
        'kiln-warm-schedule': 'Mon-Fri 07:00-19:00 Europe/Berlin:4',
        'kiln-idle-minutes': '5',
        'kiln-labels': 'self-hosted,linux,x64,gpu',
      },
      'vmss-auto-linux-canary': {},
      'vmss-auto-windows': { 'kiln-min': '1', 'kiln-max': '10' },
      'vmss-auto-windows-canary': {},
    });
  });

  it('writes no capacity tag without autoscale: the capacity stays instanceCount', () => {
    for (const tags of Object.values(capacityTags(snaps.jit))) assert.deepEqual(tags, {});
  });
});

describe('outputs', () => {
  for (const name of Object.keys(scenarios)) {
    it(`${name}: azd's outputs carry names and ids, never a secret`, () => {
      const outputs = snaps[name].outputs;
      for (const key of [
        'AZURE_LOCATION',
        'AZURE_TENANT_ID',
        'AZURE_RESOURCE_GROUP',
        'AZURE_FUNCTION_APP_NAME',
        'AZURE_KEY_VAULT_NAME',
      ])
        assert.ok(key in outputs, key);
      assert.ok(!/listKeys|listSecrets|password|sharedKey|connectionString/i.test(JSON.stringify(outputs)));
    });
  }
});
