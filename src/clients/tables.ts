/**
 * kiln's own Table storage (the app's storage account, KILN_TABLE_ENDPOINT): how its stores — the
 * registration broker's record of issued registrations (src/registration/issued-registrations.ts)
 * and the run history (src/history/run-history.ts) — reach a table with the real @azure/data-tables
 * client, make it on first use, and read the service's answers.
 */
import {
  TableClient,
  type NamedKeyCredential,
  type TableEntity,
  type TableEntityResult,
} from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { toClientError } from './client-error.js';
import { TABLE_RETRY } from '../retry-policy.js';

export interface TableOptions {
  /** The storage account's Table endpoint (KILN_TABLE_ENDPOINT), e.g. https://<account>.table.core.windows.net. */
  endpoint: string;
  /** The table, created at first use. */
  tableName: string;
  /**
   * The app's managed identity in Azure (Storage Table Data Contributor on the account; kiln's
   * account refuses shared keys), or an account key where an emulator has one.
   */
  credential: TokenCredential | NamedKeyCredential;
  /** First backoff of the SDK's retries (CLIENT_RETRY_BASE_MS). */
  retryBaseMs: number;
}

export function createTableClient(options: TableOptions): TableClient {
  // The SDK tells the two kinds of credential apart at run time; its overloads take one at a time.
  return new TableClient(options.endpoint, options.tableName, options.credential as TokenCredential, {
    retryOptions: { maxRetries: TABLE_RETRY.maxRetries, retryDelayInMs: options.retryBaseMs },
  });
}

/** The deadline of one store operation (every request and SDK retry in it). */
export function tableDeadline(): AbortSignal {
  return AbortSignal.timeout(TABLE_RETRY.requestTimeoutMs);
}

/** A failure of `operation` on the table as kiln's TransientError or PermanentError, naming the table. */
export function tableError(client: TableClient, operation: string, err: unknown): Error {
  return toClientError(`table ${client.tableName} ${operation}`, err);
}

/**
 * Runs a write; the first one in a new storage account finds no table, which is then made (once)
 * and the write sent again. Throws what the write or the creation threw, as tableError names it.
 */
export async function writeMakingTable<T>(
  client: TableClient,
  operation: string,
  write: () => Promise<T>,
  abortSignal: AbortSignal,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (errorCode(err) !== 'TableNotFound') throw tableError(client, operation, err);
  }
  try {
    // createTable itself takes 409 TableAlreadyExists as done (another instance made it just now).
    await client.createTable({ abortSignal });
  } catch (err) {
    throw tableError(client, 'create', err);
  }
  try {
    return await write();
  } catch (err) {
    throw tableError(client, operation, err);
  }
}

/** Table keys hold at most 1 KiB (512 UTF-16 characters). */
const MAX_KEY_LENGTH = 512;

/**
 * Inserts the entity, making the table first when a new storage account has none; false when an
 * entity with its keys exists already (the insert is the check: atomic across app instances).
 */
export function insertIfAbsent<T extends object>(
  client: TableClient,
  entity: TableEntity<T>,
  abortSignal: AbortSignal,
): Promise<boolean> {
  return writeMakingTable(
    client,
    'insert',
    async () => {
      try {
        await client.createEntity(entity, { abortSignal });
        return true;
      } catch (err) {
        if (errorCode(err) === 'EntityAlreadyExists') return false;
        throw err;
      }
    },
    abortSignal,
  );
}

/**
 * Deletes one page (at most `pageSize`) of the partition's entities that `filter` matches, each only
 * if unchanged since the query: one changed (412) or deleted by another app instance meanwhile
 * (404) is not this call's to delete. Answers how many it found, and whether more may follow (a
 * full page). A table not made yet holds nothing to delete.
 */
export async function deleteOnePage(
  client: TableClient,
  query: { partitionKey: string; filter: string; pageSize: number },
  abortSignal: AbortSignal,
): Promise<{ found: number; more: boolean }> {
  let page: TableEntityResult<Record<string, unknown>>[] & { continuationToken?: string };
  try {
    const pages = client
      .listEntities({ queryOptions: { filter: query.filter, select: ['RowKey'] }, abortSignal })
      .byPage({ maxPageSize: query.pageSize });
    page = (await pages.next()).value ?? [];
  } catch (err) {
    if (errorCode(err) !== 'TableNotFound') throw tableError(client, 'query', err);
    page = []; // a new account: nothing recorded yet
  }
  await Promise.all(
    page.map(async (entity) => {
      try {
        await client.deleteEntity(query.partitionKey, entity.rowKey!, { etag: entity.etag, abortSignal });
      } catch (err) {
        if (![404, 412].includes(statusOf(err) ?? 0)) throw tableError(client, 'delete', err);
      }
    }),
  );
  return { found: page.length, more: Boolean(page.continuationToken) };
}

/**
 * A Table key for any string, one to one: Table keys may not hold `/`, `\`, `#`, `?` or control
 * characters; `%` is allowed but a key with it cannot be read or deleted by its URL in Azure; `~`
 * is the escape itself. Each becomes `~` and two hex digits (all are below U+00A0).
 */
export function tableKey(value: string): string {
  const key = [...value]
    .map((c) => (mustEscape(c) ? `~${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : c))
    .join('');
  if (key.length > MAX_KEY_LENGTH)
    throw new RangeError(
      `"${value.slice(0, 80)}…" is ${key.length} characters as a Table key; Table storage keys hold at most ${MAX_KEY_LENGTH}`,
    );
  return key;
}

function mustEscape(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code < 0xa0) || '/\\#?%~'.includes(c);
}

/** The HTTP status of a failed request, as the SDK's RestError carries it. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The service's error code (x-ms-error-code), as the SDK's RestError carries it. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { details?: { errorCode?: unknown } } | null)?.details?.errorCode;
  return typeof code === 'string' ? code : undefined;
}
