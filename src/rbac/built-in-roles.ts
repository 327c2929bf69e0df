/**
 * The Azure built-in roles kiln's identities are given (or that `kiln doctor` may suggest), with their
 * permission lists as Azure publishes them, so the fake cloud and the doctor decide access the way ARM
 * does instead of guessing from role names.
 *
 * Sources (role GUIDs and permission lists; checked 2026-12):
 * - learn.microsoft.com/azure/role-based-access-control/built-in-roles/{privileged,compute,identity,
 *   networking,security,storage,containers,monitor} (MicrosoftDocs/azure-docs,
 *   articles/role-based-access-control/built-in-roles/*.md, the JSON block under each role)
 * - Container Apps Jobs Operator: the same containers page as summarised in kiln's platform notes;
 *   its exact list was not available to re-check, so casing follows those notes (matching ignores case).
 *
 * Built-in role GUIDs are the same in every tenant; the lists change now and then (Azure adds actions
 * to roles), so a mismatch against a live tenant means refreshing an entry here, not a bug in matching.
 */
import type { RoleDefinition } from './types.js';

/**
 * Actions most Microsoft "service contributor" roles carry: read roles and assignments, classic alert
 * rules, deployments, read resource groups, support tickets.
 */
const STANDARD = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
] as const;

const BLOB = 'Microsoft.Storage/storageAccounts/blobServices';
const QUEUE = 'Microsoft.Storage/storageAccounts/queueServices/queues';
const TABLE = 'Microsoft.Storage/storageAccounts/tableServices/tables';
const USER_DELEGATION_KEY = `${BLOB}/generateUserDelegationKey/action`;

