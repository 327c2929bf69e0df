// Network of the scale sets: one subnet behind an NSG that denies all inbound traffic. With
// restrictEgress the NSG also denies outbound traffic except what runners and agents need: Entra ID,
// Key Vault, Azure Monitor, Storage (their service tags) and HTTPS to the internet for GitHub, Azure
// DevOps and package mirrors, which have no service tag. A NAT gateway gives the instances a stable
// outbound address, since VNets no longer get default outbound access.
metadata description = 'VNet, runner subnet, NSG (deny inbound, optional egress allow-list) and NAT gateway.'

import { roleAssignmentType, tagsType } from 'types.bicep'

@description('Required. Name prefix of the network resources.')
param namePrefix string

@description('Required. Azure region.')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.60.0.0/16'

@description('Optional. Address prefix of the runner subnet.')
param subnetPrefix string = '10.60.0.0/22'

@description('Optional. Deny outbound traffic except the service tags and ports runners need.')
param restrictEgress bool = false

@description('Optional. Give the subnet outbound internet access through a NAT gateway.')
param createNatGateway bool = true

@description('Optional. Role assignments on the runners\' subnet (whoever writes a scale set model that uses it needs its join action).')
param subnetRoleAssignments roleAssignmentType[] = []

var inboundRules = [
  {
    name: 'deny-all-inbound'
    properties: {
      priority: 4096
      direction: 'Inbound'
      access: 'Deny'
      protocol: '*'
      sourceAddressPrefix: '*'
      sourcePortRange: '*'
      destinationAddressPrefix: '*'
      destinationPortRange: '*'
      description: 'Runners and agents only dial out; nothing may connect in.'
    }
  }
]

var egressAllowList = [
  {
    name: 'allow-entra-id'
    tag: 'AzureActiveDirectory'
    ports: [
      '443'
    ]
    description: 'Managed identity and Entra ID tokens.'
  }
  {
    name: 'allow-key-vault'
    tag: 'AzureKeyVault'
    ports: [
      '443'
    ]
    description: 'Runner registration secrets.'
  }
  {
    name: 'allow-azure-monitor'
    tag: 'AzureMonitor'
    ports: [
      '443'
    ]
    description: 'Azure Monitor agent (guest logs).'
  }
  {
    name: 'allow-storage'
    tag: 'Storage'
    ports: [
      '443'
    ]
    description: 'Extension packages, action caches and artifacts.'
  }
  {
    name: 'allow-https-internet'
    tag: 'Internet'
    ports: [
      '443'
      '80'
    ]
    description: 'GitHub and Azure DevOps endpoints and package mirrors (no service tags exist for them).'
  }
  {
    name: 'allow-windows-activation'
    tag: 'Internet'
    ports: [
      '1688'
    ]
    description: 'Windows activation (KMS).'
  }
]

var egressRules = [
  for (rule, i) in egressAllowList: {
    name: rule.name
    properties: {
      priority: 200 + (i * 10)
      direction: 'Outbound'
      access: 'Allow'
      protocol: 'Tcp'
      sourceAddressPrefix: 'VirtualNetwork'
      sourcePortRange: '*'
      destinationAddressPrefix: rule.tag
      destinationPortRanges: rule.ports
      description: rule.description
    }
  }
]

var denyOutbound = [
  {
    name: 'deny-all-outbound'
    properties: {
      priority: 4096
      direction: 'Outbound'
      access: 'Deny'
      protocol: '*'
      sourceAddressPrefix: '*'
      sourcePortRange: '*'
      destinationAddressPrefix: '*'
      destinationPortRange: '*'
      description: 'Everything not allowed above.'
    }
  }
]

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${namePrefix}-runners'
  location: location
  tags: tags
  properties: {
    securityRules: restrictEgress ? concat(inboundRules, egressRules, denyOutbound) : inboundRules
  }
}

resource natIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = if (createNatGateway) {
  name: 'pip-${namePrefix}-nat'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource nat 'Microsoft.Network/natGateways@2024-05-01' = if (createNatGateway) {
  name: 'ng-${namePrefix}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 10
    publicIpAddresses: [
      {
        id: natIp.id
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-${namePrefix}'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'runners'
        properties: {
          addressPrefix: subnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          natGateway: createNatGateway ? { id: nat.id } : null
          defaultOutboundAccess: false
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource runnersSubnet 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' existing = {
  parent: vnet
  name: 'runners'
}

resource subnetRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for ra in subnetRoleAssignments: {
    name: guid(runnersSubnet.id, ra.principalId, subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId))
    scope: runnersSubnet
    properties: {
      principalId: ra.principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ra.roleDefinitionId)
      principalType: ra.?principalType ?? 'ServicePrincipal'
      description: ra.?description ?? ''
    }
  }
]

@description('Resource id of the virtual network.')
output vnetResourceId string = vnet.id

@description('Resource id of the runner subnet.')
output subnetResourceId string = vnet.properties.subnets[0].id

@description('Resource id of the network security group.')
output nsgResourceId string = nsg.id
