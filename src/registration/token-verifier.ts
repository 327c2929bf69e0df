/**
 * Checks the managed identity token a runner VM sends to the registration broker: an Entra access
 * token signed with one of the tenant's published keys, issued by the tenant, for kiln's audience,
 * not expired. Everything comes from the authority (AZURE_AUTHORITY_HOST: sovereign clouds, and the
 * fake cloud): the tenant's OpenID metadata (v1 and v2 endpoints) names the issuers and the key set;
 * `jose` fetches and caches the keys and does the cryptography. No token ever reaches a log or an
 * answer: refusals say why, never what was sent.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ensureError } from '../clients/errors.js';
import { expiringPromise } from './expiring-promise.js';

export interface TokenVerifierOptions {
  authorityHost: string;
  tenantId: string;
  audiences: string[];
  /** Timeout of one metadata or key set request (default 10 s). */
  timeoutMs?: number;
}

/** The claims the broker decides on. */
export interface VerifiedIdentity {
  tid: string;
  oid?: string;
  appid?: string;
  /** The managed identity's resource: the VM or scale set (system-assigned) or the user-assigned identity. */
  xmsMirid?: string;
}

export type Verification =
  | { ok: true; identity: VerifiedIdentity }
  /** `unavailable`: the authority could not be read; the token was not judged. */
  | { ok: false; kind: 'refused' | 'unavailable'; reason: string };

interface Metadata {
  issuers: string[];
  keys: ReturnType<typeof createRemoteJWKSet>;
}

/** Metadata is kept this long; the key set refetches on its own when a token names an unknown key. */
const METADATA_TTL_MS = 60 * 60_000;

export function createTokenVerifier(options: TokenVerifierOptions) {
  const authority = options.authorityHost.replace(/\/+$/, '');
  const tenant = options.tenantId.toLowerCase();
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function fetchJson(url: string): Promise<Record<string, unknown>> {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** v1 tokens (what IMDS issues for a resource) and v2 tokens name different issuers; both are the tenant's. */
  async function loadMetadata(): Promise<Metadata> {
    const v1 = await fetchJson(`${authority}/${tenant}/.well-known/openid-configuration`);
    const v2 = await fetchJson(`${authority}/${tenant}/v2.0/.well-known/openid-configuration`).catch(
      () => undefined,
    );
    const issuers = [v1.issuer, v2?.issuer]
      .filter((i): i is string => typeof i === 'string' && i !== '')
      // Multi-tenant metadata templates the tenant; this tenant's metadata should not, but be exact.
      .map((i) => i.replace('{tenantid}', tenant));
    const jwksUri = v1.jwks_uri;
    if (issuers.length === 0 || typeof jwksUri !== 'string')
      throw new Error('the OpenID metadata names no issuer or no jwks_uri');
    return {
      issuers,
      keys: createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: timeoutMs }),
    };
  }

  const currentMetadata = expiringPromise(METADATA_TTL_MS, loadMetadata);

  return {
    async verify(token: string): Promise<Verification> {
      let meta: Metadata;
      try {
        meta = await currentMetadata(Date.now());
      } catch (thrown) {
        return {
          ok: false,
          kind: 'unavailable',
          reason: `the identity provider's metadata could not be read: ${ensureError(thrown).message}`,
        };
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, meta.keys, {
          issuer: meta.issuers,
          audience: options.audiences,
          algorithms: ['RS256'],
          requiredClaims: ['exp', 'tid'],
          clockTolerance: 60,
        }));
      } catch (thrown) {
        return refusal(thrown);
      }
      const tid = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : '';
      if (tid !== tenant) return { ok: false, kind: 'refused', reason: 'the token is from another tenant' };
      const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const identity: VerifiedIdentity = { tid };
      const oid = text(payload.oid);
      const appid = text(payload.appid) ?? text(payload.azp);
      const xmsMirid = text(payload.xms_mirid);
      if (oid) identity.oid = oid;
      if (appid) identity.appid = appid;
      if (xmsMirid) identity.xmsMirid = xmsMirid;
      return { ok: true, identity };
    },
  };
}

/** Why jose refused a token, in words that never quote it. */
function refusal(thrown: unknown): Verification {
  const refused = (reason: string): Verification => ({ ok: false, kind: 'refused', reason });
  if (thrown instanceof errors.JWTExpired) return refused('the token has expired');
  if (thrown instanceof errors.JWTClaimValidationFailed) {
    if (thrown.claim === 'aud') return refused("the token is not for kiln's audience");
    if (thrown.claim === 'iss') return refused("the token's issuer is not the tenant's");
    if (thrown.claim === 'nbf') return refused('the token is not valid yet');
    return refused(`the token's ${thrown.claim} claim is missing or wrong`);
  }
  if (thrown instanceof errors.JWSSignatureVerificationFailed)
    return refused("the token's signature does not verify");
  if (thrown instanceof errors.JWKSNoMatchingKey)
    return refused('the token is signed with a key the identity provider does not publish');
  if (thrown instanceof errors.JOSEAlgNotAllowed) return refused('the token is not signed with RS256');
  if (thrown instanceof errors.JWSInvalid || thrown instanceof errors.JWTInvalid)
    return refused('the token is not a well-formed JWT');
  // Anything else (a key set that timed out or could not be read): the token was not judged.
  return { ok: false, kind: 'unavailable', reason: "the identity provider's keys could not be read" };
}
