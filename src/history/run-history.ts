/**
 * The run history (issue 17): one row per execution of a rebuild, rollout, cleanup or runner-release
 * watch, in Table storage of the app's own storage account (KILN_TABLE_ENDPOINT,
 * KILN_RUN_HISTORY_TABLE). Instance ids are fixed (one cleanup, one rebuild per image and month), so
 * the durable task hub keeps only the latest run of each; this history keeps every run, and a later
 * run of the same instance id never replaces an earlier one's row.
 *
 * Keys: every row is in one partition, and the row key is the run's start time counted down from
 * the year 2286 (13 digits), then the instance id: rows sort newest first, so a page of the newest
 * runs, the next page, the runs of the last N days and the runs past the retention are each one
 * range query on the row key. One partition is plenty: kiln starts a few runs an hour (a cleanup
 * every 15 minutes is 38,400 rows in 400 days), far below a partition's 2,000 entities a second.
 *
 * Writes are idempotent, so an activity retried after a lost answer never duplicates a row: a start
 * inserts (a row already there with this run's start is this run's own, from an earlier attempt; an
 * ended one with the same keys is another execution of the instance id in the same millisecond, and
 * this run takes the next row); an end merges the whole record into the row, inserting it when the
 * start was never recorded.
 */
import { odata, type TableEntity, type TableEntityResult } from '@azure/data-tables';
import { PermanentError } from '../clients/errors.js';
import {
  createTableClient,
  errorCode,
  tableDeadline,
  tableError,
  tableKey,
  writeMakingTable,
  insertIfAbsent,
  deleteOnePage,
  type TableOptions,
} from '../clients/tables.js';
import {
  INPUT_LIMIT,
  type RunDetails,
  type RunEnd,
  type RunKind,
  type RunRecord,
  type RunStart,
} from './run-record.js';

export interface RunHistory {
  /** Records that a run started; answers the key of its row (for `end`). */
  start(run: RunStart): Promise<string>;
  /** Records how a run ended, in the row `start` answered (its own key when the start was not recorded). */
  end(run: RunEnd, rowKey?: string): Promise<void>;
  /**
   * A page of the runs started at `sinceIso` or later, newest first, at most `top`, from where the
   * page that answered `continuation` left off; `continuation` of the next page when there is one.
   * Only runs of `kind` when given. Throws BadContinuationError for a continuation this history did
   * not give.
   */
  list(query: { sinceIso: string; top: number; continuation?: string; kind?: RunKind }): Promise<RunPage>;
  /**
   * Deletes runs that started before `beforeIso`, a page at a time and at most hourly (per app
   * instance, by `nowIso`): how many it deleted now.
   */
  prune(beforeIso: string, nowIso: string): Promise<number>;
}

export interface RunPage {
  runs: RunRecord[];
  continuation?: string;
}

export class BadContinuationError extends Error {
  override readonly name = 'BadContinuationError';
}

const PARTITION = 'run';
/** Start times count down from here (2286-11-20), so that newer rows sort first. */
const LAST_MS = 9_999_999_999_999;
/** Executions of one instance id that started in the same millisecond (a virtual clock's runs that take no time). */
const SAME_MILLISECOND_RUNS = 10;
const PRUNE_PAGE = 100;
const PRUNE_INTERVAL_MS = 3600_000;

/** The row of a run: its start time counted down, then its instance id. */
function rowKeyOf(run: Pick<RunStart, 'startedAt' | 'instanceId'>, execution = 1): string {
  // `~~` never occurs in a tableKey (its escapes are `~` and two hex digits): no other id's key.
  return `${timeKey(Date.parse(run.startedAt))}_${tableKey(run.instanceId)}${execution > 1 ? `~~${execution}` : ''}`;
}

/** A time as a row key prefix: the later the time, the smaller the key. */
function timeKey(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > LAST_MS) throw new RangeError(`${ms} is no time to record`);
  return String(LAST_MS - ms).padStart(13, '0');
}

