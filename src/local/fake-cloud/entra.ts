/**
 * The fake Entra authority (HTTPS on loopback, reached through AZURE_AUTHORITY_HOST as a sovereign
 * cloud's login host is): a tenant's OpenID metadata, v1 and v2, and the key set that verifies the
 * tokens the fake managed identity endpoints sign. As Entra does, the v1 metadata names the issuer
 * `https://sts.windows.net/<tenant>/` and `common/discovery/keys`, the v2 metadata
 * `https://login.microsoftonline.com/<tenant>/v2.0` and `<tenant>/discovery/v2.0/keys`; an unknown
 * tenant is a 400 with AADSTS90002.
 */
import { sendJson, type FakeRequest } from './http.js';
import type { SigningKey } from './tokens.js';

export function entraAuthorityHandler(opts: { origin: () => string; tenantId: string; key: SigningKey }) {
  return (req: FakeRequest): void => {
    const parts = req.url.pathname.split('/').filter(Boolean);
    if (req.method !== 'GET')
      return sendJson(req.res, 405, { error: 'invalid_request', error_description: 'only GET is allowed' });
    const origin = opts.origin();
    const keys = () => sendJson(req.res, 200, { keys: [opts.key.jwk()] });
    if (parts.join('/') === 'common/discovery/keys') return keys();
    const tenant = parts[0]?.toLowerCase();
    if (tenant !== opts.tenantId.toLowerCase())
      return sendJson(req.res, 400, {
        error: 'invalid_tenant',
        error_description: `AADSTS90002: Tenant '${parts[0] ?? ''}' not found.`,
      });
    const rest = parts.slice(1).join('/');
    if (rest === '.well-known/openid-configuration')
      return sendJson(req.res, 200, {
        issuer: `https://sts.windows.net/${tenant}/`,
        jwks_uri: `${origin}/common/discovery/keys`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/token`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        tenant_region_scope: 'EU',
      });
    if (rest === 'v2.0/.well-known/openid-configuration')
      return sendJson(req.res, 200, {
        issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    if (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys') return keys();
    return sendJson(req.res, 404, {
      error: 'not_found',
      error_description: `no such endpoint ${req.url.pathname}`,
    });
  };
}
