/**
 * Fake managed identity endpoint (plain HTTP on loopback, as both real endpoints are):
 * - App Service / Functions form: `GET {IDENTITY_ENDPOINT}?resource=..&api-version=2019-08-01`
 *   with `X-IDENTITY-HEADER: {IDENTITY_HEADER}` (what @azure/identity → MSAL uses in Functions);
 * - IMDS form: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=..` with
 *   `Metadata: true`; numbers come as JSON strings, as IMDS sends them;
 * - a runner VM's own IMDS: `GET /vms/{vm name}/metadata/identity/oauth2/token` (the same query and
 *   header), each VM behind its own path as each real VM reaches its own 169.254.169.254: the token
 *   names the VM's managed identity (`xms_mirid`, `oid`, `appid`, `tid`), as Entra's do;
 * - that VM's attested document: `GET /vms/{vm name}/metadata/attested/document?api-version=..&nonce=..`
 *   with `Metadata: true`: `{"encoding": "pkcs7", "signature"}` naming the VM's `vmId`, signed as
 *   IMDS signs (attested-document.ts).
 */
import { attestedJson, signAttestedDocument, type AttestationSigner } from './attested-document.js';
import type { FaultBook } from './faults.js';
import { applyHttpFault, sendJson, type FakeRequest } from './http.js';
import { TOKEN_LIFETIME_SECONDS, type EntraCallerClaims, type TokenIssuer } from './tokens.js';

export const APP_SERVICE_MSI_PATH = '/msi/token';

export function identityHandler(opts: {
  tokens: TokenIssuer;
  faults: FaultBook;
  identityHeader: string;
  clientId?: string;
  /** The managed identity of a VM by its resource name (a scale set instance's `name`); undefined: no such VM. */
  vmIdentity?: (vmName: string) => (EntraCallerClaims & { appid: string }) | undefined;
  /** What a VM's attested document names, by the VM's resource name; undefined: no such VM. */
  vmAttestation?: (vmName: string) => { vmId: string; subscriptionId: string } | undefined;
  /** The certificate (for metadata.azure.com) and key IMDS signs attested documents with. */
  attestationSigner?: AttestationSigner;
}) {
  return (req: FakeRequest): void | Promise<void> => {
    const { url } = req;
    const attested = /^\/vms\/([^/]+)\/metadata\/attested\/document$/.exec(url.pathname)?.[1];
    if (attested !== undefined) return attestedDocument(req, decodeURIComponent(attested), opts);
    const isAppService = url.pathname === APP_SERVICE_MSI_PATH;
    const vm = /^\/vms\/([^/]+)\/metadata\/identity\/oauth2\/token$/.exec(url.pathname)?.[1];
    const isImds = url.pathname === '/metadata/identity/oauth2/token' || vm !== undefined;
    if (!isAppService && !isImds)
      return sendJson(req.res, 404, {
        error: 'not_found',
        error_description: `no such endpoint ${url.pathname}`,
      });
    if (req.method !== 'GET')
      return sendJson(req.res, 405, { error: 'invalid_request', error_description: 'only GET is allowed' });
    if (
      applyHttpFault(req, opts.faults.takeHttp('identity', 'getToken'), (status) => ({
        body: { error: 'service_unavailable', error_description: `injected ${status}` },
      }))
    )
      return;

    if (isAppService) {
      if (req.headers['x-identity-header'] !== opts.identityHeader) {
        return sendJson(req.res, 401, {
          statusCode: 401,
          message: 'Unauthorized: X-IDENTITY-HEADER is missing or wrong',
        });
      }
      if (url.searchParams.get('api-version') !== '2019-08-01') {
        return sendJson(req.res, 400, { statusCode: 400, message: 'api-version must be 2019-08-01' });
      }
    } else {
      if (req.headers['metadata'] !== 'true') {
        return sendJson(req.res, 400, {
          error: 'invalid_request',
          error_description: 'Required metadata header not specified',
        });
      }
      if (!url.searchParams.get('api-version')) {
        return sendJson(req.res, 400, {
          error: 'invalid_request',
          error_description: 'Required query variable api-version is missing',
        });
      }
    }
    const resource = url.searchParams.get('resource');
    if (!resource)
      return sendJson(req.res, 400, { error: 'invalid_resource', error_description: 'resource is required' });
    const clientId = url.searchParams.get('client_id') ?? undefined;
    if (vm !== undefined) {
      const caller = opts.vmIdentity?.(decodeURIComponent(vm));
      if (!caller)
        return sendJson(req.res, 400, {
          error: 'invalid_request',
          error_description: 'Identity not found: the VM has no managed identity',
        });
      if (clientId && clientId.toLowerCase() !== caller.appid.toLowerCase())
        return sendJson(req.res, 400, {
          error: 'invalid_request',
          error_description: `Identity not found: no user-assigned identity with client id ${clientId}`,
        });
      const issued = opts.tokens.issueFor(resource, caller);
      return sendJson(req.res, 200, imdsBody(issued.token, issued.expiresAtMs, resource, caller.appid));
    }
    if (clientId && opts.clientId && clientId.toLowerCase() !== opts.clientId.toLowerCase()) {
      return sendJson(req.res, 400, {
        error: 'invalid_request',
        error_description: `Identity not found: no user-assigned identity with client id ${clientId}`,
      });
    }
    const { token, expiresAtMs } = opts.tokens.issue(resource, 'entra', clientId ?? opts.clientId);
    const expiresOn = String(Math.floor(expiresAtMs / 1000));
    if (isAppService) {
      return sendJson(req.res, 200, {
        access_token: token,
        expires_on: expiresOn,
        resource,
        token_type: 'Bearer',
        client_id: clientId ?? opts.clientId ?? '',
      });
    }
    return sendJson(req.res, 200, imdsBody(token, expiresAtMs, resource, clientId ?? opts.clientId ?? ''));
  };
}

