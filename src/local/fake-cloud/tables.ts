/**
 * Fake Azure Table storage: the table service of the app's storage account, as far as kiln's own
 * tables use it through @azure/data-tables — the registration broker's record
 * (src/registration/issued-registrations.ts) and the run history (src/history/run-history.ts):
 * create a table; insert, read, replace, merge (PATCH; without If-Match insert-or-merge) and delete
 * an entity; query a table with `$filter`, `$select` and `$top`, a page at a time, resumed from the
 * x-ms-continuation-NextPartitionKey/NextRowKey headers — in the service's JSON shapes
 * (odata=minimalmetadata), ETags and error bodies (`{"odata.error": …}` with `x-ms-error-code`). The
 * same test cases run against this fake (test/broker/issued-registrations.test.ts,
 * test/history/run-history.test.ts) and against Azurite, the real emulator (the Azurite tests in
 * test/evidence), so it answers as the emulator does.
 *
 * Refused as the service refuses them:
 * - no `x-ms-version` (400 MissingRequiredHeader), or one the service does not know (400
 *   InvalidHeaderValue);
 * - no Authorization (403 AuthorizationFailure); an account key (403
 *   KeyBasedAuthenticationNotPermitted: kiln's account allows none); a token this cloud did not
 *   issue, an expired one or one for another audience (403 AuthenticationFailed, how the service
 *   answers the 2019-02-02 the SDK sends; later versions get a 401 challenge instead);
 * - a caller without the Table data actions of the operation on the account (403
 *   AuthorizationPermissionMismatch): an insert-or-replace or insert-or-merge needs both `add` and
 *   `update`, as Azure's RBAC asks;
 * - a body that is not a JSON object, a key with a character Table forbids (`/ \ # ?`, control
 *   characters) or longer than 512 (400 InvalidInput), an entity without its keys (400
 *   PropertiesNeedValue), a string property over 32 K characters (400 PropertyValueTooLarge), a bad
 *   table name (400 InvalidResourceName); a conditional write of an entity that does not exist (404)
 *   or changed (412 UpdateConditionNotSatisfied).
 * What kiln never sends (batches, table lists and deletes, ACLs, `or`/`not` in a filter) answers
 * 501 NotImplemented, naming this fake.
 */
import { randomUUID } from 'node:crypto';
import type { AccessControl } from './access.js';
import type { FaultBook } from './faults.js';
import { applyHttpFault, bearerToken, sendJson, type FakeRequest } from './http.js';
import type { TokenIssuer } from './tokens.js';

/** Storage service versions since 2017-11-09, the first that takes Entra tokens; @azure/data-tables 13 sends 2019-02-02. */
// prettier-ignore
const TABLE_API_VERSIONS = new Set([
  '2017-11-09', '2018-03-28', '2018-11-09', '2019-02-02', '2019-07-07', '2019-10-10', '2019-12-12',
  '2020-02-10', '2020-04-08', '2020-06-12', '2020-08-04', '2020-10-02', '2020-12-06', '2021-02-12',
  '2021-04-10', '2021-06-08', '2021-08-06', '2021-10-04', '2021-12-02', '2022-11-02', '2023-01-03',
  '2023-08-03', '2023-11-03', '2024-02-04', '2024-05-04', '2024-08-04', '2024-11-04', '2025-01-05',
  '2025-05-05', '2025-07-05', '2025-11-05',
]);

/** What a storage token is for: the SDK asks for https://storage.azure.com/.default. */
export const STORAGE_AUDIENCE = 'https://storage.azure.com';
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const MAX_KEY_LENGTH = 512;
/** A string property holds at most 64 KiB of UTF-16: 32 K characters. */
const MAX_STRING_PROPERTY = 32 * 1024;
const MAX_PAGE = 1000;
const TABLE_ACTIONS = 'Microsoft.Storage/storageAccounts/tableServices/tables';

interface StoredEntity {
  partitionKey: string;
  rowKey: string;
  /** The entity's own properties as sent, with their `@odata.type` annotations. */
  properties: Record<string, unknown>;
  /** Server time with 7 fractional digits, as the service writes it. */
  timestamp: string;
  etag: string;
}

