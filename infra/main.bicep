// kiln's whole Azure footprint, deployable with `azd up` (azure.yaml at the repository root):
// the orchestrator Function App and its storage, monitoring, Key Vault, the Compute Gallery, the
// Packer job, the runner/agent scale sets with their network, the gallery's Event Grid feed, and
// every role assignment between them, each on the narrowest scope that works. Redeploying with the
// same parameters changes nothing. See infra/README.md for the parameters and the deploy steps.
targetScope = 'subscription'

metadata description = 'kiln: keeps self-hosted CI runner fleets on Azure fresh (orchestrator, gallery, Packer job, scale sets).'

import {
  adoSettingsType
  autoscaleType
  builtInRoleIds
  fleetType
  githubSettingsType
  policyType
  principalTypeType
  schedulesType
  tagsType
} from 'modules/types.bicep'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Required. Name of the environment (azd environment name), e.g. dev or prod; prefixes resource names.')
@minLength(1)
@maxLength(20)
param environmentName string

@description('Required. Azure region of the resources; also the build region of the images.')
param location string

@description('Optional. Object id of the operator who sets the Key Vault secrets and pushes the Packer job image (azd passes AZURE_PRINCIPAL_ID). Empty grants nobody.')
param principalId string = ''

@description('Optional. Kind of the operator principal.')
param principalType principalTypeType = 'User'

@description('Optional. Name of the resource group of kiln\'s resources. Default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Tags added to every resource.')
param tags tagsType = {}

@description('Optional. Organization tag of baked images (TAG_ORG); the environment tag (TAG_ENV) is environmentName.')
param orgTag string = 'kiln'

@description('Optional. Create the Compute Gallery and its image definitions (true) or use existing ones (false).')
param createGallery bool = true

@description('Optional. Compute Gallery name. Default gal_kiln_<environmentName>.')
param galleryName string = ''

@description('Optional. Resource group of the gallery; it must exist when set. Default: kiln\'s resource group.')
param galleryResourceGroupName string = ''

@description('Optional. Scale sets use the gallery images (true) or the marketplace base images (false, until the first image is published).')
param useGalleryImages bool = false

@description('Optional. Gallery version of the Linux image, or latest.')
param linuxImageVersion string = 'latest'

@description('Optional. Gallery version of the Windows image, or latest.')
param windowsImageVersion string = 'latest'

@description('Optional. Linux runners accept a password instead of an SSH key. Temporary fallback; false in a hardened state.')
param linuxUsePassword bool = false

@description('Optional. Administrator user name of the Linux runners.')
param linuxAdminUsername string = 'kiln'

@description('Optional. SSH public key of the Linux administrator; required unless linuxUsePassword is true.')
param linuxSshPublicKey string = ''

@description('Optional. Administrator password of the Linux runners; used only when linuxUsePassword is true.')
@secure()
param linuxAdminPassword string = ''

@description('Optional. Administrator user name of the Windows agents.')
param windowsAdminUsername string = 'kiln'

@description('Optional. Administrator password of the Windows agents; required when the Windows fleet is enabled.')
@secure()
param windowsAdminPassword string = ''

@description('Optional. The Linux GitHub runner fleet.')
param linuxFleet fleetType = {}

@description('Optional. The Windows Azure DevOps agent fleet.')
param windowsFleet fleetType = {}

@description('Required. GitHub settings.')
param github githubSettingsType

@description('Optional. Azure DevOps settings.')
param ado adoSettingsType = {}

@description('Optional. Audience of the IMDS token runners and agents present to kiln\'s registration broker (github.registration jit, ado.registration broker): the application ID URI or client id of the Entra application the broker accepts tokens for. Default api://kiln-<environment>-registrations.')
param registrationAudience string = ''

@description('Optional. URL of kiln\'s registration broker the runners and agents call. Default https://<function app>.azurewebsites.net/api/registrations; set it for sovereign clouds (azurewebsites.us, chinacloudsites.cn) or a custom domain.')
param registrationUrl string = ''

@description('Optional. Timer schedules.')
param schedules schedulesType = {}

@description('Optional. Rebuild, rollout and hygiene policy.')
param policy policyType = {}

@description('Optional. Replication targets, region=replicas, comma separated; the first is the build region. Default <location>=1.')
param targetRegions string = ''

@description('Optional. Tag (key=value) that marks a scale set as managed by kiln.')
param managedTag string = 'kiln-managed=true'

@description('Optional. Tag (key=value) that marks a canary scale set.')
param canaryTag string = 'kiln-canary=true'

