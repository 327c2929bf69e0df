/**
 * `kiln doctor`'s role checks: which Azure RBAC actions kiln's flows need, on which scopes, and
 * whether the role assignments in force grant them. ARM answers a missing role only when a flow
 * runs into it, often hours into a rebuild, and a scale set listing silently shows less; doctor
 * reads the role assignments instead and names the role to assign before anything runs.
 *
 * Who is checked: the identity doctor's ARM token names (`oid`), and each managed scale set's own
 * identities against the registration secrets: as its `kiln-registration` tag says, its instances
 * either read their PAT at boot (pat) or register through kiln's broker, and then must be able to
 * read no secret at all (jit, broker). Roles are evaluated with
 * src/rbac (built-in roles only: an assignment of a custom role grants nothing here, so such a
 * deployment may see a ✗ that ARM would allow; the detail says so).
 *
 * Only reads: the role assignment list (needs Microsoft.Authorization/roleAssignments/read, which
 * Reader and most service roles include), the scale set models and the resource list. The token is
 * decoded for its `oid` claim and never printed.
 */
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ComputeManagementClient, type VirtualMachineScaleSet } from '@azure/arm-compute';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/identity';
import {
  REGISTRATION_TAG,
  registrationOf,
  type ManagedScaleSet,
  type RegistrationMode,
} from '../activities/inventory.js';
import { armClientOptions } from '../clients/arm/index.js';
import { describeFailure, scrub } from '../clients/client-error.js';
import type { Settings } from '../config/load-settings.js';
import {
  builtInRole,
  grantingAssignments,
  isAllowed,
  roleAllows,
  roleGuid,
  roleName,
  rolesGranting,
  scopeContains,
  type ActionKind,
  type RoleAssignment,
  type RoleDefinition,
} from '../rbac/index.js';
import type { CheckResult } from './doctor-checks.js';

const VMSS = 'Microsoft.Compute/virtualMachineScaleSets';
const VERSIONS = 'Microsoft.Compute/galleries/images/versions';
const JOBS = 'Microsoft.App/jobs';
const GET_SECRET = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';

/** A managed scale set as its role needs see it: what its model links to. */
export interface ScaleSetLinks {
  id: string;
  name: string;
  image: 'linux' | 'windows';
  /** Subnets its network profile's IP configurations name. */
  subnets: string[];
  /** Its user-assigned identities (resource id → object id when ARM tells it). */
  identities: { resourceId: string; principalId?: string; clientId?: string }[];
  /** The gallery image definitions its model runs or kiln will point it at. */
  definitions: string[];
  /** How its VMs register (its kiln-registration tag): whether its identities must read a secret or none. */
  registration: RegistrationMode;
}

/** What doctor found out about the deployment, from settings and ARM. */
export interface Discovered {
  subscription: string;
  scaleSets: ScaleSetLinks[];
  /** GALLERY_RESOURCE_GROUP/GALLERY_NAME/images/{LINUX,WINDOWS}_IMAGE_DEFINITION ids. */
  definitions: string[];
  /** The resource group PACKER_IMAGE_RG (empty when not set). */
  imagesResourceGroup?: string;
  packerJob?: string;
  /** Ids of the secrets kiln reads (empty when the vault was not found). */
  secrets: string[];
}

export interface Need {
  /** The flow that fails without it. */
  flow: string;
  action: string;
  kind: ActionKind;
  /** Where the scope comes from, in words. */
  scopeFrom: string;
  scopes: (d: Discovered) => string[];
}

const onScaleSets = (d: Discovered) => d.scaleSets.map((s) => s.id);
const LINKED = 'rollout: every model write, which Azure checks against what the model links to';

