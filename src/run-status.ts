/**
 * Durable runtime statuses of a run that has not ended: a singleton with one of these is not started
 * again (S5), and the CLI and the run views show it as in progress.
 */
export const ACTIVE_RUNTIME_STATUSES = ['Running', 'Pending', 'ContinuedAsNew'] as const;

const ACTIVE = new Set<string>(ACTIVE_RUNTIME_STATUSES);

/** Whether a run with this runtime status is still going. */
export function isActiveStatus(status: unknown): boolean {
  return ACTIVE.has(String(status));
}
