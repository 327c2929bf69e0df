/**
 * Reads the role assignments a compiled ARM template (what `bicep build` emits) deploys, with every
 * principal, role and scope evaluated, so the fake cloud can enforce exactly the RBAC kiln's
 * infrastructure grants. No Bicep CLI at run time: the template's expressions are evaluated by
 * arm-expressions.ts, lazily, so only what the role assignments (and the tags of their scopes)
 * depend on is evaluated.
 *
 * What only exists after a real deployment is symbolic: the principal id of a user-assigned identity
 * is `principal:<identity name>` (its client id `client:<identity name>`), so an assignment's
 * principal is either an identity of the template or a value passed in as a parameter.
 */
import {
  ArmExpressionError,
  evaluateJson,
  expandCopy,
  withCopyIndex,
  type EvalHost,
} from './arm-expressions.js';

export type TemplatePrincipal =
  | { kind: 'identity'; /** user-assigned identity resource name */ name: string }
  | { kind: 'parameter'; /** e.g. an operator object id given as a parameter */ value: string };

export interface TemplateRoleAssignment {
  principal: TemplatePrincipal;
  /** Role GUID, lower case. */
  roleDefinitionId: string;
  /** Evaluated ARM id: /subscriptions/<sub>[/resourceGroups/<rg>[/providers/<type>/<name>...]]. */
  scope: string;
  /** 'subscription' | 'resourceGroup' | the resource type of the scope (e.g. 'Microsoft.KeyVault/vaults/secrets'). */
  scopeType: string;
  /** Evaluated tags of the scope resource when the template declares (creates) it; {} when it has none. */
  scopeTags?: Record<string, string>;
  description?: string;
  /** Where in the template: e.g. 'linuxRunners[0] > roles[0]'. */
  source: string;
}

export interface TemplateIdentity {
  name: string;
  resourceId: string;
}

export interface TemplateRoles {
  assignments: TemplateRoleAssignment[];
  /** Every user-assigned identity the template creates (not `existing` ones). */
  identities: TemplateIdentity[];
}

export interface TemplateContext {
  subscriptionId: string;
  tenantId: string;
  location: string;
  deploymentName?: string;
  /** The target resource group; needed only for resource-group templates (kiln's is subscription-scoped). */
  resourceGroupName?: string;
}

export class TemplateRolesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateRolesError';
  }
}

/** Prefixes of the symbolic values reference() yields for user-assigned identities. */
const PRINCIPAL_PREFIX = 'principal:';
const CLIENT_PREFIX = 'client:';

/**
 * The parameter values the simulator deploys kiln's own template (dist/infra/main.json) with: an
 * org-scoped GitHub App, an Azure DevOps PAT, both fleets, and the secret-scoped grants enabled.
 * The key and password are dummies (not secrets); principalId '' grants no operator.
 */
export const KILN_TEMPLATE_PARAMETERS: Record<string, unknown> = {
  environmentName: 'kiln',
  location: 'westeurope',
  github: { scope: 'org', owner: 'acme', auth: 'app', appId: '123456', appInstallationId: '4242' },
  ado: { orgUrl: 'https://dev.azure.com/acme', pool: 'kiln-windows', auth: 'pat' },
  secretsReady: true,
  linuxSshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKilnSimulatorDummyKeyNotForUse000000000 kiln-sim',
  windowsAdminPassword: 'Dummy-Simulator-Password-1',
  principalId: '',
};

// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface ResourceDef {
  type: string;
  name: unknown;
  condition?: unknown;
  copy?: { name?: string; count: unknown };
  existing?: boolean;
  scope?: unknown;
  resourceGroup?: unknown;
  subscriptionId?: unknown;
  properties?: unknown;
  tags?: unknown;
}

/** Where a deployment's resources go: a subscription, or a resource group in it. */
interface Target {
  subscriptionId: string;
  resourceGroup?: string;
}

/** One resource of a deployment, one copy-loop index of it. */
interface Instance {
  deployment: Deployment;
  key: string;
  def: ResourceDef;
  index?: number;
  host: EvalHost;
  source: string;
}

