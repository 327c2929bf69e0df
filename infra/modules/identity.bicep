// One user-assigned managed identity. kiln uses a separate identity per actor (orchestrator, Packer
// job, Linux runners, Windows agents) so each gets only its own role assignments.
metadata description = 'User-assigned managed identity.'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Name of the identity.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Role assignments on this identity (e.g. Managed Identity Operator for whoever attaches it to a scale set).')
param roleAssignments roleAssignmentType[] = []

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(identity.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: identity
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the identity.')
output resourceId string = identity.id

@description('Name of the identity.')
output name string = identity.name

@description('Client (application) id of the identity.')
output clientId string = identity.properties.clientId

@description('Object (principal) id of the identity.')
output principalId string = identity.properties.principalId
