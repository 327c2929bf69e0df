/**
 * Azure DevOps' contract. Microsoft publishes no machine-readable description of these routes on
 * npm: the official Node client (`azure-devops-node-api`) resolves its routes at run time from the
 * server's location service. So the contract has two official sources:
 *
 * - the operations (method, route, api-version, query parameters, statuses) are the REST reference
 *   for Distributed Task 7.1 ("Pools - Get Agent Pools / Get Agent Pool", "Agents - List / Get /
 *   Update / Delete"),
 *   written down in `OPERATIONS` below; the pool's job requests (`GET …/pools/{poolId}/jobrequests`)
 *   are in no REST reference, so their route and query parameters are the official client's
 *   (`TaskAgentApiBase`: getAgentRequests, getAgentRequestsForAgent(s), getAgentRequestsForPlan, all
 *   one location, fc825784-c92a-4299-9221-998a02d1b54f), their answer its `TaskAgentJobRequest`;
 * - the body shapes are the client's typings and TypeInfo (`interfaces/TaskAgentInterfaces`): every
 *   field the typings declare is checked for its type (number, string, boolean, a date string, one
 *   of the enum's wire names, a nested interface, an array); fields they do not declare are
 *   accepted (the service adds fields before the typings do).
 *
 * The typings mark every field optional, so "required" comes from the REST reference: a list answer
 * is `{ count, value: [...] }`, and an agent or pool always carries its `id` and `name`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ContractViolation, Exchange, ExchangeChecker } from './types.js';
import { parseBody } from './types.js';

const API_VERSIONS = ['7.1'];

interface Operation {
  name: string;
  method: string;
  /** Route after `/{organization}/_apis/distributedtask`. */
  regex: RegExp;
  pathNames: string[];
  query: string[];
  /** Typings interface of the request body (undefined: no body). */
  body?: string;
  statuses: number[];
  /** Typings interface of the 2xx answer; `list:` wraps it in `{ count, value }`. */
  answer?: string;
}

const OPERATIONS: Operation[] = [
  {
    name: 'Pools - Get Agent Pools',
    method: 'GET',
    regex: /^\/pools$/i,
    pathNames: [],
    query: ['poolName', 'properties', 'poolType', 'actionFilter'],
    statuses: [200],
    answer: 'list:TaskAgentPool',
  },
  {
    name: 'Pools - Get Agent Pool',
    method: 'GET',
    regex: /^\/pools\/([^/]+)$/i,
    pathNames: ['poolId'],
    query: ['properties', 'actionFilter'],
    statuses: [200],
    answer: 'TaskAgentPool',
  },
  {
    name: 'Agents - List',
    method: 'GET',
    regex: /^\/pools\/([^/]+)\/agents$/i,
    pathNames: ['poolId'],
    query: [
      'agentName',
      'includeCapabilities',
      'includeAssignedRequest',
      'includeLastCompletedRequest',
      'propertyFilters',
      'demands',
    ],
    statuses: [200],
    answer: 'list:TaskAgent',
  },
  {
    name: 'Agents - Get',
    method: 'GET',
    regex: /^\/pools\/([^/]+)\/agents\/([^/]+)$/i,
    pathNames: ['poolId', 'agentId'],
    query: [
      'includeCapabilities',
      'includeAssignedRequest',
      'includeLastCompletedRequest',
      'propertyFilters',
    ],
    statuses: [200],
    answer: 'TaskAgent',
  },
  {
    name: 'Agents - Update',
    method: 'PATCH',
    regex: /^\/pools\/([^/]+)\/agents\/([^/]+)$/i,
    pathNames: ['poolId', 'agentId'],
    query: [],
    body: 'TaskAgent',
    statuses: [200],
    answer: 'TaskAgent',
  },
  {
    // Not in the REST reference: the official client's route (see above). The service answers the
    // list in the `{ count, value }` envelope, as every list of the reference.
    name: 'Requests - List',
    method: 'GET',
    regex: /^\/pools\/([^/]+)\/jobrequests$/i,
    pathNames: ['poolId'],
    query: ['agentId', 'agentIds', 'completedRequestCount', '$top', 'continuationToken', 'planId', 'jobId'],
    statuses: [200],
    answer: 'list:TaskAgentJobRequest',
  },
  {
    // The reference lists 200; the service answers 204 No Content (no body) as well.
    name: 'Agents - Delete',
    method: 'DELETE',
    regex: /^\/pools\/([^/]+)\/agents\/([^/]+)$/i,
    pathNames: ['poolId', 'agentId'],
    query: [],
    statuses: [200, 204],
  },
];