const DEPLOYMENTS = 'microsoft.resources/deployments';
const ROLE_ASSIGNMENTS = 'microsoft.authorization/roleassignments';
const IDENTITIES = 'microsoft.managedidentity/userassignedidentities';
const RESOURCE_GROUPS = 'microsoft.resources/resourcegroups';

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A property of an object, exactly or case-insensitively (ARM names are case-insensitive). */
function prop(obj: Json | undefined, name: string): unknown {
  if (!obj) return undefined;
  if (name in obj) return obj[name];
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function targetId(t: Target): string {
  return t.resourceGroup === undefined
    ? `/subscriptions/${t.subscriptionId}`
    : `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}`;
}

function typeAndNames(type: string, name: string): string {
  const [namespace, ...types] = type.split('/');
  const names = name.split('/');
  if (types.length !== names.length) {
    throw new TemplateRolesError(`resource name '${name}' does not fit type '${type}'`);
  }
  return [namespace, ...types.flatMap((t, i) => [t, names[i]])].join('/');
}

/** 'subscription', 'resourceGroup', or the resource type an ARM id names. */
function scopeTypeOf(id: string): string {
  if (/^\/subscriptions\/[^/]+$/i.test(id)) return 'subscription';
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(id)) return 'resourceGroup';
  const at = id.toLowerCase().lastIndexOf('/providers/');
  if (at < 0) throw new TemplateRolesError(`'${id}' is not an ARM resource id`);
  const [namespace, ...rest] = id.slice(at + '/providers/'.length).split('/');
  return [namespace, ...rest.filter((_, i) => i % 2 === 0)].join('/');
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new TemplateRolesError(`${what} is not a string: ${JSON.stringify(value)}`);
  return value;
}

/** What the caller of a nested deployment passes for one parameter (found: false = not passed). */
type ParameterSource = (name: string) => { found: boolean; value?: unknown };

/**
 * One (nested) deployment: a template with its parameters, evaluated at its target scope. Parameters,
 * variables, module instances and outputs are evaluated on first use and remembered.
 */
class Deployment {
  private readonly params = new Map<string, unknown>();
  private readonly vars = new Map<string, unknown>();
  private readonly children = new Map<string, Deployment>();
  private readonly outputs = new Map<string, unknown>();
  /** The host expressions of this template are evaluated with (the parent's for outer-scope templates). */
  readonly host: EvalHost;

  constructor(
    readonly reader: Reader,
    readonly template: Json,
    readonly name: string,
    readonly target: Target,
    readonly path: string,
    private readonly parameterSource: ParameterSource,
    outerHost?: EvalHost,
  ) {
    this.host = outerHost ?? this.ownHost();
  }

  resources(): [string, ResourceDef][] {
    const resources = this.template.resources;
    if (Array.isArray(resources)) {
      return resources.map((r: ResourceDef, i) => [r.copy?.name ?? `resources[${i}]`, r]);
    }
    return Object.entries((resources ?? {}) as Record<string, ResourceDef>);
  }

  private ownHost(): EvalHost {
    const ctx = this.reader.context;
    return {
      parameter: (name) => this.parameter(name),
      variable: (name) => this.variable(name),
      copyIndex: () => {
        throw new ArmExpressionError('copyIndex() outside a copy loop');
      },
      reference: (target, _apiVersion, full) => this.reference(target, full ?? false),
      subscription: () => ({
        id: `/subscriptions/${this.target.subscriptionId}`,
        subscriptionId: this.target.subscriptionId,
        tenantId: ctx.tenantId,
      }),
      resourceGroup: () => {
        if (this.target.resourceGroup === undefined) {
          throw new ArmExpressionError('resourceGroup() in a subscription-scope deployment');
        }
        return {
          id: targetId(this.target),
          name: this.target.resourceGroup,
          type: 'Microsoft.Resources/resourceGroups',
          location: ctx.location,
          properties: { provisioningState: 'Succeeded' },
        };
      },
      deployment: () => ({ name: this.name, location: ctx.location, properties: { mode: 'Incremental' } }),
      tenant: () => ({ tenantId: ctx.tenantId }),
      defaultScope: () => this.target,
      userFunction: (name) => this.userFunction(name),
      withFunctionArguments: (args) => ({
        ...this.ownHost(),
        parameter: (name) => {
          if (name in args) return args[name];
          throw new ArmExpressionError(`user-defined function has no parameter '${name}'`);
        },
        variable: () => {
          throw new ArmExpressionError('variables() inside a user-defined function');
        },
      }),
    };
  }

  private where(): string {
    return this.path === '' ? 'the template' : this.path;
  }

