/**
 * The fake ARM's subscription-wide reads: resources by tag or type, resource groups (each answering
 * only what the caller may read, as ARM does), and the role assignments at, above and below a scope.
 */
import { scopeContains } from '../../rbac/permissions.js';
import { ArmError, type ArmContext } from './arm-context.js';
import type { FakeRequest } from './http.js';

/** Resources, resource groups and role assignments. */
export function resourceRoutes(ctx: ArmContext) {
  const { world, names, page } = ctx;
  const o = ctx.options;
  return { listResources, resourceGroups, listRoleAssignments };

  function listResources(req: FakeRequest): void {
    const filter = req.url.searchParams.get('$filter') ?? '';
    let pred: (r: { type: string; tags: Record<string, string> }) => boolean = () => true;
    if (filter.trim() !== '') {
      const tagBoth = /^\s*tagName\s+eq\s+'([^']*)'\s+and\s+tagValue\s+eq\s+'([^']*)'\s*$/i.exec(filter);
      const tagOnly = /^\s*tagName\s+eq\s+'([^']*)'\s*$/i.exec(filter);
      const typeOnly = /^\s*resourceType\s+eq\s+'([^']*)'\s*$/i.exec(filter);
      if (tagBoth) {
        const [, n, v] = tagBoth;
        pred = (r) =>
          Object.entries(r.tags).some(([k, val]) => k.toLowerCase() === n!.toLowerCase() && val === v);
      } else if (tagOnly) {
        pred = (r) => Object.keys(r.tags).some((k) => k.toLowerCase() === tagOnly[1]!.toLowerCase());
      } else if (typeOnly) {
        pred = (r) => r.type.toLowerCase() === typeOnly[1]!.toLowerCase();
      } else {
        throw new ArmError(
          400,
          'InvalidFilterInQueryString',
          `Invalid $filter '${filter}' specified in the query string.`,
        );
      }
    }
    const scaleSets = [...world.scaleSets.values()].map((s) => ({
      id: s.id,
      name: s.name,
      type: 'Microsoft.Compute/virtualMachineScaleSets',
      location: s.location,
      tags: { ...s.tags },
      sku: { name: s.vmSize, tier: 'Standard', capacity: s.instances.size },
    }));
    const vault = {
      id: world.keyVaultId(),
      name: names.keyVaultName,
      type: 'Microsoft.KeyVault/vaults',
      location: world.scenario.gallery.regions[0] ?? 'westeurope',
      tags: {},
    };
    // ARM lists only what the caller may read: no error, just fewer resources.
    const all = [...scaleSets, vault]
      .filter((r) => world.access.allows(ctx.caller, `${r.type}/read`, r.id))
      .filter(pred);
    page(req, all, o.pageSize.resources);
  }

  function resourceGroups() {
    const location = world.scenario.gallery.regions[0] ?? 'westeurope';
    const names2 = new Set([
      names.runnersResourceGroup,
      names.galleryResourceGroup,
      names.packerResourceGroup,
      ...[...world.scaleSets.values()].map((s) => s.resourceGroup),
    ]);
    return [...names2]
      .map((name) => ({
        id: `/subscriptions/${names.subscriptionId}/resourceGroups/${name}`,
        name,
        type: 'Microsoft.Resources/resourceGroups',
        location,
        properties: { provisioningState: 'Succeeded' },
      }))
      .filter((g) =>
        world.access.allows(ctx.caller, 'Microsoft.Resources/subscriptions/resourceGroups/read', g.id),
      );
  }

  /**
   * `GET {scope}/providers/Microsoft.Authorization/roleAssignments` (api 2022-04-01): the assignments
   * at, above and below the scope; `atScope()` keeps those at or above; `principalId eq '<oid>'` (or
   * `assignedTo('<oid>')`) those of one principal. Role definitions are named by full id.
   */
  function listRoleAssignments(req: FakeRequest, scope: string): void {
    const filter = (req.url.searchParams.get('$filter') ?? '').trim();
    const clauses = filter === '' ? [] : filter.split(/\s+and\s+/i);
    let atScopeOnly = false;
    let principal: string | undefined;
    for (const c of clauses) {
      const p = /^(?:principalId\s+eq\s+'([^']+)'|assignedTo\('([^']+)'\))$/i.exec(c.trim());
      if (/^atScope\(\)$/i.test(c.trim())) atScopeOnly = true;
      else if (p) principal = (p[1] ?? p[2])!.toLowerCase();
      else
        throw new ArmError(
          400,
          'InvalidFilterInQueryString',
          `Invalid $filter '${filter}' specified in the query string.`,
        );
    }
    const items = world.access
      .listedAssignments()
      .filter((a) => scopeContains(a.scope, scope) || (!atScopeOnly && scopeContains(scope, a.scope)))
      .filter((a) => !principal || a.principalId.toLowerCase() === principal)
      .map((a) => ({
        properties: {
          roleDefinitionId: `/subscriptions/${names.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${a.roleGuid}`,
          principalId: a.principalId,
          principalType: 'ServicePrincipal',
          scope: a.scope,
          ...(a.description ? { description: a.description } : {}),
        },
        id: `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
        type: 'Microsoft.Authorization/roleAssignments',
        name: a.name,
      }));
    page(req, items, o.pageSize.resources);
  }
}