/** The row key filter of the runs that started at `ms` or later. */
const startedSince = (ms: number) => odata`RowKey lt ${timeKey(ms - 1)}`;
/** The row key filter of the runs that started before `ms`. */
const startedBefore = (ms: number) => odata`RowKey gt ${timeKey(ms - 1)}`;

/** How a record is stored: Table storage takes no lists, so versions and scale sets are JSON. */
interface RunEntity {
  instanceId: string;
  kind: string;
  subject: string;
  startedBy: string;
  dryRun: boolean;
  input: string;
  inputTruncated?: boolean;
  startedAt: string;
  status: string;
  endedAt?: string;
  outcome?: string;
  reason?: string;
  versions: string;
  scaleSets: string;
  /** A cleanup's ghosts deleted (Int32 properties: Table storage keeps no objects). */
  ghostsRemovedGitHub?: number;
  ghostsRemovedAdo?: number;
  /** RunDetails as JSON, cut (then dropped) past INPUT_LIMIT: a string property holds 32 K characters. */
  details?: string;
}

function toEntity(run: RunStart | RunEnd): RunEntity {
  const ended = 'endedAt' in run ? run : undefined;
  const entity: RunEntity = {
    instanceId: run.instanceId,
    kind: run.kind,
    subject: run.subject,
    startedBy: run.startedBy,
    dryRun: run.dryRun,
    input: run.input,
    startedAt: run.startedAt,
    status: ended?.status ?? 'Running',
    versions: JSON.stringify(ended?.versions ?? []),
    scaleSets: JSON.stringify(ended?.scaleSets ?? []),
  };
  if (run.inputTruncated) entity.inputTruncated = true;
  if (ended) entity.endedAt = ended.endedAt;
  if (ended?.outcome !== undefined) entity.outcome = ended.outcome;
  if (ended?.reason !== undefined) entity.reason = ended.reason;
  if (ended?.ghostsRemoved) {
    entity.ghostsRemovedGitHub = ended.ghostsRemoved.github;
    entity.ghostsRemovedAdo = ended.ghostsRemoved.ado;
  }
  if (ended?.details) {
    const json = JSON.stringify(ended.details);
    if (json.length <= INPUT_LIMIT) entity.details = json;
  }
  return entity;
}

function toRecord(e: Partial<RunEntity>): RunRecord {
  const status = e.status === 'Completed' || e.status === 'Failed' ? e.status : 'Running';
  return {
    instanceId: e.instanceId ?? '',
    kind: e.kind as RunKind,
    subject: e.subject ?? '',
    startedBy: e.startedBy ?? 'unknown',
    dryRun: e.dryRun === true,
    input: e.input ?? 'null',
    ...(e.inputTruncated ? { inputTruncated: true as const } : {}),
    startedAt: e.startedAt ?? '',
    status,
    ...(e.endedAt ? { endedAt: e.endedAt } : {}),
    ...(e.outcome ? { outcome: e.outcome } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    versions: names(e.versions),
    scaleSets: names(e.scaleSets),
    ...(typeof e.ghostsRemovedGitHub === 'number' || typeof e.ghostsRemovedAdo === 'number'
      ? { ghostsRemoved: { github: e.ghostsRemovedGitHub ?? 0, ado: e.ghostsRemovedAdo ?? 0 } }
      : {}),
    ...(detailsOf(e.details) ? { details: detailsOf(e.details) } : {}),
  };
}

function detailsOf(json: string | undefined): RunDetails | undefined {
  if (!json) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as RunDetails)
      : undefined;
  } catch {
    return undefined;
  }
}

