/**
 * The runner and agent registrations kiln says it deleted, by why, added up from its runs' own
 * outputs: hygiene's removals by reason (a ghost, offline past the grace period, a recycled agent),
 * the runners rollouts removed while draining instances, and the offline runners the registration
 * broker replaced (an instance reimaged or upgraded outside kiln leaves its runner behind; the
 * broker's log line says so). The report shows these parts beside the fake cloud's own count of
 * deletions (`deleted`), so a reader sees every deletion accounted for.
 */
import type { InstanceStatus } from '../durable/runner.js';
import { Orchestrations } from '../../names.js';
import { storedOutput } from '../../orchestration-contracts.js';
import type { CleanupOutput } from '../../orchestrations/cleanup.js';

export interface RegistrationsRemoved {
  githubRunners: {
    ghosts: number;
    offline: number;
    whileDraining: number;
    replacedByBroker: number;
    total: number;
  };
  adoAgents: { ghosts: number; offline: number; recycled: number; total: number };
}

export function noRemovals(): RegistrationsRemoved {
  return {
    githubRunners: { ghosts: 0, offline: 0, whileDraining: 0, replacedByBroker: 0, total: 0 },
    adoAgents: { ghosts: 0, offline: 0, recycled: 0, total: 0 },
  };
}

/** Adds the registrations one finished cleanup run deleted (planned ones and ones kept at the re-check are not). */
export function addCleanupRemovals(tally: RegistrationsRemoved, output: CleanupOutput): void {
  for (const removal of output.removed) {
    if (removal.outcome !== 'deleted') continue;
    const counts = removal.fleet === 'github' ? tally.githubRunners : tally.adoAgents;
    if (removal.reason === 'ghost') counts.ghosts++;
    else if (removal.reason === 'offline-past-grace') counts.offline++;
    else if (removal.fleet === 'ado') tally.adoAgents.recycled++;
    counts.total++;
  }
}

/**
 * Adds the runners a scale set rollout removed while draining: from its result once it completed, or
 * else from its custom status, which counts each drain as it happens (a rollout still running when
 * the clock stopped, or one that crashed).
 */
export function addDrainRemovals(tally: RegistrationsRemoved, status: InstanceStatus): void {
  if (status.name !== Orchestrations.rolloutScaleSet) return;
  const removed =
    status.runtimeStatus === 'Completed'
      ? storedOutput(Orchestrations.rolloutScaleSet, status)?.runnersRemoved
      : (status.customStatus as { runnersRemoved?: number } | null)?.runnersRemoved;
  if (!removed) return;
  tally.githubRunners.whileDraining += removed;
  tally.githubRunners.total += removed;
}

/** The registration broker's log line for a JIT config it gave after deleting the instance's offline runners. */
const BROKER_REPLACED = /^registered runner .*, replacing (\d+) offline runner\(s\) of that name/;

/** Adds the offline runners the registration broker says (in the app's log) it deleted before a JIT config. */
export function addBrokerRemovals(tally: RegistrationsRemoved, message: string): void {
  const removed = Number(BROKER_REPLACED.exec(message)?.[1] ?? 0);
  tally.githubRunners.replacedByBroker += removed;
  tally.githubRunners.total += removed;
}
