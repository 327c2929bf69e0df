/**
 * kiln's software reports (docs/software-report.md) in the app's storage account
 * (KILN_BLOB_ENDPOINT, container KILN_SOFTWARE_REPORTS_CONTAINER): read with the real
 * @azure/storage-blob client and the app's identity. The Packer job writes them (packer/job/entrypoint.sh);
 * kiln only reads, so its identity needs no more than Storage Blob Data Reader on the container.
 */
import { ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import { BLOB_RETRY } from '../retry-policy.js';
import { toClientError } from './client-error.js';
import { PermanentError, TransientError } from './errors.js';
import { errorCode, statusOf } from './tables.js';
import type { SoftwareReportStore } from './types.js';

export interface BlobStoreOptions {
  /** The storage account's Blob endpoint (KILN_BLOB_ENDPOINT), e.g. https://<account>.blob.core.windows.net. */
  endpoint: string;
  /** The reports' container (KILN_SOFTWARE_REPORTS_CONTAINER). */
  container: string;
  /** The app's managed identity: kiln's account takes no shared key. */
  credential: TokenCredential;
  /** First backoff of the SDK's retries (CLIENT_RETRY_BASE_MS). */
  retryBaseMs: number;
}

export function createSoftwareReportStore(options: BlobStoreOptions): SoftwareReportStore {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const client = new ContainerClient(`${endpoint}/${options.container}`, options.credential, {
    retryOptions: {
      maxTries: 1 + BLOB_RETRY.maxRetries,
      retryDelayInMs: options.retryBaseMs,
      maxRetryDelayInMs: options.retryBaseMs === 0 ? 0 : BLOB_RETRY.maxRetryDelayMs,
    },
  });
  return {
    async read(name: string): Promise<string | undefined> {
      const where = `blob ${options.container}/${name}`;
      try {
        const download = await client
          .getBlobClient(name)
          .download(0, undefined, { abortSignal: AbortSignal.timeout(BLOB_RETRY.requestTimeoutMs) });
        return await readText(download.readableStreamBody, where);
      } catch (err) {
        // A blob that is not there is an answer; a container that is not there is a misconfiguration.
        if (statusOf(err) === 404 && errorCode(err) !== 'ContainerNotFound') return undefined;
        throw blobError(where, options, err);
      }
    },
  };
}

/** A whole blob's text, refusing one larger than a report can be. */
async function readText(body: NodeJS.ReadableStream | undefined, where: string): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > BLOB_RETRY.maxBlobBytes)
      throw new PermanentError(
        `${where} is larger than ${BLOB_RETRY.maxBlobBytes} bytes: not a software report kiln reads`,
      );
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A failed read as kiln's TransientError or PermanentError, naming the blob and, for the refusals an
 * operator can fix, the fix.
 */
function blobError(where: string, options: BlobStoreOptions, err: unknown): Error {
  if (err instanceof TransientError || err instanceof PermanentError) return err;
  const base = toClientError(`${where} read`, err);
  const status = statusOf(err);
  const code = errorCode(err);
  const fix =
    status === 403 && (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationFailure')
      ? `kiln's identity may not read blobs there: grant it Storage Blob Data Reader on the container ${options.container} of ${options.endpoint} (infra/main.bicep gives it Storage Blob Data Owner on the whole account, which the Functions host needs)`
      : status === 403 && code === 'KeyBasedAuthenticationNotPermitted'
        ? 'the account takes no shared key: kiln signs in with its managed identity'
        : status === 401 || (status === 403 && code === 'AuthenticationFailed')
          ? `the storage account refused kiln's token: KILN_BLOB_ENDPOINT (${options.endpoint}) must be the blob endpoint of an account in kiln's tenant`
          : status === 404 && code === 'ContainerNotFound'
            ? `the container ${options.container} does not exist at ${options.endpoint}: deploy infra/main.bicep (it makes it) or set KILN_SOFTWARE_REPORTS_CONTAINER to the one that holds the reports`
            : undefined;
  if (!fix) return base;
  const Kind = base instanceof TransientError ? TransientError : PermanentError;
  return new Kind(`${base.message}; ${fix}`);
}
