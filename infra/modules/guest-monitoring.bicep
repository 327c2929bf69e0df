// Data collection rules for the runners' and agents' guest logs (the seed README's "Logging" row):
// syslog from the Linux runners (the github-runner unit logs through journald to the daemon facility)
// and the Application/System event logs of the Windows agents (AdoBootstrap and the agent service).
// The scale sets run the Azure Monitor agent and are associated with these rules.
metadata description = 'Data collection rules sending runner/agent service logs to Log Analytics.'

import { tagsType } from 'types.bicep'

@description('Required. Name prefix of the rules.')
param namePrefix string

@description('Required. Azure region (the rules must be in the region of the workspace).')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Required. Resource id of the Log Analytics workspace.')
param workspaceResourceId string

resource linuxRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'dcr-${namePrefix}-linux-runners'
  location: location
  tags: tags
  kind: 'Linux'
  properties: {
    description: 'Syslog of the Linux GitHub runners (github-runner.service and its bootstrap).'
    dataSources: {
      syslog: [
        {
          name: 'runner-syslog'
          streams: [
            'Microsoft-Syslog'
          ]
          facilityNames: [
            'daemon'
            'syslog'
            'user'
            'auth'
          ]
          logLevels: [
            'Info'
            'Notice'
            'Warning'
            'Error'
            'Critical'
            'Alert'
            'Emergency'
          ]
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-Syslog'
        ]
        destinations: [
          'workspace'
        ]
      }
    ]
  }
}

resource windowsRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: 'dcr-${namePrefix}-windows-agents'
  location: location
  tags: tags
  kind: 'Windows'
  properties: {
    description: 'Application and System event logs of the Windows Azure DevOps agents (AdoBootstrap, agent service).'
    dataSources: {
      windowsEventLogs: [
        {
          name: 'agent-events'
          streams: [
            'Microsoft-Event'
          ]
          xPathQueries: [
            'Application!*[System[(Level=1 or Level=2 or Level=3 or Level=4)]]'
            'System!*[System[(Level=1 or Level=2 or Level=3)]]'
          ]
        }
      ]
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          'Microsoft-Event'
        ]
        destinations: [
          'workspace'
        ]
      }
    ]
  }
}

@description('Resource id of the Linux runners\' rule.')
output linuxRuleResourceId string = linuxRule.id

@description('Resource id of the Windows agents\' rule.')
output windowsRuleResourceId string = windowsRule.id