/** What kiln's orchestrator does in Azure, action by action. */
export const ORCHESTRATOR_NEEDS: readonly Need[] = [
  ...(
    [
      ['write', 'rollout: point the model at the new image version'],
      ['manualUpgrade/action', 'rollout: upgrade instances to the model'],
      ['reimage/action', 'cleanup and rollback: reimage instances'],
      ['delete/action', 'cleanup: delete broken instances'],
      ['virtualMachines/read', 'every flow: list the instances'],
    ] as const
  ).map(([verb, flow]) => ({
    flow,
    action: `${VMSS}/${verb}`,
    kind: 'control' as const,
    scopeFrom: `each managed scale set (MANAGED_TAG or SCALE_SET_IDS)`,
    scopes: onScaleSets,
  })),
  {
    flow: LINKED,
    action: 'Microsoft.Network/virtualNetworks/subnets/join/action',
    kind: 'control',
    scopeFrom: "each subnet a managed scale set's network profile names",
    scopes: (d) => d.scaleSets.flatMap((s) => s.subnets),
  },
  {
    flow: LINKED,
    action: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
    kind: 'control',
    scopeFrom: 'each user-assigned identity of a managed scale set',
    scopes: (d) => d.scaleSets.flatMap((s) => s.identities.map((i) => i.resourceId)),
  },
  {
    flow: LINKED,
    action: `${VERSIONS}/read`,
    kind: 'control',
    scopeFrom: 'the image definition each managed scale set runs',
    scopes: (d) => d.scaleSets.flatMap((s) => s.definitions),
  },
  ...(
    [
      ['read', 'rebuild: find, poll and promote image versions'],
      ['write', 'rebuild: publish and tag image versions'],
      ['delete', 'rebuild: prune old image versions'],
    ] as const
  ).map(([verb, flow]) => ({
    flow,
    action: `${VERSIONS}/${verb}`,
    kind: 'control' as const,
    scopeFrom: 'GALLERY_RESOURCE_GROUP/GALLERY_NAME and LINUX/WINDOWS_IMAGE_DEFINITION',
    scopes: (d: Discovered) => d.definitions,
  })),
  ...(
    [
      ['read', "rebuild: read Packer's managed image"],
      ['delete', "rebuild: delete Packer's managed image once published"],
    ] as const
  ).map(([verb, flow]) => ({
    flow,
    action: `Microsoft.Compute/images/${verb}`,
    kind: 'control' as const,
    scopeFrom: 'the resource group PACKER_IMAGE_RG',
    scopes: (d: Discovered) => (d.imagesResourceGroup ? [d.imagesResourceGroup] : []),
  })),
  ...(
    [
      ['read', 'rebuild: find the Packer job'],
      ['start/action', 'rebuild: start a Packer build'],
      ['stop/action', 'rebuild: stop a Packer build past its timeout'],
      ['executions/read', 'rebuild: poll the Packer build'],
    ] as const
  ).map(([verb, flow]) => ({
    flow,
    action: `${JOBS}/${verb}`,
    kind: 'control' as const,
    scopeFrom: 'PACKER_JOB_ID',
    scopes: (d: Discovered) => (d.packerJob ? [d.packerJob] : []),
  })),
  {
    // A listing answers only what the caller may read, without an error: pruning would take a
    // version some unreadable scale set still runs for unused (S3).
    flow: 'rebuild: prune only versions no scale set uses',
    action: `${VMSS}/read`,
    kind: 'control',
    scopeFrom: 'the subscription (AZURE_SUBSCRIPTION_ID)',
    scopes: (d) => [d.subscription],
  },
  {
    flow: 'GitHub and Azure DevOps sign-in: read the App key or PAT',
    action: GET_SECRET,
    kind: 'data',
    scopeFrom: 'each secret kiln reads, in the vault KEYVAULT_URL names',
    scopes: (d) => d.secrets,
  },
];

/** The claims of an Entra access token that say who it was issued to (the payload, unverified). */
export function tokenIdentity(token: string): { oid?: string; appid?: string; idtyp?: string } {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const text = (k: string) => (typeof payload[k] === 'string' ? (payload[k] as string) : undefined);
    // v2 tokens name the client `azp`, v1 tokens `appid`.
    return { oid: text('oid'), appid: text('appid') ?? text('azp'), idtyp: text('idtyp') };
  } catch {
    return {};
  }
}

interface Who {
  /** How a line names it, e.g. "kiln's identity (client …, object …)". */
  label: string;
  principalId: string;
  principalType: 'ServicePrincipal' | 'User';
}

