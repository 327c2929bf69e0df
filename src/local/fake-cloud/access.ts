/**
 * Who may do what in the fake cloud: the identities of a kiln deployment and Azure RBAC over them,
 * as ARM, Key Vault and the guests enforce it. Every caller is one of the identities below (tokens
 * name it, as `oid`/`appid` claims do in Azure); every fake operation demands its action on its
 * scope, plus the linked actions Azure checks on the resources a write references. A refusal is
 * answered in Azure's words and recorded, so a simulation can say who was refused what, where.
 *
 * The role assignments come from kiln's compiled Bicep (see role-placement.ts), or grant everything
 * (`'all'`, the fake's old behaviour, for experiments).
 */
import { armGuid } from '../../rbac/arm-expressions.js';
import { authorizationFailed, isAllowed, linkedAuthorizationFailed, roleGuid } from '../../rbac/index.js';
import type { ActionKind, RoleAssignment } from '../../rbac/types.js';
import type { ImageKind } from '../scenario/types.js';

/** The four actors of a kiln deployment, each with its own user-assigned identity (infra/main.bicep). */
export type IdentityRole = 'orchestrator' | 'packer' | 'linuxRunners' | 'windowsAgents';

export interface FakeIdentity {
  role: IdentityRole;
  /** Resource name, as the Bicep names it for the environment `kiln`. */
  name: string;
  clientId: string;
  principalId: string;
  resourceId: string;
}

export interface AuthorizationFailure {
  identity: string;
  action: string;
  scope: string;
  code:
    | 'AuthorizationFailed'
    | 'LinkedAuthorizationFailed'
    | 'ForbiddenByRbac'
    | 'AuthorizationPermissionMismatch';
  /** Virtual time (ISO) of the refusal. */
  at: string;
}

export interface LinkedAction {
  action: string;
  scope: string;
}

export interface ArmErrorBody {
  code: string;
  message: string;
}

export interface ListedAssignment {
  principalId: string;
  roleGuid: string;
  scope: string;
  /** The assignment's name: ARM's guid() of (scope, principal, role), stable as Bicep names them. */
  name: string;
  description?: string;
}

const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

/** The identity a kiln scale set's instances run with: its image kind's runner or agent identity. */
export function runnerIdentityRole(kind: ImageKind): IdentityRole {
  return kind === 'linux' ? 'linuxRunners' : 'windowsAgents';
}

/** The orchestrator's client id is what the shared managed identity endpoint issues tokens for. */
export const ORCHESTRATOR_CLIENT_ID = '11111111-1111-4111-8111-11111111c0de';

const IDENTITY_SUFFIX: Record<IdentityRole, string> = {
  orchestrator: 'orchestrator',
  packer: 'packer',
  linuxRunners: 'linux-runners',
  windowsAgents: 'windows-agents',
};

/** The identities of a deployment named `id-<environment>-<actor>`, in `resourceGroup`. */
export function deploymentIdentities(
  subscriptionId: string,
  resourceGroup: string,
  environment = 'kiln',
): FakeIdentity[] {
  return (Object.keys(IDENTITY_SUFFIX) as IdentityRole[]).map((role, i) => {
    const name = `id-${environment}-${IDENTITY_SUFFIX[role]}`;
    const n = String(i + 1).padStart(2, '0');
    return {
      role,
      name,
      clientId: role === 'orchestrator' ? ORCHESTRATOR_CLIENT_ID : `22222222-2222-4222-8222-0000000000${n}`,
      principalId: `33333333-3333-4333-8333-0000000000${n}`,
      resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
    };
  });
}

/** The identity role a template identity name stands for (`id-<env>-orchestrator` → orchestrator). */
export function identityRoleOf(name: string): IdentityRole | undefined {
  const lower = name.toLowerCase();
  return (Object.keys(IDENTITY_SUFFIX) as IdentityRole[]).find((r) =>
    lower.endsWith(`-${IDENTITY_SUFFIX[r]}`),
  );
}

export class AccessControl {
  readonly failures: AuthorizationFailure[] = [];
  /** The role assignments in force, or 'all': every identity may do everything. */
  readonly assignments: RoleAssignment[] | 'all';

