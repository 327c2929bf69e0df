/**
 * Azure Resource Manager's contract, as the Azure SDK packages describe the operations. No package
 * on npm carries the azure-rest-api-specs OpenAPI files, so the SDKs' generated operation specs and
 * mappers (themselves generated from those OpenAPI files) are the machine-readable source:
 *
 * - Operations, bodies and statuses from the "classic" generated SDKs, whose `OperationSpec`s carry
 *   the path template, method, api-version, URL parameter constraints, the request body mapper and a
 *   body mapper per documented status (`default`: any error, with its error mapper), and whose
 *   mappers carry types, `required`, `readOnly`, `isConstant` and the values of fixed enums:
 *   `@azure/arm-resources` 7, `@azure/arm-appcontainers` 3 and `@azure/arm-authorization` 9 (the
 *   very packages kiln uses: the last for doctor's role assignment reads), and
 *   `@azure/arm-compute` 23 (installed as `arm-compute-contracts`, its last classic release).
 * - For compute, kiln's own `@azure/arm-compute` 25 is the newer "modular" SDK without mappers: from
 *   it come the operations as sent (path template, method, api-version) and their expected statuses;
 *   the body shapes stay those of arm-compute 23 (api-version 2025-04-01 for scale sets, 2024-03-03
 *   for galleries). Newer properties are unknown there and so accepted; a property whose type,
 *   requiredness or fixed enum changed since would show as a violation.
 *
 * The specs are captured at run time: each classic client's operations are called with dummy
 * arguments while `sendOperationRequest` is replaced by a catcher of its `OperationSpec`, so that no
 * request is sent and the specs are exactly those the SDK would use.
 *
 * Long-running operations are then followed on the URLs the service answered in `Azure-AsyncOperation`
 * or `Location`; those are opaque to the descriptions (ARM's async operation protocol), so they are
 * accepted by URL and only their status codes (200, 202, or an error) are checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseBody, type ContractViolation, type Exchange, type ExchangeChecker } from './types.js';

/** The slice of core-client's Mapper that the checks read. */
interface Mapper {
  serializedName?: string;
  required?: boolean;
  readOnly?: boolean;
  nullable?: boolean;
  isConstant?: boolean;
  defaultValue?: unknown;
  constraints?: { Pattern?: RegExp | string; MaxLength?: number; MinLength?: number };
  type: {
    name: string;
    className?: string;
    modelProperties?: Record<string, Mapper>;
    element?: Mapper;
    value?: Mapper;
    allowedValues?: unknown[];
  };
}

interface OperationParameter {
  parameterPath: string | string[] | Record<string, unknown>;
  mapper: Mapper;
  /** Sent as is: a scope or resource id spanning several path segments. */
  skipEncoding?: boolean;
}

interface OperationSpec {
  path?: string;
  httpMethod: string;
  responses: Record<string, { bodyMapper?: Mapper }>;
  requestBody?: OperationParameter;
  queryParameters?: OperationParameter[];
  urlParameters?: OperationParameter[];
  serializer: { modelMappers: Record<string, Mapper> };
}

interface Operation {
  name: string;
  method: string;
  template: string;
  regex: RegExp;
  pathNames: string[];
  literals: number;
  /** A parameter spans segments: the template fits paths of any length. */
  spans: boolean;
  apiVersion?: string;
  /** 2xx statuses the operation documents. */
  statuses: string[];
  spec?: OperationSpec;
}

// ------------------------------------------------------------------ loading

const NOT_SENT = Symbol('contract capture');