  parameter(name: string): unknown {
    if (this.params.has(name)) return this.params.get(name);
    const declared = prop(this.template.parameters as Json, name) as Json | undefined;
    if (!declared) throw new ArmExpressionError(`parameter '${name}' is not declared in ${this.where()}`);
    const given = this.parameterSource(name);
    let value: unknown;
    if (given.found) value = given.value;
    else if ('defaultValue' in declared) value = evaluateJson(declared.defaultValue, this.host);
    else if (this.nullable(declared)) value = null;
    else throw new TemplateRolesError(`missing required parameter ${name} of ${this.where()}`);
    this.params.set(name, value);
    return value;
  }

  /** Declared nullable, directly or through its user-defined type ($ref). */
  nullable(declared: Json): boolean {
    if (declared.nullable === true) return true;
    const ref = declared.$ref;
    if (typeof ref !== 'string') return false;
    const type = prop(this.template.definitions as Json, ref.replace('#/definitions/', '')) as
      Json | undefined;
    return type ? this.nullable(type) : false;
  }

  variable(name: string): unknown {
    if (this.vars.has(name)) return this.vars.get(name);
    const variables = (this.template.variables ?? {}) as Json;
    let value: unknown;
    const loop = Array.isArray(variables.copy)
      ? (variables.copy as { name: string; count: unknown; input: unknown }[]).find(
          (c) => c.name.toLowerCase() === name.toLowerCase(),
        )
      : undefined;
    if (loop) value = expandCopy(loop, this.host);
    else {
      const raw = prop(variables, name);
      if (raw === undefined)
        throw new ArmExpressionError(`variable '${name}' is not declared in ${this.where()}`);
      value = evaluateJson(raw, this.host);
    }
    this.vars.set(name, value);
    return value;
  }

  private userFunction(name: string): { parameters: string[]; body: unknown } | undefined {
    const dot = name.lastIndexOf('.');
    if (dot < 0 || !Array.isArray(this.template.functions)) return undefined;
    for (const ns of this.template.functions as Json[]) {
      if (String(ns.namespace).toLowerCase() !== name.slice(0, dot).toLowerCase()) continue;
      const member = prop(ns.members as Json, name.slice(dot + 1)) as Json | undefined;
      if (!member) continue;
      return {
        parameters: ((member.parameters ?? []) as Json[]).map((p) => String(p.name)),
        body: (member.output as Json | undefined)?.value,
      };
    }
    return undefined;
  }

  // ----- resources -----

  /** The instances of one declared resource (one per copy index), without evaluating the condition. */
  instances(key: string, def: ResourceDef): Instance[] {
    const source = (index?: number) =>
      `${this.path === '' ? '' : `${this.path} > `}${key}${index === undefined ? '' : `[${index}]`}`;
    if (!def.copy) return [{ deployment: this, key, def, host: this.host, source: source() }];
    const count = evaluateJson(def.copy.count, this.host);
    if (typeof count !== 'number') throw new TemplateRolesError(`copy count of ${source()} is not a number`);
    return Array.from({ length: count }, (_, index) => ({
      deployment: this,
      key,
      def,
      index,
      host: withCopyIndex(this.host, def.copy!.name, index),
      source: source(index),
    }));
  }

  deployed(instance: Instance): boolean {
    return (
      instance.def.condition === undefined || evaluateJson(instance.def.condition, instance.host) === true
    );
  }

  /** Where a resource goes: its own subscriptionId/resourceGroup/scope properties, else this deployment's target. */
  targetOf(def: ResourceDef, host: EvalHost): Target {
    if (def.scope !== undefined && def.type.toLowerCase() === DEPLOYMENTS) {
      const scope = str(evaluateJson(def.scope, host), 'scope');
      const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?$/i.exec(scope);
      if (!m) throw new TemplateRolesError(`nested deployment scope '${scope}' is not supported`);
      return { subscriptionId: m[1]!, resourceGroup: m[2] };
    }
    const sub =
      def.subscriptionId === undefined
        ? undefined
        : str(evaluateJson(def.subscriptionId, host), 'subscriptionId');
    const rg =
      def.resourceGroup === undefined
        ? undefined
        : str(evaluateJson(def.resourceGroup, host), 'resourceGroup');
    if (sub === undefined && rg === undefined) return this.target;
    return {
      subscriptionId: sub ?? this.target.subscriptionId,
      resourceGroup: rg ?? (sub ? undefined : this.target.resourceGroup),
    };
  }