/** A role assignment as ARM lists it, with its id (what `az role assignment delete --ids` takes). */
type ListedAssignment = RoleAssignment & { id?: string };

type Listing = { ok: true; assignments: ListedAssignment[] } | { ok: false; why: string };

/**
 * The role assignments of one principal, listed per scope. A list at a scope (filtered by principal)
 * holds the assignments at, above and below it, so one at the subscription answers for every scope
 * in it: a scope is listed only when no listed ancestor answered.
 */
class AssignmentReader {
  private readonly lists = new Map<string, Map<string, Promise<Listing>>>();

  constructor(private readonly client: AuthorizationManagementClient) {}

  async read(principalId: string, scope: string): Promise<Listing> {
    let byScope = this.lists.get(principalId.toLowerCase());
    if (!byScope) this.lists.set(principalId.toLowerCase(), (byScope = new Map()));
    const wanted = scope.toLowerCase();
    for (const [listed, listing] of byScope) {
      if (wanted !== listed && !wanted.startsWith(`${listed}/`)) continue;
      const answer = await listing;
      if (answer.ok) return answer;
    }
    let own = byScope.get(wanted);
    if (!own) byScope.set(wanted, (own = this.list(principalId, scope)));
    return own;
  }

  private async list(principalId: string, scope: string): Promise<Listing> {
    try {
      const assignments: ListedAssignment[] = [];
      // The generated client puts the `/` before the scope itself.
      for await (const a of this.client.roleAssignments.listForScope(scope.replace(/^\/+/, ''), {
        filter: `principalId eq '${principalId}'`,
        abortSignal: AbortSignal.timeout(60_000),
      })) {
        if (a.principalId && a.roleDefinitionId && a.scope)
          assignments.push({
            principalId: a.principalId,
            roleDefinitionId: a.roleDefinitionId,
            scope: a.scope,
            ...(a.id ? { id: a.id } : {}),
          });
      }
      return { ok: true, assignments };
    } catch (error) {
      const { status } = describeFailure(error);
      return {
        ok: false,
        why:
          status === 403
            ? "the list of role assignments was refused (HTTP 403): doctor's identity lacks Microsoft.Authorization/roleAssignments/read there"
            : `the list of role assignments failed: ${oneLine(error)}`,
      };
    }
  }
}

export interface RoleCheckInput {
  settings: Settings;
  credential: TokenCredential;
  /** The managed scale sets doctor found. */
  scaleSets: ManagedScaleSet[];
  /** Names of the Key Vault secrets kiln itself reads. */
  secretNames: string[];
}