/** Captures every OperationSpec of a classic client by calling its operations with dummy arguments. */
async function captureSpecs(client: Record<string, unknown>): Promise<Map<OperationSpec, string>> {
  const specs = new Map<OperationSpec, string>();
  let current = '';
  client.sendOperationRequest = (_args: unknown, spec: OperationSpec) => {
    if (!specs.has(spec)) specs.set(spec, current);
    throw NOT_SENT;
  };
  // The operation groups (client.jobs, …), and the client itself for its own operations (jobExecution).
  const groups: [string, object][] = [['', client]];
  for (const [group, impl] of Object.entries(client))
    if (typeof impl === 'object' && impl !== null && (impl as { client?: unknown }).client === client)
      groups.push([`${group}.`, impl]);
  for (const [group, impl] of groups) {
    const proto = Object.getPrototypeOf(impl) as Record<string, unknown>;
    for (const method of Object.getOwnPropertyNames(proto)) {
      const fn = proto[method];
      if (method === 'constructor' || typeof fn !== 'function') continue;
      current = `${group}${method.replace(/^_/, '').replace(/^begin(\w)(.*?)(AndWait)?$/, (_m, a: string, b: string) => a.toLowerCase() + b)}`;
      const args = Array.from({ length: Math.max(0, fn.length - 1) }, () => 'x');
      try {
        const r = (fn as (...a: unknown[]) => unknown).apply(impl, [...args, {}]);
        if (r && typeof (r as AsyncIterator<unknown>).next === 'function')
          await (r as AsyncIterator<unknown>).next();
        else await r;
      } catch {
        // NOT_SENT, or an operation that refused the dummy arguments before sending (not captured).
      }
    }
  }
  return specs;
}

/**
 * `/a/{b}/c` → a case-insensitive regex (ARM paths are case-insensitive) and its parameter names.
 * `spanning` parameters (a `{scope}`) match several segments.
 */
function compileTemplate(
  template: string,
  spanning: string[] = [],
): Pick<Operation, 'regex' | 'pathNames' | 'literals' | 'spans'> {
  const pathNames: string[] = [];
  const source = template.replace(/\{([^}]+)\}|[^{]+/g, (m, name: string | undefined) => {
    if (name) {
      pathNames.push(name);
      return spanning.includes(name) ? '(.+)' : '([^/]+)';
    }
    return m.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return {
    regex: new RegExp(`^${source}$`, 'i'),
    pathNames,
    literals: template.split('/').filter((s) => s && !s.includes('{')).length,
    spans: pathNames.some((n) => spanning.includes(n)),
  };
}

const key = (method: string, template: string) =>
  `${method.toUpperCase()} ${template.replace(/\{[^}]+\}/g, '{}').toLowerCase()}`;

function fromClassic(specs: Map<OperationSpec, string>): Operation[] {
  const out: Operation[] = [];
  for (const [spec, name] of specs) {
    // Skipped: next-page links, and templates that are one parameter (`/{resourceId}`), which would match any path.
    if (!spec.path || spec.path.includes('{nextLink}') || !/\/[^{/]/.test(spec.path)) continue;
    const spanning = (spec.urlParameters ?? [])
      .filter((u) => u.skipEncoding && typeof u.parameterPath === 'string')
      .map((u) => u.mapper.serializedName ?? String(u.parameterPath));
    const apiVersion = spec.queryParameters?.find((q) => q.mapper.serializedName === 'api-version')?.mapper
      .defaultValue as string | undefined;
    out.push({
      name,
      method: spec.httpMethod,
      template: spec.path,
      ...compileTemplate(spec.path, spanning),
      apiVersion,
      statuses: Object.keys(spec.responses).filter((s) => /^2\d\d$/.test(s)),
      spec,
    });
  }
  return out;
}

/** Reads arm-compute 25's operations as sent: `_xSend` (template, method, api-version) and `_xDeserialize` (expected statuses). */
function modularCompute(classic: Map<string, Operation>): Operation[] {
  const require = createRequire(import.meta.url);
  const apiDir = join(dirname(require.resolve('@azure/arm-compute/package.json')), 'dist', 'esm', 'api');
  const out: Operation[] = [];
  for (const group of readdirSync(apiDir, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    let text: string;
    try {
      text = readFileSync(join(apiDir, group.name, 'operations.js'), 'utf8');
    } catch {
      continue;
    }
    const statuses = new Map<string, string[]>();
    for (const m of text.matchAll(
      /export async function _(\$?\w+)Deserialize\(result\) \{\s*const expectedStatuses = \[([^\]]*)\]/g,
    ))
      statuses.set(
        m[1]!,
        [...m[2]!.matchAll(/"(\d+)"/g)].map((s) => s[1]!),
      );
    const sends =
      /export function _(\$?\w+)Send\([^)]*\) \{\s*const path = expandUrlTemplate\("([^"]+)", \{([^}]*)\}[\s\S]*?\.path\(path\)\s*\.(\w+)\(/g;
    for (const m of text.matchAll(sends)) {
      const [, fn, rawTemplate, values, method] = m as unknown as [string, string, string, string, string];
      const template = rawTemplate.replace(/\{\?[^}]*\}$/, '');
      const apiVersion = /"api%2Dversion": "([^"]+)"/.exec(values)?.[1];
      const httpMethod = method.toUpperCase();
      out.push({
        name: `${group.name}.${fn.replace(/^\$/, '')}`,
        method: httpMethod,
        template,
        ...compileTemplate(template),
        apiVersion,
        statuses: (statuses.get(fn) ?? ['200']).filter((s) => s.startsWith('2')),
        spec: classic.get(key(httpMethod, template))?.spec,
      });
    }
  }
  return out;
}