@description('Optional. Azure Resource Manager endpoint of the orchestrator. Default: this cloud\'s.')
param armEndpoint string = ''

@description('Optional. Durable Functions task hub name (letters and digits). Default kiln<environmentName>.')
param taskHubName string = ''

@description('Optional. Container image of the Packer job. Default <registry>/kiln-packer:latest.')
param packerJobImage string = ''

@description('Optional. VM size of the Packer build VMs.')
param packerVmSize string = 'Standard_D4s_v5'

@description('Optional. Install the Azure Monitor agent on the scale sets and collect the runner/agent service logs.')
param monitorGuests bool = true

@description('Optional. Allow only the outbound service tags and ports the runners need.')
param restrictEgress bool = false

@description('Optional. Outbound internet for the runners through a NAT gateway.')
param createNatGateway bool = true

@description('Optional. Address space of the runners\' virtual network.')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('Optional. Address prefix of the runners\' subnet.')
param subnetAddressPrefix string = '10.60.0.0/22'

@description('Optional. The operator has stored the secrets in Key Vault: grant the secret-scoped Key Vault Secrets User roles (they need the secrets to exist).')
param secretsReady bool = false

@description('Optional. Subscribe the app\'s Event Grid function to gallery image version writes (the function must be deployed first).')
param subscribeGalleryEvents bool = false

@description('Optional. Name of the app\'s Event Grid-triggered function.')
param galleryEventFunctionName string = 'galleryVersionEvents'

@description('Optional. Email addresses kiln\'s alerts notify (infra/modules/alerts.bicep). Empty, with no alertWebhookUrl: the alert rules fire in Azure Monitor and notify nobody.')
param alertEmails string[] = []

@description('Optional. Webhook URL kiln\'s alerts are posted to (common alert schema), e.g. a chat\'s incoming webhook. Empty: none.')
@secure()
param alertWebhookUrl string = ''

@description('Optional. The rollouts\' busy wait in hours (POST /api/rollouts busyWaitHours, default 6): a scale set with instances off its model for longer is alerted as still pending.')
@minValue(1)
@maxValue(47)
param busyWaitHours int = 6

@description('Optional. Upper bound of the Function App\'s Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

// ---------------------------------------------------------------------------------------------
// Names and derived settings
// ---------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var envSlug = toLower(replace(replace(environmentName, '_', '-'), '.', '-'))
var baseTags = union(tags, { 'azd-env-name': environmentName })
var packerRgTags = union(tags, { 'kiln-env': environmentName })

var rgName = empty(resourceGroupName) ? 'rg-${envSlug}' : resourceGroupName
var imagesRgName = 'rg-${envSlug}-images'
var buildRgName = 'rg-${envSlug}-packer-build'
var galleryRgName = empty(galleryResourceGroupName) ? rgName : galleryResourceGroupName
var effectiveGalleryName = empty(galleryName) ? 'gal_kiln_${replace(envSlug, '-', '_')}' : galleryName
var workspaceName = 'log-${envSlug}-${resourceToken}'
var appInsightsName = 'appi-${envSlug}-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var functionAppName = 'func-${envSlug}-${resourceToken}'
var linuxImageDefinitionName = 'linux-agent'
var windowsImageDefinitionName = 'windows-agent'

var effectiveTaskHub = empty(taskHubName) ? 'kiln${replace(envSlug, '-', '')}' : taskHubName
var cloudArmEndpoint = environment().resourceManager
var effectiveArmEndpoint = empty(armEndpoint)
  ? (endsWith(cloudArmEndpoint, '/') ? take(cloudArmEndpoint, length(cloudArmEndpoint) - 1) : cloudArmEndpoint)
  : armEndpoint
var effectiveTargetRegions = empty(targetRegions) ? '${location}=1' : targetRegions

var managedTagParts = split(managedTag, '=')
var canaryTagParts = split(canaryTag, '=')
var managedTagObject = { '${managedTagParts[0]}': length(managedTagParts) > 1 ? managedTagParts[1] : 'true' }
var canaryTagObject = { '${canaryTagParts[0]}': length(canaryTagParts) > 1 ? canaryTagParts[1] : 'true' }

var githubAuth = github.?auth ?? 'app'
var githubPatSecret = github.?patSecretName ?? 'gh-pat'
var githubAppKeySecret = github.?appKeySecretName ?? 'github-app-key'
var githubWebhookSecret = github.?webhookSecretName ?? ''
var adoAuth = ado.?auth ?? 'pat'
var adoPatSecret = ado.?patSecretName ?? 'ado-pat'
var adoPool = ado.?pool ?? 'Default'
// The broker is the default: no runner or agent identity holds a Key Vault role a job could use.
var githubRegistration = github.?registration ?? 'jit'
var adoRegistration = ado.?registration ?? 'broker'
// One job per machine (kiln-recycle): a JIT runner is ephemeral and the broker gives a provisioning
// one config, so a machine in jit mode serves one job anyway; recycling reimages it right after.
var githubRecycle = empty(github.?recycle ?? '') ? githubRegistration == 'jit' : github.?recycle == 'true'
var adoRecycle = ado.?recycle == 'true'
var effectiveRegistrationAudience = empty(registrationAudience)
  ? 'api://kiln-${envSlug}-registrations'
  : registrationAudience

var linuxEnabled = linuxFleet.?enabled ?? true
var windowsEnabled = windowsFleet.?enabled ?? true
var linuxPrefix = linuxFleet.?computerNamePrefix ?? 'kilnlnx'
var windowsPrefix = windowsFleet.?computerNamePrefix ?? 'kilnwin'
var linuxCanaryCount = linuxFleet.?canaryInstanceCount ?? 1
var windowsCanaryCount = windowsFleet.?canaryInstanceCount ?? 1

var roleIds = builtInRoleIds

// ---------------------------------------------------------------------------------------------
// Resource groups
// ---------------------------------------------------------------------------------------------

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: rgName
  location: location
  tags: baseTags
}