interface FakeTable {
  name: string;
  entities: Map<string, StoredEntity>;
}

class TableError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notImplemented = (what: string) =>
  new TableError(
    501,
    'NotImplemented',
    `The fake Table service does not implement ${what} (kiln does not use it).`,
  );
const invalidInput = () =>
  new TableError(400, 'InvalidInput', 'An error occurred while processing this request.');
const tableNotFound = () => new TableError(404, 'TableNotFound', 'The table specified does not exist.');
const entityNotFound = () =>
  new TableError(404, 'ResourceNotFound', 'The specified resource does not exist.');

export function tablesHandler(opts: {
  tokens: TokenIssuer;
  faults: FaultBook;
  /** The service's origin (odata.metadata links name it). */
  origin: () => string;
  /** Server time (ms) for Timestamp and ETags: the world's clock. */
  now: () => number;
  /** Who may do what: a Table data role on the storage account, or on a table. */
  access: () => AccessControl;
  /** The storage account's ARM id (the scope of its role assignments). */
  accountId: () => string;
}) {
  const tables = new Map<string, FakeTable>();
  let lastTicks = 0n;

  /** A strictly increasing server time, in the service's format (100 ns ticks): ETags never repeat. */
  const stamp = (): string => {
    let ticks = BigInt(opts.now()) * 10_000n;
    if (ticks <= lastTicks) ticks = lastTicks + 1n;
    lastTicks = ticks;
    const iso = new Date(Number(ticks / 10_000n)).toISOString();
    return `${iso.slice(0, -1)}${String(ticks % 10_000n).padStart(4, '0')}Z`;
  };

  const tableOf = (name: string): FakeTable => {
    const table = tables.get(name.toLowerCase());
    if (!table) throw tableNotFound();
    return table;
  };

  return (req: FakeRequest): void => {
    const requestId = randomUUID();
    const version = req.headers['x-ms-version'];
    const common = {
      'x-ms-request-id': requestId,
      ...(typeof version === 'string' ? { 'x-ms-version': version } : {}),
    };
    try {
      const route = routeOf(req);
      if (typeof version !== 'string')
        throw new TableError(
          400,
          'MissingRequiredHeader',
          'An HTTP header that is mandatory for this request is not specified.',
          { HeaderName: 'x-ms-version' },
        );
      if (!TABLE_API_VERSIONS.has(version))
        throw new TableError(
          400,
          'InvalidHeaderValue',
          'The value for one of the HTTP headers is not in the correct format.',
          { HeaderName: 'x-ms-version', HeaderValue: version },
        );
      authenticate(req);
      if (
        applyHttpFault(req, opts.faults.takeHttp('tables', route.operation), (status) => ({
          body: errorBody(requestId, status === 500 ? 'InternalError' : 'ServerBusy', `injected ${status}`),
          headers: { ...common, 'x-ms-error-code': status === 500 ? 'InternalError' : 'ServerBusy' },
        }))
      )
        return;
      authorize(req, route);
      answer(req, route, common);
    } catch (err) {
      if (!(err instanceof TableError)) throw err;
      sendJson(req.res, err.status, errorBody(requestId, err.code, err.message, err.extra), {
        ...common,
        'x-ms-error-code': err.code,
        'content-type': 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8',
      });
    }
  };

  function authenticate(req: FakeRequest): void {
    const header = req.headers.authorization;
    if (!header)
      throw new TableError(
        403,
        'AuthorizationFailure',
        'This request is not authorized to perform this operation.',
      );
    if (!/^Bearer\s/i.test(header))
      throw new TableError(
        403,
        'KeyBasedAuthenticationNotPermitted',
        'Key based authentication is not permitted on this storage account.',
      );
    const check = opts.tokens.check(bearerToken(req), [STORAGE_AUDIENCE, opts.origin()]);
    const detail = {
      ok: '',
      missing: 'Authentication scheme Bearer is not supported.',
      invalid: 'Signature validation failed. Signature is invalid.',
      expired: 'Lifetime validation failed. The token is expired.',
      'wrong-audience': 'Invalid token audience.',
    }[check];
    if (check !== 'ok')
      throw new TableError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of the Authorization header is formed correctly including the signature.',
        { AuthenticationErrorDetail: detail },
      );
  }

  /** Azure RBAC on the data plane: the operation's action on the table, inherited from the account. */
  function authorize(req: FakeRequest, route: Route): void {
    const access = opts.access();
    const caller = access.byClientId(opts.tokens.clientIdOf(bearerToken(req)));
    const tablesScope = `${opts.accountId()}/tableServices/default/tables`;
    const scope = route.table ? `${tablesScope}/${route.table}` : tablesScope;
    const kind = route.operation === 'createTable' ? ('control' as const) : ('data' as const);
    const actions =
      route.operation === 'createTable'
        ? [`${TABLE_ACTIONS}/write`]
        : // Without If-Match a PUT or PATCH inserts when there is nothing to replace or merge.
          (isUpsert(req, route) ? ['add/action', 'update/action'] : [ENTITY_ACTIONS[route.operation]]).map(
            (action) => `${TABLE_ACTIONS}/entities/${action}`,
          );
    if (!caller || !actions.every((action) => access.authorizeStorage(caller, action, scope, kind)))
      throw new TableError(
        403,
        'AuthorizationPermissionMismatch',
        'This request is not authorized to perform this operation using this permission.',
      );
  }

  function answer(req: FakeRequest, route: Route, common: Record<string, string>): void {
    const json = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';
    const metadata = `${opts.origin()}/$metadata#`;
    const returnNoContent = /return-no-content/i.test(String(req.headers.prefer ?? ''));
    const preference = { 'preference-applied': returnNoContent ? 'return-no-content' : 'return-content' };
    switch (route.operation) {
      case 'createTable': {
        const body = objectBody(req);
        const name = body.TableName;
        if (typeof name !== 'string' || !TABLE_NAME.test(name))
          throw new TableError(
            400,
            'InvalidResourceName',
            'The specifed resource name contains invalid characters.',
          );
        if (tables.has(name.toLowerCase()))
          throw new TableError(409, 'TableAlreadyExists', 'The table specified already exists.');
        tables.set(name.toLowerCase(), { name, entities: new Map() });
        if (returnNoContent) return sendJson(req.res, 204, undefined, { ...common, ...preference });
        return sendJson(
          req.res,
          201,
          { 'odata.metadata': `${metadata}Tables/@Element`, TableName: name },
          { ...common, ...preference, 'content-type': json },
        );
      }
      case 'createEntity': {
        const table = tableOf(route.table);
        const { partitionKey, rowKey, properties } = entityOf(objectBody(req));
        if (table.entities.has(entityKey(partitionKey, rowKey)))
          throw new TableError(409, 'EntityAlreadyExists', 'The specified entity already exists.');
        const stored = store(table, partitionKey, rowKey, properties);
        if (returnNoContent)
          return sendJson(req.res, 204, undefined, { ...common, ...preference, etag: stored.etag });
        return sendJson(
          req.res,
          201,
          { 'odata.metadata': `${metadata}${table.name}/@Element`, ...view(stored) },
          { ...common, ...preference, etag: stored.etag, 'content-type': json },
        );
      }
      case 'getEntity': {
        const table = tableOf(route.table);
        const stored = table.entities.get(entityKey(route.partitionKey!, route.rowKey!));
        if (!stored) throw entityNotFound();
        return sendJson(
          req.res,
          200,
          { 'odata.metadata': `${metadata}${table.name}/@Element`, ...view(stored) },
          { ...common, etag: stored.etag, 'content-type': json },
        );
      }
      case 'updateEntity':
      case 'mergeEntity': {
        const table = tableOf(route.table);
        const { properties } = entityOf({
          ...objectBody(req),
          PartitionKey: route.partitionKey,
          RowKey: route.rowKey,
        });
        const existing = table.entities.get(entityKey(route.partitionKey!, route.rowKey!));
        const ifMatch = req.headers['if-match'];
        // Without If-Match a PUT inserts or replaces and a PATCH inserts or merges; with one, the
        // entity must exist and match.
        if (ifMatch !== undefined) matchEtag(existing, ifMatch);
        const written = route.operation === 'mergeEntity' ? merged(existing, properties) : properties;
        const stored = store(table, route.partitionKey!, route.rowKey!, written);
        return sendJson(req.res, 204, undefined, { ...common, etag: stored.etag });
      }
      case 'deleteEntity': {
        const table = tableOf(route.table);
        const ifMatch = req.headers['if-match'];
        if (ifMatch === undefined)
          throw new TableError(
            400,
            'MissingRequiredHeader',
            'An HTTP header that is mandatory for this request is not specified.',
            { HeaderName: 'If-Match' },
          );
        const key = entityKey(route.partitionKey!, route.rowKey!);
        matchEtag(table.entities.get(key), ifMatch);
        table.entities.delete(key);
        return sendJson(req.res, 204, undefined, common);
      }
      case 'listEntities': {
        const table = tableOf(route.table);
        const page = query(table, req.url.searchParams);
        return sendJson(
          req.res,
          200,
          { 'odata.metadata': `${metadata}${table.name}`, value: page.value },
          { ...common, ...page.continuation, 'content-type': json },
        );
      }
    }
  }

  function store(
    table: FakeTable,
    partitionKey: string,
    rowKey: string,
    properties: Record<string, unknown>,
  ): StoredEntity {
    const timestamp = stamp();
    const stored = {
      partitionKey,
      rowKey,
      properties,
      timestamp,
      etag: `W/"datetime'${encodeURIComponent(timestamp)}'"`,
    };
    table.entities.set(entityKey(partitionKey, rowKey), stored);
    return stored;
  }
}

