/**
 * Fake Azure Blob storage: the Blob service of the app's storage account, as far as kiln's software
 * reports use it (src/clients/blobs.ts reads them with @azure/storage-blob; the Packer job writes
 * them with `az storage blob upload`): Get Blob (whole, or a range), Get Blob Properties (HEAD) and
 * Put Blob of a block blob, host-style (`https://<account>.blob.localhost:<port>/<container>/<blob>`,
 * as `https://<account>.blob.core.windows.net` is), with the service's headers, ETags and XML error
 * bodies (`<?xml …?><Error><Code>…</Code><Message>…</Message></Error>` and `x-ms-error-code`;
 * a HEAD answers the code in the header only, as the service does).
 *
 * Refused as the service refuses them:
 * - no `x-ms-version` (400 MissingRequiredHeader), or one the service does not know (400
 *   InvalidHeaderValue);
 * - no Authorization (401 NoAuthenticationInformation with the bearer challenge
 *   `WWW-Authenticate: Bearer authorization_uri=…/<tenant>/oauth2/authorize resource_id=https://storage.azure.com`);
 *   a token this cloud did not issue, an expired one or one for another audience (401
 *   InvalidAuthenticationInfo, its AuthenticationErrorDetail, the same challenge); an account key or
 *   SAS (403 KeyBasedAuthenticationNotPermitted: kiln's account allows no shared key);
 * - a caller without the blob data action of the operation on the container (403
 *   AuthorizationPermissionMismatch): `…/containers/blobs/read` to read, `…/blobs/write` to write;
 *   checked before the container's existence, as Azure's RBAC is;
 * - a container that does not exist (404 ContainerNotFound), a blob that does not exist (404
 *   BlobNotFound);
 * - a Put Blob without `x-ms-blob-type` (400 MissingRequiredHeader) or with another value than
 *   BlockBlob, PageBlob or AppendBlob (400 InvalidHeaderValue), without Content-Length (411
 *   MissingContentLengthHeader), with a Content-MD5 the body does not have (400 Md5Mismatch), or
 *   against an `If-None-Match: *` when the blob exists (409 BlobAlreadyExists) or an `If-Match` it
 *   does not match (412 ConditionNotMet); a range past the blob's end (416 InvalidRange).
 * What kiln never sends (container and service operations, lists, page and append blobs, blocks,
 * leases, snapshots) answers 501 NotImplemented, naming this fake.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AccessControl } from './access.js';
import type { FakeBlobStore, StoredBlob } from './blob-store.js';
import type { FaultBook } from './faults.js';
import { bearerToken, type FakeRequest } from './http.js';
import { STORAGE_AUDIENCE } from './tables.js';
import type { TokenIssuer } from './tokens.js';

/**
 * Storage service versions since 2017-11-09, the first that takes Entra tokens, to the one
 * @azure/storage-blob 12.32 sends (2026-04-06).
 */
// prettier-ignore
const BLOB_API_VERSIONS = new Set([
  '2017-11-09', '2018-03-28', '2018-11-09', '2019-02-02', '2019-07-07', '2019-10-10', '2019-12-12',
  '2020-02-10', '2020-04-08', '2020-06-12', '2020-08-04', '2020-10-02', '2020-12-06', '2021-02-12',
  '2021-04-10', '2021-06-08', '2021-08-06', '2021-10-04', '2021-12-02', '2022-11-02', '2023-01-03',
  '2023-08-03', '2023-11-03', '2024-02-04', '2024-05-04', '2024-08-04', '2024-11-04', '2025-01-05',
  '2025-05-05', '2025-07-05', '2025-11-05', '2026-02-06', '2026-04-06',
]);

const BLOB_ACTIONS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';
/** The service's limit on a blob's name. */
const MAX_BLOB_NAME = 1024;

/** The operations it serves, by their fault names (faults.ts). */
type BlobOperation = 'getBlob' | 'getBlobProperties' | 'putBlob';

class BlobError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notImplemented = (what: string) =>
  new BlobError(
    501,
    'NotImplemented',
    `The fake Blob service does not implement ${what} (kiln does not use it).`,
  );