// Packer's own resource groups: the build VM lives in one, the managed image it produces in the
// other. The Packer identity is Contributor on these two groups and nowhere else.
// Without the azd-env-name tag: azd looks for the environment's resource group by that tag.
resource buildRg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: buildRgName
  location: location
  tags: packerRgTags
}

resource imagesRg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: imagesRgName
  location: location
  tags: packerRgTags
}

// ---------------------------------------------------------------------------------------------
// Identities: one per actor, so each holds only its own grants
// ---------------------------------------------------------------------------------------------

module orchestratorIdentity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: 'id-${envSlug}-orchestrator'
    location: location
    tags: baseTags
  }
}

module packerIdentity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: 'id-${envSlug}-packer'
    location: location
    tags: baseTags
  }
}

// Azure re-checks a scale set's linked resources on every model write: whoever points a scale set
// at a new image must also be allowed to assign its identity and join its subnet (see network).
var orchestratorAssignsIdentity = [
  {
    principalId: orchestratorIdentity.outputs.principalId
    roleDefinitionId: roleIds.managedIdentityOperator
    description: 'The orchestrator writes the models of the scale sets this identity is attached to (linked check: assign).'
  }
]

module linuxRunnerIdentity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: 'id-${envSlug}-linux-runners'
    location: location
    tags: baseTags
    roleAssignments: orchestratorAssignsIdentity
  }
}

module windowsAgentIdentity 'modules/identity.bicep' = {
  scope: rg
  params: {
    name: 'id-${envSlug}-windows-agents'
    location: location
    tags: baseTags
    roleAssignments: orchestratorAssignsIdentity
  }
}

// Pruning deletes a gallery version only if no scale set of the subscription uses it (S3); a list
// answers only what the caller may read, so the orchestrator reads the whole subscription.
module subscriptionRoles 'modules/subscription-roles.bicep' = {
  params: {
    roleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.reader
        description: 'Pruning sees every scale set that may use a gallery version before deleting one.'
      }
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring, storage, Key Vault
// ---------------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    workspaceName: workspaceName
    appInsightsName: appInsightsName
    location: location
    tags: baseTags
    appInsightsRoleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.monitoringMetricsPublisher
        description: 'The orchestrator sends telemetry with its identity (local auth is off).'
      }
    ]
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: baseTags
    roleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.storageBlobDataOwner
        description: 'Functions host, durable task hub and deployment package blobs.'
      }
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.storageQueueDataContributor
        description: 'Durable task hub queues.'
      }
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.storageTableDataContributor
        description: 'Durable task hub history and instance tables; the registration broker\'s record of issued registrations.'
      }
    ]
    // The Packer job stores each build's software report; it may write there and nowhere else in the
    // account. The orchestrator reads the reports with the Storage Blob Data Owner above, which the
    // Functions host needs on the whole account anyway: a Storage Blob Data Reader on the container
    // would grant it nothing more (and the least-privilege test refuses a grant nothing needs).
    softwareReportsRoleAssignments: [
      {
        principalId: packerIdentity.outputs.principalId
        roleDefinitionId: roleIds.storageBlobDataContributor
        description: 'The Packer job stores each build\'s software report.'
      }
    ]
  }
}