type Operation =
  | 'createTable'
  | 'createEntity'
  | 'getEntity'
  | 'updateEntity'
  | 'mergeEntity'
  | 'deleteEntity'
  | 'listEntities';

const ENTITY_ACTIONS: Record<Exclude<Operation, 'createTable'>, string> = {
  createEntity: 'add/action',
  getEntity: 'read',
  listEntities: 'read',
  updateEntity: 'update/action',
  mergeEntity: 'update/action',
  deleteEntity: 'delete',
};

/** A PUT or PATCH without If-Match: insert-or-replace, insert-or-merge. */
function isUpsert(req: FakeRequest, route: Route): boolean {
  return (
    (route.operation === 'updateEntity' || route.operation === 'mergeEntity') &&
    req.headers['if-match'] === undefined
  );
}

interface Route {
  /** The SDK operation (a fault's operation name). */
  operation: Operation;
  table: string;
  partitionKey?: string;
  rowKey?: string;
}

const ENTITY_PATH = /^\/([^/()]+)\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\)$/;

function routeOf(req: FakeRequest): Route {
  let path: string;
  try {
    path = decodeURIComponent(req.url.pathname);
  } catch {
    throw invalidInput(); // a malformed %-escape
  }
  const method = req.method;
  if (/^\/Tables$/i.test(path)) {
    if (method === 'POST') return { operation: 'createTable', table: '' };
    throw notImplemented(`${method} /Tables (table lists)`);
  }
  if (/^\/Tables\(/i.test(path)) throw notImplemented(`${method} on a table itself (table deletes)`);
  const entity = ENTITY_PATH.exec(path);
  if (entity) {
    const keys = { table: entity[1]!, partitionKey: unquote(entity[2]!), rowKey: unquote(entity[3]!) };
    if (method === 'GET') return { operation: 'getEntity', ...keys };
    if (method === 'PUT') return { operation: 'updateEntity', ...keys };
    // The SDK merges with PATCH; the service also takes the older MERGE verb.
    if (method === 'PATCH' || method === 'MERGE') return { operation: 'mergeEntity', ...keys };
    if (method === 'DELETE') return { operation: 'deleteEntity', ...keys };
    throw notImplemented(`${method} of an entity`);
  }
  const collection = /^\/([^/()]+)(\(\))?$/.exec(path);
  if (collection && method === 'POST' && !collection[2])
    return { operation: 'createEntity', table: collection[1]! };
  if (collection && method === 'GET' && !req.url.searchParams.has('comp'))
    return { operation: 'listEntities', table: collection[1]! };
  throw notImplemented(`${method} ${req.url.pathname}`);
}

/** OData doubles a quote inside a quoted key. */
const unquote = (s: string) => s.replaceAll("''", "'");
const entityKey = (partitionKey: string, rowKey: string) => `${partitionKey}\u0000${rowKey}`;

function objectBody(req: FakeRequest): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(req.body);
  } catch {
    throw invalidInput();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidInput();
  return parsed as Record<string, unknown>;
}

