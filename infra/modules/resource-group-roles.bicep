// Role assignments on the resource group this module is deployed to. Used only for the Packer build
// and image resource groups, which exist for Packer alone: the Packer identity creates its build VM,
// disks and managed image there, and the orchestrator reads the managed image it publishes.
metadata description = 'Role assignments on one resource group.'

import { roleAssignmentType } from 'types.bicep'

@description('Required. Role assignments on this resource group.')
param roleAssignments roleAssignmentType[]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(resourceGroup().id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource ids of the role assignments.')
output roleAssignmentIds string[] = [for (ra, i) in roleAssignments: roles[i].id]
