/**
 * The run history's activities (src/history/run-history.ts): each orchestrator records its run when
 * it starts and when it ends (src/orchestrations/recorded-run.ts). Both writes are idempotent, so a
 * retried activity never records a run twice. Without a history (KILN_TABLE_ENDPOINT empty) they
 * record nothing. The start also deletes runs past RUN_HISTORY_DAYS, now and then.
 */
import { ensureError } from '../clients/errors.js';
import type { RunEnd, RunStart } from '../history/run-record.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export interface RecordRunStartOutput {
  /** The run's row, for its end. */
  rowKey: string;
  /** Why deleting runs past the retention failed (the start itself was recorded). */
  pruneFailure?: string;
}

export interface RecordRunEndInput {
  run: RunEnd;
  /** The row its start answered; absent when the start was not recorded. */
  rowKey?: string;
}

export function createRecordRunStartActivity(deps: ActivityDeps) {
  return (run: RunStart): Promise<ActivityResult<RecordRunStartOutput | null>> =>
    attempt(`record the start of ${run.instanceId} in the run history`, async () => {
      const history = deps.runHistory;
      if (!history) return null;
      const rowKey = await history.start(run);
      const now = deps.now();
      const before = new Date(now.getTime() - deps.settings.runHistory.retentionDays * 86_400_000);
      try {
        await history.prune(before.toISOString(), now.toISOString());
        return { rowKey };
      } catch (error) {
        return { rowKey, pruneFailure: ensureError(error).message };
      }
    });
}

export function createRecordRunEndActivity(deps: ActivityDeps) {
  return ({ run, rowKey }: RecordRunEndInput): Promise<ActivityResult<null>> =>
    attempt(`record the end of ${run.instanceId} in the run history`, async () => {
      await deps.runHistory?.end(run, rowKey);
      return null;
    });
}
