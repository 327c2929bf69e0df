// One runner/agent scale set as kiln expects it: Uniform orchestration, upgrade policy Manual (kiln
// applies new models instance by instance with manualupgrade, only to idle instances), no
// overprovisioning (extra VMs would register runners that then vanish), an explicit computer name
// prefix (kiln matches runners and agents to instances by computer name), kiln's tags, and the
// runtime environment the image's bootstrap reads, injected the seed README's way. With recycle, each
// machine serves one job: the kiln-recycle tag tells kiln's hygiene to reimage it after that job, and
// the Windows agents get KILN_RECYCLE=true to run with --once.
metadata description = 'Linux GitHub runner or Windows Azure DevOps agent scale set with runtime environment injection and guest monitoring.'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Image reference: a gallery image definition or version id, or a marketplace image.')
type imageReferenceType = {
  @description('Optional. Gallery image definition id (latest version) or image version id.')
  id: string?

  @description('Optional. Marketplace publisher.')
  publisher: string?

  @description('Optional. Marketplace offer.')
  offer: string?

  @description('Optional. Marketplace SKU.')
  sku: string?

  @description('Optional. Marketplace version.')
  version: string?
}

@description('Environment of the Linux runner bootstrap (written to /etc/profile.d/gh-runner-env.sh).')
type linuxRuntimeType = {
  @description('Required. GH_SCOPE: org or repo.')
  scope: 'org' | 'repo'

  @description('Required. GH_OWNER.')
  owner: string

  @description('Optional. GH_REPO (repo scope only).')
  repo: string?

  @description('Optional. KEYVAULT_NAME (PAT registration only; absent in jit mode, where the runners read no secret).')
  keyVaultName: string?

  @description('Optional. SECRET_NAME: the PAT secret (PAT registration only).')
  secretName: string?

  @description('Optional. KILN_REGISTRATION_URL: kiln\'s registration broker (jit mode: bootstrap.sh asks it for a JIT config instead of reading a PAT).')
  registrationUrl: string?

  @description('Optional. KILN_REGISTRATION_AUDIENCE: the audience of the IMDS token the broker accepts (with registrationUrl).')
  registrationAudience: string?

  @description('Optional. GITHUB_URL (GitHub Enterprise Server).')
  githubUrl: string?

  @description('Optional. GITHUB_API_URL (GitHub Enterprise Server).')
  githubApiUrl: string?

  @description('Optional. AZURE_CLIENT_ID: the identity bootstrap.sh asks IMDS for (needed once a scale set has several identities).')
  clientId: string?

  @description('Optional. GH_RUNNER_LABELS.')
  labels: string?

  @description('Optional. GH_RUNNER_GROUP.')
  group: string?
}

@description('Environment of the Windows agent bootstrap (machine environment variables).')
type windowsRuntimeType = {
  @description('Required. ADO_ORG_URL.')
  orgUrl: string

  @description('Optional. KEYVAULT_NAME (PAT registration only; cleared in broker mode).')
  keyVaultName: string?

  @description('Optional. ADO_PAT_SECRET (PAT registration only; cleared in broker mode).')
  patSecretName: string?

  @description('Optional. KILN_REGISTRATION_URL: kiln\'s registration broker (broker mode).')
  registrationUrl: string?

  @description('Optional. KILN_REGISTRATION_AUDIENCE: the audience of the IMDS token the broker accepts.')
  registrationAudience: string?

  @description('Required. ADO_POOL.')
  pool: string
}

@description('Required. Scale set name.')
param name string

@description('Required. Azure region.')
param location string

@description('Required. Operating system of the fleet.')
param osType 'Linux' | 'Windows'

@description('Required. Tags, including kiln-managed, kiln-image and (canary scale sets) kiln-canary; kiln-recycle comes from recycle.')
param tags tagsType

@description('Optional. One job per machine: tagged kiln-recycle=true (hygiene reimages an instance once its job is done) and, on Windows, KILN_RECYCLE=true (the agent runs with --once). Written either way, true or false.')
param recycle bool = false

@description('Optional. VM size.')
param vmSize string = 'Standard_D4s_v5'

@description('Optional. Number of instances.')
@minValue(0)
@maxValue(1000)
param instanceCount int = 2

@description('Required. Computer name prefix (Windows: at most 9 characters).')
@minLength(1)
@maxLength(9)
param computerNamePrefix string

@description('Required. Resource id of the subnet.')
param subnetResourceId string

@description('Required. Resource id of the user-assigned identity of the instances.')
param identityResourceId string

@description('Required. Image of the instances.')
param imageReference imageReferenceType

@description('Required. Local administrator user name.')
param adminUsername string

