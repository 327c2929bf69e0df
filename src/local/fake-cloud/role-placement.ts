/**
 * Puts the role assignments of a compiled kiln template onto a simulated world. The template is
 * evaluated for the environment `kiln` (src/rbac/template-roles.ts); its resources have the
 * Bicep's names, the world has the scenario's. Each assignment's scope is translated by what the
 * resource is to kiln, never by guesswork on names alone:
 *
 * | template scope | world scope |
 * |---|---|
 * | the subscription | the world's subscription |
 * | `rg-<env>-images` (Packer's managed images) | the images resource group (PACKER_IMAGE_RG) |
 * | `rg-<env>-packer-build` | the build resource group (PACKER_TEMP_RG) |
 * | kiln's own resource group | each resource group kiln's resources live in (job, gallery, runners) |
 * | a scale set tagged `kiln-image=<kind>` (and `kiln-canary`) | every managed scale set of that kind (canary or not) |
 * | the gallery, an image definition (by name) | the world's gallery, its definition of that kind |
 * | the Packer job, its registry, the vault and its secrets, the storage account and its blob containers, the runners' subnet or network | their world counterparts |
 * | a user-assigned identity | that identity in the world |
 * | anything else (monitoring) | kept as is: no fake serves it |
 *
 * Principals are the template's user-assigned identities, recognised by their role suffix
 * (`id-<env>-orchestrator`, `-packer`, `-linux-runners`, `-windows-agents`); an assignment to
 * anyone else (the operator's object id) is kept under that id and concerns no simulated caller.
 */
import type { RoleAssignment } from '../../rbac/types.js';
import type { TemplateRoleAssignment, TemplateRoles } from '../../rbac/template-roles.js';
import type { ImageKind } from '../scenario/types.js';
import { identityRoleOf, type FakeIdentity } from './access.js';
import type { World } from './world.js';

export interface PlacedRoles {
  assignments: RoleAssignment[];
  /** Template assignments that could not be placed, with why (reported, never silently dropped). */
  unplaced: { source: string; reason: string }[];
}

const lastSegment = (id: string) => id.split('/').filter(Boolean).pop() ?? '';

export function placeTemplateRoles(
  roles: TemplateRoles,
  world: World,
  identities: readonly FakeIdentity[],
): PlacedRoles {
  const names = world.names;
  const sub = `/subscriptions/${names.subscriptionId}`;
  const rg = (name: string) => `${sub}/resourceGroups/${name}`;
  const assignments: RoleAssignment[] = [];
  const unplaced: PlacedRoles['unplaced'] = [];

  const principalOf = (a: TemplateRoleAssignment): string | undefined => {
    if (a.principal.kind === 'parameter') return a.principal.value || undefined;
    const role = identityRoleOf(a.principal.name);
    return identities.find((i) => i.role === role)?.principalId;
  };

  const kindOfTags = (tags: Record<string, string> | undefined): ImageKind | undefined => {
    const v = tags?.['kiln-image'];
    return v === 'linux' || v === 'windows' ? v : undefined;
  };

  const scopesOf = (a: TemplateRoleAssignment): string[] | string => {
    const type = a.scopeType.toLowerCase();
    const name = lastSegment(a.scope);
    switch (type) {
      case 'subscription':
        return [sub];
      case 'resourcegroup':
        if (/-images$/i.test(name)) return [rg(names.imagesResourceGroup)];
        if (/-packer-build$/i.test(name)) return [rg(names.buildResourceGroup)];
        return [
          ...new Set([names.packerResourceGroup, names.runnersResourceGroup, names.galleryResourceGroup]),
        ].map(rg);
      case 'microsoft.compute/virtualmachinescalesets': {
        const kind = kindOfTags(a.scopeTags);
        if (!kind) return `scale set ${name} carries no kiln-image tag`;
        const canary = a.scopeTags?.['kiln-canary'] === 'true';
        return [...world.scaleSets.values()]
          .filter((s) => s.managed && s.kind === kind && s.canary === canary)
          .map((s) => s.id);
      }
      case 'microsoft.compute/galleries':
        return [world.galleryId()];
      case 'microsoft.compute/galleries/images': {
        const kind = world.kindOfDefinition(name);
        return kind ? [world.definitionId(kind)] : `image definition ${name} is not one of the world's`;
      }
      case 'microsoft.app/jobs':
        return [world.packerJobId()];
      case 'microsoft.containerregistry/registries':
        return [world.registryId()];
      case 'microsoft.keyvault/vaults':
        return [world.keyVaultId()];
      case 'microsoft.keyvault/vaults/secrets':
        return [`${world.keyVaultId()}/secrets/${name}`];
      case 'microsoft.storage/storageaccounts':
        return [world.storageAccountId()];
      case 'microsoft.storage/storageaccounts/blobservices/containers':
        return [world.containerId(name)];
      case 'microsoft.network/virtualnetworks':
        return [world.subnetId().replace(/\/subnets\/[^/]+$/i, '')];
      case 'microsoft.network/virtualnetworks/subnets':
        return [world.subnetId()];
      case 'microsoft.managedidentity/userassignedidentities': {
        const role = identityRoleOf(name);
        const identity = identities.find((i) => i.role === role);
        return identity ? [identity.resourceId] : `identity ${name} is not one of kiln's four`;
      }
      default:
        // Not served by any fake: keep the template's id under the world's subscription.
        return [a.scope.replace(/^\/subscriptions\/[^/]+/i, sub)];
    }
  };

  for (const a of roles.assignments) {
    const principalId = principalOf(a);
    if (!principalId) {
      unplaced.push({ source: a.source, reason: `principal ${describePrincipal(a)} is not a kiln identity` });
      continue;
    }
    const scopes = scopesOf(a);
    if (typeof scopes === 'string') {
      unplaced.push({ source: a.source, reason: scopes });
      continue;
    }
    for (const scope of scopes) {
      assignments.push({
        principalId,
        roleDefinitionId: a.roleDefinitionId,
        scope,
        ...(a.description ? { description: a.description } : {}),
      });
    }
  }
  return { assignments: dedupe(assignments), unplaced };
}

function describePrincipal(a: TemplateRoleAssignment): string {
  return a.principal.kind === 'identity' ? a.principal.name : `'${a.principal.value}'`;
}

function dedupe(list: RoleAssignment[]): RoleAssignment[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const key = `${a.principalId}|${a.roleDefinitionId}|${a.scope}`.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
