// Delivers "an image version was written" to kiln: an Event Grid system topic on the gallery's
// resource group and a subscription that passes only ResourceWriteSuccess events whose subject is an
// image version of this gallery to the app's Event Grid function. kiln treats each event as a hint
// (it re-reads the version), so duplicates and reordering are harmless.
metadata description = 'Event Grid system topic on the gallery resource group and the subscription to the app\'s Event Grid function.'

import { tagsType } from 'types.bicep'

@description('Required. System topic name.')
param topicName string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Required. Name of the gallery whose image versions are watched.')
param galleryName string

@description('Required. Name of the Function App.')
param functionAppName string

@description('Required. Resource group of the Function App.')
param functionAppResourceGroupName string

@description('Required. Name of the app\'s Event Grid-triggered function.')
param functionName string

resource functionApp 'Microsoft.Web/sites@2024-11-01' existing = {
  name: functionAppName
  scope: resourceGroup(functionAppResourceGroupName)
}

resource eventFunction 'Microsoft.Web/sites/functions@2024-11-01' existing = {
  parent: functionApp
  name: functionName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: 'global'
  tags: tags
  properties: {
    source: resourceGroup().id
    topicType: 'Microsoft.Resources.ResourceGroups'
  }
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'kiln-gallery-image-versions'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: eventFunction.id
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
      ]
      subjectBeginsWith: '${resourceGroup().id}/providers/Microsoft.Compute/galleries/${galleryName}/images/'
      isSubjectCaseSensitive: false
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.Compute/galleries/images/versions/write'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

@description('Resource id of the system topic.')
output topicResourceId string = topic.id

@description('Resource id of the event subscription.')
output subscriptionResourceId string = subscription.id
