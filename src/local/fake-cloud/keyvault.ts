/**
 * Fake Key Vault (secrets, data plane). Challenge-based auth as the real vault does it: an
 * unauthenticated request gets 401 with `WWW-Authenticate: Bearer authorization="<authority>",
 * resource="<vault resource>"`; @azure/keyvault-secrets then asks the credential for
 * `<resource>/.default` and retries. The SDK checks that the vault host is a subdomain of the
 * challenge's resource host (kiln.vault.localhost ⊂ vault.localhost here, as
 * kv.vault.azure.net ⊂ vault.azure.net in Azure).
 */
import { randomUuid, type Random } from '../random.js';
import type { FaultBook } from './faults.js';
import { applyHttpFault, bearerToken, sendJson, type FakeRequest } from './http.js';
import type { AccessControl } from './access.js';
import type { TokenIssuer } from './tokens.js';

/** api-versions the fake accepts; @azure/keyvault-secrets 4.11 sends 2025-07-01 (LATEST_API_VERSION). */
const KEYVAULT_API_VERSIONS = new Set(['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01']);

export interface StoredSecret {
  value: string;
  version: string;
  created: number;
}

export function keyVaultHandler(opts: {
  tokens: TokenIssuer;
  faults: FaultBook;
  secrets: Map<string, StoredSecret>;
  /** Token audience the vault accepts (the challenge's resource). */
  resource: string;
  authority: string;
  vaultOrigin: () => string;
  /** Who may read which secret (the vault is in RBAC mode) and the vault's ARM id (the scope). */
  access: () => AccessControl;
  vaultId: () => string;
}) {
  const challenge = `Bearer authorization="${opts.authority}", resource="${opts.resource}"`;
  const kvError = (
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    innererror?: { code: string },
  ) => ({
    status,
    body: { error: { code, message, ...(innererror ? { innererror } : {}) } },
    headers,
  });
  return (req: FakeRequest): void => {
    const send = (e: ReturnType<typeof kvError>) => sendJson(req.res, e.status, e.body, e.headers);
    const m = /^\/secrets\/([0-9a-zA-Z-]+)(?:\/([0-9a-f]{32}))?\/?$/.exec(req.url.pathname);
    if (!m || req.method !== 'GET')
      return send(kvError(404, 'NotFound', `${req.method} ${req.url.pathname} is not a secrets get request`));
    const apiVersion = req.url.searchParams.get('api-version');
    if (!apiVersion) return send(kvError(400, 'BadParameter', 'The api-version query parameter is missing.'));
    if (!KEYVAULT_API_VERSIONS.has(apiVersion))
      return send(
        kvError(
          400,
          'BadParameter',
          `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (2025-07-01).`,
        ),
      );
    const token = bearerToken(req);
    const check = opts.tokens.check(token, opts.resource);
    if (check === 'missing')
      return send(
        kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
          'www-authenticate': challenge,
        }),
      );
    if (check === 'invalid' || check === 'expired')
      return send(
        kvError(401, 'Unauthorized', `AKV10032: Invalid issuer or token (${check}).`, {
          'www-authenticate': challenge,
        }),
      );
    if (check === 'wrong-audience')
      return send(kvError(403, 'Forbidden', 'AKV10022: Invalid audience for this vault.'));
    if (
      applyHttpFault(req, opts.faults.takeHttp('keyvault', 'getSecret'), (status) => ({
        body: {
          error: { code: status === 429 ? 'Throttled' : 'ServiceUnavailable', message: `injected ${status}` },
        },
      }))
    )
      return;
    const name = m[1]!;
    // RBAC mode: reading a secret is a data action on the secret (a vault- or wider-scope role counts too).
    const access = opts.access();
    const caller = access.byClientId(opts.tokens.clientIdOf(token));
    const action = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
    const scope = `${opts.vaultId()}/secrets/${name}`;
    if (!caller || !access.authorizeData(caller, action, scope)) {
      return send(
        kvError(
          403,
          'Forbidden',
          [
            'Caller is not authorized to perform action on resource.',
            'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
            `Caller: appid=${caller?.clientId ?? 'unknown'};oid=${caller?.principalId ?? 'unknown'}`,
            `Action: '${action}'`,
            `Resource: '${scope.toLowerCase()}'`,
            'Assignment: (not found)',
            'DenyAssignmentId: null',
            'DecisionReason: null',
            `Vault: ${opts.vaultId().split('/').pop()}`,
          ].join('\r\n'),
          {},
          { code: 'ForbiddenByRbac' },
        ),
      );
    }
    const secret = opts.secrets.get(name.toLowerCase());
    if (!secret || (m[2] && m[2] !== secret.version)) {
      return send(
        kvError(
          404,
          'SecretNotFound',
          `A secret with (name/id) ${name}${m[2] ? `/${m[2]}` : ''} was not found in this key vault.`,
        ),
      );
    }
    const created = Math.floor(secret.created / 1000);
    sendJson(req.res, 200, {
      value: secret.value,
      id: `${opts.vaultOrigin()}/secrets/${name}/${secret.version}`,
      attributes: {
        enabled: true,
        created,
        updated: created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    });
  };
}

/** A secret's version is 32 hex digits, as Key Vault's are. */
export function newSecret(value: string, created: number, random: Random): StoredSecret {
  return { value, version: randomUuid(random).replaceAll('-', ''), created };
}
