// Role assignments on the subscription itself. Used for one grant only: the orchestrator reads every
// scale set of the subscription, because pruning must know each gallery version any scale set uses
// (S3), and ARM answers a list with only what the caller may read, silently.
targetScope = 'subscription'

metadata description = 'Role assignments on the subscription.'

import { roleAssignmentType } from 'types.bicep'

@description('Required. Role assignments on this subscription.')
param roleAssignments roleAssignmentType[]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in roleAssignments: {
    name: guid(subscription().id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
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
