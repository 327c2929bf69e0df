/**
 * Fake Azure Resource Manager: resources by tag, VM scale sets (model, instances with instance
 * view, reimage, manualupgrade, delete instances), Compute Gallery image versions with replication,
 * and Container Apps job executions. Long-running operations answer 201/202 with
 * `Azure-AsyncOperation` + `Location` + `Retry-After: 0` and complete on the virtual clock.
 * Rejects what ARM rejects: missing/invalid bearer token, missing or unknown api-version, malformed
 * JSON, unknown resources.
 */
import { ArmError, createArmContext, type ArmFakeOptions } from './arm-context.js';
import { galleryRoutes } from './arm-gallery.js';
import { jobRoutes } from './arm-jobs.js';
import { resourceRoutes } from './arm-resources.js';
import { scaleSetRoutes } from './arm-scale-sets.js';
import { bearerToken, sendJson, type FakeRequest } from './http.js';

export { ARM_API_VERSIONS, OPERATION_ACTIONS, scopeOfPath, type ArmFakeOptions } from './arm-context.js';

/**
 * The fake ARM's request handler: authentication as ARM's front door does it, then routing to each
 * family of resources (arm-*.ts) and the long-running operations they started.
 */
export function armHandler(o: ArmFakeOptions) {
  const ctx = createArmContext(o);
  const { world, run, page } = ctx;
  const names = world.names;
  const { listResources, resourceGroups, listRoleAssignments } = resourceRoutes(ctx);
  const scaleSetRoute = scaleSetRoutes(ctx);
  const { galleryRoute, managedImageRoute } = galleryRoutes(ctx);
  const jobRoute = jobRoutes(ctx);

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
    ctx.caller = world.access.byClientId(o.tokens.clientIdOf(token)) ?? world.access.identity('orchestrator');
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
}