let loading: Promise<Operation[]> | undefined;

/** Loads the ARM operations once per process (under a second: four SDKs' specs are captured). */
export function loadArmContract(): Promise<Operation[]> {
  loading ??= (async () => {
    const credential = { getToken: () => Promise.resolve(null) };
    type Client = new (credential: unknown, subscriptionId: string) => object;
    const specsOf = async (Client: Client) =>
      fromClassic(await captureSpecs(new Client(credential, 'x') as Record<string, unknown>));
    const [resources, apps, authorization, computeClassic] = await Promise.all([
      import('@azure/arm-resources').then((m) => specsOf(m.ResourceManagementClient as Client)),
      import('@azure/arm-appcontainers').then((m) => specsOf(m.ContainerAppsAPIClient as Client)),
      import('@azure/arm-authorization').then((m) => specsOf(m.AuthorizationManagementClient as Client)),
      import('arm-compute-contracts').then((m) => specsOf(m.ComputeManagementClient as Client)),
    ]);
    const classic = [...resources, ...apps, ...authorization];
    const compute = new Map(computeClassic.map((o) => [key(o.method, o.template), o] as const));
    const all = [...classic, ...modularCompute(compute)];
    return all.sort((a, b) => b.literals - a.literals);
  })();
  return loading;
}

// ------------------------------------------------------------------ checking bodies against mappers

type Problem = [field: string, rule: string, detail: string];

function resolveMapper(m: Mapper, models: Record<string, Mapper>): Mapper {
  if (m.type.name === 'Composite' && !m.type.modelProperties && m.type.className) {
    const model = models[m.type.className];
    if (model) return { ...model, required: m.required, readOnly: m.readOnly, nullable: m.nullable };
  }
  return m;
}