function names(json: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(json ?? '[]');
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/** A page's continuation: the row key of its last run, opaque to the caller. */
const toContinuation = (rowKey: string) => Buffer.from(rowKey).toString('base64url');

function fromContinuation(token: string): string {
  const rowKey = /^[A-Za-z0-9_-]{1,1400}$/.test(token) ? Buffer.from(token, 'base64url').toString() : '';
  if (!/^\d{13}_./.test(rowKey))
    throw new BadContinuationError(`"${token.slice(0, 80)}" is no continuation of this history`);
  return rowKey;
}

/** The run history in Azure Table storage (KILN_TABLE_ENDPOINT, KILN_RUN_HISTORY_TABLE). */
export function createRunHistoryTable(options: TableOptions): RunHistory {
  const client = createTableClient(options);
  let nextPruneMs = Number.NEGATIVE_INFINITY;

  /** Inserts the row; false when one with its keys exists already. */
  function insert(entity: TableEntity<RunEntity>, abortSignal: AbortSignal): Promise<boolean> {
    return insertIfAbsent(client, entity, abortSignal);
  }

  return {
    async start(run) {
      const abortSignal = tableDeadline();
      const entity = toEntity(run);
      for (let execution = 1; execution <= SAME_MILLISECOND_RUNS; execution++) {
        const rowKey = rowKeyOf(run, execution);
        if (await insert({ partitionKey: PARTITION, rowKey, ...entity }, abortSignal)) return rowKey;
        let existing: TableEntityResult<Partial<RunEntity>>;
        try {
          existing = await client.getEntity<Partial<RunEntity>>(PARTITION, rowKey, { abortSignal });
        } catch (err) {
          throw tableError(client, 'read', err);
        }
        // This run's own start, recorded by an attempt whose answer was lost.
        if (
          existing.status === 'Running' &&
          existing.input === entity.input &&
          existing.startedBy === entity.startedBy
        )
          return rowKey;
      }
      throw new PermanentError(
        `table ${client.tableName}: ${SAME_MILLISECOND_RUNS} runs of ${run.instanceId} started at ${run.startedAt} already`,
      );
    },

    async end(run, rowKey = rowKeyOf(run)) {
      const abortSignal = tableDeadline();
      await writeMakingTable(
        client,
        'merge',
        () =>
          client.upsertEntity({ partitionKey: PARTITION, rowKey, ...toEntity(run) }, 'Merge', {
            abortSignal,
          }),
        abortSignal,
      );
    },

    async list({ sinceIso, top, continuation, kind }) {
      const after = continuation === undefined ? undefined : fromContinuation(continuation);
      const filter = [odata`PartitionKey eq ${PARTITION}`, startedSince(Date.parse(sinceIso))];
      if (after !== undefined) filter.push(odata`RowKey gt ${after}`);
      if (kind !== undefined) filter.push(odata`kind eq ${kind}`);
      const rows: TableEntityResult<Partial<RunEntity>>[] = [];
      try {
        // One more than a page shows whether another follows; the service may answer in several pages.
        const pages = client
          .listEntities<Partial<RunEntity>>({
            queryOptions: { filter: filter.join(' and ') },
            abortSignal: tableDeadline(),
          })
          .byPage({ maxPageSize: top + 1 });
        for await (const page of pages) {
          rows.push(...page);
          if (rows.length > top) break;
        }
      } catch (err) {
        if (errorCode(err) === 'TableNotFound') return { runs: [] }; // nothing recorded yet
        throw tableError(client, 'query', err);
      }
      const runs = rows.slice(0, top);
      return {
        runs: runs.map(toRecord),
        ...(rows.length > top ? { continuation: toContinuation(runs.at(-1)!.rowKey!) } : {}),
      };
    },

    async prune(beforeIso, nowIso) {
      const nowMs = Date.parse(nowIso);
      if (nowMs < nextPruneMs) return 0;
      const { found, more } = await deleteOnePage(
        client,
        {
          partitionKey: PARTITION,
          filter: `${odata`PartitionKey eq ${PARTITION}`} and ${startedBefore(Date.parse(beforeIso))}`,
          pageSize: PRUNE_PAGE,
        },
        tableDeadline(),
      );
      // A full page may have more behind it: the next run's start goes on.
      nextPruneMs = more ? nowMs : nowMs + PRUNE_INTERVAL_MS;
      return found;
    },
  };
}