/** An entity's keys and own properties; the service's and OData's own fields are not stored. */
function entityOf(body: Record<string, unknown>): {
  partitionKey: string;
  rowKey: string;
  properties: Record<string, unknown>;
} {
  const { PartitionKey: partitionKey, RowKey: rowKey, ...rest } = body;
  if (typeof partitionKey !== 'string' || typeof rowKey !== 'string')
    throw new TableError(
      400,
      'PropertiesNeedValue',
      'The values are not specified for all properties in the entity.',
    );
  for (const key of [partitionKey, rowKey])
    if (key.length > MAX_KEY_LENGTH || /[/\\#?]/.test(key) || [...key].some(isControl)) throw invalidInput();
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rest)) {
    // The service keeps its own Timestamp and ETag.
    if (name.startsWith('odata.') || name === 'Timestamp' || name.startsWith('Timestamp@')) continue;
    if (value !== null && typeof value === 'object') throw invalidInput();
    if (typeof value === 'string' && value.length > MAX_STRING_PROPERTY)
      throw new TableError(
        400,
        'PropertyValueTooLarge',
        'The property value exceeds the maximum allowed size (64KB). If the property value is a string, it is UTF-16 encoded and the maximum number of characters should be 32K or less.',
      );
    properties[name] = value;
  }
  return { partitionKey, rowKey, properties };
}