/** The role checks, in order: who am I, kiln's own needs, each scale set identity's registration secrets. */
export async function checkRoles(input: RoleCheckInput): Promise<CheckResult[]> {
  const { settings, credential } = input;
  const results: CheckResult[] = [];
  const pass = (check: string, detail: string) => results.push({ check, status: 'pass', detail });
  const fail = (check: string, detail: string, fix: string) =>
    results.push({ check, status: 'fail', detail, fix });
  const skip = (check: string, detail: string) => results.push({ check, status: 'skip', detail });

  // 1. Who am I: the object id role assignments are made to.
  let claims: ReturnType<typeof tokenIdentity> = {};
  try {
    const token = await credential.getToken(settings.arm.audience);
    if (token) claims = tokenIdentity(token.token);
  } catch {
    // The credential check above already failed with its reason; the oid check below says the rest.
  }
  if (!claims.oid) {
    fail(
      'azure identity',
      'the ARM access token names no object id (oid claim), so its role assignments cannot be looked up',
      "run doctor as kiln's managed identity or a service principal (set AZURE_CLIENT_ID), or az login with a work account; personal Microsoft accounts carry no oid",
    );
    skip('roles', 'needs the object id of the identity doctor runs as');
    return results;
  }
  const clientId = claims.appid;
  // Run from a laptop (az login), doctor checks the operator's roles, not kiln's: say whose they are.
  const isKiln = Boolean(settings.clientId && clientId?.toLowerCase() === settings.clientId.toLowerCase());
  const me: Who = {
    label: `${isKiln ? "kiln's identity" : 'the identity doctor runs as'} (${clientId ? `client ${clientId}, ` : ''}object ${claims.oid})`,
    principalId: claims.oid,
    principalType: claims.idtyp === 'user' ? 'User' : 'ServicePrincipal',
  };
  pass(
    'azure identity',
    `object id ${claims.oid}${clientId ? `, client id ${clientId}` : ''}` +
      (isKiln
        ? ''
        : ` (not AZURE_CLIENT_ID${settings.clientId ? ` ${settings.clientId}` : ''}: the roles below are this identity's; run doctor as kiln's identity to check kiln's)`),
  );

  const clientOptions = armClientOptions(settings, { maxRetries: 1 });
  const authorization = new AuthorizationManagementClient(
    credential,
    settings.subscriptionId,
    clientOptions.classic,
  );
  const resources = new ResourceManagementClient(credential, settings.subscriptionId, clientOptions.classic);
  const compute = new ComputeManagementClient(credential, settings.subscriptionId, clientOptions.modern);
  const reader = new AssignmentReader(authorization);

  // 2. What kiln needs, from settings and what ARM shows.
  const subscription = `/subscriptions/${settings.subscriptionId}`;
  const definitionId = (name: string) =>
    `${subscription}/resourceGroups/${settings.gallery.resourceGroup}/providers/Microsoft.Compute/galleries/${settings.gallery.name}/images/${name}`;
  const galleryKnown = Boolean(settings.gallery.resourceGroup && settings.gallery.name);
  const scaleSets: ScaleSetLinks[] = [];
  for (const s of input.scaleSets) {
    let model: VirtualMachineScaleSet;
    try {
      model = await compute.virtualMachineScaleSets.get(s.resourceGroup, s.name, {
        abortSignal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      fail(
        `roles scale set ${s.name}`,
        `cannot read its model to find the subnet, identities and image it links to: ${oneLine(error)}`,
        `assign "Virtual Machine Contributor": ${assignCommand(me, 'Virtual Machine Contributor', s.id)}`,
      );
      continue;
    }
    scaleSets.push(
      linksOf(s, model, galleryKnown ? definitionId(settings.gallery.definitions[s.image]) : undefined),
    );
  }
  const vault = await findVault(resources, settings);
  if (!vault.id)
    fail(
      'key vault resource',
      vault.why,
      `grant ${me.label} Reader on the subscription or the vault, so doctor can find the vault's resource id and check who may read its secrets: ${assignCommand(me, 'Reader', subscription)}`,
    );
  const discovered: Discovered = {
    subscription,
    scaleSets,
    definitions: galleryKnown
      ? [...new Set([settings.gallery.definitions.linux, settings.gallery.definitions.windows])].map(
          definitionId,
        )
      : [],
    imagesResourceGroup: settings.packer.imageResourceGroup
      ? `${subscription}/resourceGroups/${settings.packer.imageResourceGroup}`
      : undefined,
    packerJob: settings.packer.jobId || undefined,
    secrets: vault.id ? input.secretNames.map((n) => `${vault.id}/secrets/${n}`) : [],
  };

  // 3. kiln's own needs against its role assignments.
  const own = await evaluate(reader, me, me, subscription, needsAt(ORCHESTRATOR_NEEDS, discovered));
  results.push(...own.results);
  // A need without a scope (no scale set found, PACKER_JOB_ID empty...) was not checked: say which.
  const unchecked = [
    ...new Set(ORCHESTRATOR_NEEDS.filter((n) => n.scopes(discovered).length === 0).map((n) => n.scopeFrom)),
  ];
  if (own.results.length === 0)
    pass(
      'roles',
      `${me.label} holds every role kiln needs: ${own.actions} action(s) on ${own.scopes} scope(s)` +
        (unchecked.length > 0 ? `; not checked, nothing found for: ${unchecked.join('; ')}` : ''),
    );

  // 4. Each scale set's identities against the registration secrets, as its kiln-registration tag
  // says its VMs register: with a PAT they read it at boot, so they must be able to; through the
  // broker nothing on them needs a secret, and whatever their identity may read a job may read too.
  const registrationSecrets = unique([
    ...(settings.github ? [settings.github.patSecret, settings.github.appKeySecret] : []),
    ...(settings.ado ? [settings.ado.patSecret] : []),
  ]);
  for (const s of scaleSets) {
    const check = `registration secret ${s.name}`;
    const { registration } = s;
    const fleet = s.image === 'linux' ? 'GitHub' : 'Azure DevOps';
    const parameter = s.image === 'linux' ? 'github.registration' : 'ado.registration';
    if (registration.via === 'unknown') {
      fail(
        check,
        `its ${REGISTRATION_TAG} tag is "${registration.tag}", which kiln does not know (a ${fleet} scale set's is ${registration.valid.join(' or ')}), so doctor cannot tell whether its VMs may read a registration secret`,
        `set ${s.name}'s tag ${REGISTRATION_TAG} to what its VMs do: ${registration.valid[0]} (they register through kiln's broker) or pat (they read a PAT from Key Vault); infra/main.bicep sets it from ${parameter}`,
      );
      continue;
    }
    const patSecret = s.image === 'linux' ? settings.github?.patSecret : settings.ado?.patSecret;
    if (registration.via === 'pat' && !patSecret) {
      skip(check, `no ${fleet} fleet configured`);
      continue;
    }
    if (registration.via === 'broker' && registrationSecrets.length === 0) {
      skip(check, 'no registration secret to keep from its VMs (no GitHub or Azure DevOps fleet configured)');
      continue;
    }
    if (!vault.id) {
      skip(check, 'needs the vault\'s resource id (see "key vault resource")');
      continue;
    }
    const withPrincipal = s.identities.filter((i) => i.principalId);
    if (withPrincipal.length === 0) {
      fail(
        check,
        `the scale set has no user-assigned identity with an object id, so its instances cannot ${registration.via === 'pat' ? `read ${patSecret}` : "get a token for kiln's registration broker"}`,
        `give ${s.name} the user-assigned identity its instances use (infra/modules/scale-set.bicep)`,
      );
      continue;
    }
    for (const identity of withPrincipal) {
      const who: Who = {
        label: `${s.name}'s identity ${lastSegment(identity.resourceId)} (${identity.clientId ? `client ${identity.clientId}, ` : ''}object ${identity.principalId})`,
        principalId: identity.principalId!,
        principalType: 'ServicePrincipal',
      };
      if (registration.via === 'pat') {
        const secretNeed: Need = {
          flow: `${s.name}'s instances to register at boot`,
          action: GET_SECRET,
          kind: 'data',
          scopeFrom: `the secret ${patSecret} (${s.image === 'linux' ? 'GITHUB_PAT_SECRET' : 'ADO_PAT_SECRET'})`,
          scopes: () => [`${vault.id}/secrets/${patSecret}`],
        };
        const r = await evaluate(reader, who, me, subscription, needsAt([secretNeed], discovered), check);
        if (r.results.length === 0) pass(check, `${who.label} may read the secret ${patSecret}`);
        results.push(...r.results);
      } else {
        const reads = await secretsReadBy(
          reader,
          who,
          me,
          subscription,
          vault.id,
          registrationSecrets,
          check,
        );
        const through = `${s.name}'s VMs register through kiln's broker (${REGISTRATION_TAG}=${registration.tag})`;
        if (!reads.ok) {
          results.push(reads.result);
          continue;
        }
        if (reads.grants.length === 0)
          pass(
            check,
            `${who.label} may read none of the registration secrets ${registrationSecrets.join(', ')}: ${through}` +
              (reads.custom
                ? `; it holds a custom role doctor cannot evaluate on ${reads.custom}, which may grant a read`
                : ''),
          );
        for (const { assignment, secrets } of reads.grants)
          fail(
            check,
            `${who.label} may read the registration secret${secrets.length > 1 ? 's' : ''} ${secrets.join(', ')} through ` +
              `"${roleName(assignment.roleDefinitionId)}" assigned at ${assignment.scope}, though ${through}: ` +
              `a job on these VMs could read ${secrets.length > 1 ? 'them' : 'it'} through IMDS`,
            `remove that role assignment: ${removeCommand(who, assignment)}; or, if ${s.name}'s VMs are meant to read a PAT, set its registration to pat on purpose (infra/main.bicep ${parameter}: 'pat', which tags it ${REGISTRATION_TAG}=pat)`,
          );
      }
    }
  }
  return results;
}

interface PlacedNeed {
  need: Need;
  scope: string;
}

function needsAt(needs: readonly Need[], d: Discovered): PlacedNeed[] {
  const seen = new Set<string>();
  const out: PlacedNeed[] = [];
  for (const need of needs)
    for (const scope of need.scopes(d)) {
      const key = `${need.kind}|${need.action}|${scope}`.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ need, scope });
    }
  return out;
}

