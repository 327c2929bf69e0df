// Shared, compile-time-only definitions for kiln's infrastructure: the custom types that object
// parameters use and the built-in role definition ids, so every module names a role the same way.
metadata description = 'kiln shared types and built-in role ids (imported by main.bicep and the modules; deploys nothing).'

@export()
@description('Built-in Azure role definition ids (GUIDs). Only roles kiln grants are listed; Owner and Contributor at subscription scope are never used.')
var builtInRoleIds = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec'
  computeGalleryArtifactsPublisher: '85a2d0d9-2eba-4c9c-b355-11c2cc0788ab'
  containerAppsJobsOperator: 'b9a307c4-5aa3-4b52-ba60-2b17c136cd7b'
  // Contributor appears only on the Packer build/image resource groups, never on a subscription.
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  virtualMachineContributor: '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'
}

@export()
@description('Kinds of principal a role can be assigned to.')
type principalTypeType = 'ServicePrincipal' | 'User' | 'Group'

@export()
@description('One role assignment that a module creates on its own resource (the narrowest scope).')
type roleAssignmentType = {
  @description('Required. Object (principal) id of the identity that receives the role.')
  principalId: string

  @description('Required. Built-in role definition GUID (see builtInRoleIds).')
  roleDefinitionId: string

  @description('Optional. Principal type; ServicePrincipal for managed identities (avoids replication races).')
  principalType: principalTypeType?

  @description('Optional. Why the principal needs this role; shown in the portal.')
  description: string?
}

@export()
@description('A Key Vault Secrets User grant on one named secret.')
type secretRoleAssignmentType = {
  @description('Required. Name of the secret (it must already exist in the vault).')
  secretName: string

  @description('Required. Object (principal) id of the identity that may read the secret.')
  principalId: string

  @description('Optional. Why the principal reads this secret.')
  description: string?
}

@export()
@description('Resource tags.')
type tagsType = {
  *: string
}

@export()
@description('One scale set fleet (Linux GitHub runners or Windows Azure DevOps agents), with its canary scale set.')
type fleetType = {
  @description('Optional. Deploy this fleet. Default true.')
  enabled: bool?

  @description('Optional. VM size of the runners/agents. Default Standard_D4s_v5.')
  vmSize: string?

  @description('Optional. Instances in the main scale set. Default 2.')
  @minValue(0)
  @maxValue(1000)
  instanceCount: int?

  @description('Optional. Instances in the canary scale set (tagged with the canary tag); 0 deploys no canary scale set. Default 1.')
  @minValue(0)
  @maxValue(10)
  canaryInstanceCount: int?

  @description('Optional. Computer name prefix; kiln matches runners/agents to instances by computer name. The canary scale set appends "c". At most 8 characters so Windows names stay within 15 (prefix ≤ 9 + 6). Default kilnlnx / kilnwin.')
  @minLength(1)
  @maxLength(8)
  computerNamePrefix: string?

  @description('Optional. Extra GitHub runner labels, comma separated (Linux only, written as GH_RUNNER_LABELS).')
  runnerLabels: string?

  @description('Optional. GitHub runner group by name, pat registration (Linux only, written as GH_RUNNER_GROUP).')
  runnerGroup: string?

  @description('Optional. GitHub runner group by id, jit registration (the broker\'s GITHUB_RUNNER_GROUP_ID; generate-jitconfig takes no name). Default 1, the Default group.')
  @minValue(1)
  runnerGroupId: int?

  @description('Optional. Capacity on demand for the main scale set (never the canary): kiln\'s autoscaler sizes it with the queued jobs, written as its capacity tags (kiln-min, kiln-max, kiln-warm, kiln-warm-schedule, kiln-idle-minutes). A redeployment sets the capacity back to instanceCount, which the autoscaler corrects within a minute. Default: none, the capacity stays instanceCount.')
  autoscale: autoscaleType?
}

@export()
@description('Capacity tags of an autoscaled scale set (README, "Capacity on demand").')
type autoscaleType = {
  @description('Optional. Fewest instances. Default 0.')
  @minValue(0)
  @maxValue(1000)
  min: int?

  @description('Optional. Most instances. Default 1000.')
  @minValue(0)
  @maxValue(1000)
  max: int?

  @description('Optional. Idle machines kept ready. Default 0.')
  @minValue(0)
  @maxValue(1000)
  warm: int?

  @description('Optional. Warm machines by the wall clock, e.g. "Mon-Fri 07:00-19:00 Europe/Berlin:4" (; between entries). Default none.')
  warmSchedule: string?

  @description('Optional. Minutes a machine stays idle before it may go. Default 10.')
  @minValue(0)
  @maxValue(1440)
  idleMinutes: int?
}