// Secret-scoped readers: each identity reads only the secrets it uses.
var orchestratorSecrets = union(
  githubAuth == 'app' ? [githubAppKeySecret] : [githubPatSecret],
  windowsEnabled && adoAuth == 'pat' ? [adoPatSecret] : [],
  // The workflow_job webhook's secret, once the operator named it (job demand, issue 19).
  empty(githubWebhookSecret) ? [] : [githubWebhookSecret]
)
var secretGrants = concat(
  map(orchestratorSecrets, s => {
    secretName: s
    principalId: orchestratorIdentity.outputs.principalId
    description: 'The orchestrator authenticates to GitHub / Azure DevOps.'
  }),
  // In jit / broker mode the runner identities read no secret at all: a job on the VM can ask IMDS
  // for that identity's token, so whatever the identity may read, the job may read.
  linuxEnabled && githubRegistration == 'pat'
    ? [
        {
          secretName: githubPatSecret
          principalId: linuxRunnerIdentity.outputs.principalId
          description: 'Linux runners register with GitHub.'
        }
      ]
    : [],
  windowsEnabled && adoRegistration == 'pat'
    ? [
        {
          secretName: adoPatSecret
          principalId: windowsAgentIdentity.outputs.principalId
          description: 'Windows agents register with Azure DevOps.'
        }
      ]
    : []
)

module keyVault 'modules/keyvault.bicep' = {
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: baseTags
    roleAssignments: empty(principalId)
      ? []
      : [
          {
            principalId: principalId
            roleDefinitionId: roleIds.keyVaultSecretsOfficer
            principalType: principalType
            description: 'The operator sets the PATs and the GitHub App key.'
          }
        ]
    secretRoleAssignments: secretsReady ? secretGrants : []
  }
}

// ---------------------------------------------------------------------------------------------
// Compute Gallery
// ---------------------------------------------------------------------------------------------

module gallery 'modules/gallery.bicep' = {
  scope: resourceGroup(galleryRgName)
  params: {
    name: effectiveGalleryName
    location: location
    createGallery: createGallery
    tags: baseTags
    linuxImageDefinitionName: linuxImageDefinitionName
    windowsImageDefinitionName: windowsImageDefinitionName
    imageDefinitionRoleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.computeGalleryArtifactsPublisher
        description: 'The orchestrator publishes, promotes and prunes image versions.'
      }
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Packer: its resource groups, registry, Container Apps environment and job
// ---------------------------------------------------------------------------------------------

module buildRgRoles 'modules/resource-group-roles.bicep' = {
  scope: buildRg
  params: {
    roleAssignments: [
      {
        principalId: packerIdentity.outputs.principalId
        roleDefinitionId: roleIds.contributor
        description: 'Packer creates and deletes its build VM, disks, NIC and public IP here.'
      }
    ]
  }
}

module imagesRgRoles 'modules/resource-group-roles.bicep' = {
  scope: imagesRg
  params: {
    roleAssignments: [
      {
        principalId: packerIdentity.outputs.principalId
        roleDefinitionId: roleIds.contributor
        description: 'Packer writes the managed image of each build here.'
      }
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.computeGalleryArtifactsPublisher
        description: 'The orchestrator publishes the managed image of each build to the gallery, then deletes it.'
      }
    ]
  }
}

module packerJob 'modules/packer-job.bicep' = {
  scope: rg
  params: {
    registryName: 'cr${resourceToken}'
    environmentName: 'cae-${envSlug}'
    jobName: 'job-${envSlug}-packer'
    location: location
    tags: baseTags
    workspaceName: workspaceName
    identityResourceId: packerIdentity.outputs.resourceId
    identityClientId: packerIdentity.outputs.clientId
    identityPrincipalId: packerIdentity.outputs.principalId
    image: packerJobImage
    timeoutHours: policy.?buildTimeoutHours ?? 8
    env: {
      ARM_SUBSCRIPTION_ID: subscription().subscriptionId
      PACKER_LOCATION: location
      PACKER_IMAGE_RG: imagesRg.name
      PACKER_TEMP_RG: buildRg.name
      PACKER_VM_SIZE: packerVmSize
      ORG: orgTag
      ENV: environmentName
    }
    jobRoleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.containerAppsJobsOperator
        description: 'The orchestrator starts, polls and stops Packer builds.'
      }
    ]
    registryRoleAssignments: empty(principalId)
      ? []
      : [
          {
            principalId: principalId
            roleDefinitionId: roleIds.acrPush
            principalType: principalType
            description: 'The operator pushes the Packer job image.'
          }
        ]
  }
  dependsOn: [
    monitoring
  ]
}