/**
 * Checks each need against the principal's assignments; returns a ✗ per (scope, role to assign) and
 * per scope whose assignments could not be read. No lines means everything is granted.
 */
async function evaluate(
  reader: AssignmentReader,
  /** Who the needs are checked for. */
  who: Who,
  /** Who reads the assignments (doctor's identity): named in the fix when it may not. */
  asker: Who,
  subscription: string,
  needs: PlacedNeed[],
  checkName?: string,
): Promise<{ results: CheckResult[]; actions: number; scopes: number }> {
  const results: CheckResult[] = [];
  const gaps = new Map<string, { scope: string; needs: Need[]; custom: boolean }>();
  const refused = new Map<string, string>();
  const held = new Set<string>();
  // Broad scopes first: a list there answers for every scope below it.
  const ordered = [...needs].sort((a, b) => a.scope.split('/').length - b.scope.split('/').length);
  for (const { need, scope } of ordered) {
    const listing = await reader.read(who.principalId, scope);
    if (!listing.ok) {
      refused.set(scope, listing.why);
      continue;
    }
    for (const a of listing.assignments) held.add(roleGuid(a.roleDefinitionId));
    const request = { principalId: who.principalId, action: need.action, scope, kind: need.kind };
    if (isAllowed(request, listing.assignments)) continue;
    const key = scope.toLowerCase();
    const gap = gaps.get(key) ?? { scope, needs: [], custom: false };
    gap.needs.push(need);
    // An assignment of a role doctor does not know (a custom role) might grant it; say so.
    gap.custom ||= holdsCustomRoleOn(listing.assignments, scope);
    gaps.set(key, gap);
  }
  for (const [scope, why] of refused)
    results.push(cannotCheck(who, asker, subscription, scope, why, checkName));
  for (const gap of gaps.values())
    for (const { role, needs: covered } of rolesFor(gap.needs, held)) {
      const actions = covered.map((n) => n.action).join(', ');
      const flows = [...new Set(covered.map((n) => n.flow))].join('; ');
      results.push({
        check: checkName ?? `role ${role?.name ?? covered[0]!.action} on ${labelOf(gap.scope)}`,
        status: 'fail',
        detail:
          `${who.label} may not ${actions} on ${gap.scope} (needed for ${flows})` +
          (gap.custom ? '; it holds a custom role doctor cannot evaluate, which may grant this' : ''),
        fix: role
          ? `assign "${role.name}": ${assignCommand(who, role.name, gap.scope)}`
          : `no built-in role grants it: create a custom role with ${actions} and assign it on ${gap.scope}`,
      });
    }
  return {
    results,
    actions: new Set(needs.map((n) => n.need.action.toLowerCase())).size,
    scopes: new Set(needs.map((n) => n.scope.toLowerCase())).size,
  };
}

