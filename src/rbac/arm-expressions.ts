/**
 * A parser and evaluator for the ARM template expression language (`"[func(args).prop[0]]"`), the
 * subset compiled Bicep templates use. It runs without the Bicep CLI so the fake cloud can read the
 * role assignments kiln's own template deploys.
 *
 * Evaluation is lazy: function arguments are handed over unevaluated, so `if`, `coalesce`, `and`
 * and `or` only evaluate what they need, and a function this file does not implement (`listKeys`,
 * ...) costs nothing until an expression that is actually needed calls it; then it throws an
 * ArmExpressionError naming the function and the expression.
 *
 * Everything that depends on the template (parameters, variables, reference(), copyIndex(), the
 * deployment scope) comes from an EvalHost supplied by the caller (see template-roles.ts).
 */
import { createHash } from 'node:crypto';

export class ArmExpressionError extends Error {
  constructor(
    message: string,
    readonly expression?: string,
  ) {
    super(expression === undefined ? message : `${message} in expression "${expression}"`);
    this.name = 'ArmExpressionError';
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax
// ---------------------------------------------------------------------------------------------

export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'access'; target: Expr; key: Expr; safe?: boolean };

/** True when a template string is an expression: `[...]`, but not the `[[...` escape of a literal. */
function isExpression(text: string): boolean {
  return text.length >= 2 && text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

/** Parses the inside of an expression string (without the enclosing brackets). */
function parseExpression(source: string): Expr {
  let pos = 0;
  const fail = (what: string): never => {
    throw new ArmExpressionError(`syntax error at ${pos}: ${what}`, `[${source}]`);
  };
  const skipSpace = () => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (source[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };

  const parseString = (): string => {
    let out = '';
    pos++; // opening quote
    for (;;) {
      if (pos >= source.length) fail('unterminated string');
      const ch = source[pos]!;
      if (ch === "'") {
        if (source[pos + 1] === "'") {
          out += "'";
          pos += 2;
          continue;
        }
        pos++;
        return out;
      }
      out += ch;
      pos++;
    }
  };

  const parsePrimary = (): Expr => {
    skipSpace();
    const ch = source[pos];
    if (ch === undefined) return fail('unexpected end');
    if (ch === "'") return { kind: 'literal', value: parseString() };
    const num = /^-?\d+(\.\d+)?/.exec(source.slice(pos));
    if (num) {
      pos += num[0].length;
      return { kind: 'literal', value: Number(num[0]) };
    }
    // Function names may be namespaced (user-defined functions: `__bicep.shQuote(...)`).
    const ident = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*/.exec(source.slice(pos));
    if (!ident) return fail(`unexpected '${ch}'`);
    pos += ident[0].length;
    skipSpace();
    if (source[pos] !== '(') {
      const lower = ident[0].toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true' };
      if (lower === 'null') return { kind: 'literal', value: null };
      return fail(`expected '(' after ${ident[0]}`);
    }
    pos++;
    const args: Expr[] = [];
    skipSpace();
    if (source[pos] === ')') pos++;
    else {
      for (;;) {
        args.push(parseChain());
        skipSpace();
        if (source[pos] === ',') {
          pos++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { kind: 'call', name: ident[0], args };
  };

  // Property access `.name` and index `[expr]` after a primary. Safe access, written `.?name` /
  // `[?expr]` (Bicep's spelling) or `?.name` / `?[expr]`, yields null instead of an error when the
  // target is null or lacks the property.
  const parseChain = (): Expr => {
    let expr = parsePrimary();
    for (;;) {
      skipSpace();
      let safe = source[pos] === '?' && (source[pos + 1] === '.' || source[pos + 1] === '[');
      if (safe) pos++;
      const ch = source[pos];
      if (ch !== '.' && ch !== '[') {
        if (safe) fail("expected '.' or '[' after '?'");
        return expr;
      }
      pos++;
      if (source[pos] === '?') {
        safe = true;
        pos++;
      }
      skipSpace();
      if (ch === '.') {
        const name = /^[\w$]+/.exec(source.slice(pos));
        if (!name) return fail('expected a property name');
        pos += name[0].length;
        expr = { kind: 'access', target: expr, key: { kind: 'literal', value: name[0] }, safe };
      } else {
        const key = parseChain();
        expect(']');
        expr = { kind: 'access', target: expr, key, safe };
      }
    }
  };

  const expr = parseChain();
  skipSpace();
  if (pos !== source.length) fail('trailing characters');
  return expr;
}

const parsed = new Map<string, Expr>();
function parseCached(inner: string): Expr {
  let expr = parsed.get(inner);
  if (!expr) {
    expr = parseExpression(inner);
    parsed.set(inner, expr);
  }
  return expr;
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/** A lambda value: `lambda('x', body)`, applied by map/filter/reduce/toObject/sort. */
class ArmLambda {
  constructor(
    readonly params: string[],
    readonly body: Expr,
    readonly env: Env,
  ) {}
}

/** What an expression can see of its template and deployment. Every member may throw. */
export interface EvalHost {
  parameter(name: string): unknown;
  variable(name: string): unknown;
  /** copyIndex(loopName?): the innermost loop when no name is given. */
  copyIndex(loopName?: string): number;
  reference(target: unknown, apiVersion?: unknown, full?: boolean): unknown;
  subscription(): unknown;
  resourceGroup(): unknown;
  deployment(): unknown;
  tenant(): unknown;
  /** The subscription id and resource group name resourceId() defaults to (no group at subscription scope). */
  defaultScope(): { subscriptionId: string; resourceGroup?: string };
  /** A user-defined function (`namespace.name`) of the template, if declared. */
  userFunction?(name: string): { parameters: string[]; body: unknown } | undefined;
  /** A host for evaluating a user-defined function's body with its arguments as parameters. */
  withFunctionArguments?(args: Record<string, unknown>): EvalHost;
}

interface Env {
  host: EvalHost;
  lambdas: ReadonlyMap<string, unknown>;
  expression: string;
}

/** Evaluates one template string: an expression, an escaped `[[literal`, or a plain string. */
export function evaluateString(text: string, host: EvalHost): unknown {
  if (!isExpression(text)) return text.startsWith('[[') ? text.slice(1) : text;
  const expr = parseCached(text.slice(1, -1));
  return evaluate(expr, { host, lambdas: new Map(), expression: text });
}

/**
 * Evaluates a template JSON value deeply: expression strings anywhere (object keys included), and
 * `copy` arrays inside objects (`{"copy": [{"name", "count", "input"}]}`), which ARM expands into
 * the property `name` with `count` evaluated inputs.
 */
export function evaluateJson(value: unknown, host: EvalHost): unknown {
  if (typeof value === 'string') return evaluateString(value, host);
  if (Array.isArray(value)) return value.map((v) => evaluateJson(v, host));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'copy' && Array.isArray(v) && v.every((loop) => isObject(loop) && 'input' in loop)) {
      for (const loop of v as { name: string; count: unknown; input: unknown }[]) {
        out[loop.name] = expandCopy(loop, host);
      }
      continue;
    }
    const evaluatedKey = evaluateString(key, host);
    out[String(evaluatedKey)] = evaluateJson(v, host);
  }
  return out;
}

/** The values of a property/variable/output copy loop: `input` evaluated once per index. */
export function expandCopy(
  loop: { name?: string; count: unknown; input: unknown },
  host: EvalHost,
): unknown[] {
  const count = toNumber(evaluateJson(loop.count, host), 'copy count');
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) items.push(evaluateJson(loop.input, withCopyIndex(host, loop.name, i)));
  return items;
}

/** A host in which copyIndex() (and copyIndex(name)) is `index`. */
export function withCopyIndex(host: EvalHost, name: string | undefined, index: number): EvalHost {
  return {
    ...host,
    copyIndex: (loopName?: string) =>
      loopName === undefined || loopName.toLowerCase() === name?.toLowerCase()
        ? index
        : host.copyIndex(loopName),
  };
}

function evaluate(expr: Expr, env: Env): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'access': {
      const target = evaluate(expr.target, env);
      const key = evaluate(expr.key, env);
      return expr.safe ? tryGet(target, [key]) : access(target, key, env);
    }
    case 'call':
      return call(expr, env);
  }
}

function access(target: unknown, key: unknown, env: Env): unknown {
  if (Array.isArray(target)) {
    const index = toNumber(key, 'array index');
    if (index < 0 || index >= target.length) {
      throw new ArmExpressionError(`index ${index} out of range (length ${target.length})`, env.expression);
    }
    return target[index];
  }
  if (target !== null && typeof target === 'object' && typeof key === 'string') {
    const obj = target as Record<string, unknown>;
    if (key in obj) return obj[key];
    // ARM property names are case-insensitive.
    const match = Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase());
    if (match !== undefined) return obj[match];
    throw new ArmExpressionError(`property '${key}' does not exist`, env.expression);
  }
  throw new ArmExpressionError(`cannot read '${String(key)}' of ${describe(target)}`, env.expression);
}

type Fn = (args: Expr[], env: Env, name: string) => unknown;

function call(expr: Extract<Expr, { kind: 'call' }>, env: Env): unknown {
  const name = expr.name;
  const fn = FUNCTIONS[name.toLowerCase()];
  if (fn) return fn(expr.args, env, name);
  const user = env.host.userFunction?.(name);
  if (user && env.host.withFunctionArguments) {
    const values = expr.args.map((a) => evaluate(a, env));
    const bound: Record<string, unknown> = {};
    user.parameters.forEach((p, i) => (bound[p] = values[i]));
    return evaluateJson(user.body, env.host.withFunctionArguments(bound));
  }
  throw new ArmExpressionError(`unsupported function '${name}'`, env.expression);
}

// ----- value helpers -----

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function toNumber(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new ArmExpressionError(`${what} must be an integer, got ${describe(value)}`);
}

function toStr(value: unknown, env: Env, what: string): string {
  if (typeof value === 'string') return value;
  throw new ArmExpressionError(`${what} must be a string, got ${describe(value)}`, env.expression);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof ArmLambda)
  );
}

