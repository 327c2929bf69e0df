// Storage for the Functions host, the durable task hub and the Flex Consumption deployment package.
// Shared keys are disabled: the host and the orchestrator reach it only through managed identity,
// so the role assignments below are the only way in.
metadata description = 'Storage account (no shared keys) with the Flex Consumption deployment container and data-plane roles.'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Blob container that holds the Function App deployment package.')
param deploymentContainerName string = 'app-package'

@description('Optional. Role assignments on the storage account (data-plane roles of the app identity).')
param roleAssignments roleAssignmentType[] = []

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(account.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: account
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the storage account.')
output resourceId string = account.id

@description('Name of the storage account.')
output name string = account.name

@description('Primary blob endpoint, e.g. https://NAME.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name