/** The api-versions IMDS serves the attested category in (it came with 2018-10-01). */
const ATTESTED_API_VERSIONS = [
  '2018-10-01',
  '2019-02-01',
  '2019-03-11',
  '2019-04-30',
  '2019-06-01',
  '2019-06-04',
  '2019-08-01',
  '2019-08-15',
  '2019-11-01',
  '2020-06-01',
  '2020-07-15',
  '2020-09-01',
  '2020-10-01',
  '2020-12-01',
  '2021-01-01',
  '2021-02-01',
  '2021-03-01',
  '2021-05-01',
  '2021-08-01',
  '2021-10-01',
  '2021-11-01',
  '2021-11-15',
  '2021-12-13',
  '2023-07-01',
  '2023-11-15',
  '2024-03-15',
  '2024-07-17',
  '2025-04-07',
];

/** A VM's attested document, refused as IMDS refuses (no Metadata header, no or unknown api-version). */
async function attestedDocument(
  req: FakeRequest,
  vmName: string,
  opts: Parameters<typeof identityHandler>[0],
): Promise<void> {
  const { url } = req;
  if (req.method !== 'GET') return sendJson(req.res, 405, { error: 'Method not allowed' });
  if (
    applyHttpFault(req, opts.faults.takeHttp('identity', 'getAttestedDocument'), () => ({
      body: { error: 'Internal server error' },
    }))
  )
    return;
  if (req.headers['metadata'] !== 'true')
    return sendJson(req.res, 400, { error: 'Bad request. Required metadata header not specified' });
  if (!ATTESTED_API_VERSIONS.includes(url.searchParams.get('api-version') ?? ''))
    return sendJson(req.res, 400, {
      error:
        'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
      'newest-versions': ATTESTED_API_VERSIONS.slice(-3).reverse(),
    });
  const nonce = url.searchParams.get('nonce');
  // IMDS documents the nonce as a 10-digit string; without one it uses the time (20201130-211924).
  if (nonce !== null && !/^\d{10}$/.test(nonce))
    return sendJson(req.res, 400, { error: 'Bad request. nonce must be a 10-digit string' });
  const vm = opts.vmAttestation?.(vmName);
  if (!vm || !opts.attestationSigner)
    return sendJson(req.res, 404, { error: `Not found: no VM ${vmName} behind this IMDS` });
  const now = Date.now();
  const json = attestedJson({
    nonce: nonce ?? new Date(now).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15),
    vmId: vm.vmId,
    subscriptionId: vm.subscriptionId,
    createdAtMs: now,
  });
  sendJson(req.res, 200, {
    encoding: 'pkcs7',
    signature: await signAttestedDocument(json, opts.attestationSigner),
  });
}

/** IMDS's answer: numbers as JSON strings. */
function imdsBody(token: string, expiresAtMs: number, resource: string, clientId: string) {
  const expiresOn = Math.floor(expiresAtMs / 1000);
  return {
    access_token: token,
    client_id: clientId,
    expires_in: String(TOKEN_LIFETIME_SECONDS),
    expires_on: String(expiresOn),
    ext_expires_in: String(TOKEN_LIFETIME_SECONDS),
    not_before: String(expiresOn - TOKEN_LIFETIME_SECONDS),
    refresh_token: '',
    resource,
    token_type: 'Bearer',
  };
}
