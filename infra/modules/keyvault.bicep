// Key Vault for the PATs and the GitHub App key. RBAC mode, soft delete and purge protection on.
// The template never writes a secret: the operator sets them (infra/README.md). Readers are granted
// Key Vault Secrets User on individual secrets, which is why those grants wait for the secrets to
// exist (secretRoleAssignments is empty until main.bicep's secretsReady is true).
metadata description = 'Key Vault (RBAC, soft delete, purge protection) with vault- and secret-scoped role assignments.'

import { builtInRoleIds, roleAssignmentType, secretRoleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Days a deleted vault or secret stays recoverable.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Optional. Role assignments on the whole vault (the operator who sets the secrets).')
param roleAssignments roleAssignmentType[] = []

@description('Optional. Key Vault Secrets User grants, each on one existing secret.')
param secretRoleAssignments secretRoleAssignmentType[] = []

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource vaultRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(vault.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: vault
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

resource secrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' existing = [
  for sra in secretRoleAssignments: {
    parent: vault
    name: sra.secretName
  }
]

resource secretRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (sra, i) in secretRoleAssignments: {
    name: guid(secrets[i].id, sra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.keyVaultSecretsUser))
    scope: secrets[i]
    properties: {
      principalId: sra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', builtInRoleIds.keyVaultSecretsUser)
      principalType: 'ServicePrincipal'
      description: sra.?description ?? 'Reads this secret only.'
    }
  }
]

@description('Resource id of the vault.')
output resourceId string = vault.id

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, e.g. https://NAME.vault.azure.net/.')
output uri string = vault.properties.vaultUri
