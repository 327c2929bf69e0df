// The orchestrator: a Node 22 Function App on the Flex Consumption plan, running as its user-assigned
// identity. The host reaches its storage (AzureWebJobsStorage, durable task hub, deployment package)
// and Application Insights with that identity; no connection string carries a key.
metadata description = 'Flex Consumption Function App (Node 22, user-assigned identity, HTTPS only, TLS 1.2).'

import { tagsType } from 'types.bicep'

@description('Required. Function App name (globally unique host name).')
param name string

@description('Required. App Service plan name.')
param planName string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Required. azd service name; azd finds the app by the azd-service-name tag.')
param serviceName string

@description('Required. Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Required. Client id of that identity.')
param identityClientId string

@description('Required. Name of the storage account of the host and task hub.')
param storageAccountName string

@description('Required. Blob container of the deployment package.')
param deploymentContainerName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Node.js major version.')
param nodeVersion '20' | '22' = '22'

@description('Optional. Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Memory per instance, in MB.')
param instanceMemoryMB 512 | 2048 | 4096 = 2048

@description('Optional. kiln\'s own app settings (the config loader\'s environment), merged over the host settings.')
param appSettings tagsType = {}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Publishing goes through Entra ID (azd, OneDeploy); basic-auth publishing credentials stay off.
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

var hostSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// kiln's own data in the same account, reached with the same identity: the run history and the
// registration broker's record of the registrations it gave, each a table the app creates on its
// first write (Storage Table Data Contributor), and the images' software reports the Packer job
// stores as blobs (read with Storage Blob Data Owner). The endpoints come from the account, so they
// are right in every cloud (sovereign clouds have their own suffix).
var storageSettings = {
  KILN_TABLE_ENDPOINT: storage.properties.primaryEndpoints.table
  KILN_BLOB_ENDPOINT: storage.properties.primaryEndpoints.blob
}

resource settings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: union(hostSettings, storageSettings, appSettings)
}

@description('Resource id of the Function App.')
output resourceId string = site.id

@description('Name of the Function App.')
output name string = site.name

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
