import { describe, expect, it } from 'vitest';
import { looksLikeCredential, maskCredentials } from '../../src/secret-patterns.js';
import { scrub } from '../../src/clients/client-error.js';
import { mask } from '../../src/config/load-settings.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIwMDAwMDAwMCJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----';

describe('credential patterns (one list for settings and error text, S6)', () => {
  it.each([
    ['a classic PAT', 'ghp_abcdefghij0123456789'],
    ['a fine-grained PAT', 'github_pat_11ABCDEFG0123456789_abcdef'],
    ['an installation token', 'ghs_abcdefghij0123456789'],
    ['a JWT', JWT],
    ['a private key', PEM],
  ])('finds %s and masks it wherever it sits in a text', (_kind, credential) => {
    const text = `request failed: ${credential} was refused`;
    expect(looksLikeCredential(text)).toBe(true);
    expect(maskCredentials(text)).toBe('request failed: *** was refused');
    expect(scrub(text)).not.toContain(credential.slice(0, 12));
    expect(mask('GITHUB_APP_ID', credential)).toBe(`***(${credential.length} chars)`);
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['rg-kiln-prod', 'ghp_short', 'eyJ.not.a.token', '2026.12.1', 'westeurope']) {
      expect(looksLikeCredential(text)).toBe(false);
      expect(maskCredentials(text)).toBe(text);
    }
  });
});