  /** The ARM id of a declared resource instance. */
  resourceId(instance: Instance): string {
    const { def, host } = instance;
    const name = str(evaluateJson(def.name, host), `name of ${instance.source}`);
    if (def.type.toLowerCase() === RESOURCE_GROUPS) {
      return `/subscriptions/${this.targetOf({ ...def, resourceGroup: undefined }, host).subscriptionId}/resourceGroups/${name}`;
    }
    if (def.scope !== undefined && def.type.toLowerCase() !== DEPLOYMENTS) {
      return `${this.scopeOf(instance)}/providers/${typeAndNames(def.type, name)}`;
    }
    return `${targetId(this.targetOf(def, host))}/providers/${typeAndNames(def.type, name)}`;
  }

  /** The evaluated `scope` of an extension resource (a full id, or relative to this deployment's target). */
  scopeOf(instance: Instance): string {
    const { def, host } = instance;
    if (def.scope === undefined) return targetId(this.targetOf(def, host));
    const scope = str(evaluateJson(def.scope, host), `scope of ${instance.source}`).replace(/\/$/, '');
    return scope.startsWith('/') ? scope : `${targetId(this.target)}/providers/${scope}`;
  }

  /** The nested deployment a Microsoft.Resources/deployments instance runs. */
  child(instance: Instance): Deployment {
    const memoKey = `${instance.key}#${instance.index ?? ''}`;
    const existing = this.children.get(memoKey);
    if (existing) return existing;
    const { def, host } = instance;
    const props = (def.properties ?? {}) as Json;
    if (props.templateLink !== undefined || !isObject(props.template)) {
      throw new TemplateRolesError(`${instance.source}: linked templates (templateLink) are not supported`);
    }
    const name = str(evaluateJson(def.name, host), `name of ${instance.source}`);
    const inner =
      String((props.expressionEvaluationOptions as Json | undefined)?.scope ?? 'outer').toLowerCase() ===
      'inner';
    let allParameters: Json | undefined;
    const source: ParameterSource = (param) => {
      // The parameters object may itself be one expression; then it is evaluated as a whole.
      if (allParameters === undefined) {
        allParameters = (
          typeof props.parameters === 'string'
            ? evaluateJson(props.parameters, host)
            : (props.parameters ?? {})
        ) as Json;
      }
      const entry = prop(allParameters, param);
      if (entry === undefined) return { found: false };
      const evaluated = evaluateJson(entry, host) as Json;
      if ('reference' in evaluated) {
        throw new TemplateRolesError(`parameter ${param} of ${instance.source} is a Key Vault reference`);
      }
      return { found: true, value: evaluated.value };
    };
    const child = new Deployment(
      this.reader,
      props.template,
      name,
      this.targetOf(def, host),
      instance.source,
      source,
      // Outer scope (ARM's default for nested templates; Bicep always emits inner): the nested
      // template's expressions see the parent's parameters, variables and functions.
      inner ? undefined : host,
    );
    this.children.set(memoKey, child);
    return child;
  }

  output(name: string): unknown {
    if (this.outputs.has(name)) return this.outputs.get(name);
    const decl = prop(this.template.outputs as Json, name) as Json | undefined;
    if (!decl) throw new ArmExpressionError(`${this.where()} has no output '${name}'`);
    const value = isObject(decl.copy)
      ? expandCopy(decl.copy as { name?: string; count: unknown; input: unknown }, this.host)
      : evaluateJson(decl.value, this.host);
    this.outputs.set(name, value);
    return value;
  }

  // ----- reference() -----

  private reference(target: unknown, full: boolean): unknown {
    const ref = str(target, 'reference() target');
    if (ref.startsWith('/')) return this.referenceById(ref, full);
    const m = /^(.*)\[(\d+)\]$/.exec(ref);
    const key = m ? m[1]! : ref;
    const index = m ? Number(m[2]) : undefined;
    const entry = Array.isArray(this.template.resources)
      ? this.resources().find(([, def]) => {
          // Non-symbolic templates reference resources of the same template by name.
          return this.instances('', def).some((i) => evaluateJson(def.name, i.host) === ref);
        })
      : this.resources().find(([k]) => k === key);
    if (!entry) throw new ArmExpressionError(`reference() of '${ref}': no such resource in ${this.where()}`);
    const [k, def] = entry;
    const all = this.instances(k, def);
    const instance = index !== undefined ? all[index] : all.length === 1 ? all[0] : undefined;
    if (!instance) throw new ArmExpressionError(`reference() of '${ref}': name the copy index`);
    return this.referenceTo(instance, full);
  }