/** A merge: the sent properties (with their type annotations) over the stored ones. */
function merged(existing: StoredEntity | undefined, sent: Record<string, unknown>): Record<string, unknown> {
  const properties = { ...existing?.properties };
  for (const name of Object.keys(sent)) if (!name.includes('@')) delete properties[`${name}@odata.type`];
  return { ...properties, ...sent };
}

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code < 0xa0);
}

/** If-Match: `*` needs the entity to exist, an ETag needs it unchanged. */
function matchEtag(existing: StoredEntity | undefined, ifMatch: string | string[]): void {
  if (!existing) throw entityNotFound();
  if (ifMatch !== '*' && ifMatch !== existing.etag)
    throw new TableError(
      412,
      'UpdateConditionNotSatisfied',
      'The update condition specified in the request was not satisfied.',
    );
}

/** An entity as the service answers it (minimal metadata: Timestamp without its type annotation). */
function view(e: StoredEntity, select?: string[]): Record<string, unknown> {
  const all: Record<string, unknown> = {
    PartitionKey: e.partitionKey,
    RowKey: e.rowKey,
    Timestamp: e.timestamp,
    ...e.properties,
  };
  const picked = select
    ? Object.fromEntries(
        Object.entries(all).filter(
          ([name]) => select.includes(name) || select.includes(name.replace(/@odata\.type$/, '')),
        ),
      )
    : all;
  return { 'odata.etag': e.etag, ...picked };
}

/** One page of a query: `$filter`, `$select`, `$top`, resumed from NextPartitionKey/NextRowKey. */
function query(
  table: FakeTable,
  params: URLSearchParams,
): { value: Record<string, unknown>[]; continuation: Record<string, string> } {
  const topRaw = params.get('$top');
  const top = topRaw === null ? MAX_PAGE : Number(topRaw);
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE) throw invalidInput();
  const filter = params.get('$filter');
  const matches = filter ? compileFilter(filter) : () => true;
  const select = params
    .get('$select')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const nextPk = params.get('NextPartitionKey');
  const nextRk = params.get('NextRowKey');
  const from = nextPk === null ? undefined : entityKey(fromToken(nextPk), fromToken(nextRk ?? ''));
  const sorted = [...table.entities.entries()]
    .filter(([key]) => from === undefined || key >= from)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => e)
    .filter(matches);
  const page = sorted.slice(0, top);
  const next = sorted[top];
  return {
    value: page.map((e) => view(e, select)),
    continuation: next
      ? {
          'x-ms-continuation-NextPartitionKey': toToken(next.partitionKey),
          'x-ms-continuation-NextRowKey': toToken(next.rowKey),
        }
      : {},
  };
}

