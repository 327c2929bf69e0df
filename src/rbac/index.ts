/** Azure RBAC as ARM enforces it: built-in roles, the access check and ARM's 403 error bodies. */
export type { AccessRequest, ActionKind, RoleAssignment, RoleDefinition } from './types.js';
export { BUILT_IN_ROLES, builtInRole, roleGuid, roleName } from './built-in-roles.js';
export {
  actionMatches,
  authorizationFailed,
  grantingAssignments,
  isAllowed,
  linkedAuthorizationFailed,
  parseAuthorizationError,
  roleAllows,
  rolesGranting,
  scopeContains,
} from './permissions.js';
export type {
  AuthorizationErrorBody,
  AuthorizationErrorCode,
  LinkedAccess,
  ParsedAuthorizationError,
  RoleLookup,
} from './permissions.js';