@description('Optional. Local administrator password: Windows always, Linux only with linuxUsePassword.')
@secure()
param adminPassword string = ''

@description('Optional. Linux: SSH public key of the administrator (used unless linuxUsePassword).')
param linuxSshPublicKey string = ''

@description('Optional. Linux: allow password sign-in instead of an SSH key (temporary fallback; false when hardened).')
param linuxUsePassword bool = false

@description('Optional. Linux runtime environment (required for Linux).')
param linuxRuntime linuxRuntimeType?

@description('Optional. Windows runtime environment (required for Windows).')
param windowsRuntime windowsRuntimeType?

@description('Optional. Install the Azure Monitor agent and associate the data collection rule.')
param monitorGuests bool = true

@description('Optional. Resource id of the data collection rule for the guest logs (required when monitorGuests is true).')
param dataCollectionRuleResourceId string = ''

@description('Optional. Role assignments on the scale set (the orchestrator manages its instances).')
param roleAssignments roleAssignmentType[] = []

@description('Quotes a value for a POSIX shell (single quotes).')
func shQuote(value string) string => '\'${replace(value, '\'', '\'"\'"\'')}\''

@description('Quotes a value for PowerShell (single quotes) inside a double-quoted -Command argument.')
func psQuote(value string) string => '\'${replace(replace(value, '"', ''), '\'', '\'\'')}\''

var isLinux = osType == 'Linux'
// string() of a bool is 'True'/'False' in ARM; the tag and KILN_RECYCLE are written lower case.
var recycleText = recycle ? 'true' : 'false'

var linuxEnv = isLinux
  ? filter(
      [
        { key: 'GH_SCOPE', value: linuxRuntime!.scope }
        { key: 'GH_OWNER', value: linuxRuntime!.owner }
        { key: 'GH_REPO', value: linuxRuntime!.scope == 'repo' ? (linuxRuntime!.?repo ?? '') : '' }
        { key: 'KEYVAULT_NAME', value: linuxRuntime!.?keyVaultName ?? '' }
        { key: 'SECRET_NAME', value: linuxRuntime!.?secretName ?? '' }
        { key: 'KILN_REGISTRATION_URL', value: linuxRuntime!.?registrationUrl ?? '' }
        { key: 'KILN_REGISTRATION_AUDIENCE', value: linuxRuntime!.?registrationAudience ?? '' }
        { key: 'GITHUB_URL', value: linuxRuntime!.?githubUrl ?? '' }
        { key: 'GITHUB_API_URL', value: linuxRuntime!.?githubApiUrl ?? '' }
        { key: 'AZURE_CLIENT_ID', value: linuxRuntime!.?clientId ?? '' }
        { key: 'GH_RUNNER_LABELS', value: linuxRuntime!.?labels ?? '' }
        { key: 'GH_RUNNER_GROUP', value: linuxRuntime!.?group ?? '' }
      ],
      e => !empty(e.value)
    )
  : []

// Seed README section 7: write the runner's environment, then restart the runner so it registers
// with it. The restart is skipped on a base image that has no runner yet (useGalleryImages false).
var linuxScript = join(
  concat(
    [
      '#!/bin/sh'
      '# kiln: runtime environment of the GitHub runner bootstrap (seed README section 7).'
      'set -eu'
      'cat >/etc/profile.d/gh-runner-env.sh <<\'KILN_ENV\''
    ],
    map(linuxEnv, e => 'export ${e.key}=${shQuote(e.value)}'),
    [
      'KILN_ENV'
      'chmod 0644 /etc/profile.d/gh-runner-env.sh'
      'if systemctl cat github-runner.service >/dev/null 2>&1; then systemctl restart github-runner.service; fi'
      ''
    ]
  ),
  '\n'
)

// Every variable is written, an empty value included: SetEnvironmentVariable with '' deletes a
// machine variable, so a scale set moved from PAT to broker mode keeps no vault or secret name.
var windowsEnv = isLinux
  ? []
  : [
      { key: 'ADO_ORG_URL', value: windowsRuntime!.orgUrl }
      { key: 'KEYVAULT_NAME', value: windowsRuntime!.?keyVaultName ?? '' }
      { key: 'ADO_PAT_SECRET', value: windowsRuntime!.?patSecretName ?? '' }
      { key: 'ADO_POOL', value: windowsRuntime!.pool }
      { key: 'KILN_REGISTRATION_URL', value: windowsRuntime!.?registrationUrl ?? '' }
      { key: 'KILN_REGISTRATION_AUDIENCE', value: windowsRuntime!.?registrationAudience ?? '' }
      { key: 'KILN_RECYCLE', value: recycleText }
    ]