/** A flattened property (`properties.upgradePolicy`, dots escaped as `\.`) read out of an object. */
function readPath(obj: Record<string, unknown>, serializedName: string): unknown {
  let v: unknown = obj;
  for (const part of serializedName.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, '.'))) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function checkMapper(
  raw: Mapper,
  value: unknown,
  field: string,
  models: Record<string, Mapper>,
  direction: 'request' | 'response',
  out: Problem[],
): void {
  const m = resolveMapper(raw, models);
  if (value === undefined) return;
  if (value === null) {
    if (m.required && !m.nullable) out.push([field, 'nullable', 'must not be null']);
    return;
  }
  if (m.isConstant && m.defaultValue !== undefined && value !== m.defaultValue) {
    out.push([field, 'constant', `must be ${JSON.stringify(m.defaultValue)}`]);
    return;
  }
  const t = m.type;
  switch (t.name) {
    case 'String':
    case 'Uuid':
    case 'ByteArray':
    case 'Base64Url':
      if (typeof value !== 'string')
        out.push([field, 'type', `must be a string, got ${JSON.stringify(value)}`]);
      return;
    case 'Number':
      if (typeof value !== 'number')
        out.push([field, 'type', `must be a number, got ${JSON.stringify(value)}`]);
      return;
    case 'Boolean':
      if (typeof value !== 'boolean')
        out.push([field, 'type', `must be a boolean, got ${JSON.stringify(value)}`]);
      return;
    case 'DateTime':
    case 'DateTimeRfc1123':
    case 'Date':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
        out.push([field, 'format', `must be a date-time string, got ${JSON.stringify(value)}`]);
      return;
    case 'Enum': {
      // A fixed enum; compared without case, as the SDK's serializer does.
      const ok = (t.allowedValues ?? []).some((a) =>
        typeof a === 'string' && typeof value === 'string'
          ? a.toLowerCase() === value.toLowerCase()
          : a === value,
      );
      if (!ok)
        out.push([
          field,
          'enum',
          `must be one of ${JSON.stringify(t.allowedValues)}, got ${JSON.stringify(value)}`,
        ]);
      return;
    }
    case 'Sequence':
      if (!Array.isArray(value)) return void out.push([field, 'type', 'must be an array']);
      if (t.element)
        value.forEach((v, i) => checkMapper(t.element!, v, `${field}/${i}`, models, direction, out));
      return;
    case 'Dictionary':
      if (typeof value !== 'object' || Array.isArray(value))
        return void out.push([field, 'type', 'must be an object']);
      if (t.value)
        for (const [k, v] of Object.entries(value as Record<string, unknown>))
          checkMapper(t.value, v, `${field}/${k}`, models, direction, out);
      return;
    case 'Composite': {
      if (typeof value !== 'object' || Array.isArray(value))
        return void out.push([field, 'type', `must be an object (${t.className ?? 'Composite'})`]);
      const obj = value as Record<string, unknown>;
      for (const [name, prop] of Object.entries(t.modelProperties ?? {})) {
        if (!prop.serializedName) continue;
        const v = readPath(obj, prop.serializedName);
        const at = `${field}/${prop.serializedName.replace(/(?<!\\)\./g, '/').replace(/\\\./g, '.')}`;
        if (v === undefined) {
          // A required read-only property is the service's to fill: only an answer must carry it.
          if (prop.required && !(prop.readOnly && direction === 'request'))
            out.push([at, 'required', `${t.className ?? ''}.${name} is required`]);
          continue;
        }
        if (prop.readOnly && direction === 'request')
          out.push([at, 'readOnly', `${t.className ?? ''}.${name} is read-only`]);
        checkMapper(prop, v, at, models, direction, out);
      }
      return;
    }
    default:
      return; // Object, Stream and anything newer: no shape to check
  }
}

// ------------------------------------------------------------------ checking exchanges

function checkParameter(p: OperationParameter, value: string, out: Problem[]): void {
  const c = p.mapper.constraints;
  const name = `path.${p.mapper.serializedName ?? String(p.parameterPath)}`;
  if (!c) return;
  if (c.Pattern && !new RegExp(c.Pattern).test(value))
    out.push([name, 'pattern', `must match ${String(c.Pattern)}`]);
  if (c.MaxLength !== undefined && value.length > c.MaxLength)
    out.push([name, 'maxLength', `at most ${c.MaxLength} characters`]);
  if (c.MinLength !== undefined && value.length < c.MinLength)
    out.push([name, 'minLength', `at least ${c.MinLength} characters`]);
}