/** How ARM turns a value into text (format, string, concat): .NET booleans, compact JSON. */
function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function unionValues(values: unknown[], env: Env): unknown {
  if (values.every(Array.isArray)) {
    const out: unknown[] = [];
    for (const arr of values as unknown[][])
      for (const v of arr) if (!out.some((o) => deepEqual(o, v))) out.push(v);
    return out;
  }
  if (values.every(isObject)) {
    // Nested objects are merged too (ARM's union is deep for objects); later values win otherwise.
    const merge = (a: Record<string, unknown>, b: Record<string, unknown>) => {
      const out: Record<string, unknown> = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = isObject(out[k]) && isObject(v) ? merge(out[k], v) : v;
      return out;
    };
    return (values as Record<string, unknown>[]).reduce(merge, {});
  }
  throw new ArmExpressionError('union() takes only arrays or only objects', env.expression);
}

function emptyValue(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return false;
}

function apply(fn: unknown, args: unknown[], env: Env): unknown {
  if (!(fn instanceof ArmLambda)) throw new ArmExpressionError('expected a lambda', env.expression);
  const lambdas = new Map(fn.env.lambdas);
  fn.params.forEach((p, i) => lambdas.set(p, args[i]));
  return evaluate(fn.body, { ...fn.env, lambdas });
}