// ---------------------------------------------------------------------------------------------
// The orchestrator Function App
// ---------------------------------------------------------------------------------------------

// The config loader's environment (src/config). Empty optional values are left out rather than set
// to '', so "not configured" looks the same to the loader whichever way it was expressed.
var kilnSettings = {
  AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
  AZURE_CLIENT_ID: orchestratorIdentity.outputs.clientId
  ARM_ENDPOINT: effectiveArmEndpoint
  KILN_TASK_HUB: effectiveTaskHub
  MANAGED_TAG: managedTag
  CANARY_TAG: canaryTag
  KEYVAULT_URL: keyVault.outputs.uri
  GITHUB_API_URL: github.?apiUrl ?? 'https://api.github.com'
  GITHUB_SCOPE: github.scope
  GITHUB_OWNER: github.owner
  GITHUB_REPO: github.?repo ?? ''
  GITHUB_AUTH: githubAuth
  GITHUB_APP_ID: github.?appId ?? ''
  GITHUB_APP_INSTALLATION_ID: github.?appInstallationId ?? ''
  GITHUB_APP_KEY_SECRET: githubAppKeySecret
  GITHUB_PAT_SECRET: githubPatSecret
  GITHUB_WEBHOOK_SECRET_NAME: githubWebhookSecret
  ADO_ORG_URL: ado.?orgUrl ?? ''
  ADO_POOL: adoPool
  ADO_AUTH: adoAuth
  ADO_PAT_SECRET: adoPatSecret
  CLEANUP_SCHEDULE: schedules.?cleanup ?? '0 */15 * * * *'
  REBUILD_SCHEDULE: schedules.?rebuild ?? '0 0 3 1 * *'
  RUNNER_RELEASE_SCHEDULE: schedules.?runnerRelease ?? '0 0 6 * * *'
  OFFLINE_GRACE_MINUTES: string(policy.?offlineGraceMinutes ?? 30)
  BOOT_DEADLINE_MINUTES: string(policy.?bootDeadlineMinutes ?? 20)
  GALLERY_RESOURCE_GROUP: galleryRgName
  GALLERY_NAME: effectiveGalleryName
  LINUX_IMAGE_DEFINITION: linuxImageDefinitionName
  WINDOWS_IMAGE_DEFINITION: windowsImageDefinitionName
  TARGET_REGIONS: effectiveTargetRegions
  PACKER_JOB_ID: packerJob.outputs.jobResourceId
  PACKER_JOB_IMAGE: packerJob.outputs.packerImage
  PACKER_JOB_CLIENT_ID: packerIdentity.outputs.clientId
  PACKER_IMAGE_RG: imagesRg.name
  PACKER_TEMP_RG: buildRg.name
  PACKER_VM_SIZE: packerVmSize
  TAG_ORG: orgTag
  TAG_ENV: environmentName
  BUILD_TIMEOUT_HOURS: string(policy.?buildTimeoutHours ?? 8)
  CANARY_SOAK_MINUTES: string(policy.?canarySoakMinutes ?? 30)
  PROMOTION_GATE: policy.?promotionGate ?? 'removed,major,unreported'
  APPROVAL_TIMEOUT_HOURS: string(policy.?approvalTimeoutHours ?? 72)
  PRUNE_KEEP: string(policy.?pruneKeep ?? 3)
  RUNNER_MAX_AGE_DAYS: string(policy.?runnerMaxAgeDays ?? 21)
  IMAGE_EOL_DAYS: string(policy.?imageEolDays ?? 180)
  AGENT_VERSION: ado.?agentVersion ?? defaultAgentVersion
  KILN_SOFTWARE_REPORTS_CONTAINER: storage.outputs.softwareReportsContainerName
}

// The registration broker (POST /api/registrations) is on exactly when a non-empty audience is set,
// so the app gets one only in jit / broker mode. It accepts tokens this tenant issued and reads the
// tenant's signing keys from this cloud's Entra authority (sovereign clouds have their own). The
// Entra application behind the audience is not Bicep's: infra/hooks/registration-app.sh creates it.
var brokerEnabled = githubRegistration == 'jit' || adoRegistration == 'broker'
// In jit mode the broker names the runners' labels and group (config.sh does in PAT mode): the labels
// config.sh adds by itself, then linuxFleet.runnerLabels; the group by id (generate-jitconfig takes no name).
var jitRunnerLabels = empty(linuxFleet.?runnerLabels ?? '')
  ? 'self-hosted,linux,x64'
  : 'self-hosted,linux,x64,${linuxFleet.?runnerLabels}'
