// Where Packer runs: a container registry for the job image, a Container Apps environment and a
// manually triggered job. The orchestrator starts each build with its own container spec (image,
// env) and polls the execution; the job's own template is only the default. The job runs as the
// Packer identity, which pulls from the registry with AcrPull (no admin user, no registry password).
metadata description = 'Container registry, Container Apps environment and the manually triggered Packer job.'

import { builtInRoleIds, roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Container registry name (5-50 letters and digits, globally unique).')
@minLength(5)
@maxLength(50)
param registryName string

@description('Required. Container Apps environment name.')
param environmentName string

@description('Required. Job name (lowercase letters, digits and hyphens, at most 32 characters).')
@maxLength(32)
param jobName string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Required. Name of the Log Analytics workspace that receives the job\'s console logs.')
param workspaceName string

@description('Required. Resource id of the Packer job\'s user-assigned identity.')
param identityResourceId string

@description('Required. Client id of the Packer job\'s identity (AZURE_CLIENT_ID inside the container).')
param identityClientId string

@description('Required. Principal id of the Packer job\'s identity (granted AcrPull).')
param identityPrincipalId string

@description('Optional. Image the job runs when started without an override. Empty uses a placeholder until the Packer image is pushed (see infra/README.md).')
param image string = ''

@description('Optional. Hours a build may run before the replica is stopped; Windows builds take hours.')
@minValue(1)
@maxValue(24)
param timeoutHours int = 8

@description('Optional. Environment variables of the job container.')
param env tagsType = {}

@description('Optional. Role assignments on the job (the orchestrator starts and stops executions).')
param jobRoleAssignments roleAssignmentType[] = []

@description('Optional. Role assignments on the registry (the operator pushes the job image).')
param registryRoleAssignments roleAssignmentType[] = []

// A public image that exists before the first push, so the first deployment succeeds.
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: workspaceName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

var registryGrants = concat(
  [
    {
      principalId: identityPrincipalId
      roleDefinitionId: builtInRoleIds.acrPull
      principalType: 'ServicePrincipal'
      description: 'The Packer job pulls its image.'
    }
  ],
  registryRoleAssignments
)

resource registryRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in registryGrants: {
    name: guid(registry.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: registry
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

resource managedEnvironment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource job 'Microsoft.App/jobs@2025-01-01' = {
  name: jobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    environmentId: managedEnvironment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: timeoutHours * 3600
      // A failed build is retried by the orchestrator (new execution), not by the platform.
      replicaRetryLimit: 0
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identityResourceId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'packer'
          image: empty(image) ? placeholderImage : image
          resources: {
            cpu: json('2.0')
            memory: '4Gi'
          }
          env: [
            for item in items(union(env, { AZURE_CLIENT_ID: identityClientId })): {
              name: item.key
              value: item.value
            }
          ]
        }
      ]
    }
  }
  dependsOn: [
    registryRoles
  ]
}

resource jobRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in jobRoleAssignments: {
    name: guid(job.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: job
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the Packer job (PACKER_JOB_ID).')
output jobResourceId string = job.id

@description('Name of the Packer job.')
output jobName string = job.name

@description('Login server of the registry, e.g. NAME.azurecr.io.')
output registryLoginServer string = registry.properties.loginServer

@description('Name of the registry.')
output registryName string = registry.name

@description('Image the orchestrator runs for builds (PACKER_JOB_IMAGE).')
output packerImage string = empty(image) ? '${registry.properties.loginServer}/kiln-packer:latest' : image