/** Fields every answered instance carries (REST reference), beyond what the all-optional typings say. A request (Agents - Update) may send only what it changes. */
const REQUIRED: Record<string, string[]> = {
  TaskAgent: ['id', 'name'],
  TaskAgentPool: ['id', 'name'],
  TaskAgentJobRequest: ['requestId', 'queueTime'],
};

interface Typings {
  /** Interface → field → declared type text (`number`, `Date`, `TaskAgentStatus`, `TaskAgentJobRequest[]`, …). */
  interfaces: Map<string, Map<string, string>>;
  /** Enum → wire names (lower case), from TypeInfo. */
  enums: Map<string, Set<string>>;
}

let typings: Typings | undefined;

/** Reads the client's typings (interface fields, with `extends`) and TypeInfo (enum wire names), once. */
function loadTypings(): Typings {
  if (typings) return typings;
  const require = createRequire(import.meta.url);
  const dts = readFileSync(
    require.resolve('azure-devops-node-api/interfaces/TaskAgentInterfaces.d.ts'),
    'utf8',
  );
  const own = new Map<string, { bases: string[]; fields: Map<string, string> }>();
  for (const m of dts.matchAll(/^export interface (\w+)(?: extends ([\w., ]+))? \{([\s\S]*?)\n\}/gm)) {
    const fields = new Map<string, string>();
    for (const f of m[3]!.matchAll(/^ {4}(\w+)\??: (.+?);?$/gm)) fields.set(f[1]!, f[2]!.trim());
    own.set(m[1]!, {
      bases: (m[2] ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      fields,
    });
  }
  const interfaces = new Map<string, Map<string, string>>();
  const flatten = (name: string): Map<string, string> => {
    const known = interfaces.get(name);
    if (known) return known;
    const decl = own.get(name);
    const all = new Map<string, string>();
    for (const base of decl?.bases ?? []) for (const [k, v] of flatten(base)) all.set(k, v);
    for (const [k, v] of decl?.fields ?? []) all.set(k, v);
    interfaces.set(name, all);
    return all;
  };
  for (const name of own.keys()) flatten(name);
  const typeInfo = (
    require('azure-devops-node-api/interfaces/TaskAgentInterfaces') as {
      TypeInfo: Record<string, { enumValues?: Record<string, number> }>;
    }
  ).TypeInfo;
  const enums = new Map<string, Set<string>>();
  for (const [name, info] of Object.entries(typeInfo))
    if (info.enumValues) enums.set(name, new Set(Object.keys(info.enumValues).map((k) => k.toLowerCase())));
  typings = { interfaces, enums };
  return typings;
}

/** Checks `value` against a declared type; pushes [field, rule, detail] problems. */
function checkValue(
  t: Typings,
  type: string,
  value: unknown,
  field: string,
  out: [string, string, string][],
  answer: boolean,
): void {
  // JSON null stands for an absent optional field (every typed field is optional).
  if (value === null || value === undefined || type === 'any' || type.startsWith('{')) return;
  // The typings' `number[]` is .NET's byte[], which the service serializes as a base64 string.
  if (type === 'number[]' && typeof value === 'string') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) out.push([field, 'format', 'must be base64 (byte[])']);
    return;
  }
  // The typings' Demand is serialized as its text: `name`, or `name -equals value`, `-gtVersion`, ….
  if (type === 'Demand') {
    if (typeof value !== 'string' || !/^\S+( -\w+ .+)?$/.test(value))
      out.push([field, 'format', 'must be a demand string ("name" or "name -operator value")']);
    return;
  }
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) return void out.push([field, 'type', `must be an array (${type})`]);
    value.forEach((v, i) => checkValue(t, type.slice(0, -2), v, `${field}/${i}`, out, answer));
    return;
  }
  if (type === 'number' || type === 'string' || type === 'boolean') {
    if (typeof value !== type) out.push([field, 'type', `must be a ${type}`]);
    return;
  }
  if (type === 'Date') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
      out.push([field, 'format', 'must be a date-time string']);
    return;
  }
  const names = t.enums.get(type);
  if (names) {
    // Flag enums come as a comma-separated list of names ("none", "elasticPool, singleUse").
    const parts = typeof value === 'string' ? value.split(',').map((s) => s.trim().toLowerCase()) : [];
    if (parts.length === 0 || !parts.every((p) => names.has(p)))
      out.push([
        field,
        'enum',
        `must be one of ${JSON.stringify([...names])} (${type}), got ${JSON.stringify(value)}`,
      ]);
    return;
  }
  const fields = t.interfaces.get(type);
  if (!fields) return; // declared in another typings file (e.g. VSSInterfaces.IdentityRef): not checked
  if (typeof value !== 'object' || Array.isArray(value))
    return void out.push([field, 'type', `must be an object (${type})`]);
  const obj = value as Record<string, unknown>;
  if (answer)
    for (const r of REQUIRED[type] ?? [])
      if (obj[r] === undefined) out.push([`${field}/${r}`, 'required', `${type}.${r} is required`]);
  for (const [k, v] of Object.entries(obj)) {
    const declared = fields.get(k);
    if (declared) checkValue(t, declared, v, `${field}/${k}`, out, answer);
  }
}