var brokerSettings = union(
  brokerEnabled
    ? {
        KILN_REGISTRATION_AUDIENCE: effectiveRegistrationAudience
        AZURE_TENANT_ID: tenant().tenantId
        AZURE_AUTHORITY_HOST: environment().authentication.loginEndpoint
      }
    : {},
  githubRegistration == 'jit'
    ? {
        GITHUB_RUNNER_LABELS: jitRunnerLabels
        GITHUB_RUNNER_GROUP_ID: string(linuxFleet.?runnerGroupId ?? 1)
      }
    : {}
)

module functionApp 'modules/functionapp.bicep' = {
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${envSlug}-${resourceToken}'
    location: location
    tags: baseTags
    serviceName: 'kiln'
    identityResourceId: orchestratorIdentity.outputs.resourceId
    identityClientId: orchestratorIdentity.outputs.clientId
    storageAccountName: storageAccountName
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsName: appInsightsName
    maximumInstanceCount: functionMaximumInstanceCount
    appSettings: toObject(filter(items(union(kilnSettings, brokerSettings)), s => !empty(s.value)), s => s.key, s => s.value)
  }
  dependsOn: [
    monitoring
  ]
}

// What the app's metrics say needs a person: alert rules on its Application Insights and, with an
// email or a webhook, the action group they notify.
module alerts 'modules/alerts.bicep' = {
  scope: rg
  params: {
    namePrefix: envSlug
    location: location
    tags: baseTags
    appInsightsName: appInsightsName
    emailAddresses: alertEmails
    webhookUrl: alertWebhookUrl
    busyWaitHours: busyWaitHours
  }
  dependsOn: [
    monitoring
  ]
}

// ---------------------------------------------------------------------------------------------
// Runner network and guest monitoring
// ---------------------------------------------------------------------------------------------

module network 'modules/network.bicep' = {
  scope: rg
  params: {
    namePrefix: envSlug
    location: location
    tags: baseTags
    addressPrefix: vnetAddressPrefix
    subnetPrefix: subnetAddressPrefix
    restrictEgress: restrictEgress
    createNatGateway: createNatGateway
    // Virtual Machine Contributor on the subnet alone: the narrowest built-in role with the join
    // action (on a subnet scope it grants join and read, nothing that changes the network).
    subnetRoleAssignments: [
      {
        principalId: orchestratorIdentity.outputs.principalId
        roleDefinitionId: roleIds.virtualMachineContributor
        description: 'The orchestrator writes scale set models that use this subnet (linked check: join).'
      }
    ]
  }
}

module guestMonitoring 'modules/guest-monitoring.bicep' = if (monitorGuests) {
  scope: rg
  params: {
    namePrefix: envSlug
    location: location
    tags: baseTags
    workspaceResourceId: monitoring.outputs.workspaceResourceId
  }
}

// ---------------------------------------------------------------------------------------------
// Scale sets: a main and a canary scale set per image
// ---------------------------------------------------------------------------------------------

// Ids computed here rather than read from the gallery module's outputs, so they are known before
// deployment (what-if, snapshots); the scale sets still wait for the gallery module.
var linuxImageDefinitionId = resourceId(subscription().subscriptionId, galleryRgName, 'Microsoft.Compute/galleries/images', effectiveGalleryName, linuxImageDefinitionName)
var windowsImageDefinitionId = resourceId(subscription().subscriptionId, galleryRgName, 'Microsoft.Compute/galleries/images', effectiveGalleryName, windowsImageDefinitionName)

// The marketplace images and the agent version are kept once, in the Packer toolsets.
var linuxBaseImage = loadJsonContent('../packer/linux/toolset.json', '$.baseImage')
var windowsBaseImage = loadJsonContent('../packer/windows/toolset.json', '$.baseImage')
var defaultAgentVersion = loadJsonContent('../packer/windows/toolset.json', '$.adoAgent.version')

var linuxImage = useGalleryImages
  ? {
      id: linuxImageVersion == 'latest' ? linuxImageDefinitionId : '${linuxImageDefinitionId}/versions/${linuxImageVersion}'
    }
  : {
      publisher: linuxBaseImage.publisher
      offer: linuxBaseImage.offer
      sku: linuxBaseImage.sku
      version: 'latest'
    }