function format(template: string, args: unknown[], env: Env): string {
  return template.replace(/\{\{|\}\}|\{(\d+)(?:,[^}:]*)?(?::[^}]*)?\}/g, (m, index: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const i = Number(index);
    if (i >= args.length) throw new ArmExpressionError(`format() has no argument ${i}`, env.expression);
    return text(args[i]);
  });
}

// ----- ids -----

function typeAndNames(type: string, names: string[], env: Env): string {
  const [namespace, ...types] = type.split('/');
  const parts = names.flatMap((n) => n.split('/'));
  if (!namespace || types.length === 0 || types.length !== parts.length) {
    throw new ArmExpressionError(
      `resource type '${type}' does not match names [${names.join(', ')}]`,
      env.expression,
    );
  }
  return [namespace, ...types.flatMap((t, i) => [t, parts[i]!])].join('/');
}

/** resourceId([subscriptionId], [resourceGroupName], type, name1, ...): the segment count of the type decides. */
function resourceIdOf(args: string[], env: Env): string {
  for (let lead = 0; lead <= 2 && lead < args.length; lead++) {
    const type = args[lead]!;
    const names = args.slice(lead + 1);
    if (!type.includes('/') || names.flatMap((n) => n.split('/')).length !== type.split('/').length - 1)
      continue;
    const scope = env.host.defaultScope();
    const sub = lead === 2 ? args[0]! : scope.subscriptionId;
    const rg = lead === 2 ? args[1] : lead === 1 ? args[0] : scope.resourceGroup;
    const base = rg === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${rg}`;
    return `${base}/providers/${typeAndNames(type, names, env)}`;
  }
  throw new ArmExpressionError(
    `resourceId() arguments do not name a resource: ${args.join(', ')}`,
    env.expression,
  );
}

// ----- Azure's hashes -----

const GUID_NAMESPACE = Buffer.from('11fb06fb712d4ddd98c7e71bbd588830', 'hex');

/**
 * ARM's guid(): a name-based (version 5, SHA-1) UUID of the arguments joined with '-' under ARM's
 * namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830. Checked against `bicep snapshot`.
 */
export function armGuid(...values: string[]): string {
  const hash = createHash('sha1').update(GUID_NAMESPACE).update(values.join('-'), 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * ARM's uniqueString(): a 64-bit MurmurHash variant (two 32-bit lanes, Microsoft's constants) of the
 * UTF-8 arguments joined with '-', written as 13 base-32 characters (a-z, 2-7) from the high bits.
 * Checked against `bicep snapshot`.
 */
export function armUniqueString(...values: string[]): string {
  const data = Buffer.from(values.join('-'), 'utf8');
  const c1 = 0x239b961b;
  const c2 = 0xab0e9789;
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const le32 = (at: number, n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) v |= data[at + i]! << (8 * i);
    return v >>> 0;
  };
  const length = data.length;
  let h1 = 0;
  let h2 = 0;
  let at = 0;
  for (; at + 8 <= length; at += 8) {
    const k1 = mul(rotl(mul(le32(at, 4), c1), 15), c2);
    const k2 = mul(rotl(mul(le32(at + 4, 4), c2), 17), c1);
    h1 = (rotl((h1 ^ k1) >>> 0, 19) + h2) >>> 0;
    h1 = (mul(h1, 5) + 0x561ccd1b) >>> 0;
    h2 = (rotl((h2 ^ k2) >>> 0, 13) + h1) >>> 0;
    h2 = (mul(h2, 5) + 0x0bcaa747) >>> 0;
  }
  const rest = length - at;
  if (rest > 0) {
    h1 = (h1 ^ mul(rotl(mul(le32(at, Math.min(rest, 4)), c1), 15), c2)) >>> 0;
    if (rest > 4) h2 = (h2 ^ mul(rotl(mul(le32(at + 4, rest - 4), c2), 17), c1)) >>> 0;
  }
  const fmix = (h: number) => {
    h = mul(h ^ (h >>> 16), 0x85ebca6b);
    h = mul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  h2 = (h2 ^ length) >>> 0;
  h1 = (((h1 ^ length) >>> 0) + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 = (h1 + h2) >>> 0;
  h2 = (h2 + h1) >>> 0;
  let hash = (BigInt(h2) << 32n) | BigInt(h1);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 13; i++) {
    out += alphabet[Number((hash >> 59n) & 31n)];
    hash = (hash << 5n) & 0xffffffffffffffffn;
  }
  return out;
}

// ----- the functions -----

/** Evaluate every argument first (most functions). */
const strict =
  (fn: (values: unknown[], env: Env, name: string) => unknown): Fn =>
  (args, env, name) =>
    fn(
      args.map((a) => evaluate(a, env)),
      env,
      name,
    );

function arity(name: string, values: unknown[], min: number, max: number, env: Env) {
  if (values.length < min || values.length > max) {
    throw new ArmExpressionError(
      `${name}() takes ${min}..${max} arguments, got ${values.length}`,
      env.expression,
    );
  }
}

const ENVIRONMENT = {
  name: 'AzureCloud',
  gallery: 'https://gallery.azure.com/',
  graph: 'https://graph.windows.net/',
  portal: 'https://portal.azure.com',
  graphAudience: 'https://graph.windows.net/',
  activeDirectoryDataLake: 'https://datalake.azure.net/',
  batch: 'https://batch.core.windows.net/',
  media: 'https://rest.media.azure.net',
  sqlManagement: 'https://management.core.windows.net:8443/',
  resourceManager: 'https://management.azure.com/',
  authentication: {
    loginEndpoint: 'https://login.microsoftonline.com/',
    audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'],
    tenant: 'common',
    identityProvider: 'AAD',
  },
  suffixes: {
    acrLoginServer: '.azurecr.io',
    keyvaultDns: '.vault.azure.net',
    sqlServerHostname: '.database.windows.net',
    storage: 'core.windows.net',
  },
};

const FUNCTIONS: Record<string, Fn> = {
  // --- logic (lazy) ---
  if: (args, env) => {
    if (args.length !== 3) throw new ArmExpressionError('if() takes 3 arguments', env.expression);
    return evaluate(args[0]!, env) === true ? evaluate(args[1]!, env) : evaluate(args[2]!, env);
  },
  coalesce: (args, env) => {
    for (const a of args) {
      const v = evaluate(a, env);
      if (v !== null && v !== undefined) return v;
    }
    return null;
  },
  and: (args, env) => args.every((a) => evaluate(a, env) === true),
  or: (args, env) => args.some((a) => evaluate(a, env) === true),
  not: strict(([v]) => v !== true),
  true: () => true,
  false: () => false,
  null: () => null,
  bool: strict(([v]) => (typeof v === 'string' ? v.toLowerCase() === 'true' : Boolean(v))),

  // --- comparison ---
  equals: strict(([a, b]) => deepEqual(a, b)),
  greater: strict(([a, b]) => (a as number) > (b as number)),
  greaterorequals: strict(([a, b]) => (a as number) >= (b as number)),
  less: strict(([a, b]) => (a as number) < (b as number)),
  lessorequals: strict(([a, b]) => (a as number) <= (b as number)),

  // --- numbers ---
  int: strict(([v]) => toNumber(v, 'int()')),
  add: strict(([a, b]) => toNumber(a, 'add()') + toNumber(b, 'add()')),
  sub: strict(([a, b]) => toNumber(a, 'sub()') - toNumber(b, 'sub()')),
  mul: strict(([a, b]) => toNumber(a, 'mul()') * toNumber(b, 'mul()')),
  div: strict(([a, b]) => Math.trunc(toNumber(a, 'div()') / toNumber(b, 'div()'))),
  mod: strict(([a, b]) => toNumber(a, 'mod()') % toNumber(b, 'mod()')),
  min: strict((vs) => Math.min(...(Array.isArray(vs[0]) ? (vs[0] as number[]) : (vs as number[])))),
  max: strict((vs) => Math.max(...(Array.isArray(vs[0]) ? (vs[0] as number[]) : (vs as number[])))),

  // --- strings ---
  string: strict(([v]) => text(v)),
  format: strict(([f, ...rest], env) => format(toStr(f, env, 'format()'), rest, env)),
  tolower: strict(([v], env) => toStr(v, env, 'toLower()').toLowerCase()),
  toupper: strict(([v], env) => toStr(v, env, 'toUpper()').toUpperCase()),
  trim: strict(([v], env) => toStr(v, env, 'trim()').trim()),
  replace: strict(([s, a, b], env) =>
    toStr(s, env, 'replace()')
      .split(toStr(a, env, 'replace()'))
      .join(toStr(b, env, 'replace()')),
  ),
  split: strict(([s, d], env) => {
    const delimiters = Array.isArray(d) ? (d as string[]) : [toStr(d, env, 'split()')];
    let parts = [toStr(s, env, 'split()')];
    for (const delim of delimiters) parts = parts.flatMap((p) => p.split(delim));
    return parts;
  }),
  startswith: strict(([s, p], env) =>
    toStr(s, env, 'startsWith()')
      .toLowerCase()
      .startsWith(toStr(p, env, 'startsWith()').toLowerCase()),
  ),
  endswith: strict(([s, p], env) =>
    toStr(s, env, 'endsWith()')
      .toLowerCase()
      .endsWith(toStr(p, env, 'endsWith()').toLowerCase()),
  ),
  substring: strict(([s, start, len], env) => {
    const str = toStr(s, env, 'substring()');
    const from = toNumber(start, 'substring() start');
    return str.substring(from, len === undefined ? str.length : from + toNumber(len, 'substring() length'));
  }),
  indexof: strict(([s, v], env) =>
    toStr(s, env, 'indexOf()')
      .toLowerCase()
      .indexOf(toStr(v, env, 'indexOf()').toLowerCase()),
  ),
  base64: strict(([v], env) => Buffer.from(toStr(v, env, 'base64()'), 'utf8').toString('base64')),
  guid: strict((vs, env) => armGuid(...vs.map((v) => toStr(v, env, 'guid()')))),
  uniquestring: strict((vs, env) => armUniqueString(...vs.map((v) => toStr(v, env, 'uniqueString()')))),
  json: strict(([v], env) => JSON.parse(toStr(v, env, 'json()'))),

  // --- arrays and objects ---
  createarray: strict((vs) => vs),
  array: strict(([v]) => (Array.isArray(v) ? v : [v])),
  createobject: strict((vs, env) => {
    if (vs.length % 2 !== 0)
      throw new ArmExpressionError('createObject() takes key/value pairs', env.expression);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < vs.length; i += 2) out[toStr(vs[i], env, 'createObject() key')] = vs[i + 1];
    return out;
  }),
  length: strict(([v], env) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isObject(v)) return Object.keys(v).length;
    throw new ArmExpressionError(`length() of ${describe(v)}`, env.expression);
  }),
  empty: strict(([v]) => emptyValue(v)),
  concat: strict((vs) =>
    vs.length > 0 && vs.every((v) => Array.isArray(v) || v === null)
      ? (vs as unknown[][]).flatMap((v) => v ?? [])
      : vs.map(text).join(''),
  ),
  union: strict((vs, env) => unionValues(vs, env)),
  intersection: strict((vs) =>
    Array.isArray(vs[0])
      ? (vs[0] as unknown[]).filter((x) => vs.every((arr) => (arr as unknown[]).some((y) => deepEqual(x, y))))
      : Object.fromEntries(
          Object.entries(vs[0] as Record<string, unknown>).filter(([k, x]) =>
            vs.every((o) => isObject(o) && k in o && deepEqual(o[k], x)),
          ),
        ),
  ),
  contains: strict(([c, v]) => {
    if (typeof c === 'string') return c.includes(text(v));
    if (Array.isArray(c)) return c.some((x) => deepEqual(x, v));
    if (isObject(c)) return Object.keys(c).some((k) => k.toLowerCase() === String(v).toLowerCase());
    return false;
  }),
  first: strict(([v]) => (typeof v === 'string' ? v.slice(0, 1) : Array.isArray(v) ? (v[0] ?? null) : null)),
  last: strict(([v]) =>
    typeof v === 'string' ? v.slice(-1) : Array.isArray(v) ? (v[v.length - 1] ?? null) : null,
  ),
  take: strict(([v, n]) => (v as unknown[] | string).slice(0, Math.max(0, toNumber(n, 'take() count')))),
  skip: strict(([v, n]) => (v as unknown[] | string).slice(Math.max(0, toNumber(n, 'skip() count')))),
  range: strict(([start, count]) => {
    const s = toNumber(start, 'range() start');
    return Array.from({ length: toNumber(count, 'range() count') }, (_, i) => s + i);
  }),
  flatten: strict(([v]) => (v as unknown[][]).flat()),
  join: strict(([v, d], env) => (v as unknown[]).map(text).join(toStr(d, env, 'join()'))),
  items: strict(([v], env) => {
    if (!isObject(v)) throw new ArmExpressionError(`items() of ${describe(v)}`, env.expression);
    return Object.keys(v)
      .sort()
      .map((key) => ({ key, value: v[key] }));
  }),
  objectkeys: strict(([v]) => Object.keys(v as object)),
  trygetvalue: strict(([v, ...keys]) => tryGet(v, keys)),
  tryget: strict(([v, ...keys]) => tryGet(v, keys)),

  // --- lambdas ---
  lambda: (args, env) => {
    const body = args[args.length - 1];
    if (!body) throw new ArmExpressionError('lambda() without a body', env.expression);
    const params = args.slice(0, -1).map((a) => toStr(evaluate(a, env), env, 'lambda() parameter'));
    return new ArmLambda(params, body, env);
  },
  lambdavariables: strict(([n], env) => {
    const name = toStr(n, env, 'lambdaVariables()');
    if (!env.lambdas.has(name)) throw new ArmExpressionError(`no lambda variable '${name}'`, env.expression);
    return env.lambdas.get(name);
  }),
  map: strict(([arr, fn], env) => (arr as unknown[]).map((x, i) => apply(fn, [x, i], env))),
  filter: strict(([arr, fn], env) => (arr as unknown[]).filter((x, i) => apply(fn, [x, i], env) === true)),
  reduce: strict(([arr, init, fn], env) =>
    (arr as unknown[]).reduce((acc, x, i) => apply(fn, [acc, x, i], env), init),
  ),
  toobject: strict(([arr, keyFn, valueFn], env) => {
    const out: Record<string, unknown> = {};
    for (const x of arr as unknown[]) {
      out[text(apply(keyFn, [x], env))] = valueFn === undefined ? x : apply(valueFn, [x], env);
    }
    return out;
  }),

  // --- the template and its deployment ---
  parameters: strict(([n], env) => env.host.parameter(toStr(n, env, 'parameters()'))),
  variables: strict(([n], env) => env.host.variable(toStr(n, env, 'variables()'))),
  copyindex: strict((vs, env) => {
    arity('copyIndex', vs, 0, 2, env);
    const name = typeof vs[0] === 'string' ? vs[0] : undefined;
    const offset = vs.find((v) => typeof v === 'number') as number | undefined;
    return env.host.copyIndex(name) + (offset ?? 0);
  }),
  reference: strict((vs, env) => {
    arity('reference', vs, 1, 3, env);
    return env.host.reference(vs[0], vs[1], typeof vs[2] === 'string' && vs[2].toLowerCase() === 'full');
  }),
  subscription: strict((_vs, env) => env.host.subscription()),
  resourcegroup: strict((_vs, env) => env.host.resourceGroup()),
  deployment: strict((_vs, env) => env.host.deployment()),
  tenant: strict((_vs, env) => env.host.tenant()),
  environment: () => ENVIRONMENT,
  resourceid: strict((vs, env) =>
    resourceIdOf(
      vs.map((v) => toStr(v, env, 'resourceId()')),
      env,
    ),
  ),
  subscriptionresourceid: strict((vs, env) => {
    const args = vs.map((v) => toStr(v, env, 'subscriptionResourceId()'));
    const hasSub = args.length > 1 && !args[0]!.includes('/');
    const sub = hasSub ? args[0]! : env.host.defaultScope().subscriptionId;
    const [type, ...names] = hasSub ? args.slice(1) : args;
    return `/subscriptions/${sub}/providers/${typeAndNames(type!, names, env)}`;
  }),
  tenantresourceid: strict((vs, env) => {
    const [type, ...names] = vs.map((v) => toStr(v, env, 'tenantResourceId()'));
    return `/providers/${typeAndNames(type!, names, env)}`;
  }),
  extensionresourceid: strict((vs, env) => {
    const [scope, type, ...names] = vs.map((v) => toStr(v, env, 'extensionResourceId()'));
    return `${scope!.replace(/\/$/, '')}/providers/${typeAndNames(type!, names, env)}`;
  }),
};

function tryGet(value: unknown, keys: unknown[]): unknown {
  let current = value;
  for (const key of keys) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (isObject(current) && typeof key === 'string') {
      const match =
        key in current ? key : Object.keys(current).find((k) => k.toLowerCase() === key.toLowerCase());
      current = match === undefined ? undefined : current[match];
    } else current = undefined;
    if (current === undefined || current === null) return null;
  }
  return current;
}
