/**
 * Fake Azure Resource Manager: resources by tag, VM scale sets (model, instances with instance
 * view, reimage, manualupgrade, delete instances), Compute Gallery image versions with replication,
 * and Container Apps job executions. Long-running operations answer 201/202 with
 * `Azure-AsyncOperation` + `Location` + `Retry-After: 0` and complete on the virtual clock.
 * Rejects what ARM rejects: missing/invalid bearer token, missing or unknown api-version, malformed
 * JSON, unknown resources.
 */
import type { ImageKind } from '../scenario/types.js';
import type { FaultBook } from './faults.js';
import { applyHttpFault, bearerToken, parseJsonBody, sendJson, type FakeRequest } from './http.js';
import { scopeContains } from '../../rbac/permissions.js';
import { runnerIdentityRole, type FakeIdentity, type LinkedAction } from './access.js';
import type { TokenIssuer } from './tokens.js';
import {
  regionDisplay,
  regionKey,
  type AsyncOperation,
  type TargetRegion,
  type World,
  type WorldExecution,
  type WorldGalleryVersion,
  type WorldInstance,
  type WorldScaleSet,
} from './world.js';

/**
 * api-versions accepted per resource family. The installed SDKs send: @azure/arm-compute 25.1.1 →
 * 2026-04-01 (scale sets, VMs) and 2025-12-03 (galleries); @azure/arm-resources 7.0.0 → 2025-04-01;
 * @azure/arm-appcontainers 3.0.0 → 2025-07-01. Older stable versions are accepted as ARM would.
 */
export const ARM_API_VERSIONS = {
  compute: ['2023-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01', '2025-11-01', '2026-04-01'],
  gallery: ['2023-07-03', '2024-03-03', '2025-03-03', '2025-12-03'],
  resources: ['2021-04-01', '2022-09-01', '2024-03-01', '2024-07-01', '2024-11-01', '2025-04-01'],
  app: ['2024-03-01', '2025-01-01', '2025-07-01'],
  // @azure/arm-authorization 9 sends 2022-04-01 for role assignments.
  authorization: ['2020-10-01', '2022-04-01'],
} as const;

type Family = keyof typeof ARM_API_VERSIONS;

/**
 * The action each operation demands of its caller, on the resource its path names (Microsoft's
 * "Azure permissions" lists for Compute and Containers; reference: platform-facts §1). Operations
 * not listed are not checked: reading the subscription, polling the operation one started, and the
 * lists, which answer only what the caller may read instead of refusing.
 */
export const OPERATION_ACTIONS: Readonly<Record<string, string>> = {
  'resourceGroups.get': 'Microsoft.Resources/subscriptions/resourceGroups/read',
  'images.get': 'Microsoft.Compute/images/read',
  'images.delete': 'Microsoft.Compute/images/delete',
  'virtualMachineScaleSets.get': 'Microsoft.Compute/virtualMachineScaleSets/read',
  'virtualMachineScaleSets.update': 'Microsoft.Compute/virtualMachineScaleSets/write',
  'virtualMachineScaleSets.reimage': 'Microsoft.Compute/virtualMachineScaleSets/reimage/action',
  'virtualMachineScaleSets.updateInstances': 'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
  'virtualMachineScaleSets.deleteInstances': 'Microsoft.Compute/virtualMachineScaleSets/delete/action',
  'virtualMachineScaleSetVMs.list': 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
  'virtualMachineScaleSetVMs.get': 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read',
  'virtualMachineScaleSetVMs.getInstanceView':
    'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read',
  'galleryImages.get': 'Microsoft.Compute/galleries/images/read',
  'galleryImageVersions.listByGalleryImage': 'Microsoft.Compute/galleries/images/versions/read',
  'galleryImageVersions.get': 'Microsoft.Compute/galleries/images/versions/read',
  'galleryImageVersions.createOrUpdate': 'Microsoft.Compute/galleries/images/versions/write',
  'galleryImageVersions.update': 'Microsoft.Compute/galleries/images/versions/write',
  'galleryImageVersions.delete': 'Microsoft.Compute/galleries/images/versions/delete',
  'jobs.get': 'Microsoft.App/jobs/read',
  'jobs.start': 'Microsoft.App/jobs/start/action',
  'jobs.listExecutions': 'Microsoft.App/jobs/executions/read',
  jobExecution: 'Microsoft.App/jobs/executions/read',
  'jobs.stopExecution': 'Microsoft.App/jobs/stop/action',
  'roleAssignments.listForScope': 'Microsoft.Authorization/roleAssignments/read',
};

/** Path segments that name an action or a child collection, not the resource the action is on. */
const NOT_THE_RESOURCE = new Set([
  'reimage',
  'manualupgrade',
  'delete',
  'start',
  'stop',
  'instanceview',
  'virtualmachines',
  'versions',
  'executions',
]);

/** The scope a request acts on: its path without the trailing action or collection segment. */
export function scopeOfPath(segments: readonly string[]): string {
  const seg = [...segments];
  while (seg.length > 2 && NOT_THE_RESOURCE.has(seg[seg.length - 1]!.toLowerCase())) seg.pop();
  return `/${seg.join('/')}`;
}

export interface ArmFakeOptions {
  world: World;
  tokens: TokenIssuer;
  faults: FaultBook;
  origin: () => string;
  /** Token audiences ARM accepts (its origin, as `ARM_AUDIENCE` defaults to `<ARM_ENDPOINT>/.default`). */
  audiences: () => string[];
  pageSize: { vms: number; resources: number; versions: number };
}

class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function armHandler(o: ArmFakeOptions) {
  const { world, faults } = o;
  const names = world.names;
  /** Who sent the request being handled (requests are handled one at a time, synchronously). */
  let caller: FakeIdentity = world.access.identity('orchestrator');

