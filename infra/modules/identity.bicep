// One user-assigned managed identity. kiln uses a separate identity per actor (orchestrator, Packer
// job, Linux runners, Windows agents) so each gets only its own role assignments.
metadata description = 'User-assigned managed identity.'

import { tagsType } from 'types.bicep'

@description('Required. Name of the identity.')
param name string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output resourceId string = identity.id

@description('Name of the identity.')
output name string = identity.name

@description('Client (application) id of the identity.')
output clientId string = identity.properties.clientId

@description('Object (principal) id of the identity.')
output principalId string = identity.properties.principalId
