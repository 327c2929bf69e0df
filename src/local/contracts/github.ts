/**
 * GitHub's contract: GitHub's own OpenAPI descriptions as `@octokit/openapi` ships them, for
 * api.github.com and for the newest GitHub Enterprise Server release in the package. Every exchange
 * is checked against each: the operation (method + path template), its path and query parameters,
 * the JSON request body, the response status (one the operation documents; an error status GitHub
 * documents for every endpoint is accepted too) and the JSON response body.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ajvViolations, newAjv, type ValidateFunction } from './json-schema.js';
import { parseBody, type ContractViolation, type Exchange, type ExchangeChecker } from './types.js';

/**
 * Statuses GitHub answers on any endpoint whether or not the operation lists them: authentication
 * (401), permissions and rate limits (403, 429; "Rate limits for the REST API"), not found (404),
 * validation (422) and server errors ("Troubleshooting the REST API"). Their bodies are GitHub's
 * `basic-error`.
 */
const GLOBAL_ERROR_STATUSES = new Set([401, 403, 404, 422, 429, 500, 502, 503, 504]);

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Json;
}

interface Operation {
  /** `GET /orgs/{org}/actions/runners` */
  name: string;
  method: string;
  regex: RegExp;
  pathNames: string[];
  /** Literal segments: more of them is a more specific template (`…/runners/registration-token` before `…/runners/{runner_id}`). */
  literals: number;
  parameters: Parameter[];
  body?: { required: boolean; pointer: string };
  /** Status → JSON pointer of its application/json schema (undefined: no JSON content). */
  responses: Map<string, string | undefined>;
}