// Seed README "Runtime Environment Variables": machine variables, then restart AdoBootstrap (a
// service in the seed image; a scheduled task of that name is started instead where the image uses one).
var windowsCommand = 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "${join(map(windowsEnv, e => '[Environment]::SetEnvironmentVariable(\'${e.key}\', ${psQuote(e.value)}, \'Machine\')'), '; ')}; if (Get-Service -Name AdoBootstrap -ErrorAction SilentlyContinue) { Restart-Service -Name AdoBootstrap -Force } elseif (Get-ScheduledTask -TaskName AdoBootstrap -ErrorAction SilentlyContinue) { Start-ScheduledTask -TaskName AdoBootstrap }"'

var runtimeExtension = isLinux
  ? {
      name: 'kiln-runtime-env'
      properties: {
        publisher: 'Microsoft.Azure.Extensions'
        type: 'CustomScript'
        typeHandlerVersion: '2.1'
        autoUpgradeMinorVersion: true
        settings: {
          script: base64(linuxScript)
        }
      }
    }
  : {
      name: 'kiln-runtime-env'
      properties: {
        publisher: 'Microsoft.Compute'
        type: 'CustomScriptExtension'
        typeHandlerVersion: '1.10'
        autoUpgradeMinorVersion: true
        settings: {
          commandToExecute: windowsCommand
        }
      }
    }

var monitorExtension = {
  name: 'kiln-azure-monitor-agent'
  properties: {
    publisher: 'Microsoft.Azure.Monitor'
    type: isLinux ? 'AzureMonitorLinuxAgent' : 'AzureMonitorWindowsAgent'
    typeHandlerVersion: '1.0'
    autoUpgradeMinorVersion: true
    enableAutomaticUpgrade: true
    settings: {
      authentication: {
        managedIdentity: {
          'identifier-name': 'mi_res_id'
          'identifier-value': identityResourceId
        }
      }
    }
  }
}

var linuxConfiguration = {
  disablePasswordAuthentication: !linuxUsePassword
  provisionVMAgent: true
  ssh: linuxUsePassword
    ? null
    : {
        publicKeys: [
          {
            path: '/home/${adminUsername}/.ssh/authorized_keys'
            keyData: linuxSshPublicKey
          }
        ]
      }
}

var windowsConfiguration = {
  provisionVMAgent: true
  // Instances are replaced by freshly baked images every month; in-place patching would make
  // instances of one scale set drift apart.
  enableAutomaticUpdates: false
  patchSettings: {
    patchMode: 'Manual'
  }
}

resource scaleSet 'Microsoft.Compute/virtualMachineScaleSets@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'kiln-recycle': recycleText })
  sku: {
    name: vmSize
    tier: 'Standard'
    capacity: instanceCount
  }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    orchestrationMode: 'Uniform'
    upgradePolicy: {
      mode: 'Manual'
    }
    overprovision: false
    singlePlacementGroup: false
    virtualMachineProfile: {
      osProfile: {
        computerNamePrefix: computerNamePrefix
        adminUsername: adminUsername
        adminPassword: isLinux && !linuxUsePassword ? null : adminPassword
        linuxConfiguration: isLinux ? linuxConfiguration : null
        windowsConfiguration: isLinux ? null : windowsConfiguration
      }
      storageProfile: {
        imageReference: imageReference
        osDisk: {
          createOption: 'FromImage'
          caching: 'ReadWrite'
          managedDisk: {
            storageAccountType: 'StandardSSD_LRS'
          }
        }
      }
      networkProfile: {
        networkInterfaceConfigurations: [
          {
            name: 'nic-${name}'
            properties: {
              primary: true
              ipConfigurations: [
                {
                  name: 'ipconfig'
                  properties: {
                    subnet: {
                      id: subnetResourceId
                    }
                  }
                }
              ]
            }
          }
        ]
      }
      extensionProfile: {
        extensions: monitorGuests ? [monitorExtension, runtimeExtension] : [runtimeExtension]
      }
      diagnosticsProfile: {
        bootDiagnostics: {
          enabled: true
        }
      }
    }
  }
}

resource dcrAssociation 'Microsoft.Insights/dataCollectionRuleAssociations@2023-03-11' = if (monitorGuests) {
  name: 'kiln-guest-logs'
  scope: scaleSet
  properties: {
    description: 'Runner/agent service logs to Log Analytics.'
    dataCollectionRuleId: dataCollectionRuleResourceId
  }
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(scaleSet.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: scaleSet
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the scale set.')
output resourceId string = scaleSet.id

@description('Name of the scale set.')
output name string = scaleSet.name