var windowsImage = useGalleryImages
  ? {
      id: windowsImageVersion == 'latest' ? windowsImageDefinitionId : '${windowsImageDefinitionId}/versions/${windowsImageVersion}'
    }
  : {
      publisher: windowsBaseImage.publisher
      offer: windowsBaseImage.offer
      sku: windowsBaseImage.sku
      version: 'latest'
    }

var orchestratorScaleSetRoles = [
  {
    principalId: orchestratorIdentity.outputs.principalId
    roleDefinitionId: roleIds.virtualMachineContributor
    description: 'The orchestrator upgrades, reimages and deletes this scale set\'s instances.'
  }
]

// The broker is the app's POST /api/registrations; the VMs reach it with the other runtime settings.
// Computed from the app's name rather than read from its hostName output, so the runtime script is
// known before deployment (what-if, snapshots) like every other value in it.
var effectiveRegistrationUrl = empty(registrationUrl)
  ? 'https://${functionAppName}.azurewebsites.net/api/registrations'
  : registrationUrl

// jit: the broker URL and audience instead of a vault and secret name (bootstrap.sh takes the broker
// path when KILN_REGISTRATION_URL is set). GITHUB_URL / GITHUB_API_URL reach the runners in both
// modes (GitHub Enterprise Server); empty values are left out and bootstrap.sh defaults to github.com.
var linuxRuntime = union(
  {
    scope: github.scope
    owner: github.owner
    repo: github.?repo ?? ''
    clientId: linuxRunnerIdentity.outputs.clientId
    labels: linuxFleet.?runnerLabels ?? ''
    group: linuxFleet.?runnerGroup ?? ''
    githubUrl: github.?url ?? ''
    githubApiUrl: github.?apiUrl ?? ''
  },
  githubRegistration == 'jit'
    ? { registrationUrl: effectiveRegistrationUrl, registrationAudience: effectiveRegistrationAudience }
    : { keyVaultName: keyVault.outputs.name, secretName: githubPatSecret }
)

var windowsRuntime = union(
  {
    orgUrl: ado.?orgUrl ?? ''
    pool: adoPool
  },
  adoRegistration == 'broker'
    ? { registrationUrl: effectiveRegistrationUrl, registrationAudience: effectiveRegistrationAudience }
    : { keyVaultName: keyVault.outputs.name, patSecretName: adoPatSecret }
)

// Capacity on demand: a fleet's autoscale settings as the capacity tags kiln's autoscaler reads, on
// its main scale set only (the canary keeps its size: it proves versions, it does not serve demand).
func capacityTags(autoscale autoscaleType?, labels string) tagsType =>
  autoscale == null
    ? {}
    : union(
        { 'kiln-min': string(autoscale.?min ?? 0) },
        autoscale.?max == null ? {} : { 'kiln-max': string(autoscale.?max!) },
        autoscale.?warm == null ? {} : { 'kiln-warm': string(autoscale.?warm!) },
        empty(autoscale.?warmSchedule ?? '') ? {} : { 'kiln-warm-schedule': autoscale.?warmSchedule! },
        autoscale.?idleMinutes == null ? {} : { 'kiln-idle-minutes': string(autoscale.?idleMinutes!) },
        empty(labels) ? {} : { 'kiln-labels': labels }
      )

var linuxScaleSets = linuxEnabled
  ? concat(
      [
        {
          name: 'vmss-${envSlug}-linux'
          count: linuxFleet.?instanceCount ?? 2
          prefix: linuxPrefix
          canary: false
        }
      ],
      linuxCanaryCount > 0
        ? [
            {
              name: 'vmss-${envSlug}-linux-canary'
              count: linuxCanaryCount
              prefix: '${linuxPrefix}c'
              canary: true
            }
          ]
        : []
    )
  : []

var windowsScaleSets = windowsEnabled
  ? concat(
      [
        {
          name: 'vmss-${envSlug}-windows'
          count: windowsFleet.?instanceCount ?? 2
          prefix: windowsPrefix
          canary: false
        }
      ],
      windowsCanaryCount > 0
        ? [
            {
              name: 'vmss-${envSlug}-windows-canary'
              count: windowsCanaryCount
              prefix: '${windowsPrefix}c'
              canary: true
            }
          ]
        : []
    )
  : []