  private referenceById(id: string, full: boolean): unknown {
    const type = scopeTypeOf(id).toLowerCase();
    if (type === IDENTITIES) return identityReference(id.split('/').pop()!, id, this.reader.context, full);
    for (const [key, def] of this.resources()) {
      if (def.type.toLowerCase() !== type) continue;
      for (const instance of this.instances(key, def)) {
        if (this.resourceId(instance).toLowerCase() === id.toLowerCase())
          return this.referenceTo(instance, full);
      }
    }
    throw new ArmExpressionError(`reference() of '${id}': only known after deployment`);
  }

  private referenceTo(instance: Instance, full: boolean): unknown {
    const type = instance.def.type.toLowerCase();
    if (type === IDENTITIES) {
      const name = str(evaluateJson(instance.def.name, instance.host), 'identity name');
      return identityReference(name, this.resourceId(instance), this.reader.context, full);
    }
    if (type === DEPLOYMENTS) {
      if (!this.deployed(instance)) {
        throw new ArmExpressionError(
          `reference() of ${instance.source}, which is not deployed (condition false)`,
        );
      }
      const child = this.child(instance);
      // Outputs are evaluated only when read, so an output that is only known after deployment
      // (a vault URI, an endpoint) costs nothing unless a role assignment depends on it.
      const outputs = {};
      for (const name of Object.keys((child.template.outputs ?? {}) as Json)) {
        Object.defineProperty(outputs, name, {
          enumerable: true,
          get: () => ({ type: 'Object', value: child.output(name) }),
        });
      }
      return full ? { name: child.name, properties: { outputs } } : { outputs };
    }
    throw new ArmExpressionError(
      `reference() of ${instance.source} (${instance.def.type}): its properties are only known after deployment`,
    );
  }
}

function identityReference(name: string, id: string, ctx: TemplateContext, full: boolean): unknown {
  const properties = {
    principalId: `${PRINCIPAL_PREFIX}${name}`,
    clientId: `${CLIENT_PREFIX}${name}`,
    tenantId: ctx.tenantId,
  };
  return full
    ? {
        id,
        name,
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
        location: ctx.location,
        properties,
      }
    : properties;
}

/** Shared state of one readTemplateRoles call. */
interface Reader {
  context: TemplateContext;
}

function rootTarget(template: Json, context: TemplateContext): Target {
  const schema = String(template.$schema ?? '');
  if (/subscriptionDeploymentTemplate\.json/i.test(schema)) return { subscriptionId: context.subscriptionId };
  if (/\/deploymentTemplate\.json/i.test(schema)) {
    if (!context.resourceGroupName) {
      throw new TemplateRolesError('a resource-group template needs context.resourceGroupName');
    }
    return { subscriptionId: context.subscriptionId, resourceGroup: context.resourceGroupName };
  }
  throw new TemplateRolesError(
    `templates of schema '${schema}' (management group, tenant) are not supported`,
  );
}

/** Evaluates the template's role assignments, with every principal, role and scope resolved. */
export function readTemplateRoles(
  template: unknown,
  parameters: Record<string, unknown>,
  context: TemplateContext,
): TemplateRoles {
  if (
    !isObject(template) ||
    typeof template.$schema !== 'string' ||
    !/deploymentTemplate\.json/i.test(template.$schema) ||
    !(Array.isArray(template.resources) || isObject(template.resources))
  ) {
    throw new TemplateRolesError('not an ARM template: expected a deployment template $schema and resources');
  }
  const declared = (template.parameters ?? {}) as Json;
  const givenKey = (name: string) =>
    Object.keys(parameters).find((k) => k.toLowerCase() === name.toLowerCase());
  for (const name of Object.keys(parameters)) {
    if (prop(declared, name) === undefined) throw new TemplateRolesError(`unknown parameter ${name}`);
  }
  const reader: Reader = { context };
  const root = new Deployment(
    reader,
    template,
    context.deploymentName ?? 'main',
    rootTarget(template, context),
    '',
    (name) => {
      const key = givenKey(name);
      return key === undefined ? { found: false } : { found: true, value: parameters[key] };
    },
  );
  for (const [name, decl] of Object.entries(declared)) {
    if (givenKey(name) === undefined && !('defaultValue' in (decl as Json)) && !root.nullable(decl as Json)) {
      throw new TemplateRolesError(`missing required parameter ${name}`);
    }
  }

  // Walk every deployed nested deployment and read its role assignments; remember every declared
  // resource for the identity list and the scope-tag lookup (evaluated there only for matching types).
  const declaredResources: Declared[] = [];
  const found: { instance: Instance; scope: string }[] = [];
  const walk = (deployment: Deployment) => {
    for (const [key, def] of deployment.resources()) {
      declaredResources.push({ deployment, key, def });
      const type = def.type.toLowerCase();
      if (type !== DEPLOYMENTS && type !== ROLE_ASSIGNMENTS) continue;
      for (const instance of instancesOf({ deployment, key, def })) {
        try {
          if (def.existing === true || !deployment.deployed(instance)) continue;
          if (type === DEPLOYMENTS) walk(deployment.child(instance));
          else found.push({ instance, scope: deployment.scopeOf(instance) });
        } catch (error) {
          throw wrap(error, instance.source);
        }
      }
    }
  };
  walk(root);

  const assignments = found.map(({ instance, scope }) => {
    try {
      return assignmentOf(instance, scope, declaredResources);
    } catch (error) {
      throw wrap(error, instance.source);
    }
  });

  const identities: TemplateIdentity[] = [];
  for (const instance of created(declaredResources, IDENTITIES)) {
    let resourceId: string;
    try {
      resourceId = instance.deployment.resourceId(instance);
    } catch (error) {
      throw wrap(error, instance.source);
    }
    if (identities.some((i) => i.resourceId.toLowerCase() === resourceId.toLowerCase())) continue;
    identities.push({ name: resourceId.split('/').pop()!, resourceId });
  }
  return { assignments, identities };
}