interface Description {
  label: string;
  doc: Json;
  operations: Operation[];
  validators: Map<string, ValidateFunction>;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head'];

function pointerTo(...parts: string[]): string {
  return '/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/**
 * OpenAPI 3.0's `nullable: true` beside no `type` (on an `anyOf`, `allOf` or `$ref` schema) has no
 * JSON Schema meaning, and Ajv refuses it: it becomes `anyOf: [{ type: 'null' }, <the schema>]`; and
 * beside an `enum`, null joins the enum.
 */
function nullableToJsonSchema(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  for (const child of Object.values(node)) nullableToJsonSchema(child);
  const obj = node as Json;
  // `nullable: true` beside an `enum` that does not list null (a job's `conclusion`, null until it
  // ends): OpenAPI 3.0 allows null there, Ajv only when the enum lists it.
  if (obj.nullable === true && Array.isArray(obj.enum) && !obj.enum.includes(null))
    obj.enum = [...obj.enum, null];
  if (obj.nullable === true && !('type' in obj)) {
    const inner: Json = { ...obj };
    delete inner.nullable;
    for (const k of Object.keys(obj)) delete obj[k];
    obj.anyOf = [{ type: 'null' }, inner];
  }
}

function loadDescription(file: string, label: string): Description {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Json;
  nullableToJsonSchema(doc);
  const components = doc.components as {
    parameters?: Record<string, Json>;
    responses?: Record<string, Json>;
    requestBodies?: Record<string, Json>;
  };
  /** A response or request body, itself or the component its `$ref` names, with the JSON pointer to it. */
  const resolved = (
    node: Json | undefined,
    kind: 'responses' | 'requestBodies',
    pointer: string,
  ): [Json | undefined, string] => {
    const ref = node?.$ref as string | undefined;
    if (!ref) return [node, pointer];
    const name = ref.split('/').pop()!;
    return [components[kind]?.[name], pointerTo('components', kind, name)];
  };
  const jsonSchemaOf = (node: Json | undefined, pointer: string): string | undefined =>
    ((node?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema
      ? `${pointer}${pointerTo('content', 'application/json', 'schema')}`
      : undefined;
  const resolveParam = (p: Json): Json => {
    const ref = p.$ref as string | undefined;
    return ref ? (components.parameters?.[ref.split('/').pop()!] ?? {}) : p;
  };
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
    const shared = ((item.parameters as Json[] | undefined) ?? []).map(resolveParam);
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const pathNames: string[] = [];
      const source = template
        .split('/')
        .map((seg) =>
          seg.replace(/\{([^}]+)\}|[^{]+/g, (m, name: string | undefined) => {
            if (name) {
              pathNames.push(name);
              return '([^/]+)';
            }
            return m.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          }),
        )
        .join('/');
      const parameters = [...shared, ...((op.parameters as Json[] | undefined) ?? []).map(resolveParam)].map(
        (p) => ({
          name: String(p.name),
          in: String(p.in),
          required: p.required === true,
          schema: (p.schema as Json | undefined) ?? {},
        }),
      );
      const [requestBody, requestPointer] = resolved(
        op.requestBody as Json | undefined,
        'requestBodies',
        pointerTo('paths', template, method, 'requestBody'),
      );
      const bodyPointer = jsonSchemaOf(requestBody, requestPointer);
      const responses = new Map<string, string | undefined>();
      for (const [status, r] of Object.entries(op.responses as Record<string, Json>))
        responses.set(
          status,
          jsonSchemaOf(
            ...resolved(r, 'responses', pointerTo('paths', template, method, 'responses', status)),
          ),
        );
      operations.push({
        name: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        regex: new RegExp(`^${source}$`),
        pathNames,
        literals: template.split('/').filter((s) => s && !s.includes('{')).length,
        parameters,
        ...(bodyPointer ? { body: { required: requestBody?.required === true, pointer: bodyPointer } } : {}),
        responses,
      });
    }
  }
  operations.sort((a, b) => b.literals - a.literals);
  return { label, doc, operations, validators: new Map() };
}

function resolvePointer(doc: Json, pointer: string): unknown {
  let node: unknown = doc;
  for (const part of pointer.split('/').slice(1))
    node = (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}

/**
 * The schema at `pointer` with the components it reaches, as one schema: `{ ...schema, components }`.
 * Its `#/components/...` references then resolve inside it, so Ajv never sees the whole description
 * (adding a 13 MB document to Ajv costs more than all the checks of a run).
 */
function standalone(doc: Json, pointer: string): Json {
  const components: Record<string, Json> = {};
  const pending: unknown[] = [resolvePointer(doc, pointer)];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    const ref = (node as Json).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/')) {
      const [, , kind, name] = ref.split('/') as [string, string, string, string];
      const bucket = (components[kind] ??= {});
      if (!(name in bucket)) {
        bucket[name] = resolvePointer(doc, ref.slice(1));
        pending.push(bucket[name]);
      }
    }
    pending.push(...Object.values(node));
  }
  return { ...(resolvePointer(doc, pointer) as Json), components };
}

let sharedAjv: ReturnType<typeof newAjv> | undefined;
const ajv = () => (sharedAjv ??= newAjv());

function validator(d: Description, pointer: string): ValidateFunction {
  let v = d.validators.get(pointer);
  if (!v) {
    v = ajv().compile(standalone(d.doc, pointer));
    d.validators.set(pointer, v);
  }
  return v;
}

/** A path or query value (always a string on the wire) against its parameter schema. */
function paramProblem(value: string, schema: Json): string | undefined {
  const type = schema.type;
  if (type === 'integer' && !/^-?\d+$/.test(value)) return 'must be an integer';
  if (type === 'number' && !Number.isFinite(Number(value))) return 'must be a number';
  if (type === 'boolean' && value !== 'true' && value !== 'false') return 'must be true or false';
  if (Array.isArray(schema.enum) && !schema.enum.map(String).includes(value))
    return `must be one of ${JSON.stringify(schema.enum)}`;
  return undefined;
}

function checkAgainst(d: Description, ex: Exchange): ContractViolation[] {
  const path = ex.url.pathname;
  const op = d.operations.find((o) => o.method === ex.method && o.regex.test(path));
  const suffix = d.label === 'api.github.com' ? '' : ` [${d.label}]`;
  if (!op) {
    return [
      {
        service: 'github',
        operation: `${ex.method} ${path}${suffix}`,
        direction: 'request',
        field: 'path',
        rule: 'known-operation',
        detail: `${d.label} describes no operation for ${ex.method} ${path}`,
      },
    ];
  }
  const operation = `${op.name}${suffix}`;
  const out: ContractViolation[] = [];
  const req = (field: string, rule: string, detail: string) =>
    out.push({ service: 'github', operation, direction: 'request', field, rule, detail });
  const res = (field: string, rule: string, detail: string) =>
    out.push({ service: 'github', operation, direction: 'response', field, rule, detail });

  // Request: path and query parameters, body.
  const match = op.regex.exec(path)!;
  op.pathNames.forEach((name, i) => {
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name);
    const problem = p && paramProblem(decodeURIComponent(match[i + 1]!), p.schema);
    if (problem) req(`path.${name}`, 'type', problem);
  });
  const query = op.parameters.filter((p) => p.in === 'query');
  for (const [name, value] of ex.url.searchParams) {
    const p = query.find((x) => x.name === name);
    if (!p) req(`query.${name}`, 'documented-parameter', `${op.name} has no query parameter "${name}"`);
    else {
      const problem = paramProblem(value, p.schema);
      if (problem) req(`query.${name}`, 'type', problem);
    }
  }
  for (const p of query)
    if (p.required && !ex.url.searchParams.has(p.name))
      req(`query.${p.name}`, 'required', 'required query parameter missing');
  const body = parseBody(ex.requestBody);
  if (!body.ok) req('body', 'json', 'request body is not JSON');
  else if (body.value === undefined) {
    if (op.body?.required) req('body', 'required', 'request body required');
  } else if (!op.body) {
    req('body', 'no-body', `${op.name} takes no request body`);
  } else {
    const v = validator(d, op.body.pointer);
    if (!v(body.value))
      out.push(...ajvViolations(v.errors, { service: 'github', operation, direction: 'request' }));
  }