function role(
  id: string,
  name: string,
  p: { actions?: string[]; notActions?: string[]; dataActions?: string[]; notDataActions?: string[] },
): RoleDefinition {
  return Object.freeze({
    id,
    name,
    actions: Object.freeze(p.actions ?? []),
    notActions: Object.freeze(p.notActions ?? []),
    dataActions: Object.freeze(p.dataActions ?? []),
    notDataActions: Object.freeze(p.notDataActions ?? []),
  });
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = Object.freeze([
  // --- general (privileged) ---
  role('acdd72a7-3385-48ef-bd42-f606fba81ae7', 'Reader', { actions: ['*/read'] }),
  role('b24988ac-6180-42a0-ab88-20f7382dd24c', 'Contributor', {
    actions: ['*'],
    // Everything except managing access (role assignments and definitions), blueprint assignments,
    // gallery sharing and a few tenant-level switches.
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  }),
  role('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'Owner', { actions: ['*'] }),

  // --- compute ---
  role('9980e02c-c2be-4d73-94e8-173b1dc7cf3c', 'Virtual Machine Contributor', {
    // The full published list. Note what is absent: no gallery access (an image version in
    // imageReference needs galleries/images/versions/read, a linked check) and no
    // userAssignedIdentities/assign/action, so a scale set with a user-assigned identity also needs
    // Managed Identity Operator on that identity.
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.Compute/availabilitySets/*',
      'Microsoft.Compute/locations/*',
      'Microsoft.Compute/virtualMachines/*',
      'Microsoft.Compute/virtualMachineScaleSets/*',
      'Microsoft.Compute/cloudServices/*',
      'Microsoft.Compute/disks/write',
      'Microsoft.Compute/disks/read',
      'Microsoft.Compute/disks/delete',
      'Microsoft.DevTestLab/schedules/*',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Network/applicationGateways/backendAddressPools/join/action',
      'Microsoft.Network/loadBalancers/backendAddressPools/join/action',
      'Microsoft.Network/loadBalancers/inboundNatPools/join/action',
      'Microsoft.Network/loadBalancers/inboundNatRules/join/action',
      'Microsoft.Network/loadBalancers/probes/join/action',
      'Microsoft.Network/loadBalancers/read',
      'Microsoft.Network/locations/*',
      'Microsoft.Network/networkInterfaces/*',
      'Microsoft.Network/networkSecurityGroups/join/action',
      'Microsoft.Network/networkSecurityGroups/read',
      'Microsoft.Network/publicIPAddresses/join/action',
      'Microsoft.Network/publicIPAddresses/read',
      'Microsoft.Network/virtualNetworks/read',
      'Microsoft.Network/virtualNetworks/subnets/join/action',
      'Microsoft.RecoveryServices/locations/*',
      'Microsoft.RecoveryServices/Vaults/backupFabrics/backupProtectionIntent/write',
      'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/*/read',
      'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read',
      'Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write',
      'Microsoft.RecoveryServices/Vaults/backupPolicies/read',
      'Microsoft.RecoveryServices/Vaults/backupPolicies/write',
      'Microsoft.RecoveryServices/Vaults/read',
      'Microsoft.RecoveryServices/Vaults/usages/read',
      'Microsoft.RecoveryServices/Vaults/write',
      'Microsoft.ResourceHealth/availabilityStatuses/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.SerialConsole/serialPorts/connect/action',
      'Microsoft.SqlVirtualMachine/*',
      'Microsoft.Storage/storageAccounts/listKeys/action',
      'Microsoft.Storage/storageAccounts/read',
      'Microsoft.Support/*',
    ],
  }),
  role('85a2d0d9-2eba-4c9c-b355-11c2cc0788ab', 'Compute Gallery Artifacts Publisher', {
    // Publishes image versions and cleans up managed images; the standard set minus Support.
    actions: [
      'Microsoft.Compute/galleries/*',
      'Microsoft.Compute/locations/capsOperations/read',
      'Microsoft.Compute/locations/communityGalleries/*',
      'Microsoft.Compute/locations/sharedGalleries/*',
      'Microsoft.Compute/images/*',
      'Microsoft.Compute/virtualMachines/write',
      'Microsoft.Compute/disks/write',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
    ],
    notActions: ['Microsoft.Compute/galleries/share/action'],
  }),
  role('cf7c76d2-98a3-4358-a134-615aa78bf44d', 'Compute Gallery Image Reader', {
    actions: ['Microsoft.Compute/galleries/images/read', 'Microsoft.Compute/galleries/images/versions/read'],
  }),
  role('1ef6a3be-d0ac-425d-8c01-acb62866290b', 'Compute Gallery Sharing Admin', {
    actions: ['Microsoft.Compute/galleries/share/action'],
  }),

  // --- identity ---
  role('f1a07417-d97a-45cb-824c-7a7467783830', 'Managed Identity Operator', {
    // `*/assign/action` is how Azure spells "assign this identity"; see actionMatches for why it
    // covers userAssignedIdentities/assign/action.
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      ...STANDARD,
    ],
  }),

  // --- networking ---
  role('4d97b98b-1d4f-4787-a291-c67834d212e7', 'Network Contributor', {
    actions: ['Microsoft.Network/*', 'Microsoft.ResourceHealth/availabilityStatuses/read', ...STANDARD],
  }),

  // --- security (Key Vault, RBAC permission model) ---
  role('4633458b-17de-408a-b874-0445c86b69e6', 'Key Vault Secrets User', {
    // Data plane only: reading a secret's value needs no ARM action at all.
    dataActions: [
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
    ],
  }),
  role('b86a8fe4-44ce-4948-aee5-eccb2c155cd7', 'Key Vault Secrets Officer', {
    actions: [
      ...STANDARD,
      'Microsoft.KeyVault/checkNameAvailability/read',
      'Microsoft.KeyVault/deletedVaults/read',
      'Microsoft.KeyVault/locations/*/read',
      'Microsoft.KeyVault/vaults/*/read',
      'Microsoft.KeyVault/operations/read',
    ],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
  }),

  // --- containers ---
  role('b9a307c4-5aa3-4b52-ba60-2b17c136cd7b', 'Container Apps Jobs Operator', {
    // `jobs/*/action` covers start and stop, and also listSecrets: a wide grant despite the name.
    actions: [
      'Microsoft.App/jobs/read',
      'Microsoft.App/jobs/*/read',
      'Microsoft.App/jobs/*/action',
      'Microsoft.App/managedEnvironments/read',
      'Microsoft.App/managedEnvironments/*/read',
      'Microsoft.App/managedEnvironments/join/action',
      'Microsoft.App/managedEnvironments/checknameavailability/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
    ],
    dataActions: ['Microsoft.App/jobs/logstream/action', 'Microsoft.App/jobs/exec/action'],
  }),
  role('7f951dda-4ed3-4680-a7ca-43fe172d538d', 'AcrPull', {
    actions: ['Microsoft.ContainerRegistry/registries/pull/read'],
  }),
  role('8311e382-0749-4cb8-b61a-304f252e45ec', 'AcrPush', {
    actions: [
      'Microsoft.ContainerRegistry/registries/pull/read',
      'Microsoft.ContainerRegistry/registries/push/write',
    ],
  }),

  // --- monitor ---
  role('3913510d-42f4-4e42-8a64-420c390055eb', 'Monitoring Metrics Publisher', {
    actions: [
      'Microsoft.Insights/Register/Action',
      'Microsoft.Support/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
    ],
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  }),

  // --- storage ---
  role('b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'Storage Blob Data Owner', {
    actions: [`${BLOB}/containers/*`, USER_DELEGATION_KEY],
    dataActions: [`${BLOB}/containers/blobs/*`],
  }),
  role('ba92f5b4-2d11-453d-a403-e96b0029c9fe', 'Storage Blob Data Contributor', {
    actions: [
      `${BLOB}/containers/delete`,
      `${BLOB}/containers/read`,
      `${BLOB}/containers/write`,
      USER_DELEGATION_KEY,
    ],
    dataActions: [
      `${BLOB}/containers/blobs/delete`,
      `${BLOB}/containers/blobs/read`,
      `${BLOB}/containers/blobs/write`,
      `${BLOB}/containers/blobs/move/action`,
      `${BLOB}/containers/blobs/add/action`,
    ],
  }),
  role('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', 'Storage Blob Data Reader', {
    actions: [`${BLOB}/containers/read`, USER_DELEGATION_KEY],
    dataActions: [`${BLOB}/containers/blobs/read`],
  }),
  role('974c5e8b-45b9-4653-ba55-5f855dd0fb88', 'Storage Queue Data Contributor', {
    actions: [`${QUEUE}/delete`, `${QUEUE}/read`, `${QUEUE}/write`],
    dataActions: [
      `${QUEUE}/messages/delete`,
      `${QUEUE}/messages/read`,
      `${QUEUE}/messages/write`,
      `${QUEUE}/messages/process/action`,
    ],
  }),
  role('8a0f0c08-91a1-4084-bc3d-661d67233fed', 'Storage Queue Data Message Processor', {
    dataActions: [`${QUEUE}/messages/read`, `${QUEUE}/messages/process/action`],
  }),
  role('c6a89b2d-59bc-44d0-9896-0f6e12d7b80a', 'Storage Queue Data Message Sender', {
    dataActions: [`${QUEUE}/messages/add/action`],
  }),
  role('19e7f393-937e-4f77-808e-94535e297925', 'Storage Queue Data Reader', {
    actions: [`${QUEUE}/read`],
    dataActions: [`${QUEUE}/messages/read`],
  }),
  role('0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', 'Storage Table Data Contributor', {
    actions: [`${TABLE}/read`, `${TABLE}/write`, `${TABLE}/delete`],
    dataActions: [
      `${TABLE}/entities/read`,
      `${TABLE}/entities/write`,
      `${TABLE}/entities/delete`,
      `${TABLE}/entities/add/action`,
      `${TABLE}/entities/update/action`,
    ],
  }),
  role('76199698-9eea-4c19-bc75-cec21354c6b6', 'Storage Table Data Reader', {
    actions: [`${TABLE}/read`],
    dataActions: [`${TABLE}/entities/read`],
  }),
]);

/** The GUID at the end of a role definition id (`.../roleDefinitions/<guid>`), or the input itself, lower case. */
export function roleGuid(idOrGuid: string): string {
  const trimmed = idOrGuid.trim().replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1).toLowerCase();
}

const BY_ID = new Map(BUILT_IN_ROLES.map((r) => [r.id, r]));
const BY_NAME = new Map(BUILT_IN_ROLES.map((r) => [r.name.toLowerCase(), r]));

/** A built-in role by GUID, by full role definition id, or by display name (all case-insensitive). */
export function builtInRole(idOrName: string): RoleDefinition | undefined {
  return BY_ID.get(roleGuid(idOrName)) ?? BY_NAME.get(idOrName.trim().toLowerCase());
}

/** The display name of a built-in role, or "unknown role <guid>" so reports still say which one. */
export function roleName(id: string): string {
  return builtInRole(id)?.name ?? `unknown role ${roleGuid(id)}`;
}
