/**
 * Access tokens of the fake cloud: opaque strings issued by the fake managed identity endpoint (and
 * the fake GitHub App installation flow) and verified by the other fakes: issuer = this fake cloud,
 * audience = the resource the token was requested for.
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

  constructor(private readonly wallNow: () => number = Date.now) {}

  issue(
    audience: string,
    kind: IssuedToken['kind'] = 'entra',
    clientId?: string,
  ): { token: string; expiresAtMs: number } {
    const prefix = kind === 'entra' ? 'fake-entra.' : 'ghs_';
    const token = prefix + randomBytes(24).toString('base64url');
    const expiresAtMs = this.wallNow() + TOKEN_LIFETIME_SECONDS * 1000;
    this.tokens.set(token, { audience: normalizeAudience(audience), expiresAtMs, clientId, kind });
    return { token, expiresAtMs };
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
export function normalizeAudience(a: string): string {
  return a
    .trim()
    .replace(/\/\.default$/i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