  // Response: a documented status, and its body.
  const status = String(ex.status);
  let pointer: string | undefined;
  if (op.responses.has(status)) pointer = op.responses.get(status);
  else if (GLOBAL_ERROR_STATUSES.has(ex.status)) pointer = pointerTo('components', 'schemas', 'basic-error');
  else {
    res(
      'status',
      'documented-status',
      `HTTP ${status} is not among the documented ${[...op.responses.keys()].join(', ')}`,
    );
    return out;
  }
  const answer = parseBody(ex.responseBody);
  if (!answer.ok) res('body', 'json', 'response body is not JSON');
  else if (pointer && answer.value === undefined)
    res('body', 'required', `HTTP ${status} answers a JSON body`);
  else if (!pointer && answer.value !== undefined) res('body', 'no-body', `HTTP ${status} has no body`);
  else if (pointer) {
    const v = validator(d, pointer);
    if (!v(answer.value))
      out.push(...ajvViolations(v.errors, { service: 'github', operation, direction: 'response' }));
  }
  return out;
}

let descriptions: Description[] | undefined;

/** The descriptions, parsed once per process (about 0.5 s for both). */
function loadDescriptions(): Description[] {
  if (!descriptions) {
    const dir = join(
      dirname(createRequire(import.meta.url).resolve('@octokit/openapi/package.json')),
      'generated',
    );
    // The newest GHES release the package carries (file names like ghes-3.19.json).
    const ghes = readdirSync(dir)
      .map((f) => /^ghes-(\d+)\.(\d+)\.json$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]))[0];
    descriptions = [loadDescription(join(dir, 'api.github.com.json'), 'api.github.com')];
    if (ghes) descriptions.push(loadDescription(join(dir, ghes[0]), ghes[0].replace(/\.json$/, '')));
  }
  return descriptions;
}

export const checkGithub: ExchangeChecker = (ex) => loadDescriptions().flatMap((d) => checkAgainst(d, ex));

/**
 * A webhook delivery's body against GitHub's schema of it (`x-webhooks` of the api.github.com
 * description, e.g. `webhook-workflow-job-queued` for `workflow_job` with action `queued`): what the
 * simulator's deliveries (src/local/simulate/webhook-deliveries.ts) are held to, as the fakes' answers
 * are. `event` is the X-GitHub-Event header, the action is the body's.
 */
export function checkGithubWebhook(event: string, body: unknown): ContractViolation[] {
  const d = loadDescriptions()[0]!;
  const action = (body as { action?: unknown } | null)?.action;
  const name = `webhook-${event.replace(/_/g, '-')}${typeof action === 'string' ? `-${action.replace(/_/g, '-')}` : ''}`;
  const operation = `webhook ${event}${typeof action === 'string' ? `.${action}` : ''}`;
  const schemas = (d.doc.components as { schemas: Record<string, unknown> }).schemas;
  if (!(name in schemas))
    return [
      {
        service: 'github',
        operation,
        direction: 'request',
        field: 'body/action',
        rule: 'known-operation',
        detail: `${d.label} describes no webhook ${name}`,
      },
    ];
  const v = validator(d, pointerTo('components', 'schemas', name));
  return v(body) ? [] : ajvViolations(v.errors, { service: 'github', operation, direction: 'request' });
}
