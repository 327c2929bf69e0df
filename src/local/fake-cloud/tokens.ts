/**
 * Access tokens of the fake cloud, issued by the fake managed identity endpoint (and the fake GitHub
 * App installation flow) and verified by the other fakes: issuer = this fake cloud, audience = the
 * resource the token was requested for. Entra tokens are JWTs whose claims name the caller as
 * Entra's do (`oid` = the identity's object id, `appid` = its client id, `tid`, `aud`, `iss`), so a
 * client can read who it is (kiln doctor does); their signature is random, the fakes check the
 * token itself against what they issued.
 *
 * Expiry runs on wall-clock time, not on the virtual clock: the real clients (MSAL's token cache,
 * @octokit/auth-app's JWT and token cache) schedule refreshes on Date.now(), and virtual time runs
 * thousands of times faster, so a virtual expiry would reject tokens every correct client still
 * (rightly) holds.
 */
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  audience: string;
  expiresAtMs: number;
  clientId?: string;
  kind: 'entra' | 'github-installation';
}

export type TokenCheck = 'ok' | 'missing' | 'invalid' | 'expired' | 'wrong-audience';

export const TOKEN_LIFETIME_SECONDS = 3599;

export class TokenIssuer {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(
    private readonly wallNow: () => number = Date.now,
    /** The object id and tenant an Entra token names for a client id. */
    private readonly claimsFor: (clientId: string | undefined) => { oid?: string; tid?: string } = () => ({}),
  ) {}

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
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const { oid, tid } = this.claimsFor(clientId);
    const exp = Math.floor(expiresAtMs / 1000);
    const claims = {
      aud: audience,
      iss: `https://sts.windows.net/${tid ?? 'unknown'}/`,
      iat: exp - TOKEN_LIFETIME_SECONDS,
      nbf: exp - TOKEN_LIFETIME_SECONDS,
      exp,
      ...(clientId ? { appid: clientId } : {}),
      ...(oid ? { oid, sub: oid } : {}),
      ...(tid ? { tid } : {}),
      ver: '1.0',
    };
    return `${part({ typ: 'JWT', alg: 'RS256', kid: 'fake-cloud' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
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

/** `https://host/`, `https://host/.default` and `https://host` name the same audience. */
function normalizeAudience(a: string): string {
  return a
    .trim()
    .replace(/\/\.default$/i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
