/**
 * Azure DevOps job demand (issue 19): the pool's unfinished job requests as the autoscaler counts
 * them. A failed read is a failed result, never an empty queue: the autoscaler keeps capacity when it
 * cannot know the demand, and an empty queue would let it scale in.
 */
import type { AdoJobRequest } from '../clients/types.js';
import type { AdoDemand, QueuedAdoRequest } from '../demand/types.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

/** The most queued requests one read keeps (the oldest): the value crosses into orchestration history. */
export const ADO_DEMAND_READ_LIMIT = 500;

export type ReadAdoDemandOutput = ActivityResult<AdoDemand | null>;

/** null when no Azure DevOps fleet is configured. */
export function createReadAdoDemandActivity({ ado }: ActivityDeps) {
  return (): Promise<ReadAdoDemandOutput> =>
    attempt('read Azure DevOps demand', async () => (ado ? adoDemandOf(await ado.listJobRequests()) : null));
}

/**
 * Queued: no agent reserved, not finished; running: an agent reserved, not finished. A finished
 * request (finishTime or a result: the read asks for none, but the service may still list one) is
 * neither. Queued oldest first, at most ADO_DEMAND_READ_LIMIT; running by agent name.
 */
export function adoDemandOf(requests: AdoJobRequest[]): AdoDemand {
  const queued: QueuedAdoRequest[] = [];
  const runningOn: string[] = [];
  for (const r of requests) {
    if (r.finishTime || r.result) continue;
    if (r.reservedAgent) runningOn.push(r.reservedAgent.name);
    else queued.push({ requestId: r.requestId, queueTime: r.queueTime });
  }
  queued.sort((a, b) => queuedAt(a) - queuedAt(b) || a.requestId - b.requestId);
  runningOn.sort((a, b) => a.localeCompare(b));
  const demand: AdoDemand = { queued: queued.slice(0, ADO_DEMAND_READ_LIMIT), runningOn };
  if (queued.length > ADO_DEMAND_READ_LIMIT) demand.truncated = true;
  return demand;
}

/** A queue time that does not parse sorts first: a request of unknown age counts as waiting long. */
function queuedAt(r: QueuedAdoRequest): number {
  const ms = Date.parse(r.queueTime);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}