/**
 * What a scale set identity may read of the registration secrets, assignment by assignment: one list
 * at the vault holds the assignments at, above and below it, so it answers for every secret in it.
 */
async function secretsReadBy(
  reader: AssignmentReader,
  who: Who,
  /** Who reads the assignments (doctor's identity): named in the fix when it may not. */
  asker: Who,
  subscription: string,
  vaultId: string,
  secrets: readonly string[],
  checkName: string,
): Promise<
  | { ok: false; result: CheckResult }
  | {
      ok: true;
      grants: { assignment: ListedAssignment; secrets: string[] }[];
      /** A scope where it holds a custom role that may grant a read, when it holds one. */
      custom?: string;
    }
> {
  const listing = await reader.read(who.principalId, vaultId);
  if (!listing.ok)
    return { ok: false, result: cannotCheck(who, asker, subscription, vaultId, listing.why, checkName) };
  const granted = new Map<ListedAssignment, string[]>();
  let custom: string | undefined;
  for (const secret of secrets) {
    const scope = `${vaultId}/secrets/${secret}`;
    const request = { principalId: who.principalId, action: GET_SECRET, scope, kind: 'data' as const };
    for (const assignment of grantingAssignments(request, listing.assignments))
      granted.set(assignment, [...(granted.get(assignment) ?? []), secret]);
    if (!custom && holdsCustomRoleOn(listing.assignments, scope)) custom = scope;
  }
  return {
    ok: true,
    grants: [...granted].map(([assignment, names]) => ({ assignment, secrets: names })),
    ...(custom ? { custom } : {}),
  };
}

