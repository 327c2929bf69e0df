// Storage for the Functions host, the durable task hub, the Flex Consumption deployment package and
// the images' software reports. Shared keys are disabled: the host, the orchestrator and the Packer
// job reach it only through managed identity, so the role assignments below are the only way in.
metadata description = 'Storage account (no shared keys) with the Flex Consumption deployment container, the software reports container and data-plane roles.'

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

@description('Optional. Blob container of the images\' software reports (KILN_SOFTWARE_REPORTS_CONTAINER; docs/software-report.md).')
@minLength(3)
@maxLength(63)
param softwareReportsContainerName string = 'software-reports'

@description('Optional. Role assignments on the software reports container alone (the Packer job writes the reports).')
param softwareReportsRoleAssignments roleAssignmentType[] = []

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

// Each build's software report: <definition>/<version>/software.json, software.md, sbom.spdx.json.
resource softwareReportsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: softwareReportsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource softwareReportsRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in softwareReportsRoleAssignments: {
    name: guid(softwareReportsContainer.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: softwareReportsContainer
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

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

@description('Name of the software reports container (KILN_SOFTWARE_REPORTS_CONTAINER).')
output softwareReportsContainerName string = softwareReportsContainer.name
