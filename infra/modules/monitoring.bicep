// Log Analytics workspace and workspace-based Application Insights for the orchestrator. Local
// (instrumentation-key) auth is off: the app sends telemetry with its managed identity, which is why
// this module grants Monitoring Metrics Publisher on the component.
metadata description = 'Log Analytics workspace and Application Insights (Entra-only ingestion).'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Name of the Log Analytics workspace.')
param workspaceName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Days of log retention.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Role assignments on the Application Insights component.')
param appInsightsRoleAssignments roleAssignmentType[] = []

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

resource appInsightsRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in appInsightsRoleAssignments: {
    name: guid(appInsights.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: appInsights
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the Log Analytics workspace.')
output workspaceResourceId string = workspace.id

@description('Name of the Log Analytics workspace.')
output workspaceName string = workspace.name

@description('Resource id of the Application Insights component.')
output appInsightsResourceId string = appInsights.id

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name