@export()
@description('GitHub settings of the orchestrator and the Linux runners.')
type githubSettingsType = {
  @description('Optional. GitHub REST API base URL (GitHub Enterprise Server: https://HOST/api/v3). Default https://api.github.com.')
  apiUrl: string?

  @description('Optional. GitHub web URL the runners register at (GitHub Enterprise Server: https://HOST; on *.ghe.com required with apiUrl). Default: derived by the runner from apiUrl, else https://github.com.')
  url: string?

  @description('Optional. How the Linux runners register: jit (kiln\'s broker hands each VM a just-in-time config; the runners read no secret) or pat (each VM reads the PAT from Key Vault). Default jit.')
  registration: ('jit' | 'pat')?

  @description('Optional. One job per machine for the Linux runners (tag kiln-recycle): \'true\' or \'false\' (a string, so azd can pass it); empty or absent: true in jit registration mode, false in pat mode. After its job an instance is reimaged before it registers again.')
  recycle: ('true' | 'false' | '')?

  @description('Required. Runner registration scope.')
  scope: 'org' | 'repo'

  @description('Required. Organization or user that owns the runners.')
  owner: string

  @description('Optional. Repository name; required when scope is repo.')
  repo: string?

  @description('Optional. How the orchestrator authenticates to GitHub. Default app.')
  auth: ('app' | 'pat')?

  @description('Optional. GitHub App id (auth = app).')
  appId: string?

  @description('Optional. GitHub App installation id (auth = app).')
  appInstallationId: string?

  @description('Optional. Key Vault secret holding the GitHub App private key. Default github-app-key.')
  appKeySecretName: string?

  @description('Optional. Key Vault secret holding the runner registration PAT (read by the Linux runners, and by the orchestrator when auth = pat). Default gh-pat.')
  patSecretName: string?

  @description('Optional. Key Vault secret holding the secret of the GitHub webhook that sends workflow_job events to POST /api/github/webhooks (job demand, issue 19). Set it once the secret exists: the orchestrator is granted it and verifies deliveries with it. Absent: no webhook (deliveries are refused).')
  webhookSecretName: string?
}

@export()
@description('Azure DevOps settings of the orchestrator and the Windows agents.')
type adoSettingsType = {
  @description('Optional. Organization URL, e.g. https://dev.azure.com/acme. Empty when there is no Windows fleet.')
  orgUrl: string?

  @description('Optional. Agent pool name. Default Default.')
  pool: string?

  @description('Optional. How the orchestrator authenticates to Azure DevOps. Default pat.')
  auth: ('pat' | 'entra')?

  @description('Optional. How the Windows agents get their registration secret: broker (from kiln\'s broker; the agents read no secret) or pat (from Key Vault). Default broker.')
  registration: ('broker' | 'pat')?

  @description('Optional. One job per machine for the Windows agents (tag kiln-recycle, KILN_RECYCLE: the agent runs with --once): \'true\' or \'false\' (a string, so azd can pass it); empty or absent: false. After its job an instance is reimaged before it registers again.')
  recycle: ('true' | 'false' | '')?

  @description('Optional. Key Vault secret holding the agent PAT. Default ado-pat.')
  patSecretName: string?

  @description('Optional. Azure Pipelines agent version baked into the Windows image (its SHA-256 must be in packer/windows/toolset.json). Default: adoAgent.version there.')
  agentVersion: string?
}

@export()
@description('NCRONTAB schedules (six fields, with seconds) of kiln\'s timers.')
type schedulesType = {
  @description('Optional. Fleet hygiene. Default every 15 minutes.')
  cleanup: string?

  @description('Optional. Monthly image rebuild. Default 03:00 UTC on the 1st.')
  rebuild: string?

  @description('Optional. Daily runner release watch. Default 06:00 UTC.')
  runnerRelease: string?
}

@export()
@description('Timing and retention policy of rebuilds, rollouts and hygiene.')
type policyType = {
  @description('Optional. Minutes an offline registration is kept before it is removed. Default 30.')
  @minValue(1)
  offlineGraceMinutes: int?

  @description('Optional. Minutes a new instance has to register before it is reimaged. Default 20.')
  @minValue(1)
  bootDeadlineMinutes: int?

  @description('Optional. Hours a Packer build may run (also the job replica timeout). Default 8.')
  @minValue(1)
  @maxValue(24)
  buildTimeoutHours: int?

  @description('Optional. Minutes the canary must stay healthy. Default 30.')
  @minValue(0)
  canarySoakMinutes: int?

  @description('Optional. Software changes that hold a rebuild for approval after its canary (PROMOTION_GATE): comma list of added, removed, major, minor, patch, unreported; or off. Default removed,major,unreported.')
  promotionGate: string?

  @description('Optional. Hours a held rebuild waits for approval before it is rejected (APPROVAL_TIMEOUT_HOURS). Default 72.')
  @minValue(1)
  @maxValue(720)
  approvalTimeoutHours: int?

  @description('Optional. Newest gallery versions never pruned. Default 3.')
  @minValue(1)
  pruneKeep: int?

  @description('Optional. Days after which an instance is recycled. Default 21.')
  @minValue(1)
  runnerMaxAgeDays: int?

  @description('Optional. Days until a gallery version\'s end-of-life date. Default 180.')
  @minValue(1)
  imageEolDays: int?
}
