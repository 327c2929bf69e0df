/**
 * The registration broker's record of what it handed out (issue 16): for each instance provisioning
 * (`<scale set id>/<instance id>@<provisionedAt>`), that kiln already gave it a registration, so a
 * job left on a machine whose one-job runner is gone cannot get a second one.
 *
 * The record lives in Azure Table storage, in the app's own storage account, so every app instance
 * and every restart reads the same one (Flex Consumption runs several instances of the app). The
 * insert is the check: Table storage refuses a second entity with the same keys (409
 * EntityAlreadyExists), so of two requests for one provisioning, however concurrent and whichever
 * instance they reach, exactly one claims it.
 *
 * A record stands for 24 hours. An older one no longer counts: a claim replaces it, conditionally on
 * the ETag it read (one replacer wins), and claims delete expired records now and then (at most
 * hourly per app instance, a page at a time) so the table does not grow for ever.
 */
import { odata, type TableEntityResult } from '@azure/data-tables';
import { TransientError } from '../clients/errors.js';
import {
  createTableClient,
  statusOf,
  tableDeadline,
  tableError,
  tableKey,
  insertIfAbsent,
  deleteOnePage,
  type TableOptions,
} from '../clients/tables.js';

export type ClaimOutcome = 'claimed' | 'taken';

export interface IssuedRegistrations {
  /**
   * Records that `provisioning` is being given its registration now, unless a record of the last
   * 24 hours says it already was: 'claimed' (go on and issue it) or 'taken' (refuse). Atomic across
   * processes: of concurrent claims of one provisioning, exactly one is 'claimed'. Throws a
   * TransientError or PermanentError (src/clients/errors.ts) when the record cannot be read or
   * written; nothing is claimed then.
   */
  claim(provisioning: string, nowIso: string): Promise<ClaimOutcome>;
  /**
   * Forgets a claim whose registration was never handed out (the fleet call after the claim
   * failed), so that the instance's retry can claim again. Safe because only the caller that
   * claimed calls it, seconds after its claim (so the record it deletes is its own), and only when
   * the VM got nothing: nothing was given that a second claim could double. If the fleet created
   * the registration but its answer was lost, the fleet itself still refuses a second one of the
   * same name (GitHub: a runner named like the instance exists).
   */
  release(provisioning: string): Promise<void>;
  /** Whether a record of the last 24 hours says `provisioning` was given its registration. */
  wasIssued(provisioning: string, nowIso: string): Promise<boolean>;
}

/** How long a record counts. */
export const ISSUED_RECORD_TTL_MS = 24 * 3600_000;
/** How often one app instance deletes expired records (before a claim), and how many at most at once. */
const SWEEP_INTERVAL_MS = 3600_000;
const SWEEP_PAGE = 100;
/**
 * Every record is in one partition: the row key alone is unique, an insert's conflict is what
 * makes a claim atomic, and the sweep reads one partition. kiln's pace (tens of claims a minute)
 * is far below a partition's limit (2,000 entities a second).
 */
const PARTITION = 'issued';
/** Rounds of insert → read → replace when other claims and releases keep changing the record. */
const CLAIM_ROUNDS = 3;

interface IssuedRecord {
  /** When the registration was claimed (ISO 8601, UTC, as toISOString() writes it). */
  claimedAt: string;
}

/** The record in Azure Table storage (KILN_TABLE_ENDPOINT, KILN_REGISTRATION_TABLE). */
export function createIssuedRegistrationsTable(options: TableOptions): IssuedRegistrations {
  const { tableName } = options;
  const client = createTableClient(options);
  let nextSweepMs = Number.NEGATIVE_INFINITY;

  const fail = (operation: string, err: unknown) => tableError(client, operation, err);

  /** Inserts the record; false when one exists already. */
  function insert(rowKey: string, record: IssuedRecord, abortSignal: AbortSignal): Promise<boolean> {
    return insertIfAbsent(client, { partitionKey: PARTITION, rowKey, ...record }, abortSignal);
  }

  /** Deletes one page of expired records, each only if unchanged since the query (never a fresh claim). */
  async function sweepExpired(nowMs: number, abortSignal: AbortSignal): Promise<void> {
    const cutoff = new Date(nowMs - ISSUED_RECORD_TTL_MS).toISOString();
    // Only records unchanged since the query are deleted: one claimed again meanwhile is not expired.
    const { more } = await deleteOnePage(
      client,
      {
        partitionKey: PARTITION,
        filter: odata`PartitionKey eq ${PARTITION} and claimedAt lt ${cutoff}`,
        pageSize: SWEEP_PAGE,
      },
      abortSignal,
    );
    // A full page may have more behind it: the next claim goes on.
    nextSweepMs = more ? nowMs : nowMs + SWEEP_INTERVAL_MS;
  }

  return {
    async claim(provisioning, nowIso) {
      const nowMs = Date.parse(nowIso);
      if (Number.isNaN(nowMs)) throw new TypeError(`claim: "${nowIso}" is not an ISO 8601 time`);
      const rowKey = tableKey(provisioning);
      const record: IssuedRecord = { claimedAt: new Date(nowMs).toISOString() };
      const abortSignal = tableDeadline();
      if (nowMs >= nextSweepMs) await sweepExpired(nowMs, abortSignal);

      for (let round = 0; round < CLAIM_ROUNDS; round++) {
        if (await insert(rowKey, record, abortSignal)) return 'claimed';
        let existing: TableEntityResult<Partial<IssuedRecord>>;
        try {
          existing = await client.getEntity<Partial<IssuedRecord>>(PARTITION, rowKey, { abortSignal });
        } catch (err) {
          if (statusOf(err) === 404) continue; // released (or swept) since the insert: insert again
          throw fail('read', err);
        }
        if (!isExpired(existing.claimedAt, nowMs)) return 'taken';
        try {
          // Only if unchanged since the read: of two claims replacing one expired record, one wins.
          await client.updateEntity({ partitionKey: PARTITION, rowKey, ...record }, 'Replace', {
            etag: existing.etag,
            abortSignal,
          });
          return 'claimed';
        } catch (err) {
          if (statusOf(err) === 412) return 'taken'; // another claim replaced it first
          if (statusOf(err) === 404) continue;
          throw fail('replace', err);
        }
      }
      throw new TransientError(
        `table ${tableName} claim of ${provisioning} failed: the record changed under ${CLAIM_ROUNDS} attempts in a row (claims and releases racing); try again`,
      );
    },

    async wasIssued(provisioning, nowIso) {
      try {
        const found = await client.getEntity<Partial<IssuedRecord>>(PARTITION, tableKey(provisioning), {
          abortSignal: tableDeadline(),
        });
        return !isExpired(found.claimedAt, Date.parse(nowIso));
      } catch (err) {
        // No record, or no table yet (nothing was ever issued).
        if (statusOf(err) === 404) return false;
        throw fail('read', err);
      }
    },

    async release(provisioning) {
      try {
        await client.deleteEntity(PARTITION, tableKey(provisioning), {
          abortSignal: tableDeadline(),
        });
      } catch (err) {
        if (statusOf(err) !== 404) throw fail('delete', err);
      }
    },
  };
}

/**
 * A record without a readable claim time counts as standing (refusing is the safe side: cleanup
 * reimages an instance that cannot register, which gives it a new provisioning).
 */
function isExpired(claimedAt: unknown, nowMs: number): boolean {
  const at = typeof claimedAt === 'string' ? Date.parse(claimedAt) : Number.NaN;
  return !Number.isNaN(at) && nowMs - at > ISSUED_RECORD_TTL_MS;
}
