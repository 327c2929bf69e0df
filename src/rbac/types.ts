/**
 * The shapes Azure RBAC works with, reduced to what ARM's access check reads: a role definition is
 * four lists of action patterns, an assignment binds a principal to a role at a scope, and a request
 * is one action by one principal on one resource.
 */

export interface RoleDefinition {
  /** The role's GUID, lower case (the last segment of its full role definition id). */
  id: string;
  /** Display name, e.g. "Virtual Machine Contributor". */
  name: string;
  /** Control-plane (ARM) action patterns the role grants. */
  actions: readonly string[];
  /** Patterns taken away from `actions` of this same role (not a deny). */
  notActions: readonly string[];
  /** Data-plane action patterns the role grants (blobs, secrets, queue messages...). */
  dataActions: readonly string[];
  /** Patterns taken away from `dataActions` of this same role. */
  notDataActions: readonly string[];
}

export interface RoleAssignment {
  principalId: string;
  /**
   * The role's GUID, or a full id ending in `/roleDefinitions/<guid>` (ARM returns the latter, with or
   * without a `/subscriptions/<sub>` prefix); compared by the trailing GUID, case-insensitively.
   */
  roleDefinitionId: string;
  /** ARM id the assignment is made at: `/`, a subscription, a resource group or a resource. */
  scope: string;
  description?: string;
}

/** Control-plane actions are checked against actions/notActions, data actions against the data lists. */
export type ActionKind = 'control' | 'data';

export interface AccessRequest {
  principalId: string;
  action: string;
  /** The ARM id of the resource acted on. */
  scope: string;
  /** Defaults to 'control'. */
  kind?: ActionKind;
}
