/**
 * What a credential looks like, whatever field it turns up in: one list for masking settings and for
 * scrubbing error text before it reaches a log or orchestration state (S6).
 */

/** GitHub tokens: classic and fine-grained PATs, OAuth, user-to-server, server-to-server, refresh. */
const GITHUB_TOKEN = String.raw`\bgh[pousr]_[A-Za-z0-9_]{10,}|\bgithub_pat_[A-Za-z0-9_]{10,}`;
/** A JWT (Entra access tokens, GitHub App JWTs): base64url header and payload, then the signature. */
const JWT = String.raw`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*`;
/** A PEM block (private keys, certificates), whole when it is whole, or just its opening line. */
const PEM = String.raw`-----BEGIN [A-Z ]+-----(?:[\s\S]*?-----END [A-Z ]+-----)?`;

const CREDENTIAL = `${GITHUB_TOKEN}|${JWT}|${PEM}`;

/** Whether the text holds anything that looks like a credential. */
export function looksLikeCredential(text: string): boolean {
  return new RegExp(CREDENTIAL).test(text);
}

/** The text with every credential-looking part replaced by `***`. */
export function maskCredentials(text: string): string {
  return text.replace(new RegExp(CREDENTIAL, 'g'), '***');
}