  constructor(
    readonly identities: readonly FakeIdentity[],
    assignments: readonly RoleAssignment[] | 'all',
    private readonly now: () => string,
  ) {
    this.assignments = assignments === 'all' ? 'all' : [...assignments];
  }

  /** One more assignment, as an operator would add it (a test about something else than roles). */
  grant(assignment: RoleAssignment): void {
    if (this.assignments !== 'all') this.assignments.push(assignment);
  }

  get grantsAll(): boolean {
    return this.assignments === 'all';
  }

  identity(role: IdentityRole): FakeIdentity {
    const found = this.identities.find((i) => i.role === role);
    if (!found) throw new Error(`no ${role} identity in this fake cloud`);
    return found;
  }

  byClientId(clientId: string | undefined): FakeIdentity | undefined {
    const id = (clientId ?? ORCHESTRATOR_CLIENT_ID).toLowerCase();
    return this.identities.find((i) => i.clientId.toLowerCase() === id);
  }

  /** Whether `who` may do `action` on `scope`; records nothing (lists filter with it). */
  allows(who: FakeIdentity, action: string, scope: string, kind: ActionKind = 'control'): boolean {
    if (this.assignments === 'all') return true;
    return isAllowed({ principalId: who.principalId, action, scope, kind }, this.assignments);
  }

  /**
   * ARM's check of a request: the action on its scope, then each linked action on its scope.
   * Returns the error body ARM answers with 403 (and records it), or undefined when allowed.
   */
  authorize(
    who: FakeIdentity,
    action: string,
    scope: string,
    linked: LinkedAction[] = [],
  ): ArmErrorBody | undefined {
    if (!this.allows(who, action, scope)) {
      this.record(who, action, scope, 'AuthorizationFailed');
      return authorizationFailed({ clientId: who.clientId, objectId: who.principalId, action, scope });
    }
    const refused = linked.filter((l) => !this.allows(who, l.action, l.scope));
    if (refused.length === 0) return undefined;
    for (const l of refused) this.record(who, l.action, l.scope, 'LinkedAuthorizationFailed');
    return linkedAuthorizationFailed({
      clientId: who.clientId,
      objectId: who.principalId,
      action,
      scope,
      linked: refused,
    });
  }

  /** A data-plane check (Key Vault): true when allowed; a refusal is recorded. */
  authorizeData(who: FakeIdentity, action: string, scope: string): boolean {
    if (this.allows(who, action, scope, 'data')) return true;
    this.record(who, action, scope, 'ForbiddenByRbac');
    return false;
  }

  /**
   * A Storage data-plane check (Table service): entity operations are data actions, creating a table
   * is the control action `tables/write`, both checked by the service itself. True when allowed; a
   * refusal is recorded.
   */
  authorizeStorage(who: FakeIdentity, action: string, scope: string, kind: ActionKind): boolean {
    if (this.allows(who, action, scope, kind)) return true;
    this.record(who, action, scope, 'AuthorizationPermissionMismatch');
    return false;
  }

  /**
   * The assignments as the role assignment list answers them. With 'all', each identity shows as
   * Owner of the subscription (the closest thing Azure has to "may do everything").
   */
  listedAssignments(): ListedAssignment[] {
    const list: RoleAssignment[] =
      this.assignments === 'all'
        ? this.identities.map((i) => ({
            principalId: i.principalId,
            roleDefinitionId: OWNER_ROLE_ID,
            scope: i.resourceId.replace(/\/resourceGroups\/.*$/i, ''),
          }))
        : [...this.assignments];
    return list.map((a) => {
      const guid = roleGuid(a.roleDefinitionId);
      return {
        principalId: a.principalId,
        roleGuid: guid,
        scope: a.scope,
        name: armGuid(a.scope.toLowerCase(), a.principalId.toLowerCase(), guid),
        ...(a.description ? { description: a.description } : {}),
      };
    });
  }

  private record(who: FakeIdentity, action: string, scope: string, code: AuthorizationFailure['code']): void {
    this.failures.push({ identity: who.name, action, scope, code, at: this.now() });
  }
}
