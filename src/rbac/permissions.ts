/**
 * Azure RBAC's access check, as ARM runs it before a request reaches a resource provider: a principal
 * may perform an action on a resource when one of its role assignments, made at the resource or at a
 * scope above it, has a role whose actions (minus that role's notActions) match the action. Data
 * actions (blob contents, secret values, queue messages) are matched only against dataActions.
 * Deny assignments, ABAC conditions, group membership and management-group hierarchy are not
 * modelled: kiln's identities get plain assignments on subscriptions, resource groups and resources.
 *
 * Also here: the 403 error bodies ARM returns when the check fails, worded as ARM words them, and a
 * parser that gets the refused action and scope back out of such a message.
 *
 * Source: learn.microsoft.com/azure/role-based-access-control/{overview,role-definitions,
 * troubleshooting}; error wording from ARM responses quoted in Azure/mpf's error-parser tests and in
 * public issue threads (Azure/aad-pod-identity#613, #339). Checked 2026-12.
 */
import { BUILT_IN_ROLES, builtInRole, roleGuid } from './built-in-roles.js';
import type { AccessRequest, ActionKind, RoleAssignment, RoleDefinition } from './types.js';

/** Resolves an assignment's role (called with the lower-case role GUID). */
export type RoleLookup = (roleDefinitionId: string) => RoleDefinition | undefined;

const WILDCARD = '\u0000';
const patternCache = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  const key = pattern.toLowerCase();
  let re = patternCache.get(key);
  if (!re) {
    const escaped = key
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join(WILDCARD);
    // A `*` between two slashes also stands for no segment at all: Managed Identity Operator grants
    // `userAssignedIdentities/*/assign/action` and is the documented role for the plain
    // `userAssignedIdentities/assign/action` check (inferred from that role's purpose, not from a spec).
    const source = escaped.replaceAll(`/${WILDCARD}/`, '/(?:.*/)?').replaceAll(WILDCARD, '.*');
    re = new RegExp(`^${source}$`, 's');
    patternCache.set(key, re);
  }
  return re;
}

/**
 * Whether an action pattern from a role definition covers an action. Case-insensitive; `*` matches
 * any run of characters, slashes included, so `*` is every action, `*\/read` every read and
 * `Microsoft.App/jobs/*\/action` every job action.
 */
export function actionMatches(pattern: string, action: string): boolean {
  return compile(pattern).test(action.toLowerCase());
}

function anyMatch(patterns: readonly string[], action: string): boolean {
  return patterns.some((p) => actionMatches(p, action));
}

/**
 * Whether one role grants an action. notActions only take away from the same role's actions; they are
 * not a deny, so another role of the same principal can still grant what one role's notActions removed.
 */
export function roleAllows(role: RoleDefinition, action: string, kind: ActionKind = 'control'): boolean {
  return kind === 'data'
    ? anyMatch(role.dataActions, action) && !anyMatch(role.notDataActions, action)
    : anyMatch(role.actions, action) && !anyMatch(role.notActions, action);
}

function normaliseScope(scope: string): string {
  return scope.trim().toLowerCase().replace(/\/+$/, '');
}

/**
 * Whether an assignment made at `scope` reaches `resourceId`: the same id, or a descendant on a segment
 * boundary (`.../resourceGroups/rg` reaches `.../resourceGroups/rg/providers/...` but not
 * `.../resourceGroups/rg2`). ARM ids compare case-insensitively; `/` (root) reaches everything.
 * Child resources such as a Key Vault secret are descendants of their parent like any other id.
 */
export function scopeContains(scope: string, resourceId: string): boolean {
  const s = normaliseScope(scope);
  const r = normaliseScope(resourceId);
  if (s === '') return true;
  return r === s || r.startsWith(`${s}/`);
}

