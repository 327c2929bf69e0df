/**
 * What every route of the fake ARM shares: the api-versions each resource family accepts, the action
 * each operation demands of its caller, ARM's error, and the steps of every request (api-version
 * check, authorization, fault injection), the JSON body, paging and long-running operation headers.
 */
import type { FaultBook } from './faults.js';
import { applyHttpFault, parseJsonBody, sendJson, type FakeRequest } from './http.js';
import type { FakeIdentity, LinkedAction } from './access.js';
import type { TokenIssuer } from './tokens.js';
import { regionKey, type AsyncOperation, type World, type WorldNames } from './world.js';

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

export type Family = keyof typeof ARM_API_VERSIONS;

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

export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The fake ARM's shared state and request steps, handed to each family of routes. */
export interface ArmContext {
  readonly world: World;
  readonly names: WorldNames;
  readonly faults: FaultBook;
  readonly options: ArmFakeOptions;
  /** Who sent the request being handled (requests are handled one at a time, synchronously). */
  caller: FakeIdentity;
  demand(action: string, scope: string, linked?: LinkedAction[]): void;
  run(req: FakeRequest, family: Family | Family[], operation: string, fn: () => void, scope?: string): void;
  body(req: FakeRequest, required: boolean): Record<string, unknown>;
  page(req: FakeRequest, items: unknown[], size: number): void;
  lroHeaders(op: AsyncOperation, location: string): Record<string, string>;
}

export function createArmContext(o: ArmFakeOptions): ArmContext {
  const { world, faults } = o;
  const names = world.names;
  const ctx: ArmContext = {
    world,
    names,
    faults,
    options: o,
    caller: world.access.identity('orchestrator'),
    demand,
    run,
    body,
    page,
    lroHeaders,
  };
  return ctx;

  /** ARM's authorization: 403 AuthorizationFailed / LinkedAuthorizationFailed in Azure's words. */
  function demand(action: string, scope: string, linked: LinkedAction[] = []): void {
    const refusal = world.access.authorize(ctx.caller, action, scope, linked);
    if (refusal) throw new ArmError(403, refusal.code, refusal.message);
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

  function lroHeaders(op: AsyncOperation, location: string): Record<string, string> {
    const base = `${o.origin()}/subscriptions/${names.subscriptionId}/providers/Microsoft.Compute/locations/${regionKey(location)}/capsOperations/${op.id}`;
    return {
      'azure-asyncoperation': `${base}?api-version=2026-04-01`,
      location: `${base}?monitor=true&api-version=2026-04-01`,
      'retry-after': '0',
    };
  }
}