  return (req: FakeRequest): void => {
    try {
      handle(req);
    } catch (err) {
      if (err instanceof ArmError) {
        sendJson(req.res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      } else if (err instanceof SyntaxError) {
        sendJson(req.res, 400, {
          error: {
            code: 'InvalidRequestContent',
            message: `The request content was invalid and could not be deserialized: '${err.message}'.`,
          },
        });
      } else {
        throw err;
      }
    }
  };

  /** ARM's authorization: 403 AuthorizationFailed / LinkedAuthorizationFailed in Azure's words. */
  function demand(action: string, scope: string, linked: LinkedAction[] = []): void {
    const refusal = world.access.authorize(caller, action, scope, linked);
    if (refusal) throw new ArmError(403, refusal.code, refusal.message);
  }

  function handle(req: FakeRequest): void {
    // Authentication comes first, as ARM's front door does it.
    const token = bearerToken(req);
    const check = o.tokens.check(token, o.audiences());
    if (check !== 'ok') {
      const message =
        check === 'missing'
          ? "Authentication failed. The 'Authorization' header is missing."
          : check === 'expired'
            ? 'The access token expiry UTC time is earlier than current UTC time.'
            : check === 'wrong-audience'
              ? 'The access token has been obtained for wrong audience or resource.'
              : 'The access token is invalid.';
      const code =
        check === 'missing'
          ? 'AuthenticationFailed'
          : check === 'expired'
            ? 'ExpiredAuthenticationToken'
            : 'InvalidAuthenticationToken';
      throw new ArmError(401, code, message, {
        'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${names.tenantId}", error="invalid_token", error_description="${message}"`,
      });
    }
    caller = world.access.byClientId(o.tokens.clientIdOf(token)) ?? world.access.identity('orchestrator');
    const seg = req.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const lower = seg.map((s) => s.toLowerCase());
    const roleAssignmentsAt = lower.lastIndexOf('microsoft.authorization');
    if (
      roleAssignmentsAt >= 2 &&
      lower[roleAssignmentsAt - 1] === 'providers' &&
      lower[roleAssignmentsAt + 1] === 'roleassignments' &&
      lower.length === roleAssignmentsAt + 2 &&
      req.method === 'GET'
    ) {
      const scope = `/${seg.slice(0, roleAssignmentsAt - 1).join('/')}`;
      return run(
        req,
        'authorization',
        'roleAssignments.listForScope',
        () => listRoleAssignments(req, scope),
        scope,
      );
    }
    if (lower[0] !== 'subscriptions' || !seg[1])
      throw new ArmError(404, 'NotFound', `No route for ${req.method} ${req.url.pathname}`);
    if (seg[1].toLowerCase() !== names.subscriptionId)
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${seg[1]}' could not be found.`);

    // /subscriptions/{sub}, /subscriptions/{sub}/resourcegroups[/{rg}]
    if (lower.length === 2 && req.method === 'GET') {
      return run(req, 'resources', 'subscriptions.get', () =>
        sendJson(req.res, 200, {
          id: `/subscriptions/${names.subscriptionId}`,
          subscriptionId: names.subscriptionId,
          tenantId: names.tenantId,
          displayName: 'kiln fake subscription',
          state: 'Enabled',
        }),
      );
    }
    if (lower[2] === 'resourcegroups' && lower.length <= 4 && req.method === 'GET') {
      const groups = resourceGroups();
      if (lower.length === 3)
        return run(req, 'resources', 'resourceGroups.list', () => page(req, groups, o.pageSize.resources));
      return run(req, 'resources', 'resourceGroups.get', () => {
        const g = groups.find((x) => x.name.toLowerCase() === lower[3]);
        if (!g)
          throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${seg[3]}' could not be found.`);
        sendJson(req.res, 200, g);
      });
    }
    // /subscriptions/{sub}/resources
    if (lower.length === 3 && lower[2] === 'resources' && req.method === 'GET') {
      return run(req, 'resources', 'resources.list', () => listResources(req));
    }
    // /subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/capsOperations/{id}
    if (
      lower[2] === 'providers' &&
      lower[3] === 'microsoft.compute' &&
      lower[4] === 'locations' &&
      lower[6] === 'capsoperations' &&
      seg[7]
    ) {
      return run(req, ['compute', 'gallery'], 'operations.get', () => getOperation(req, seg[7]!));
    }
    if (lower[2] !== 'resourcegroups' || !seg[3] || lower[4] !== 'providers')
      throw new ArmError(404, 'NotFound', `No route for ${req.method} ${req.url.pathname}`);
    const rg = seg[3];
    const provider = lower[5];
    const rest = seg.slice(6);
    const restLower = lower.slice(6);

    if (provider === 'microsoft.compute' && restLower[0] === 'virtualmachinescalesets' && rest[1]) {
      return scaleSetRoute(req, rg, rest[1], rest.slice(2), restLower.slice(2));
    }
    if (provider === 'microsoft.compute' && restLower[0] === 'galleries' && rest[1]) {
      return galleryRoute(req, rg, rest[1], rest.slice(2), restLower.slice(2));
    }
    if (provider === 'microsoft.app' && restLower[0] === 'jobs' && rest[1]) {
      return jobRoute(req, rg, rest[1], rest.slice(2), restLower.slice(2));
    }
    if (provider === 'microsoft.compute' && restLower[0] === 'images' && rest[1] && rest.length === 2) {
      return managedImageRoute(req, rg, rest[1]);
    }
    throw new ArmError(404, 'NotFound', `No route for ${req.method} ${req.url.pathname}`);
  }

  /** Managed images: the intermediate output of a Packer build, published into the gallery, then deleted. */
  function managedImageRoute(req: FakeRequest, rg: string, name: string): void {
    const id = `/subscriptions/${names.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/images/${name}`;
    const exists = world.managedImages.has(id.toLowerCase());
    if (req.method === 'GET') {
      return run(req, 'compute', 'images.get', () => {
        if (!exists)
          throw new ArmError(
            404,
            'NotFound',
            `The Resource 'Microsoft.Compute/images/${name}' under resource group '${rg}' was not found.`,
          );
        sendJson(req.res, 200, {
          id,
          name,
          type: 'Microsoft.Compute/images',
          location: world.scenario.gallery.regions[0],
          properties: { provisioningState: 'Succeeded' },
        });
      });
    }
    if (req.method === 'DELETE') {
      return run(req, 'compute', 'images.delete', () => {
        if (!exists) return sendJson(req.res, 204, undefined);
        world.managedImages.delete(id.toLowerCase());
        world.event('arm', `deleted managed image ${name}`);
        const op = world.newOperation();
        world.completeOperationAfter(op, 0);
        sendJson(req.res, 202, undefined, lroHeaders(op, world.scenario.gallery.regions[0] ?? 'westeurope'));
      });
    }
    throw new ArmError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${req.url.pathname}`);
  }

  /** api-version check, fault injection, then the operation. */
  function run(
    req: FakeRequest,
    family: Family | Family[],
    operation: string,
    fn: () => void,
    scope: string = scopeOfPath(req.url.pathname.split('/').filter(Boolean).map(decodeURIComponent)),
  ): void {
    const families = Array.isArray(family) ? family : [family];
    const v = req.url.searchParams.get('api-version');
    if (!v)
      throw new ArmError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    const supported: string[] = families.flatMap((f) => [...ARM_API_VERSIONS[f]]);
    if (!supported.includes(v)) {
      throw new ArmError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${v}' is invalid. The supported versions are '${supported.join(',')}'.`,
      );
    }
    const action = OPERATION_ACTIONS[operation];
    if (action) demand(action, scope);
    const fault = faults.takeHttp('arm', operation);
    if (
      applyHttpFault(req, fault, (status) => ({
        body: {
          error: {
            code:
              status === 429 ? 'TooManyRequests' : status >= 500 ? 'InternalServerError' : 'InjectedFault',
            message:
              status === 429 ? 'The request is being throttled.' : `Injected ${status} for ${operation}.`,
          },
        },
      }))
    )
      return;
    fn();
  }

  function body(req: FakeRequest, required: boolean): Record<string, unknown> {
    const parsed = parseJsonBody(req);
    if (parsed === undefined) {
      if (required)
        throw new ArmError(
          400,
          'InvalidRequestContent',
          'The request content was invalid and could not be deserialized: the body is empty.',
        );
      return {};
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ArmError(
        400,
        'InvalidRequestContent',
        'The request content was invalid and could not be deserialized: expected a JSON object.',
      );
    }
    return parsed as Record<string, unknown>;
  }

  function lroHeaders(op: AsyncOperation, location: string): Record<string, string> {
    const base = `${o.origin()}/subscriptions/${names.subscriptionId}/providers/Microsoft.Compute/locations/${regionKey(location)}/capsOperations/${op.id}`;
    return {
      'azure-asyncoperation': `${base}?api-version=2026-04-01`,
      location: `${base}?monitor=true&api-version=2026-04-01`,
      'retry-after': '0',
    };
  }

  function getOperation(req: FakeRequest, id: string): void {
    const op = world.operations.get(id);
    if (!op) throw new ArmError(404, 'NotFound', `The operation '${id}' was not found.`);
    const monitor = req.url.searchParams.get('monitor') === 'true';
    const bodyOut = {
      name: op.id,
      status: op.status,
      startTime: new Date(op.startTime).toISOString(),
      ...(op.endTime !== undefined ? { endTime: new Date(op.endTime).toISOString() } : {}),
      ...(op.error ? { error: op.error } : {}),
    };
    if (monitor && op.status === 'InProgress') {
      return sendJson(req.res, 202, undefined, {
        location: `${o.origin()}${req.url.pathname}${req.url.search}`,
        'retry-after': '0',
      });
    }
    if (monitor && op.status === 'Failed') {
      return sendJson(req.res, 500, {
        error: op.error ?? { code: 'OperationFailed', message: 'The operation failed.' },
      });
    }
    sendJson(req.res, 200, bodyOut);
  }

  // ------------------------------------------------------------------ resources

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
      .filter((r) => world.access.allows(caller, `${r.type}/read`, r.id))
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
        world.access.allows(caller, 'Microsoft.Resources/subscriptions/resourceGroups/read', g.id),
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

  /** `{ value, nextLink }` with a `$skiptoken` offset, as ARM lists page. */
  function page(req: FakeRequest, items: unknown[], size: number): void {
    const skip = Number(req.url.searchParams.get('$skiptoken') ?? '0') || 0;
    const slice = items.slice(skip, skip + size);
    let nextLink: string | undefined;
    if (skip + size < items.length) {
      const next = new URL(`${o.origin()}${req.url.pathname}${req.url.search}`);
      next.searchParams.set('$skiptoken', String(skip + size));
      nextLink = next.toString();
    }
    sendJson(req.res, 200, nextLink ? { value: slice, nextLink } : { value: slice });
  }

  // ------------------------------------------------------------------ scale sets

  function findSet(rg: string, name: string): WorldScaleSet {
    const set = world.findScaleSet(name);
    if (!set || set.resourceGroup.toLowerCase() !== rg.toLowerCase()) {
      throw new ArmError(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      );
    }
    return set;
  }

  function scaleSetRoute(
    req: FakeRequest,
    rg: string,
    name: string,
    rest: string[],
    restLower: string[],
  ): void {
    const m = req.method;
    if (rest.length === 0 && m === 'GET')
      return run(req, 'compute', 'virtualMachineScaleSets.get', () =>
        sendJson(req.res, 200, scaleSetBody(findSet(rg, name))),
      );
    if (rest.length === 0 && m === 'PATCH')
      return run(req, 'compute', 'virtualMachineScaleSets.update', () =>
        patchScaleSet(req, findSet(rg, name)),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'reimage')
      return run(req, 'compute', 'virtualMachineScaleSets.reimage', () =>
        rebuild(req, findSet(rg, name), 'reimage'),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'manualupgrade')
      return run(req, 'compute', 'virtualMachineScaleSets.updateInstances', () =>
        rebuild(req, findSet(rg, name), 'upgrade'),
      );
    if (rest.length === 1 && m === 'POST' && restLower[0] === 'delete')
      return run(req, 'compute', 'virtualMachineScaleSets.deleteInstances', () =>
        deleteInstances(req, findSet(rg, name)),
      );
    if (restLower[0] === 'virtualmachines' && m === 'GET') {
      if (rest.length === 1)
        return run(req, 'compute', 'virtualMachineScaleSetVMs.list', () => listVms(req, findSet(rg, name)));
      if (rest.length === 2) {
        return run(req, 'compute', 'virtualMachineScaleSetVMs.get', () => {
          const set = findSet(rg, name);
          sendJson(
            req.res,
            200,
            vmBody(set, findInstance(set, rest[1]!), req.url.searchParams.get('$expand') === 'instanceView'),
          );
        });
      }
      if (rest.length === 3 && restLower[2] === 'instanceview') {
        return run(req, 'compute', 'virtualMachineScaleSetVMs.getInstanceView', () => {
          const set = findSet(rg, name);
          sendJson(req.res, 200, instanceView(set, findInstance(set, rest[1]!)));
        });
      }
    }
    throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
  }

  function findInstance(set: WorldScaleSet, id: string): WorldInstance {
    const inst = set.instances.get(id);
    if (!inst)
      throw new ArmError(
        404,
        'NotFound',
        `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${set.name}/virtualMachines/${id}' under resource group '${set.resourceGroup}' was not found.`,
      );
    return inst;
  }

  /** The user-assigned identity of a scale set's instances: kiln's runner or agent identity, or the owner's. */
  function identityOf(set: WorldScaleSet): string {
    if (set.managed) return world.access.identity(runnerIdentityRole(set.kind)).resourceId;
    return `/subscriptions/${names.subscriptionId}/resourceGroups/${set.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${set.name}`;
  }

  function scaleSetBody(set: WorldScaleSet) {
    const linux = set.kind === 'linux';
    const identity = world.access.identities.find((i) => i.resourceId === identityOf(set));
    return {
      id: set.id,
      name: set.name,
      type: 'Microsoft.Compute/virtualMachineScaleSets',
      location: set.location,
      tags: { ...set.tags },
      etag: etagOf(set),
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: {
          [identityOf(set)]: identity
            ? { principalId: identity.principalId, clientId: identity.clientId }
            : {
                principalId: '44444444-4444-4444-8444-000000000001',
                clientId: '44444444-4444-4444-8444-000000000002',
              },
        },
      },
      sku: { name: set.vmSize, tier: 'Standard', capacity: set.instances.size },
      properties: {
        singlePlacementGroup: false,
        orchestrationMode: set.orchestrationMode,
        upgradePolicy: { mode: set.upgradeMode },
        provisioningState: 'Succeeded',
        overprovision: false,
        doNotRunExtensionsOnOverprovisionedVMs: false,
        platformFaultDomainCount: 1,
        uniqueId: set.id.length.toString(16).padStart(8, '0') + '-0000-4000-8000-000000000000',
        virtualMachineProfile: {
          osProfile: {
            computerNamePrefix: set.computerNamePrefix,
            adminUsername: 'kiln',
            ...(linux
              ? { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }
              : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false } }),
            allowExtensionOperations: true,
          },
          storageProfile: {
            imageReference: { id: set.imageId },
            osDisk: {
              osType: linux ? 'Linux' : 'Windows',
              createOption: 'FromImage',
              caching: 'ReadOnly',
              managedDisk: { storageAccountType: 'Premium_LRS' },
              diskSizeGB: 128,
            },
          },
          networkProfile: {
            networkInterfaceConfigurations: [
              {
                name: `${set.name}-nic`,
                properties: {
                  primary: true,
                  ipConfigurations: [
                    {
                      name: 'ipconfig1',
                      properties: {
                        subnet: {
                          id: world.subnetId(),
                        },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    };
  }

  function patchScaleSet(req: FakeRequest, set: WorldScaleSet): void {
    // An If-Match names the model the caller decided on; ARM refuses the write once anything changed it.
    const ifMatch = req.headers['if-match'];
    if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== etagOf(set))
      throw new ArmError(
        412,
        'PreconditionFailed',
        `The specified precondition 'If-Match = ${ifMatch}' failed: the scale set '${set.name}' has changed (ETag ${etagOf(set)}).`,
      );
    const b = body(req, true);
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const vmp = (props.virtualMachineProfile ?? {}) as Record<string, unknown>;
    const sp = (vmp.storageProfile ?? {}) as Record<string, unknown>;
    const ir = sp.imageReference as Record<string, unknown> | undefined;
    // Every model write re-validates what the model links to, even a tags-only PATCH: the subnet,
    // the user-assigned identity and the gallery image the model will reference.
    const modelImage = typeof ir?.id === 'string' && ir.id !== '' ? ir.id : set.imageId;
    demand('Microsoft.Compute/virtualMachineScaleSets/write', set.id, [
      { action: 'Microsoft.Network/virtualNetworks/subnets/join/action', scope: world.subnetId() },
      { action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', scope: identityOf(set) },
      ...(/\/galleries\//i.test(modelImage)
        ? [
            {
              action: /\/versions\/[^/]+$/i.test(modelImage)
                ? 'Microsoft.Compute/galleries/images/versions/read'
                : 'Microsoft.Compute/galleries/images/read',
              scope: modelImage,
            },
          ]
        : []),
    ]);
    let imageId: string | undefined;
    if (ir !== undefined) {
      if (typeof ir.id !== 'string' || ir.id === '')
        throw new ArmError(
          400,
          'InvalidParameter',
          "Required parameter 'imageReference.id' is missing (null).",
        );
      imageId = ir.id;
      const v = world.versionByImageId(imageId);
      const isDefinition = /\/images\/([^/]+)$/i.exec(imageId);
      if (!v && !(isDefinition && world.kindOfDefinition(isDefinition[1]!))) {
        throw new ArmError(
          404,
          'GalleryImageNotFound',
          `The gallery image ${imageId} is not available in ${set.location} region. Please contact image owner to replicate to this region, or change your requested region.`,
        );
      }
      if (v) {
        const rep = v.replication.find((r) => regionKey(r.region) === regionKey(set.location));
        if (!rep || rep.state !== 'Completed') {
          throw new ArmError(
            400,
            'GalleryImageNotFound',
            `The gallery image version ${v.name} is not available in ${set.location} region. Please contact image owner to replicate to this region, or change your requested region.`,
          );
        }
      }
    }
    let tags: Record<string, string> | undefined;
    if (b.tags !== undefined) {
      if (typeof b.tags !== 'object' || b.tags === null)
        throw new ArmError(400, 'InvalidRequestContent', 'tags must be an object.');
      tags = b.tags as Record<string, string>;
    }
    world.updateModel(set, { imageId, tags });
    const op = world.newOperation();
    world.completeOperationAfter(op, 0);
    sendJson(req.res, 200, scaleSetBody(set), lroHeaders(op, set.location));
  }

  function instanceIdsOf(req: FakeRequest, set: WorldScaleSet, required: boolean): string[] {
    const b = body(req, required);
    const ids = b.instanceIds;
    if (ids === undefined || (Array.isArray(ids) && ids.length === 0 && !required)) {
      if (required)
        throw new ArmError(400, 'InvalidParameter', "Required parameter 'instanceIds' is missing (null).");
      return [...set.instances.keys()];
    }
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string'))
      throw new ArmError(400, 'InvalidParameter', 'instanceIds must be an array of strings.');
    if (required && ids.length === 0)
      throw new ArmError(400, 'InvalidParameter', "Required parameter 'instanceIds' is empty.");
    for (const id of ids as string[]) {
      const inst = set.instances.get(id);
      if (!inst || inst.provisioningState === 'Deleting') {
        throw new ArmError(
          400,
          'InvalidParameter',
          `The provided instanceId ${id} is not an active Virtual Machine Scale Set VM instanceId.`,
        );
      }
    }
    return [...new Set(ids as string[])];
  }

  function rebuild(req: FakeRequest, set: WorldScaleSet, mode: 'reimage' | 'upgrade'): void {
    const ids = instanceIdsOf(req, set, mode === 'upgrade');
    const op = world.newOperation();
    const fail = !!faults.takeFailure(
      'arm',
      mode === 'reimage' ? 'virtualMachineScaleSets.reimage' : 'virtualMachineScaleSets.updateInstances',
    );
    world.rebuildInstances(set, ids, mode, op, fail);
    sendJson(req.res, 202, undefined, lroHeaders(op, set.location));
  }

  function deleteInstances(req: FakeRequest, set: WorldScaleSet): void {
    const ids = instanceIdsOf(req, set, true);
    const op = world.newOperation();
    const fail = !!faults.takeFailure('arm', 'virtualMachineScaleSets.deleteInstances');
    world.deleteInstances(set, ids, op, fail);
    sendJson(req.res, 202, undefined, lroHeaders(op, set.location));
  }

  function listVms(req: FakeRequest, set: WorldScaleSet): void {
    const expand = req.url.searchParams.get('$expand');
    if (expand !== null && expand !== 'instanceView')
      throw new ArmError(
        400,
        'InvalidParameter',
        `The value '${expand}' of parameter '$expand' is invalid. Allowed values: instanceView.`,
      );
    const filter = req.url.searchParams.get('$filter');
    let items = [...set.instances.values()];
    if (filter) {
      const lm = /^properties\/latestModelApplied eq (true|false)$/i.exec(filter.trim());
      if (lm) items = items.filter((i) => i.latestModelApplied === (lm[1]!.toLowerCase() === 'true'));
      else if (!/^startswith\(instanceView\/statuses\/code, *'PowerState'\) eq true$/i.test(filter.trim())) {
        throw new ArmError(
          400,
          'InvalidParameter',
          `The value '${filter}' of parameter '$filter' is invalid.`,
        );
      }
    }
    page(
      req,
      items.map((i) => vmBody(set, i, expand === 'instanceView')),
      o.pageSize.vms,
    );
  }

  function vmBody(set: WorldScaleSet, inst: WorldInstance, withView: boolean) {
    const linux = set.kind === 'linux';
    const v = world.versionByImageId(inst.imageId);
    return {
      name: inst.name,
      id: `${set.id}/virtualMachines/${inst.instanceId}`,
      type: 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines',
      instanceId: inst.instanceId,
      location: set.location,
      tags: {},
      sku: { name: set.vmSize, tier: 'Standard' },
      properties: {
        latestModelApplied: inst.latestModelApplied,
        modelDefinitionApplied: 'VirtualMachineScaleSet',
        vmId: inst.vmId,
        provisioningState: inst.provisioningState,
        timeCreated: new Date(inst.timeCreated).toISOString(),
        hardwareProfile: { vmSize: set.vmSize },
        storageProfile: {
          imageReference: { id: inst.imageId, ...(v ? { exactVersion: v.name } : {}) },
          osDisk: {
            osType: linux ? 'Linux' : 'Windows',
            name: `${inst.name}_OsDisk_1`,
            createOption: 'FromImage',
            caching: 'ReadOnly',
            managedDisk: { storageAccountType: 'Premium_LRS' },
            diskSizeGB: 128,
          },
          dataDisks: [],
        },
        osProfile: {
          computerName: inst.computerName,
          adminUsername: 'kiln',
          ...(linux
            ? { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true } }
            : { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: false } }),
          secrets: [],
          allowExtensionOperations: true,
          requireGuestProvisionSignal: true,
        },
        networkProfile: {
          networkInterfaces: [
            { id: `${set.id}/virtualMachines/${inst.instanceId}/networkInterfaces/${set.name}-nic` },
          ],
        },
        ...(withView ? { instanceView: instanceView(set, inst) } : {}),
      },
    };
  }

  function instanceView(set: WorldScaleSet, inst: WorldInstance) {
    const state = inst.provisioningState;
    const provisioning =
      state === 'Succeeded'
        ? {
            code: 'ProvisioningState/succeeded',
            level: 'Info',
            displayStatus: 'Provisioning succeeded',
            time: new Date(inst.provisionedAt).toISOString(),
          }
        : state === 'Failed'
          ? {
              code: 'ProvisioningState/failed/VMProvisioningFailed',
              level: 'Error',
              displayStatus: 'Provisioning failed',
              time: new Date(inst.provisionedAt).toISOString(),
            }
          : {
              code: `ProvisioningState/${state.toLowerCase()}`,
              level: 'Info',
              displayStatus: state === 'Updating' ? 'Updating' : state,
            };
    const power = {
      running: 'VM running',
      starting: 'VM starting',
      stopped: 'VM stopped',
      deallocated: 'VM deallocated',
    }[inst.powerState];
    return {
      platformUpdateDomain: Number(inst.instanceId) % 5,
      platformFaultDomain: 0,
      computerName: inst.computerName,
      osName: set.kind === 'linux' ? 'ubuntu' : 'Windows Server 2022 Datacenter: Azure Edition',
      osVersion: set.kind === 'linux' ? '22.04' : '10.0.20348',
      vmAgent: {
        vmAgentVersion: state === 'Succeeded' ? '2.12.0.2' : 'Unknown',
        statuses: [
          state === 'Succeeded'
            ? {
                code: 'ProvisioningState/succeeded',
                level: 'Info',
                displayStatus: 'Ready',
                message: 'Guest Agent is running',
                time: new Date(inst.provisionedAt).toISOString(),
              }
            : {
                code: 'ProvisioningState/Unavailable',
                level: 'Warning',
                displayStatus: 'Not Ready',
                message: 'VM status blob is found but not yet populated.',
                time: world.isoNow(),
              },
        ],
      },
      disks: [
        {
          name: `${inst.name}_OsDisk_1`,
          statuses: [
            {
              code: 'ProvisioningState/succeeded',
              level: 'Info',
              displayStatus: 'Provisioning succeeded',
              time: new Date(inst.timeCreated).toISOString(),
            },
          ],
        },
      ],
      statuses: [
        provisioning,
        { code: `PowerState/${inst.powerState}`, level: 'Info', displayStatus: power },
      ],
    };
  }

  // ------------------------------------------------------------------ gallery

  function galleryRoute(
    req: FakeRequest,
    rg: string,
    gallery: string,
    rest: string[],
    restLower: string[],
  ): void {
    const m = req.method;
    const galleryOk =
      rg.toLowerCase() === names.galleryResourceGroup.toLowerCase() &&
      gallery.toLowerCase() === names.galleryName.toLowerCase();
    const notFound = (what: string) =>
      new ArmError(
        404,
        'ResourceNotFound',
        `The Resource '${what}' under resource group '${rg}' was not found.`,
      );
    if (restLower[0] !== 'images' || !rest[1])
      throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    const definition = rest[1];
    const kindOf = (): ImageKind => {
      const kind = galleryOk ? world.kindOfDefinition(definition) : undefined;
      if (!kind) throw notFound(`Microsoft.Compute/galleries/${gallery}/images/${definition}`);
      return kind;
    };
    if (rest.length === 2 && m === 'GET')
      return run(req, 'gallery', 'galleryImages.get', () => sendJson(req.res, 200, definitionBody(kindOf())));
    if (restLower[2] !== 'versions')
      throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    if (rest.length === 3 && m === 'GET') {
      return run(req, 'gallery', 'galleryImageVersions.listByGalleryImage', () => {
        const kind = kindOf();
        const items = [...world.versions.values()]
          .filter((v) => v.kind === kind)
          .map((v) => versionBody(v, false));
        page(req, items, o.pageSize.versions);
      });
    }
    if (rest.length !== 4) throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
    const versionName = rest[3]!;
    const find = (kind: ImageKind) => {
      const v = world.versions.get(world.versionKey(kind, versionName));
      if (!v)
        throw notFound(`Microsoft.Compute/galleries/${gallery}/images/${definition}/versions/${versionName}`);
      return v;
    };
    if (m === 'GET') {
      return run(req, 'gallery', 'galleryImageVersions.get', () => {
        const expand = req.url.searchParams.get('$expand');
        if (
          expand !== null &&
          expand.toLowerCase() !== 'replicationstatus' &&
          expand.toLowerCase() !== 'uefisettings'
        ) {
          throw new ArmError(
            400,
            'InvalidParameter',
            `The value '${expand}' of parameter '$expand' is invalid.`,
          );
        }
        sendJson(req.res, 200, versionBody(find(kindOf()), expand?.toLowerCase() === 'replicationstatus'));
      });
    }
    if (m === 'PUT')
      return run(req, 'gallery', 'galleryImageVersions.createOrUpdate', () =>
        putVersion(req, kindOf(), versionName),
      );
    if (m === 'PATCH')
      return run(req, 'gallery', 'galleryImageVersions.update', () => patchVersion(req, find(kindOf())));
    if (m === 'DELETE') {
      return run(req, 'gallery', 'galleryImageVersions.delete', () => {
        const kind = kindOf();
        const v = world.versions.get(world.versionKey(kind, versionName));
        const op = world.newOperation();
        world.completeOperationAfter(op, 0);
        if (!v) return sendJson(req.res, 204, undefined);
        world.deleteVersion(v);
        sendJson(req.res, 202, undefined, lroHeaders(op, v.location));
      });
    }
    throw new ArmError(405, 'MethodNotAllowed', `${m} is not allowed on ${req.url.pathname}`);
  }

  /** The managed image a version was made from (versions that exist before the run name a made-up one). */
  function sourceOf(v: WorldGalleryVersion): string {
    return (
      v.sourceId ??
      `/subscriptions/${names.subscriptionId}/resourceGroups/${names.imagesResourceGroup}/providers/Microsoft.Compute/images/${v.definition}-${v.name}`
    );
  }

  function definitionBody(kind: ImageKind) {
    return {
      id: world.definitionId(kind),
      name: names.definitions[kind],
      type: 'Microsoft.Compute/galleries/images',
      location: world.scenario.gallery.regions[0] ?? 'westeurope',
      properties: {
        osType: kind === 'linux' ? 'Linux' : 'Windows',
        osState: 'Generalized',
        hyperVGeneration: 'V2',
        identifier: { publisher: 'kiln', offer: 'runners', sku: names.definitions[kind] },
        provisioningState: 'Succeeded',
      },
    };
  }

  function versionBody(v: WorldGalleryVersion, withReplication: boolean) {
    const now = world.clock.nowMs();
    const progress = (r: { state: string; startedAt: number; doneAt: number }) =>
      r.state === 'Completed'
        ? 100
        : r.state === 'Failed'
          ? 0
          : Math.min(99, Math.floor(((now - r.startedAt) / Math.max(r.doneAt - r.startedAt, 1)) * 100));
    const aggregated = v.replication.some((r) => r.state === 'Failed')
      ? 'Failed'
      : v.replication.some((r) => r.state === 'Replicating')
        ? 'InProgress'
        : 'Completed';
    return {
      id: world.versionId(v.kind, v.name),
      name: v.name,
      type: 'Microsoft.Compute/galleries/images/versions',
      location: regionDisplay(v.location),
      tags: { ...v.tags },
      properties: {
        publishingProfile: {
          targetRegions: v.targetRegions.map((t) => ({
            name: regionDisplay(t.name),
            regionalReplicaCount: t.regionalReplicaCount,
            storageAccountType: t.storageAccountType,
            excludeFromLatest: t.excludeFromLatest,
          })),
          replicaCount: v.replicaCount,
          excludeFromLatest: v.excludeFromLatest,
          publishedDate: new Date(v.publishedDate).toISOString(),
          ...(v.endOfLifeDate ? { endOfLifeDate: v.endOfLifeDate } : {}),
          storageAccountType: v.storageAccountType,
        },
        storageProfile: {
          source: { id: sourceOf(v) },
          osDiskImage: { sizeInGB: 86, hostCaching: 'ReadOnly' },
        },
        safetyProfile: { allowDeletionOfReplicatedLocations: true, reportedForPolicyViolation: false },
        provisioningState: v.provisioningState,
        ...(withReplication
          ? {
              replicationStatus: {
                aggregatedState: aggregated,
                summary: v.replication.map((r) => ({
                  region: regionDisplay(r.region),
                  state: r.state,
                  details: r.details,
                  progress: progress(r),
                })),
              },
            }
          : {}),
      },
    };
  }

  function parseTargetRegions(
    raw: unknown,
    fallbackRegion: string,
    replicaCount: number,
    storage: string,
    exclude: boolean,
  ): TargetRegion[] {
    if (raw === undefined)
      return [
        {
          name: fallbackRegion,
          regionalReplicaCount: replicaCount,
          storageAccountType: storage,
          excludeFromLatest: exclude,
        },
      ];
    if (!Array.isArray(raw) || raw.length === 0)
      throw new ArmError(
        400,
        'InvalidParameter',
        'publishingProfile.targetRegions must be a non-empty array.',
      );
    return raw.map((t: unknown) => {
      const r = t as Record<string, unknown>;
      if (typeof r?.name !== 'string' || r.name === '')
        throw new ArmError(400, 'InvalidParameter', "Required parameter 'targetRegions[].name' is missing.");
      return {
        name: regionKey(r.name),
        regionalReplicaCount:
          typeof r.regionalReplicaCount === 'number' ? r.regionalReplicaCount : replicaCount,
        storageAccountType: typeof r.storageAccountType === 'string' ? r.storageAccountType : storage,
        excludeFromLatest: typeof r.excludeFromLatest === 'boolean' ? r.excludeFromLatest : exclude,
      };
    });
  }

  function putVersion(req: FakeRequest, kind: ImageKind, versionName: string): void {
    if (!/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(versionName)) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `The gallery image version name '${versionName}' is invalid. It must follow the Major(int32).Minor(int32).Patch(int32) format.`,
      );
    }
    const b = body(req, true);
    const galleryLocation = world.scenario.gallery.regions[0] ?? 'westeurope';
    if (typeof b.location !== 'string' || b.location === '')
      throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (regionKey(b.location) !== regionKey(galleryLocation)) {
      throw new ArmError(
        400,
        'InvalidParameter',
        `The gallery image version location '${b.location}' must match the gallery location '${galleryLocation}'.`,
      );
    }
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const pp = (props.publishingProfile ?? {}) as Record<string, unknown>;
    const sp = (props.storageProfile ?? {}) as Record<string, unknown>;
    const source = (sp.source ?? {}) as Record<string, unknown>;
    const existing = world.versions.get(world.versionKey(kind, versionName));
    const sourceId =
      typeof source.id === 'string'
        ? source.id
        : typeof source.virtualMachineId === 'string'
          ? source.virtualMachineId
          : undefined;
    if (!existing && !sourceId)
      throw new ArmError(
        400,
        'InvalidParameter',
        "Required parameter 'storageProfile.source' is missing: a gallery image version needs a source.",
      );
    // Publishing from a managed image reads it: a linked check on the source.
    if (sourceId)
      demand('Microsoft.Compute/galleries/images/versions/write', world.versionId(kind, versionName), [
        {
          action: /\/virtualMachines\//i.test(sourceId)
            ? 'Microsoft.Compute/virtualMachines/read'
            : 'Microsoft.Compute/images/read',
          scope: sourceId,
        },
      ]);
    // A version's source is fixed: a PUT naming another source is refused (publish a new version).
    if (existing && sourceId && sourceOf(existing).toLowerCase() !== sourceId.toLowerCase())
      throw new ArmError(
        409,
        'PropertyChangeNotAllowed',
        "Changing property 'galleryImageVersion.properties.storageProfile.source.id' is not allowed.",
      );
    const replicaCount = typeof pp.replicaCount === 'number' ? pp.replicaCount : 1;
    const storage = typeof pp.storageAccountType === 'string' ? pp.storageAccountType : 'Standard_LRS';
    const exclude = pp.excludeFromLatest === true;
    const targetRegions = parseTargetRegions(
      pp.targetRegions,
      regionKey(b.location),
      replicaCount,
      storage,
      exclude,
    );
    const op = world.newOperation();
    const failRegions = new Set<string>();
    if (faults.takeFailure('arm', 'galleryImageVersions.createOrUpdate'))
      for (const t of targetRegions) failRegions.add(regionKey(t.name));
    for (const t of targetRegions)
      if (faults.takeFailure('arm', 'replication', t.name)) failRegions.add(regionKey(t.name));
    const { version, created } = world.createOrUpdateVersion(
      kind,
      versionName,
      {
        location: regionKey(b.location),
        targetRegions,
        excludeFromLatest: exclude,
        endOfLifeDate: typeof pp.endOfLifeDate === 'string' ? pp.endOfLifeDate : undefined,
        sourceId,
        tags: (b.tags as Record<string, string>) ?? {},
        replicaCount,
        storageAccountType: storage,
      },
      op,
      failRegions,
    );
    sendJson(req.res, created ? 201 : 200, versionBody(version, false), lroHeaders(op, version.location));
  }

  function patchVersion(req: FakeRequest, v: WorldGalleryVersion): void {
    const b = body(req, true);
    const props = (b.properties ?? {}) as Record<string, unknown>;
    const pp = (props.publishingProfile ?? {}) as Record<string, unknown>;
    if (pp.excludeFromLatest !== undefined) {
      if (typeof pp.excludeFromLatest !== 'boolean')
        throw new ArmError(400, 'InvalidParameter', 'excludeFromLatest must be a boolean.');
      world.setExcludeFromLatest(v, pp.excludeFromLatest);
      world.event('arm', `${v.definition}/${v.name} excludeFromLatest=${pp.excludeFromLatest}`);
    }
    if (typeof pp.endOfLifeDate === 'string') v.endOfLifeDate = pp.endOfLifeDate;
    if (b.tags !== undefined) v.tags = { ...(b.tags as Record<string, string>) };
    const op = world.newOperation();
    if (pp.targetRegions !== undefined) {
      const regions = parseTargetRegions(
        pp.targetRegions,
        v.location,
        v.replicaCount,
        v.storageAccountType,
        v.excludeFromLatest,
      );
      const failRegions = new Set<string>();
      for (const t of regions) {
        const already = v.replication.some(
          (r) => regionKey(r.region) === regionKey(t.name) && r.state === 'Completed',
        );
        if (!already && faults.takeFailure('arm', 'replication', t.name)) failRegions.add(regionKey(t.name));
      }
      world.setTargetRegions(v, regions, op, failRegions);
    } else {
      world.completeOperationAfter(op, 0);
    }
    sendJson(req.res, 200, versionBody(v, false), lroHeaders(op, v.location));
  }

  // ------------------------------------------------------------------ Container Apps jobs

  function jobRoute(req: FakeRequest, rg: string, job: string, rest: string[], restLower: string[]): void {
    const m = req.method;
    const ok =
      rg.toLowerCase() === names.packerResourceGroup.toLowerCase() &&
      job.toLowerCase() === names.packerJobName.toLowerCase();
    const check = () => {
      if (!ok)
        throw new ArmError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.App/jobs/${job}' under resource group '${rg}' was not found.`,
        );
    };
    const findExec = (name: string): WorldExecution => {
      const e = world.executions.get(name);
      if (!e || e.jobName.toLowerCase() !== job.toLowerCase())
        throw new ArmError(404, 'ResourceNotFound', `Job execution '${name}' of job '${job}' was not found.`);
      return e;
    };
    if (rest.length === 0 && m === 'GET')
      return run(req, 'app', 'jobs.get', () => (check(), sendJson(req.res, 200, jobBody())));
    if (rest.length === 1 && restLower[0] === 'start' && m === 'POST') {
      return run(req, 'app', 'jobs.start', () => {
        check();
        const b = body(req, false);
        const template = Object.keys(b).length === 0 ? defaultTemplate() : b;
        const containers = (template as { containers?: unknown }).containers;
        if (!Array.isArray(containers) || containers.length === 0) {
          throw new ArmError(
            400,
            'InvalidRequestContent',
            'JobExecutionTemplate.containers must contain at least one container.',
          );
        }
        for (const c of containers as Record<string, unknown>[]) {
          if (typeof c?.image !== 'string' || typeof c?.name !== 'string')
            throw new ArmError(
              400,
              'ContainerAppInvalidContainer',
              'Every container needs a name and an image.',
            );
        }
        const fail = !!faults.takeFailure('arm', 'jobs.start');
        const exec = world.startExecution(names.packerJobName, template, fail);
        sendJson(req.res, 200, { id: `${world.packerJobId()}/executions/${exec.name}`, name: exec.name });
      });
    }
    if (restLower[0] === 'executions' && rest.length === 1 && m === 'GET') {
      return run(req, 'app', 'jobs.listExecutions', () => {
        check();
        sendJson(req.res, 200, { value: [...world.executions.values()].map(execBody), nextLink: null });
      });
    }
    if (restLower[0] === 'executions' && rest.length === 2 && m === 'GET') {
      return run(
        req,
        'app',
        'jobExecution',
        () => (check(), sendJson(req.res, 200, execBody(findExec(rest[1]!)))),
      );
    }
    if (restLower[0] === 'executions' && rest.length === 3 && restLower[2] === 'stop' && m === 'POST') {
      return run(req, 'app', 'jobs.stopExecution', () => {
        check();
        world.stopExecution(findExec(rest[1]!));
        sendJson(req.res, 200, undefined);
      });
    }
    throw new ArmError(404, 'NotFound', `No route for ${m} ${req.url.pathname}`);
  }

  function defaultTemplate() {
    return {
      containers: [
        { name: 'packer', image: 'crkiln.azurecr.io/kiln-packer:1', resources: { cpu: 2, memory: '4Gi' } },
      ],
    };
  }

  function jobBody() {
    return {
      id: world.packerJobId(),
      name: names.packerJobName,
      type: 'Microsoft.App/jobs',
      location: world.scenario.gallery.regions[0] ?? 'westeurope',
      properties: {
        provisioningState: 'Succeeded',
        environmentId: `/subscriptions/${names.subscriptionId}/resourceGroups/${names.packerResourceGroup}/providers/Microsoft.App/managedEnvironments/cae-kiln`,
        configuration: {
          replicaTimeout: 28800,
          replicaRetryLimit: 0,
          manualTriggerConfig: { replicaCompletionCount: 1, parallelism: 1 },
          triggerType: 'Manual',
        },
        template: defaultTemplate(),
      },
    };
  }

  function execBody(e: WorldExecution) {
    return {
      id: `${world.packerJobId()}/executions/${e.name}`,
      name: e.name,
      type: 'Microsoft.App/jobs/executions',
      properties: {
        status: e.status,
        startTime: new Date(e.startTime).toISOString(),
        ...(e.endTime !== undefined ? { endTime: new Date(e.endTime).toISOString() } : {}),
        template: e.template,
      },
    };
  }
}

/** A scale set's ETag as ARM answers it: a quoted counter of model writes. */
function etagOf(set: WorldScaleSet): string {
  return `"${set.etag}"`;
}