/** An assignment of a role doctor does not know (a custom role) on or above the scope. */
function holdsCustomRoleOn(assignments: readonly RoleAssignment[], scope: string): boolean {
  return assignments.some((a) => !builtInRole(a.roleDefinitionId) && scopeContains(a.scope, scope));
}

/** The ✗ for a scope where doctor's identity may not list the assignments of `who`. */
function cannotCheck(
  who: Who,
  asker: Who,
  subscription: string,
  scope: string,
  why: string,
  checkName?: string,
): CheckResult {
  return {
    check: checkName ?? `roles at ${labelOf(scope)}`,
    status: 'fail',
    detail: `doctor cannot check the roles of ${who.label} at ${scope}: ${why}`,
    fix:
      `assign "Reader" on the subscription (kiln needs it anyway to see every scale set): ` +
      assignCommand(asker, 'Reader', subscription),
  };
}

/** The command that removes one listed assignment: by its id, as ARM listed it. */
function removeCommand(who: Who, assignment: ListedAssignment): string {
  return assignment.id
    ? `az role assignment delete --ids ${assignment.id}`
    : `az role assignment delete --assignee ${who.principalId} --role "${roleName(assignment.roleDefinitionId)}" --scope ${assignment.scope}`;
}

function assignCommand(who: Who, role: string, scope: string): string {
  return (
    `az role assignment create --assignee-object-id ${who.principalId} ` +
    `--assignee-principal-type ${who.principalType} --role "${role}" --scope ${scope}`
  );
}

/** A role is too broad to suggest when it grants every action (Owner, Contributor). */
const tooBroad = (r: RoleDefinition) => r.actions.includes('*');
const readOnly = (r: RoleDefinition) =>
  r.dataActions.length === 0 && r.actions.every((a) => /\/read$/i.test(a));

/**
 * The roles to assign for the missing actions at one scope: few roles, each covering the most of
 * what is missing; among equals one the identity already holds elsewhere (the deployment's own
 * choice, e.g. Virtual Machine Contributor for a subnet join), then the narrowest (rolesGranting's
 * order). Never a role that grants every action (Owner, Contributor) when another will do, and only
 * a read-only role (Reader) where only reads are missing. `role` is undefined when no built-in role
 * grants an action.
 */
export function rolesFor(
  missing: readonly Need[],
  /** GUIDs of the roles the identity holds anywhere. */
  held: ReadonlySet<string> = new Set(),
): { role?: RoleDefinition; needs: Need[] }[] {
  const grants = (role: RoleDefinition, n: Need) => roleAllows(role, n.action, n.kind);
  const out: { role?: RoleDefinition; needs: Need[] }[] = [];
  let left = [...missing];
  while (left.length > 0) {
    const first = left[0]!;
    const all = rolesGranting(first.action, first.kind);
    let candidates = all.filter((r) => !tooBroad(r));
    if (left.every((n) => n.kind === 'control' && /\/read$/i.test(n.action)) && candidates.some(readOnly))
      candidates = candidates.filter(readOnly);
    if (candidates.length === 0) candidates = all;
    candidates = [...candidates.filter((r) => held.has(r.id)), ...candidates.filter((r) => !held.has(r.id))];
    let role: RoleDefinition | undefined;
    let most = 0;
    for (const r of candidates) {
      const n = left.filter((x) => grants(r, x)).length;
      if (n > most) [role, most] = [r, n];
    }
    const covered = role ? left.filter((x) => grants(role, x)) : [first];
    out.push({ role, needs: covered });
    left = left.filter((x) => !covered.includes(x));
  }
  return out;
}