module linuxRunners 'modules/scale-set.bicep' = [
  for ss in linuxScaleSets: {
    scope: rg
    name: '${ss.name}-${resourceToken}'
    params: {
      name: ss.name
      location: location
      osType: 'Linux'
      tags: union(
        baseTags,
        managedTagObject,
        { 'kiln-image': 'linux', 'kiln-registration': githubRegistration },
        ss.canary ? canaryTagObject : capacityTags(linuxFleet.?autoscale, jitRunnerLabels)
      )
      vmSize: linuxFleet.?vmSize ?? 'Standard_D4s_v5'
      instanceCount: ss.count
      recycle: githubRecycle
      computerNamePrefix: ss.prefix
      subnetResourceId: network.outputs.subnetResourceId
      identityResourceId: linuxRunnerIdentity.outputs.resourceId
      imageReference: linuxImage
      adminUsername: linuxAdminUsername
      adminPassword: linuxAdminPassword
      linuxSshPublicKey: linuxSshPublicKey
      linuxUsePassword: linuxUsePassword
      linuxRuntime: linuxRuntime
      monitorGuests: monitorGuests
      dataCollectionRuleResourceId: monitorGuests ? guestMonitoring!.outputs.linuxRuleResourceId : ''
      roleAssignments: orchestratorScaleSetRoles
    }
    dependsOn: [
      gallery
    ]
  }
]

module windowsAgents 'modules/scale-set.bicep' = [
  for ss in windowsScaleSets: {
    scope: rg
    name: '${ss.name}-${resourceToken}'
    params: {
      name: ss.name
      location: location
      osType: 'Windows'
      tags: union(
        baseTags,
        managedTagObject,
        { 'kiln-image': 'windows', 'kiln-registration': adoRegistration },
        ss.canary ? canaryTagObject : capacityTags(windowsFleet.?autoscale, '')
      )
      vmSize: windowsFleet.?vmSize ?? 'Standard_D4s_v5'
      instanceCount: ss.count
      recycle: adoRecycle
      computerNamePrefix: ss.prefix
      subnetResourceId: network.outputs.subnetResourceId
      identityResourceId: windowsAgentIdentity.outputs.resourceId
      imageReference: windowsImage
      adminUsername: windowsAdminUsername
      adminPassword: windowsAdminPassword
      windowsRuntime: windowsRuntime
      monitorGuests: monitorGuests
      dataCollectionRuleResourceId: monitorGuests ? guestMonitoring!.outputs.windowsRuleResourceId : ''
      roleAssignments: orchestratorScaleSetRoles
    }
    dependsOn: [
      gallery
    ]
  }
]

// ---------------------------------------------------------------------------------------------
// Gallery events to the app
// ---------------------------------------------------------------------------------------------

module galleryEvents 'modules/gallery-events.bicep' = if (subscribeGalleryEvents) {
  scope: resourceGroup(galleryRgName)
  params: {
    topicName: 'evgt-${envSlug}-gallery'
    tags: baseTags
    galleryName: effectiveGalleryName
    functionAppName: functionAppName
    functionAppResourceGroupName: rg.name
    functionName: galleryEventFunctionName
  }
  dependsOn: [
    functionApp
    gallery
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment; none is a secret)
// ---------------------------------------------------------------------------------------------

@description('Region of the deployment.')
output AZURE_LOCATION string = location

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group of kiln\'s resources.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the orchestrator Function App.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Client id of the orchestrator identity.')
output KILN_ORCHESTRATOR_CLIENT_ID string = orchestratorIdentity.outputs.clientId

@description('Name of the Key Vault that holds the PATs and the GitHub App key.')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('URI of that Key Vault.')
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri

@description('Login server of the registry of the Packer job image.')
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = packerJob.outputs.registryLoginServer

@description('Name of that registry.')
output AZURE_CONTAINER_REGISTRY_NAME string = packerJob.outputs.registryName

@description('Resource id of the Packer job.')
output KILN_PACKER_JOB_ID string = packerJob.outputs.jobResourceId

@description('Image the Packer job runs.')
output KILN_PACKER_JOB_IMAGE string = packerJob.outputs.packerImage

@description('Resource group of the gallery.')
output KILN_GALLERY_RESOURCE_GROUP string = galleryRgName

@description('Name of the gallery.')
output KILN_GALLERY_NAME string = gallery.outputs.name

@description('Names of the scale sets kiln manages.')
output KILN_SCALE_SETS string[] = concat(map(linuxScaleSets, s => s.name), map(windowsScaleSets, s => s.name))
