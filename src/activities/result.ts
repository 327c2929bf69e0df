/**
 * What every activity returns. On the Functions host an activity's exception reaches the
 * orchestrator only as text, so expected failures travel as data instead: a stable error `name`
 * and whether retrying can help. Orchestrators decide on those fields, never on message text.
 */
import { ensureError } from '../clients/errors.js';

export type ActivityResult<T> = { ok: true; value: T } | { ok: false; error: ActivityError };

export interface ActivityError {
  name: string;
  message: string;
  transient: boolean;
}

const TRANSIENT = new Set(['TransientError']);

export function ok<T>(value: T): ActivityResult<T> {
  return { ok: true, value };
}

/** Runs the activity's work and turns any thrown error into a failed result. */
export async function attempt<T>(operation: string, work: () => Promise<T>): Promise<ActivityResult<T>> {
  try {
    return ok(await work());
  } catch (thrown) {
    const error = ensureError(thrown);
    return {
      ok: false,
      error: {
        name: error.name,
        message: `${operation}: ${error.message}`,
        transient: TRANSIENT.has(error.name),
      },
    };
  }
}