const missingHeader = (name: string) =>
  new BlobError(
    400,
    'MissingRequiredHeader',
    'An HTTP header that is mandatory for this request is not specified.',
    {
      HeaderName: name,
    },
  );
const invalidHeader = (name: string, value: string) =>
  new BlobError(
    400,
    'InvalidHeaderValue',
    'The value for one of the HTTP headers is not in the correct format.',
    {
      HeaderName: name,
      HeaderValue: value,
    },
  );

export function blobsHandler(opts: {
  tokens: TokenIssuer;
  faults: FaultBook;
  /** The service's origin (a token for it is taken, as one for https://storage.azure.com is). */
  origin: () => string;
  /** Server time (ms): the world's clock. */
  now: () => number;
  /** Who may do what: a Blob data role on the storage account or on a container. */
  access: () => AccessControl;
  /** The storage account's ARM id (the scope of its role assignments). */
  accountId: () => string;
  /** The tenant the bearer challenge names. */
  tenantId: string;
  store: FakeBlobStore;
}) {
  const challenge = `Bearer authorization_uri=https://login.microsoftonline.com/${opts.tenantId}/oauth2/authorize resource_id=${STORAGE_AUDIENCE}`;

  return (req: FakeRequest): void => {
    const requestId = randomUUID();
    const version = req.headers['x-ms-version'];
    const common: Record<string, string> = {
      'x-ms-request-id': requestId,
      ...(typeof version === 'string' ? { 'x-ms-version': version } : {}),
      date: new Date(opts.now()).toUTCString(),
      server: 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0',
    };
    const clientRequestId = req.headers['x-ms-client-request-id'];
    if (typeof clientRequestId === 'string') common['x-ms-client-request-id'] = clientRequestId;
    try {
      const route = routeOf(req);
      if (typeof version !== 'string') throw missingHeader('x-ms-version');
      if (!BLOB_API_VERSIONS.has(version)) throw invalidHeader('x-ms-version', version);
      authenticate(req);
      const fault = opts.faults.takeHttp('blobs', route.operation);
      if (fault) {
        if (fault.hang) return; // never answered; the socket goes when the server closes
        if (fault.status === 0) return void req.raw.socket.destroy();
        const status = fault.status ?? 500;
        const code = status === 500 ? 'InternalError' : status === 503 ? 'ServerBusy' : 'InjectedFault';
        throw new BlobError(
          status,
          code,
          `injected ${status}`,
          {},
          fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
        );
      }
      authorize(req, route);
      answer(req, route, common);
    } catch (err) {
      if (!(err instanceof BlobError)) throw err;
      sendError(req, err, requestId, common);
    }
  };

  function authenticate(req: FakeRequest): void {
    const header = req.headers.authorization;
    const detail = (text: string) => ({ AuthenticationErrorDetail: text });
    if (!header) {
      if (req.url.searchParams.has('sig'))
        throw new BlobError(
          403,
          'KeyBasedAuthenticationNotPermitted',
          'Key based authentication is not permitted on this storage account.',
        );
      throw new BlobError(
        401,
        'NoAuthenticationInformation',
        'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
        {},
        { 'www-authenticate': challenge },
      );
    }
    if (!/^Bearer\s/i.test(header))
      throw new BlobError(
        403,
        'KeyBasedAuthenticationNotPermitted',
        'Key based authentication is not permitted on this storage account.',
      );
    const check = opts.tokens.check(bearerToken(req), [STORAGE_AUDIENCE, opts.origin()]);
    if (check === 'ok') return;
    const why = {
      missing: 'Authentication scheme Bearer is not supported.',
      invalid: 'Signature validation failed. Signature is invalid.',
      expired: 'Lifetime validation failed. The token is expired.',
      'wrong-audience': 'Audience validation failed. Audience did not match.',
    }[check];
    throw new BlobError(
      401,
      'InvalidAuthenticationInfo',
      'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
      detail(why),
      { 'www-authenticate': challenge },
    );
  }

  /** Azure RBAC on the data plane: the operation's data action on the container, inherited from the account. */
  function authorize(req: FakeRequest, route: Route): void {
    const access = opts.access();
    const caller = access.byClientId(opts.tokens.clientIdOf(bearerToken(req)));
    const scope = `${opts.accountId()}/blobServices/default/containers/${route.container}`;
    const action = `${BLOB_ACTIONS}/${route.operation === 'putBlob' ? 'write' : 'read'}`;
    if (!caller || !access.authorizeStorage(caller, action, scope, 'data'))
      throw new BlobError(
        403,
        'AuthorizationPermissionMismatch',
        'This request is not authorized to perform this operation using this permission.',
      );
  }

  function existing(route: Route): StoredBlob {
    if (!opts.store.hasContainer(route.container))
      throw new BlobError(404, 'ContainerNotFound', 'The specified container does not exist.');
    const blob = opts.store.get(route.container, route.blob);
    if (!blob) throw new BlobError(404, 'BlobNotFound', 'The specified blob does not exist.');
    return blob;
  }

  function answer(req: FakeRequest, route: Route, common: Record<string, string>): void {
    switch (route.operation) {
      case 'getBlob':
      case 'getBlobProperties': {
        const blob = existing(route);
        const headers = { ...common, ...blobHeaders(blob) };
        if (route.operation === 'getBlobProperties') {
          req.res.writeHead(200, { ...headers, 'content-length': String(blob.body.length) });
          return void req.res.end();
        }
        const range = rangeOf(req, blob.body.length);
        if (!range) {
          req.res.writeHead(200, { ...headers, 'content-length': String(blob.body.length) });
          return void req.res.end(blob.body);
        }
        const part = blob.body.subarray(range.start, range.end + 1);
        req.res.writeHead(206, {
          ...headers,
          'content-length': String(part.length),
          'content-range': `bytes ${range.start}-${range.end}/${blob.body.length}`,
          'x-ms-blob-content-md5': blob.contentMd5,
        });
        return void req.res.end(part);
      }
      case 'putBlob': {
        const type = req.headers['x-ms-blob-type'];
        if (typeof type !== 'string') throw missingHeader('x-ms-blob-type');
        if (type === 'PageBlob' || type === 'AppendBlob') throw notImplemented(`Put Blob of a ${type}`);
        if (type !== 'BlockBlob') throw invalidHeader('x-ms-blob-type', type);
        if (req.headers['content-length'] === undefined)
          throw new BlobError(411, 'MissingContentLengthHeader', 'Content-Length HTTP header is missing');
        if (!opts.store.hasContainer(route.container))
          throw new BlobError(404, 'ContainerNotFound', 'The specified container does not exist.');
        const before = opts.store.get(route.container, route.blob);
        const ifNoneMatch = req.headers['if-none-match'];
        if (ifNoneMatch === '*' && before)
          throw new BlobError(409, 'BlobAlreadyExists', 'The specified blob already exists.');
        const ifMatch = req.headers['if-match'];
        if (typeof ifMatch === 'string' && (!before || (ifMatch !== '*' && ifMatch !== before.etag)))
          throw new BlobError(
            before ? 412 : 404,
            before ? 'ConditionNotMet' : 'BlobNotFound',
            before
              ? 'The condition specified using HTTP conditional header(s) is not met.'
              : 'The specified blob does not exist.',
          );
        const md5 = req.headers['content-md5'];
        if (typeof md5 === 'string' && md5 !== createHash('md5').update(req.bytes).digest('base64'))
          throw new BlobError(
            400,
            'Md5Mismatch',
            'The MD5 value specified in the request did not match with the MD5 value calculated by the server.',
            {
              UserSpecifiedMd5: md5,
              ServerCalculatedMd5: createHash('md5').update(req.bytes).digest('base64'),
            },
          );
        const contentType = req.headers['x-ms-blob-content-type'];
        const stored = opts.store.put(
          route.container,
          route.blob,
          Buffer.from(req.bytes),
          typeof contentType === 'string' ? contentType : 'application/octet-stream',
        );
        req.res.writeHead(201, {
          ...common,
          etag: stored.etag,
          'last-modified': new Date(stored.lastModified).toUTCString(),
          'content-md5': stored.contentMd5,
          'x-ms-request-server-encrypted': 'true',
          'content-length': '0',
        });
        return void req.res.end();
      }
    }
  }

  function sendError(
    req: FakeRequest,
    err: BlobError,
    requestId: string,
    common: Record<string, string>,
  ): void {
    const res = req.res;
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = {
      ...common,
      ...err.headers,
      'x-ms-error-code': err.code,
    };
    // A HEAD answer has no body: the code travels in x-ms-error-code alone.
    if (req.method === 'HEAD') {
      res.writeHead(err.status, headers);
      return void res.end();
    }
    const time = new Date(opts.now()).toISOString().replace('Z', '0000Z');
    const extra = Object.entries(err.extra)
      .map(([name, value]) => `<${name}>${xmlText(value)}</${name}>`)
      .join('');
    const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${err.code}</Code><Message>${xmlText(
      `${err.message}\nRequestId:${requestId}\nTime:${time}`,
    )}</Message>${extra}</Error>`;
    res.writeHead(err.status, {
      ...headers,
      'content-type': 'application/xml',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  }
}

interface Route {
  operation: BlobOperation;
  container: string;
  blob: string;
}

/** `/<container>/<blob name, slashes and all>`; anything else is not kiln's. */
function routeOf(req: FakeRequest): Route {
  const params = req.url.searchParams;
  for (const name of ['comp', 'restype', 'snapshot', 'versionid', 'blockid'])
    if (params.has(name)) throw notImplemented(`${req.method} with ?${name}= (${params.get(name)})`);
  const raw = req.url.pathname.replace(/^\//, '');
  const slash = raw.indexOf('/');
  if (slash <= 0 || slash === raw.length - 1)
    throw notImplemented(`${req.method} ${req.url.pathname} (not a blob)`);
  let container: string;
  let blob: string;
  try {
    container = decodeURIComponent(raw.slice(0, slash));
    blob = decodeURIComponent(raw.slice(slash + 1));
  } catch {
    throw new BlobError(
      400,
      'InvalidUri',
      'The requested URI does not represent any resource on the server.',
    );
  }
  if (blob.length > MAX_BLOB_NAME)
    throw new BlobError(
      400,
      'InvalidResourceName',
      'The specifed resource name contains invalid characters.',
    );
  const operation: BlobOperation | undefined =
    req.method === 'GET'
      ? 'getBlob'
      : req.method === 'HEAD'
        ? 'getBlobProperties'
        : req.method === 'PUT'
          ? 'putBlob'
          : undefined;
  if (!operation) throw notImplemented(`${req.method} of a blob`);
  return { operation, container, blob };
}

/** The headers a Get Blob or Get Blob Properties answers a blob's properties with. */
function blobHeaders(blob: StoredBlob): Record<string, string> {
  return {
    'content-type': blob.contentType,
    'content-md5': blob.contentMd5,
    etag: blob.etag,
    'last-modified': new Date(blob.lastModified).toUTCString(),
    'x-ms-creation-time': new Date(blob.createdAt).toUTCString(),
    'x-ms-blob-type': 'BlockBlob',
    'x-ms-lease-status': 'unlocked',
    'x-ms-lease-state': 'available',
    'x-ms-server-encrypted': 'true',
    'x-ms-access-tier': 'Hot',
    'x-ms-access-tier-inferred': 'true',
    'accept-ranges': 'bytes',
  };
}

/** `x-ms-range` (or `Range`) `bytes=start-[end]`: the bytes asked for, or undefined for all of them. */
function rangeOf(req: FakeRequest, size: number): { start: number; end: number } | undefined {
  const header = req.headers['x-ms-range'] ?? req.headers.range;
  if (typeof header !== 'string') return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // the service ignores a range it cannot read
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start)
    throw new BlobError(
      416,
      'InvalidRange',
      'The range specified is invalid for the current size of the resource.',
    );
  return { start, end };
}

function xmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