function checkBody(t: Typings, type: string, value: unknown, answer: boolean): [string, string, string][] {
  const out: [string, string, string][] = [];
  if (type.startsWith('list:')) {
    const list = value as { count?: unknown; value?: unknown } | undefined;
    if (typeof list !== 'object' || list === null)
      return [['body', 'type', 'must be an object { count, value }']];
    if (typeof list.count !== 'number')
      out.push(['body/count', 'required', 'a list answer carries its count']);
    if (!Array.isArray(list.value))
      out.push(['body/value', 'required', 'a list answer carries its value array']);
    else list.value.forEach((v, i) => checkValue(t, type.slice(5), v, `body/value/${i}`, out, answer));
    if (Array.isArray(list.value) && list.count !== list.value.length)
      out.push([
        'body/count',
        'count',
        `count ${String(list.count)} is not the ${list.value.length} items of value`,
      ]);
    return out;
  }
  checkValue(t, type, value, 'body', out, answer);
  return out;
}

export const checkAdo: ExchangeChecker = (ex: Exchange) => {
  const t = loadTypings();
  const route = /^\/[^/]+\/_apis\/distributedtask(\/.*)$/i.exec(ex.url.pathname)?.[1];
  const op =
    route === undefined ? undefined : OPERATIONS.find((o) => o.method === ex.method && o.regex.test(route));
  if (!op || route === undefined) {
    return [
      {
        service: 'ado',
        operation: `${ex.method} ${ex.url.pathname}`,
        direction: 'request',
        field: 'path',
        rule: 'known-operation',
        detail: 'no Distributed Task operation of the REST reference matches',
      },
    ];
  }
  const out: ContractViolation[] = [];
  const add = (direction: 'request' | 'response') => (p: [string, string, string]) =>
    out.push({ service: 'ado', operation: op.name, direction, field: p[0], rule: p[1], detail: p[2] });
  const req = add('request');
  const res = add('response');

  const match = op.regex.exec(route)!;
  op.pathNames.forEach((name, i) => {
    if (!/^\d+$/.test(match[i + 1]!)) req([`path.${name}`, 'type', 'must be an integer (int32)']);
  });
  const apiVersion = ex.url.searchParams.get('api-version');
  if (apiVersion === null) req(['query.api-version', 'required', 'api-version is required']);
  else if (!API_VERSIONS.includes(apiVersion))
    req([
      'query.api-version',
      'enum',
      `api-version ${apiVersion} is not the documented ${API_VERSIONS.join(', ')}`,
    ]);
  for (const name of ex.url.searchParams.keys())
    if (name !== 'api-version' && !op.query.includes(name))
      req([`query.${name}`, 'documented-parameter', `${op.name} has no query parameter "${name}"`]);
  const body = parseBody(ex.requestBody);
  if (!body.ok) req(['body', 'json', 'request body is not JSON']);
  else if (op.body && body.value === undefined) req(['body', 'required', 'request body required']);
  else if (!op.body && body.value !== undefined) req(['body', 'no-body', `${op.name} takes no request body`]);
  else if (op.body) checkBody(t, op.body, body.value, false).forEach(req);

  if (ex.status >= 400) return out; // any error status, with the service's error body (not typed)
  if (!op.statuses.includes(ex.status)) {
    res([
      'status',
      'documented-status',
      `HTTP ${ex.status} is not among the documented ${op.statuses.join(', ')}`,
    ]);
    return out;
  }
  const answer = parseBody(ex.responseBody);
  if (!answer.ok) res(['body', 'json', 'response body is not JSON']);
  else if (op.answer && answer.value === undefined && ex.status !== 204)
    res(['body', 'required', 'a JSON body is documented']);
  else if (op.answer && answer.value !== undefined) checkBody(t, op.answer, answer.value, true).forEach(res);
  return out;
};