function samePrincipal(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The assignments that grant the request (all of them, for reports); empty when access is refused. */
export function grantingAssignments<A extends RoleAssignment>(
  request: AccessRequest,
  assignments: readonly A[],
  roles: RoleLookup = builtInRole,
): A[] {
  const kind = request.kind ?? 'control';
  return assignments.filter((a) => {
    if (!samePrincipal(a.principalId, request.principalId)) return false;
    if (!scopeContains(a.scope, request.scope)) return false;
    // An assignment to a role we cannot resolve grants nothing, as ARM would for a deleted role.
    const role = roles(roleGuid(a.roleDefinitionId));
    return role !== undefined && roleAllows(role, request.action, kind);
  });
}

/** ARM's decision for one request. */
export function isAllowed(
  request: AccessRequest,
  assignments: readonly RoleAssignment[],
  roles: RoleLookup = builtInRole,
): boolean {
  return grantingAssignments(request, assignments, roles).length > 0;
}

/**
 * How broad a role is, for ordering suggestions: roles granting `*` (Owner, Contributor) last, roles
 * with a provider-wide pattern such as Reader's `*\/read` just before them, then by list length.
 */
function breadth(role: RoleDefinition): [number, number, number] {
  const patterns = [...role.actions, ...role.dataActions];
  const tier = patterns.includes('*') ? 2 : patterns.some((p) => p.startsWith('*')) ? 1 : 0;
  // Fewer notActions means more is left granted (Owner after Contributor).
  return [tier, patterns.length, -role.notActions.length - role.notDataActions.length];
}

/**
 * The roles (built-in by default) that allow an action, narrowest first, so `kiln doctor` can name the
 * least-privileged role to assign.
 */
export function rolesGranting(
  action: string,
  kind: ActionKind = 'control',
  roles: readonly RoleDefinition[] = BUILT_IN_ROLES,
): RoleDefinition[] {
  return roles
    .filter((r) => roleAllows(r, action, kind))
    .sort((a, b) => {
      const [x, y] = [breadth(a), breadth(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || a.name.localeCompare(b.name);
    });
}

// --- ARM's 403 bodies ---------------------------------------------------------------------------

export type AuthorizationErrorCode = 'AuthorizationFailed' | 'LinkedAuthorizationFailed';

export interface AuthorizationErrorBody {
  code: AuthorizationErrorCode;
  message: string;
}

export interface LinkedAccess {
  action: string;
  scope: string;
}

/** The `error` object ARM sends (HTTP 403) when the caller lacks the action on the target scope. */
export function authorizationFailed(p: {
  clientId: string;
  objectId: string;
  action: string;
  scope: string;
}): AuthorizationErrorBody {
  return {
    code: 'AuthorizationFailed',
    message:
      `The client '${p.clientId}' with object id '${p.objectId}' does not have authorization to perform ` +
      `action '${p.action}' over scope '${p.scope}' or the scope is invalid. ` +
      'If access was recently granted, please refresh your credentials.',
  };
}

/**
 * The `error` object ARM sends (HTTP 403) when the caller may perform the primary action but lacks an
 * action on a resource the request references (a subnet to join, an identity to assign, an image
 * version to read). Several linked checks are listed comma-separated, pairwise.
 */
export function linkedAuthorizationFailed(p: {
  clientId: string;
  objectId: string;
  action: string;
  scope: string;
  linked: readonly LinkedAccess[];
}): AuthorizationErrorBody {
  const actions = p.linked.map((l) => l.action).join(',');
  const scopes = p.linked.map((l) => l.scope).join(',');
  return {
    code: 'LinkedAuthorizationFailed',
    message:
      `The client '${p.clientId}' with object id '${p.objectId}' has permission to perform action ` +
      `'${p.action}' on scope '${p.scope}'; however, it does not have permission to perform action(s) ` +
      `'${actions}' on the linked scope(s) '${scopes}' (respectively) or the linked scope(s) are invalid.`,
  };
}

export interface ParsedAuthorizationError {
  code: AuthorizationErrorCode;
  /** The primary action (for a linked failure, the one that was allowed). */
  action: string;
  scope: string;
  /** For a linked failure: the refused action on each linked scope. */
  linked?: LinkedAccess[];
}

// Older ARM messages say "action" and "linked scope(s)" without "(s)"/"respectively"; accept both.
const LINKED_RE =
  /has permission to perform action '([^']*)' on scope '([^']*)'; however, it does not have permission to perform action(?:\(s\))? '([^']*)' on the linked scope(?:\(s\))? '([^']*)'/i;
const DIRECT_RE = /does not have authorization to perform action '([^']*)' over scope '([^']*)'/i;
// Template deployments report a refused resource with different wording.
const DEPLOYMENT_RE = /does not have permission to perform action '([^']*)' at scope '([^']*)'/i;

function splitList(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Recovers the refused action and scope from an AuthorizationFailed or LinkedAuthorizationFailed
 * message (also when embedded in a longer SDK error text); undefined for anything else.
 */
export function parseAuthorizationError(message: string): ParsedAuthorizationError | undefined {
  const linked = LINKED_RE.exec(message);
  if (linked) {
    const [, action = '', scope = '', linkedActions = '', linkedScopes = ''] = linked;
    const actions = splitList(linkedActions);
    const scopes = splitList(linkedScopes);
    // One action over several scopes is the same action on each; otherwise pair them in order.
    const count = Math.max(actions.length, scopes.length);
    const pairs: LinkedAccess[] = [];
    for (let i = 0; i < count; i++) {
      pairs.push({
        action: actions[i] ?? actions[actions.length - 1] ?? '',
        scope: scopes[i] ?? scopes[scopes.length - 1] ?? '',
      });
    }
    return { code: 'LinkedAuthorizationFailed', action, scope, linked: pairs };
  }
  const direct = DIRECT_RE.exec(message) ?? DEPLOYMENT_RE.exec(message);
  if (direct) {
    const [, action = '', scope = ''] = direct;
    return { code: 'AuthorizationFailed', action, scope };
  }
  return undefined;
}