export function armChecker(operations: Operation[]): ExchangeChecker {
  /** URLs answered in Azure-AsyncOperation / Location headers: ARM's async operation protocol. */
  const asyncUrls = new Set<string>();
  // Candidates by method and segment count: a check then tries a handful of templates, not ~500;
  // templates with a parameter spanning segments (`/{scope}/providers/…`) are tried after those.
  const byShape = new Map<string, Operation[]>();
  for (const o of operations) {
    const k = o.spans ? `${o.method} *` : `${o.method} ${o.template.split('/').length}`;
    byShape.set(k, [...(byShape.get(k) ?? []), o]);
  }
  return (ex: Exchange): ContractViolation[] => {
    // Remember where the service said to follow a long-running operation.
    for (const h of ['azure-asyncoperation', 'location']) {
      const v = ex.responseHeaders[h];
      if (typeof v === 'string') {
        try {
          asyncUrls.add(new URL(v).pathname.toLowerCase());
        } catch {
          // not a URL: not followed
        }
      }
    }
    const path = ex.url.pathname;
    const op =
      byShape.get(`${ex.method} ${path.split('/').length}`)?.find((o) => o.regex.test(path)) ??
      byShape.get(`${ex.method} *`)?.find((o) => o.regex.test(path));
    if (!op) {
      if (ex.method === 'GET' && asyncUrls.has(path.toLowerCase())) {
        if (ex.status < 400 && ex.status !== 200 && ex.status !== 202)
          return [
            violation('async operation', 'response', [
              'status',
              'documented-status',
              `HTTP ${ex.status} on an async operation URL (200 or 202)`,
            ]),
          ];
        return [];
      }
      return [
        violation(`${ex.method} ${path}`, 'request', [
          'path',
          'known-operation',
          'no operation of the Azure SDK descriptions matches',
        ]),
      ];
    }
    const req: Problem[] = [];
    const res: Problem[] = [];
    const spec = op.spec;

    // Request: api-version, path parameter constraints, body.
    const apiVersion = ex.url.searchParams.get('api-version');
    if (apiVersion === null) req.push(['query.api-version', 'required', 'api-version is required']);
    else if (op.apiVersion && apiVersion !== op.apiVersion)
      req.push([
        'query.api-version',
        'enum',
        `api-version ${apiVersion} is not the described ${op.apiVersion}`,
      ]);
    const match = op.regex.exec(path)!;
    op.pathNames.forEach((name, i) => {
      const p = spec?.urlParameters?.find((u) => u.mapper.serializedName === name);
      if (p) checkParameter(p, decodeURIComponent(match[i + 1]!), req);
    });
    const body = parseBody(ex.requestBody);
    if (!body.ok) req.push(['body', 'json', 'request body is not JSON']);
    else if (spec) {
      const mapper = spec.requestBody?.mapper;
      if (body.value === undefined) {
        if (mapper?.required) req.push(['body', 'required', 'request body required']);
      } else if (!mapper) req.push(['body', 'no-body', `${op.name} takes no request body`]);
      else checkMapper(mapper, body.value, 'body', spec.serializer.modelMappers, 'request', req);
    }

    // Response: a documented status and its body.
    const status = String(ex.status);
    const answer = parseBody(ex.responseBody);
    let mapper: Mapper | undefined;
    if (ex.status >= 400) {
      if (spec && !spec.responses.default && !spec.responses[status])
        res.push(['status', 'documented-status', `HTTP ${status} is not documented`]);
      mapper = spec?.responses[status]?.bodyMapper ?? spec?.responses.default?.bodyMapper;
    } else if (!op.statuses.includes(status)) {
      res.push([
        'status',
        'documented-status',
        `HTTP ${status} is not among the documented ${op.statuses.join(', ')}`,
      ]);
    } else {
      // The modular SDK reads every expected status with the operation's one response model.
      mapper = spec?.responses[status]?.bodyMapper ?? spec?.responses['200']?.bodyMapper;
    }
    if (!answer.ok) res.push(['body', 'json', 'response body is not JSON']);
    else if (mapper && answer.value !== undefined && spec)
      checkMapper(mapper, answer.value, 'body', spec.serializer.modelMappers, 'response', res);

    return [
      ...req.map((p) => violation(op.name, 'request', p)),
      ...res.map((p) => violation(op.name, 'response', p)),
    ];
  };
}

function violation(
  operation: string,
  direction: 'request' | 'response',
  [field, rule, detail]: Problem,
): ContractViolation {
  return { service: 'arm', operation, direction, field, rule, detail };
}
