// Readers over ARM JSON for the infra tests: role assignments of a snapshot (scope, role, who),
// resources by type, and a validator of parameter values against the compiled template's parameter
// declarations and user-defined types (type, allowed values, bounds, required and unknown properties).

/** Built-in roles by GUID; anything kiln assigns must be listed here to be recognised. */
export const ROLE_NAMES = {
  '7f951dda-4ed3-4680-a7ca-43fe172d538d': 'AcrPull',
  '8311e382-0749-4cb8-b61a-304f252e45ec': 'AcrPush',
  '85a2d0d9-2eba-4c9c-b355-11c2cc0788ab': 'Compute Gallery Artifacts Publisher',
  'b9a307c4-5aa3-4b52-ba60-2b17c136cd7b': 'Container Apps Jobs Operator',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  'f1a07417-d97a-45cb-824c-7a7467783830': 'Managed Identity Operator',
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': 'Key Vault Secrets Officer',
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '9980e02c-c2be-4d73-94e8-173b1dc7cf3c': 'Virtual Machine Contributor',
};

/** Roles that must never be granted by kiln's templates. */
export const FORBIDDEN_ROLES = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
  'f58310d9-a9f6-439a-9e8d-f62e7b41a168': 'Role Based Access Control Administrator',
};

export function resourcesOf(snapshot, type) {
  return snapshot.predictedResources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

export function findResource(snapshot, type, name) {
  const found = resourcesOf(snapshot, type).find((r) => r.name === name);
  if (!found) throw new Error(`no ${type} named ${name} in the snapshot`);
  return found;
}

const stripBrackets = (expr) => (expr.startsWith('[') && expr.endsWith(']') ? expr.slice(1, -1) : expr);

/** Which identity an evaluated principalId belongs to. */
export function actorOf(principalExpr) {
  const m = /format\('(\w+)Identity-\{0\}'/.exec(principalExpr);
  if (m) return m[1];
  return principalExpr.startsWith('[') ? `expression:${principalExpr}` : `principal:${principalExpr}`;
}

/** Role assignments of a snapshot with their scope, role and principal made explicit. */
export function roleAssignments(snapshot) {
  return resourcesOf(snapshot, 'Microsoft.Authorization/roleAssignments').map((r) => {
    let scope;
    let m = /^\[extensionResourceId\('([^']+)', 'Microsoft\.Authorization\/roleAssignments'/.exec(r.id);
    if (m) scope = m[1];
    m = /^\[resourceId\('([^']+)', '([^']+)', 'Microsoft\.Authorization\/roleAssignments'/.exec(r.id);
    if (m) scope = `/subscriptions/${m[1]}/resourceGroups/${m[2]}`;
    m = /^\[subscriptionResourceId\('([^']+)', 'Microsoft\.Authorization\/roleAssignments'/.exec(r.id);
    if (m) scope = `/subscriptions/${m[1]}`;
    if (!scope && r.id.startsWith('/'))
      scope = r.id.replace(/\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i, '');
    const roleId = r.properties.roleDefinitionId.split('/').pop();
    return {
      resource: r,
      scope,
      roleId,
      role: ROLE_NAMES[roleId] ?? FORBIDDEN_ROLES[roleId] ?? `unknown role ${roleId}`,
      actor: actorOf(r.properties.principalId),
      principalExpr: stripBrackets(r.properties.principalId),
      nameExpr: r.name,
    };
  });
}

/** Kind of an ARM scope id: subscription, resourceGroup or resource. */
export function scopeKind(scope) {
  if (/^\/subscriptions\/[^/]+$/i.test(scope)) return 'subscription';
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(scope)) return 'resourceGroup';
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(scope)) return 'resource';
  return 'unknown';
}

function resolve(schema, definitions) {
  let s = schema;
  const seen = new Set();
  while (s && s.$ref) {
    if (seen.has(s.$ref)) throw new Error(`cyclic $ref ${s.$ref}`);
    seen.add(s.$ref);
    const name = s.$ref.replace('#/definitions/', '');
    const target = definitions[name];
    if (!target) throw new Error(`unknown type ${s.$ref}`);
    const { $ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  return s;
}

function typeMatches(type, value) {
  switch (type.toLowerCase()) {
    case 'string':
    case 'securestring':
      return typeof value === 'string';
    case 'int':
      return Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'object':
    case 'secureobject':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    default:
      return false;
  }
}

/** Problems of one value against one parameter/type schema of a compiled template. */
export function checkValue(schema, value, where, definitions, problems = []) {
  const s = resolve(schema, definitions);
  if (value === null) {
    if (!s.nullable) problems.push(`${where}: null is not allowed`);
    return problems;
  }
  if (!typeMatches(s.type, value)) {
    problems.push(`${where}: expected ${s.type}, got ${Array.isArray(value) ? 'array' : typeof value}`);
    return problems;
  }
  if (s.allowedValues) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (!s.allowedValues.some((a) => JSON.stringify(a) === JSON.stringify(v))) {
        problems.push(`${where}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.allowedValues)}`);
      }
    }
  }
  if (s.minValue !== undefined && value < s.minValue)
    problems.push(`${where}: ${value} < minValue ${s.minValue}`);
  if (s.maxValue !== undefined && value > s.maxValue)
    problems.push(`${where}: ${value} > maxValue ${s.maxValue}`);
  if (s.minLength !== undefined && value.length < s.minLength)
    problems.push(`${where}: shorter than ${s.minLength}`);
  if (s.maxLength !== undefined && value.length > s.maxLength)
    problems.push(`${where}: longer than ${s.maxLength}`);
  if (s.type === 'object' && (s.properties || s.additionalProperties !== undefined)) {
    const props = s.properties ?? {};
    for (const [key, propSchema] of Object.entries(props)) {
      if (key in value) checkValue(propSchema, value[key], `${where}.${key}`, definitions, problems);
      else if (!resolve(propSchema, definitions).nullable)
        problems.push(`${where}.${key}: required property missing`);
    }
    for (const key of Object.keys(value)) {
      if (key in props) continue;
      if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        checkValue(s.additionalProperties, value[key], `${where}.${key}`, definitions, problems);
      } else if (s.additionalProperties !== true) {
        problems.push(`${where}.${key}: unknown property`);
      }
    }
  }
  if (s.type === 'array' && s.items)
    value.forEach((v, i) => checkValue(s.items, v, `${where}[${i}]`, definitions, problems));
  return problems;
}

/** Problems of an ARM parameters file against a compiled template (names, types, allowed values, required). */
export function checkParametersFile(template, parametersFile) {
  const problems = [];
  const declared = template.parameters ?? {};
  const definitions = template.definitions ?? {};
  for (const [name, entry] of Object.entries(parametersFile.parameters ?? {})) {
    if (!(name in declared)) {
      problems.push(`${name}: not a parameter of the template`);
      continue;
    }
    if ('reference' in entry) continue; // Key Vault reference: resolved by ARM at deployment time
    if (!('value' in entry)) {
      problems.push(`${name}: neither value nor reference`);
      continue;
    }
    checkValue(declared[name], entry.value, name, definitions, problems);
  }
  for (const [name, schema] of Object.entries(declared)) {
    const s = resolve(schema, definitions);
    if (!('defaultValue' in schema) && !s.nullable && !(name in (parametersFile.parameters ?? {}))) {
      problems.push(`${name}: required parameter missing`);
    }
  }
  return problems;
}
