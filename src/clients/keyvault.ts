/**
 * Reads secrets (GitHub App key, PATs) from Key Vault with @azure/keyvault-secrets. Values are kept
 * in memory for a few minutes so that one activity does not fetch the same secret per request; they
 * are never logged and never appear in error messages.
 */
import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { KEYVAULT_RETRY } from '../retry-policy.js';
import { toClientError } from './client-error.js';
import { PermanentError } from './errors.js';
import type { SecretReader } from './types.js';

export interface SecretReaderOptions {
  /** How long a value is reused (default KEYVAULT_RETRY.cacheTtlMs). */
  cacheTtlMs?: number;
  /** All of one read, the SDK's retries included (default KEYVAULT_RETRY.requestTimeoutMs). */
  timeoutMs?: number;
}

export function createSecretReader(
  keyVaultUrl: string,
  credential: TokenCredential,
  options: SecretReaderOptions = {},
): SecretReader {
  const client = new SecretClient(keyVaultUrl, credential, {
    retryOptions: { maxRetries: KEYVAULT_RETRY.maxRetries },
  });
  const ttl = options.cacheTtlMs ?? KEYVAULT_RETRY.cacheTtlMs;
  const timeoutMs = options.timeoutMs ?? KEYVAULT_RETRY.requestTimeoutMs;
  const cache = new Map<string, { value: Promise<string>; expires: number }>();

  return {
    async getSecret(name: string): Promise<string> {
      const hit = cache.get(name);
      if (hit && hit.expires > Date.now()) return hit.value;
      const value = (async () => {
        try {
          const secret = await client.getSecret(name, { abortSignal: AbortSignal.timeout(timeoutMs) });
          if (secret.value === undefined)
            throw new PermanentError(`keyvault getSecret ${name} failed: the secret has no value`);
          return secret.value;
        } catch (err) {
          throw toClientError(`keyvault getSecret ${name}`, err);
        }
      })();
      cache.set(name, { value, expires: Date.now() + ttl });
      value.catch(() => cache.delete(name));
      return value;
    },
  };
}
