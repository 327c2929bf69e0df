/**
 * Access tokens of the fake cloud, issued by the fake managed identity endpoint (and the fake GitHub
 * App installation flow) and verified by the other fakes: issuer = this fake cloud, audience = the
 * resource the token was requested for. Entra tokens are JWTs whose claims name the caller as
 * Entra's do (`oid` = the identity's object id, `appid` = its client id, `tid`, `aud`, `iss`,
 * `xms_mirid` = the managed identity's resource), so a client can read who it is (kiln doctor does).
 * They are signed RS256 with the fake identity provider's key, which the fake authority publishes
 * (entra.ts), so a relying party (the registration broker) verifies them as it would Entra's; the
 * other fakes check the token itself against what they issued.
 *
 * Expiry runs on wall-clock time, not on the virtual clock: the real clients (MSAL's token cache,
 * @octokit/auth-app's JWT and token cache) schedule refreshes on Date.now(), and virtual time runs
 * thousands of times faster, so a virtual expiry would reject tokens every correct client still
 * (rightly) holds.
 */
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export interface IssuedToken {
  audience: string;
  expiresAtMs: number;
  clientId?: string;
  kind: 'entra' | 'github-installation';
}

export type TokenCheck = 'ok' | 'missing' | 'invalid' | 'expired' | 'wrong-audience';

export const TOKEN_LIFETIME_SECONDS = 3599;

/** Claims an Entra token names its caller with. */
export interface EntraCallerClaims {
  oid?: string;
  tid?: string;
  /** The managed identity's resource id (a VM, a scale set, or a user-assigned identity). */
  xms_mirid?: string;
}

/** The fake identity provider's signing key: one per process, as the token issuer is. */
export class SigningKey {
  readonly kid = `fake-${randomBytes(6).toString('hex')}`;
  readonly privateKey: KeyObject;

  constructor(privateKey?: KeyObject) {
    this.privateKey = privateKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  /** The public key as a JWKS entry, as Entra publishes its keys. */
  jwk(): JsonWebKey & { kid: string; use: string; alg: string } {
    return {
      ...createPublicKey(this.privateKey).export({ format: 'jwk' }),
      kid: this.kid,
      use: 'sig',
      alg: 'RS256',
    };
  }

  /** A compact RS256 JWS of these claims. */
  signJwt(claims: object, kid = this.kid): string {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${part({ typ: 'JWT', alg: 'RS256', kid })}.${part(claims)}`;
    return `${input}.${sign('RSA-SHA256', Buffer.from(input), this.privateKey).toString('base64url')}`;
  }
}

export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();
  readonly signingKey: SigningKey;

  constructor(
    private readonly wallNow: () => number = Date.now,
    /** The claims an Entra token names for a client id. */
    private readonly claimsFor: (clientId: string | undefined) => EntraCallerClaims = () => ({}),
    signingKey?: SigningKey,
  ) {
    this.signingKey = signingKey ?? new SigningKey();
  }

  /**
   * A token for a caller whose claims are given (a runner VM's managed identity through IMDS): the
   * same shape and signature as issue()'s.
   */
  issueFor(
    audience: string,
    caller: EntraCallerClaims & { appid?: string },
  ): { token: string; expiresAtMs: number } {
    const expiresAtMs = this.wallNow() + TOKEN_LIFETIME_SECONDS * 1000;
    const token = this.signingKey.signJwt(entraClaims(audience, expiresAtMs, caller));
    this.tokens.set(token, {
      audience: normalizeAudience(audience),
      expiresAtMs,
      clientId: caller.appid,
      kind: 'entra',
    });
    return { token, expiresAtMs };
  }

  issue(
    audience: string,
    kind: IssuedToken['kind'] = 'entra',
    clientId?: string,
  ): { token: string; expiresAtMs: number } {
    const expiresAtMs = this.wallNow() + TOKEN_LIFETIME_SECONDS * 1000;
    const token =
      kind === 'entra'
        ? this.entraJwt(audience, expiresAtMs, clientId)
        : `ghs_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { audience: normalizeAudience(audience), expiresAtMs, clientId, kind });
    return { token, expiresAtMs };
  }

  /** Whether this issuer made the token (valid or not): the GitHub fake tells its App JWTs apart so. */
  issued(token: string): boolean {
    return this.tokens.has(token);
  }

  private entraJwt(audience: string, expiresAtMs: number, clientId: string | undefined): string {
    return this.signingKey.signJwt(
      entraClaims(audience, expiresAtMs, { ...this.claimsFor(clientId), appid: clientId }),
    );
  }

  /** The client id a valid token was issued to: who is calling (Entra tokens carry it as `appid`). */
  clientIdOf(token: string | undefined): string | undefined {
    return token ? this.tokens.get(token)?.clientId : undefined;
  }

  check(
    token: string | undefined,
    audiences: string | string[],
    kind: IssuedToken['kind'] = 'entra',
  ): TokenCheck {
    if (!token) return 'missing';
    const t = this.tokens.get(token);
    if (!t || t.kind !== kind) return 'invalid';
    if (t.expiresAtMs <= this.wallNow()) return 'expired';
    const wanted = (Array.isArray(audiences) ? audiences : [audiences]).map(normalizeAudience);
    return wanted.includes(t.audience) ? 'ok' : 'wrong-audience';
  }
}

/**
 * The claims of an Entra v1 access token for a managed identity (what IMDS and the App Service
 * endpoint issue for a `resource`): issuer sts.windows.net/<tid>/, `appid` the client id, `oid` and
 * `sub` the object id, `xms_mirid` the identity's resource, `idtyp` app.
 */
export function entraClaims(
  audience: string,
  expiresAtMs: number,
  caller: EntraCallerClaims & { appid?: string },
): Record<string, unknown> {
  const { oid, tid, xms_mirid, appid } = caller;
  const exp = Math.floor(expiresAtMs / 1000);
  return {
    aud: audience,
    iss: `https://sts.windows.net/${tid ?? 'unknown'}/`,
    iat: exp - TOKEN_LIFETIME_SECONDS,
    nbf: exp - TOKEN_LIFETIME_SECONDS,
    exp,
    ...(appid ? { appid, appidacr: '2' } : {}),
    idp: `https://sts.windows.net/${tid ?? 'unknown'}/`,
    idtyp: 'app',
    ...(oid ? { oid, sub: oid } : {}),
    ...(tid ? { tid } : {}),
    ver: '1.0',
    ...(xms_mirid ? { xms_mirid } : {}),
  };
}

/** `https://host/`, `https://host/.default` and `https://host` name the same audience. */
function normalizeAudience(a: string): string {
  return a
    .trim()
    .replace(/\/\.default$/i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