function linksOf(
  s: ManagedScaleSet,
  model: VirtualMachineScaleSet,
  kilnDefinition: string | undefined,
): ScaleSetLinks {
  const subnets = (model.virtualMachineProfile?.networkProfile?.networkInterfaceConfigurations ?? [])
    .flatMap((n) => n.ipConfigurations ?? [])
    .map((c) => c.subnet?.id)
    .filter((id): id is string => Boolean(id));
  const identities = Object.entries(model.identity?.userAssignedIdentities ?? {}).map(([resourceId, v]) => ({
    resourceId,
    principalId: v.principalId,
    clientId: v.clientId,
  }));
  // The definition the model runs now (a version id or the definition itself), and the one kiln
  // will point it at: a model write is checked against the image it names.
  const running = model.virtualMachineProfile?.storageProfile?.imageReference?.id;
  const runningDefinition =
    running && /\/galleries\//i.test(running) ? running.replace(/\/versions\/[^/]+$/i, '') : undefined;
  const definitions = [kilnDefinition, runningDefinition].filter((d): d is string => Boolean(d));
  return {
    id: s.id,
    name: s.name,
    image: s.image,
    subnets: unique(subnets),
    identities,
    definitions: unique(definitions),
    registration: registrationOf(s),
  };
}

/** The vault's ARM id: the vault named like the first label of KEYVAULT_URL's host. */
async function findVault(
  resources: ResourceManagementClient,
  settings: Pick<Settings, 'keyVaultUrl' | 'subscriptionId'>,
): Promise<{ id?: string; why: string }> {
  const keyVaultUrl = settings.keyVaultUrl;
  let name: string;
  try {
    name = new URL(keyVaultUrl).hostname.split('.')[0]!.toLowerCase();
  } catch {
    return { why: `KEYVAULT_URL ${keyVaultUrl} is not a URL` };
  }
  try {
    for await (const r of resources.resources.list({
      filter: "resourceType eq 'Microsoft.KeyVault/vaults'",
      abortSignal: AbortSignal.timeout(60_000),
    }))
      if (r.id && r.name?.toLowerCase() === name) return { id: r.id, why: '' };
    return {
      why: `no vault named ${name} (KEYVAULT_URL) is visible in subscription ${settings.subscriptionId}: the resource list shows only what the identity may read`,
    };
  } catch (error) {
    return { why: `listing the vaults failed: ${oneLine(error)}` };
  }
}

/** A short name for a scope in a check line: "scale set vmss-a", "secret gh-pat", "subscription …". */
export function labelOf(scope: string): string {
  const parts = scope.split('/').filter(Boolean);
  if (parts.length === 2) return `subscription ${parts[1]}`;
  if (parts.length === 4) return `resource group ${parts[3]}`;
  const kinds: [RegExp, string][] = [
    [/\/virtualMachineScaleSets\/[^/]+$/i, 'scale set'],
    [/\/subnets\/[^/]+$/i, 'subnet'],
    [/\/userAssignedIdentities\/[^/]+$/i, 'identity'],
    [/\/images\/[^/]+$/i, 'image definition'],
    [/\/jobs\/[^/]+$/i, 'job'],
    [/\/secrets\/[^/]+$/i, 'secret'],
    [/\/vaults\/[^/]+$/i, 'vault'],
  ];
  const kind = kinds.find(([re]) => re.test(scope))?.[1];
  return kind ? `${kind} ${lastSegment(scope)}` : scope;
}

function lastSegment(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? id;
}

function unique(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((x) => !seen.has(x.toLowerCase()) && seen.add(x.toLowerCase()));
}

function oneLine(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error));
}
