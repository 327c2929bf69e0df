// Azure Compute Gallery with kiln's two image definitions. With createGallery false the gallery and
// its definitions must already exist and are only referenced (the seed README's toggle). Publishers
// (the orchestrator and the Packer job) get their role on each image definition, not on the gallery
// or its resource group.
metadata description = 'Compute Gallery and the linux-agent / windows-agent image definitions (created or existing), with definition-scoped roles.'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Gallery name (letters, digits, dots and underscores).')
param name string

@description('Required. Azure region of a new gallery.')
param location string

@description('Optional. Create the gallery and its definitions (true) or use existing ones (false).')
param createGallery bool = true

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Image definition of the Linux GitHub runner image.')
param linuxImageDefinitionName string = 'linux-agent'

@description('Optional. Image definition of the Windows Azure DevOps agent image.')
param windowsImageDefinitionName string = 'windows-agent'

@description('Optional. Publisher in the image definitions\' identifiers.')
param publisher string = 'kiln'

@description('Optional. Role assignments granted on each of the two image definitions.')
param imageDefinitionRoleAssignments roleAssignmentType[] = []

var definitions = [
  {
    name: linuxImageDefinitionName
    osType: 'Linux'
    offer: 'kiln-linux-github-runner'
    sku: 'ubuntu-22.04'
    description: 'Ubuntu 22.04 GitHub Actions ephemeral runner (baked by kiln).'
  }
  {
    name: windowsImageDefinitionName
    osType: 'Windows'
    offer: 'kiln-windows-ado-agent'
    sku: '2022-datacenter-azure-edition'
    description: 'Windows Server 2022 Azure Edition Azure DevOps agent (baked by kiln).'
  }
]

resource newGallery 'Microsoft.Compute/galleries@2024-03-03' = if (createGallery) {
  name: name
  location: location
  tags: tags
  properties: {
    description: 'kiln runner images'
  }
}

resource newDefinitions 'Microsoft.Compute/galleries/images@2024-03-03' = [
  for d in definitions: if (createGallery) {
    parent: newGallery
    name: d.name
    location: location
    tags: tags
    properties: {
      description: d.description
      osType: d.osType
      osState: 'Generalized'
      hyperVGeneration: 'V2'
      architecture: 'x64'
      identifier: {
        publisher: publisher
        offer: d.offer
        sku: d.sku
      }
    }
  }
]

resource gallery 'Microsoft.Compute/galleries@2024-03-03' existing = {
  name: name
}

resource existingDefinitions 'Microsoft.Compute/galleries/images@2024-03-03' existing = [
  for d in definitions: {
    parent: gallery
    name: d.name
  }
]

var definitionGrants = flatten(map(range(0, length(definitions)), i => map(imageDefinitionRoleAssignments, ra => { index: i, ra: ra })))

resource definitionRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for g in definitionGrants: {
    name: guid(existingDefinitions[g.index].id, g.ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', g.ra.roleDefinitionId))
    scope: existingDefinitions[g.index]
    properties: {
      principalId: g.ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', g.ra.roleDefinitionId)
      principalType: g.ra.?principalType ?? 'ServicePrincipal'
      description: g.ra.?description ?? ''
    }
    dependsOn: [
      newDefinitions
    ]
  }
]

@description('Resource id of the gallery.')
output resourceId string = gallery.id

@description('Name of the gallery.')
output name string = gallery.name

@description('Resource id of the Linux image definition.')
output linuxImageDefinitionId string = existingDefinitions[0].id

@description('Resource id of the Windows image definition.')
output windowsImageDefinitionId string = existingDefinitions[1].id