const toToken = (key: string) => Buffer.from(key).toString('base64url');
const fromToken = (token: string) => Buffer.from(token, 'base64url').toString();

type Literal = string | number | boolean;
const COMPARE: Record<string, (c: number) => boolean> = {
  eq: (c) => c === 0,
  ne: (c) => c !== 0,
  gt: (c) => c > 0,
  ge: (c) => c >= 0,
  lt: (c) => c < 0,
  le: (c) => c <= 0,
};

/**
 * An OData filter of comparisons joined by `and` (`PartitionKey eq 'x' and claimedAt lt '…'`), with
 * string, number, boolean and datetime literals. A property the entity lacks matches nothing.
 */
function compileFilter(filter: string): (e: StoredEntity) => boolean {
  const invalid = () =>
    new TableError(400, 'InvalidInput', 'The query condition specified in the request is invalid.');
  const tokens = filter.match(/datetime'[^']*'|'(?:[^']|'')*'|[()]|[^\s()']+|'/gi) ?? [];
  const clauses: {
    property: string;
    compare: (c: number) => boolean;
    literal: FilterLiteral;
  }[] = [];
  for (let i = 0; i < tokens.length; i += 4) {
    const [property, op, literal, joiner] = tokens.slice(i, i + 4);
    if ([property, op, literal, joiner].some((t) => t !== undefined && /^(or|not|\(|\))$/i.test(t)))
      throw notImplemented(`the filter "${filter}" ('or', 'not', parentheses)`);
    const compare = op === undefined ? undefined : COMPARE[op.toLowerCase()];
    if (!property || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(property) || !compare || literal === undefined)
      throw invalid();
    if (joiner !== undefined && (joiner.toLowerCase() !== 'and' || i + 4 >= tokens.length)) throw invalid();
    clauses.push({ property, compare, literal: literalOf(literal) ?? raise(invalid()) });
  }
  if (clauses.length === 0) throw invalid();
  return (e) =>
    clauses.every(({ property, compare, literal }) => {
      const value =
        property === 'PartitionKey'
          ? e.partitionKey
          : property === 'RowKey'
            ? e.rowKey
            : property === 'Timestamp'
              ? e.timestamp
              : e.properties[property];
      if (literal.datetime) {
        const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
        return !Number.isNaN(at) && compare(Math.sign(at - literal.value));
      }
      if (typeof value !== typeof literal.value) return false;
      const v = value as Literal;
      return compare(v < literal.value ? -1 : v > literal.value ? 1 : 0);
    });
}

type FilterLiteral = { value: Literal; datetime?: false } | { value: number; datetime: true };

function literalOf(text: string): FilterLiteral | undefined {
  const quoted = /^'((?:[^']|'')*)'$/.exec(text);
  if (quoted) return { value: unquote(quoted[1]!) };
  const datetime = /^datetime'([^']+)'$/i.exec(text);
  if (datetime && !Number.isNaN(Date.parse(datetime[1]!)))
    return { value: Date.parse(datetime[1]!), datetime: true };
  if (/^(true|false)$/i.test(text)) return { value: text.toLowerCase() === 'true' };
  if (/^-?\d+(\.\d+)?L?$/.test(text)) return { value: Number(text.replace(/L$/, '')) };
  return undefined;
}

function raise(err: Error): never {
  throw err;
}

/** `{"odata.error": …}`, as the service answers a request that asked for JSON. */
function errorBody(requestId: string, code: string, message: string, extra: Record<string, string> = {}) {
  return {
    'odata.error': {
      code,
      message: {
        lang: 'en-US',
        value: `${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`,
      },
      ...extra,
    },
  };
}
