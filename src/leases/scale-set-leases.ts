/**
 * One lock per scale set, shared by the autoscaler and rollouts (issue 19): whoever changes which
 * instances a scale set has, or what they run, holds its lease while it does. A rollout holds it for
 * a wave (drain, upgrade, health gate) and for a whole rollback; the autoscaler for one scale-in or
 * capacity change. So the autoscaler never deletes an instance of a wave being drained, never changes
 * capacity while a rollback runs, and a rollout never drains an instance the autoscaler is deleting.
 *
 * The lease is a row in kiln's own Table storage (KILN_TABLE_ENDPOINT, KILN_LEASE_TABLE), so every
 * app instance sees the same one. Taking it is atomic: an insert (409 when a row exists) or, for an
 * expired lease or the holder's own, a replace conditional on the ETag read. A lease expires, so a
 * holder that died does not keep the scale set locked for ever; holders renew theirs with each step.
 * Times come from the caller (an orchestration's own clock), never from this process's clock.
 */
import type { TableEntityResult } from '@azure/data-tables';
import { TransientError } from '../clients/errors.js';
import {
  createTableClient,
  insertIfAbsent,
  statusOf,
  tableDeadline,
  tableError,
  tableKey,
  type TableOptions,
} from '../clients/tables.js';

/** What the holder does under the lease: the autoscaler's scale-out may go on beside a rollout's wave, never beside a rollback. */
export type LeasePurpose = 'autoscale' | 'rollout' | 'rollback';

export interface LeaseHolder {
  /** The holder's orchestration instance id. */
  owner: string;
  purpose: LeasePurpose;
  /** ISO 8601: after it, the lease no longer holds. */
  expiresAt: string;
}

export type AcquireOutcome = { acquired: true } | { acquired: false; heldBy: LeaseHolder };

export interface ScaleSetLeases {
  /**
   * Takes (or renews, for the same owner) the scale set's lease until `expiresAt`, unless another
   * owner holds an unexpired one: then says who. Idempotent for one owner: a retry renews.
   */
  acquire(scaleSet: string, holder: LeaseHolder, nowIso: string): Promise<AcquireOutcome>;
  /** Gives the lease up if `owner` holds it; anyone else's lease is left alone. */
  release(scaleSet: string, owner: string): Promise<void>;
  /** Who holds the scale set's lease now (undefined: nobody, or it expired). */
  holder(scaleSet: string, nowIso: string): Promise<LeaseHolder | undefined>;
}

/** One partition: a handful of scale sets, a few writes a minute. */
const PARTITION = 'scaleset';
/** Rounds of insert → read → replace when other holders keep changing the row. */
const ACQUIRE_ROUNDS = 3;

interface LeaseRow {
  owner: string;
  purpose: string;
  expiresAt: string;
}

export function createScaleSetLeasesTable(options: TableOptions): ScaleSetLeases {
  const client = createTableClient(options);
  const rowKey = (scaleSet: string) => tableKey(scaleSet.toLowerCase());

  async function read(key: string): Promise<TableEntityResult<Partial<LeaseRow>> | undefined> {
    try {
      return await client.getEntity<Partial<LeaseRow>>(PARTITION, key, { abortSignal: tableDeadline() });
    } catch (err) {
      // No row, or no table yet: nobody holds it.
      if (statusOf(err) === 404) return undefined;
      throw tableError(client, 'read', err);
    }
  }

  return {
    async acquire(scaleSet, holder, nowIso) {
      const key = rowKey(scaleSet);
      const row: LeaseRow = { owner: holder.owner, purpose: holder.purpose, expiresAt: holder.expiresAt };
      const abortSignal = tableDeadline();
      for (let round = 0; round < ACQUIRE_ROUNDS; round++) {
        if (await insertIfAbsent(client, { partitionKey: PARTITION, rowKey: key, ...row }, abortSignal))
          return { acquired: true };
        const existing = await read(key);
        if (!existing) continue; // released since the insert: insert again
        const current = holderOf(existing);
        if (current && current.owner !== holder.owner && !expired(current, nowIso))
          return { acquired: false, heldBy: current };
        try {
          // Only if unchanged since the read: of two takers of one expired lease, one wins.
          await client.updateEntity({ partitionKey: PARTITION, rowKey: key, ...row }, 'Replace', {
            etag: existing.etag,
            abortSignal,
          });
          return { acquired: true };
        } catch (err) {
          if (statusOf(err) === 412 || statusOf(err) === 404) continue;
          throw tableError(client, 'replace', err);
        }
      }
      throw new TransientError(
        `table ${options.tableName}: the lease of ${scaleSet} changed under ${ACQUIRE_ROUNDS} attempts in a row; try again`,
      );
    },

    async release(scaleSet, owner) {
      const key = rowKey(scaleSet);
      const existing = await read(key);
      if (!existing || existing.owner !== owner) return;
      try {
        await client.deleteEntity(PARTITION, key, { etag: existing.etag, abortSignal: tableDeadline() });
      } catch (err) {
        // Gone already, or taken over since the read (expired and another took it): not ours to delete.
        if (statusOf(err) === 404 || statusOf(err) === 412) return;
        throw tableError(client, 'delete', err);
      }
    },

    async holder(scaleSet, nowIso) {
      const existing = await read(rowKey(scaleSet));
      const current = existing ? holderOf(existing) : undefined;
      return current && !expired(current, nowIso) ? current : undefined;
    },
  };
}

const PURPOSES = new Set<LeasePurpose>(['autoscale', 'rollout', 'rollback']);

/**
 * The row as a holder. A row that cannot be read as one (hand-edited, a newer kiln's) still holds
 * the scale set until its time, or an hour if it has none: an unknown lock counts as held.
 */
function holderOf(row: Partial<LeaseRow>): LeaseHolder | undefined {
  const purpose = PURPOSES.has(row.purpose as LeasePurpose) ? (row.purpose as LeasePurpose) : 'rollback';
  const expiresAt =
    typeof row.expiresAt === 'string' && !Number.isNaN(Date.parse(row.expiresAt))
      ? row.expiresAt
      : new Date(Date.now() + 3600_000).toISOString();
  return { owner: typeof row.owner === 'string' ? row.owner : 'unknown', purpose, expiresAt };
}

function expired(holder: LeaseHolder, nowIso: string): boolean {
  return Date.parse(nowIso) >= Date.parse(holder.expiresAt);
}
