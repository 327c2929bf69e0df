/**
 * Activities that change the fleet for hygiene. Removals are checked against the live state right
 * before acting (S1: a busy runner or agent is never removed, and neither is one that came back
 * online) and are idempotent: something already gone counts as done.
 */
import type { Fleet, RemovalReason } from '../domain/hygiene.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export type RemovalOutcome = 'deleted' | 'gone' | 'busy' | 'online';

/**
 * Removals per activity (the history holds one event pair per batch, not per runner) and per minute:
 * a GitHub DELETE costs 5 of the 900 points a minute its secondary limit allows, so 100 a minute
 * leave room for everything else kiln reads meanwhile.
 */
export const REMOVALS = { size: 50, perMinute: 100 };

export interface RemoveRegistrationsInput {
  registrations: { fleet: Fleet; id: number; name: string; reason: RemovalReason }[];
}

/** One result per registration, in order: a failure of one does not hide the others. */
export type RemoveRegistrationsOutput = ActivityResult<ActivityResult<RemovalOutcome>[]>;

/**
 * The re-check before each removal:
 * - GitHub ghost (its instance is gone, so nothing can bring it back online): the DELETE is the check,
 *   GitHub refuses (422) while a job runs, which counts as busy.
 * - GitHub runner offline past grace (its instance exists and could reconnect): read it first, keep it
 *   if it is online or busy; the DELETE still refuses a job picked up since.
 * - Azure DevOps agent: read it first (Azure DevOps deletes a busy agent without refusing).
 */
export function createRemoveRegistrationsActivity({ github, ado }: ActivityDeps) {
  return (input: RemoveRegistrationsInput): Promise<RemoveRegistrationsOutput> =>
    attempt(`remove ${input.registrations.length} registration(s)`, async () => {
      const results: ActivityResult<RemovalOutcome>[] = [];
      for (const registration of input.registrations) {
        const what = `remove ${registration.fleet === 'github' ? 'GitHub runner' : 'Azure DevOps agent'} ${registration.name}`;
        results.push(
          await attempt(what, async (): Promise<RemovalOutcome> => {
            if (registration.fleet === 'github') {
              if (!github) throw new Error('no GitHub fleet is configured');
              if (registration.reason !== 'ghost') {
                const live = await github.getRunner(registration.id);
                if (!live) return 'gone';
                if (live.busy) return 'busy';
                if (live.status === 'online') return 'online';
              }
              return github.deleteRunner(registration.id);
            }
            if (!ado) throw new Error('no Azure DevOps fleet is configured');
            const live = await ado.getAgent(registration.id);
            if (!live) return 'gone';
            if (live.busy) return 'busy';
            if (live.status === 'online') return 'online';
            return ado.deleteAgent(registration.id);
          }),
        );
      }
      return results;
    });
}

export interface ReimageUnregisteredInput {
  scaleSetId: string;
  fleet: 'github' | 'ado';
  instances: { instanceId: string; computerName: string }[];
}

export interface ReimageUnregisteredResult {
  reimaged: string[];
  /** Instances whose runner/agent registered since the plan was made. */
  registeredSince: string[];
}

export type ReimageUnregisteredOutput = ActivityResult<ReimageUnregisteredResult>;

/** Starts a reimage (does not wait for it) of instances that still have no registration. */
export function createReimageUnregisteredInstancesActivity({ arm, github, ado }: ActivityDeps) {
  return (input: ReimageUnregisteredInput): Promise<ReimageUnregisteredOutput> =>
    attempt(`reimage instances of ${input.scaleSetId}`, async () => {
      const registeredSince: string[] = [];
      const due: string[] = [];
      for (const instance of input.instances) {
        const found =
          input.fleet === 'github'
            ? await github?.findRunnersByName(instance.computerName)
            : await ado?.findAgentsByName(instance.computerName);
        if (found === undefined) throw new Error(`no ${input.fleet} fleet is configured`);
        if (found.length > 0) registeredSince.push(instance.instanceId);
        else due.push(instance.instanceId);
      }
      if (due.length > 0) await arm.startReimage(input.scaleSetId, due);
      return { reimaged: due, registeredSince };
    });
}