/** A resource as declared in one deployment's template (all copy indexes). */
interface Declared {
  deployment: Deployment;
  key: string;
  def: ResourceDef;
}

function instancesOf({ deployment, key, def }: Declared): Instance[] {
  const where = `${deployment.path === '' ? '' : `${deployment.path} > `}${key}`;
  try {
    return deployment.instances(key, def);
  } catch (error) {
    throw wrap(error, where);
  }
}

/** The instances of the declared resources of one type that the template creates (condition true, not existing). */
function* created(declared: Declared[], type: string): Generator<Instance> {
  for (const d of declared) {
    if (d.def.type.toLowerCase() !== type.toLowerCase() || d.def.existing === true) continue;
    for (const instance of instancesOf(d)) {
      try {
        if (instance.deployment.deployed(instance)) yield instance;
      } catch (error) {
        throw wrap(error, instance.source);
      }
    }
  }
}

function wrap(error: unknown, where: string): TemplateRolesError {
  if (error instanceof TemplateRolesError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TemplateRolesError(`${message} (in ${where})`);
}

function assignmentOf(instance: Instance, scope: string, declared: Declared[]): TemplateRoleAssignment {
  const { def, host } = instance;
  const props = (typeof def.properties === 'string' ? evaluateJson(def.properties, host) : def.properties) as
    Json | undefined;
  const principalId = str(evaluateJson(prop(props, 'principalId'), host), 'principalId');
  const roleDefinitionId = str(evaluateJson(prop(props, 'roleDefinitionId'), host), 'roleDefinitionId');
  const rawDescription = prop(props, 'description');
  const description = rawDescription === undefined ? undefined : evaluateJson(rawDescription, host);
  const scopeType = scopeTypeOf(scope);
  const tags = scopeTags(scope, scopeType, declared);
  return {
    principal: principalId.startsWith(PRINCIPAL_PREFIX)
      ? { kind: 'identity', name: principalId.slice(PRINCIPAL_PREFIX.length) }
      : { kind: 'parameter', value: principalId },
    roleDefinitionId: roleDefinitionId.split('/').pop()!.toLowerCase(),
    scope,
    scopeType,
    ...(tags === undefined ? {} : { scopeTags: tags }),
    ...(typeof description === 'string' && description !== '' ? { description } : {}),
    source: instance.source,
  };
}

/** Tags of the resource the template creates at `scope`, if it creates one there. */
function scopeTags(
  scope: string,
  scopeType: string,
  declared: Declared[],
): Record<string, string> | undefined {
  const type = scopeType === 'resourceGroup' ? RESOURCE_GROUPS : scopeType;
  for (const instance of created(declared, type)) {
    if (instance.deployment.resourceId(instance).toLowerCase() !== scope.toLowerCase()) continue;
    const tags = instance.def.tags === undefined ? {} : evaluateJson(instance.def.tags, instance.host);
    if (!isObject(tags)) throw new TemplateRolesError(`tags of ${instance.source} are not an object`);
    return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  }
  return undefined;
}
