/**
 * Activities that change the fleet for hygiene. Removals are checked against the live state right
 * before acting (S1: a busy runner or agent is never removed, and neither is one that came back
 * online) and are idempotent: something already gone counts as done. Both work item after item
 * within a budget (budget.ts): past 4 minutes, or after 3 items in a row failed transiently, the
 * rest is returned not attempted, for the orchestrator to retry on its durable timers.
 */
import type { Fleet, RemovalReason } from '../domain/hygiene.js';
import { forEachWithinBudget } from './budget.js';
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityError, type ActivityResult } from './result.js';

export type RemovalOutcome = 'deleted' | 'gone' | 'busy' | 'online';

/**
 * Removals per activity (the history holds one event pair per batch, not per runner) and per minute:
 * a GitHub DELETE costs 5 of the 900 points a minute its secondary limit allows, so 100 a minute
 * leave room for everything else kiln reads meanwhile.
 */
export const REMOVALS = { size: 50, perMinute: 100 };

export interface RemoveRegistrationsInput {
  /** `recycle`: the offline agent of an Azure DevOps instance whose one job is done, removed before its reimage. */
  registrations: { fleet: Fleet; id: number; name: string; reason: RemovalReason | 'recycle' }[];
}

/** One result per registration, in order: a failure of one does not hide the others. */
export type RemoveRegistrationsOutput = ActivityResult<ActivityResult<RemovalOutcome>[]>;

/**
 * The re-check before each removal:
 * - GitHub ghost (its instance is gone, so nothing can bring it back online): the DELETE is the check,
 *   GitHub refuses (422) while a job runs, which counts as busy.
 * - GitHub runner offline past grace (its instance exists and could reconnect): read it first, keep it
 *   if it is online or busy; the DELETE still refuses a job picked up since.
 * - Azure DevOps agent (whatever the reason, a recycle too): read it first (Azure DevOps deletes a
 *   busy agent without refusing).
 */
export function createRemoveRegistrationsActivity({ github, ado, metrics }: ActivityDeps) {
  return (input: RemoveRegistrationsInput): Promise<RemoveRegistrationsOutput> =>
    attempt(`remove ${input.registrations.length} registration(s)`, () =>
      forEachWithinBudget(
        input.registrations,
        (registration) =>
          `remove ${registration.fleet === 'github' ? 'GitHub runner' : 'Azure DevOps agent'} ${registration.name}`,
        (registration, what) =>
          attempt(what, async (): Promise<RemovalOutcome> => {
            if (registration.fleet === 'github') {
              if (!github) throw new Error('no GitHub fleet is configured');
              if (registration.reason !== 'ghost') {
                const live = await github.getRunner(registration.id);
                if (!live) return 'gone';
                if (live.busy) return 'busy';
                if (live.status === 'online') return 'online';
              }
              return counted(registration, await github.deleteRunner(registration.id));
            }
            if (!ado) throw new Error('no Azure DevOps fleet is configured');
            const live = await ado.getAgent(registration.id);
            if (!live) return 'gone';
            if (live.busy) return 'busy';
            if (live.status === 'online') return 'online';
            return counted(registration, await ado.deleteAgent(registration.id));
          }),
      ),
    );

  /** A ghost kiln deleted counts as removed (one already gone was not kiln's doing). */
  function counted(registration: { fleet: Fleet; reason: string }, outcome: RemovalOutcome): RemovalOutcome {
    if (registration.reason === 'ghost' && outcome === 'deleted') metrics.ghostRemoved(registration.fleet);
    return outcome;
  }
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
  /**
   * Instances an operation started on since the plan was made (a rollout's upgrade, say), or that
   * are gone: left to that operation, since a reimage would cut it short (Azure runs the newer of
   * two operations on a VM). The next cleanup run looks at them again.
   */
  changedSince: string[];
  /**
   * Instances whose registration could not be looked up (failed, or not attempted within the
   * budget), so not reimaged. Only alongside a started reimage: when nothing was due among the
   * instances checked, a failed look-up fails the activity instead.
   */
  unchecked: { instanceId: string; error: ActivityError }[];
}

export type ReimageUnregisteredOutput = ActivityResult<ReimageUnregisteredResult>;

/**
 * Starts a reimage (does not wait for it) of the instances that still have no registration and no
 * operation under way: an instance is reimaged only when its look-up answered that nothing is
 * registered under its name and ARM shows it settled (Succeeded or Failed), not upgrading for a
 * rollout that moved it since the plan.
 * Hygiene brings back this way both instances that never registered and recycled ones (their
 * one-job runner or agent gone): whatever registered since the plan keeps its instance (S1).
 * The look-ups run within a budget (budget.ts). If they leave nothing to reimage and some failed,
 * the activity fails (transient if any look-up may succeed later), and the orchestrator retries the
 * whole input, which is safe because nothing changed. Once a reimage started it answers ok and lists
 * the instances it could not check under `unchecked`: a retry of the whole input would reimage the
 * started instances a second time; the next cleanup run plans the unchecked ones again.
 */
export function createReimageUnregisteredInstancesActivity({ arm, github, ado }: ActivityDeps) {
  return async (input: ReimageUnregisteredInput): Promise<ReimageUnregisteredOutput> => {
    const operation = `reimage instances of ${input.scaleSetId}`;
    const lookUp =
      input.fleet === 'github'
        ? github && ((name: string) => github.findRunnersByName(name))
        : ado && ((name: string) => ado.findAgentsByName(name));
    if (!lookUp) {
      const message = `${operation}: no ${input.fleet} fleet is configured`;
      return { ok: false, error: { name: 'Error', message, transient: false } };
    }
    // Right before acting, as the plan may be minutes old: still unregistered, and no operation on it.
    const checked = await forEachWithinBudget(
      input.instances,
      (instance) => `look up the registration and state of ${instance.computerName}`,
      (instance, what) =>
        attempt(what, async (): Promise<'registered' | 'changed' | 'due'> => {
          if ((await lookUp(instance.computerName)).length > 0) return 'registered';
          const now = await arm.getInstance(input.scaleSetId, instance.instanceId);
          const state = now?.provisioningState.toLowerCase();
          return state === 'succeeded' || state === 'failed' ? 'due' : 'changed';
        }),
    );
    const reimaged: string[] = [];
    const registeredSince: string[] = [];
    const changedSince: string[] = [];
    const unchecked: ReimageUnregisteredResult['unchecked'] = [];
    checked.forEach((result, k) => {
      const { instanceId } = input.instances[k]!;
      if (!result.ok) unchecked.push({ instanceId, error: result.error });
      else if (result.value === 'registered') registeredSince.push(instanceId);
      else if (result.value === 'changed') changedSince.push(instanceId);
      else reimaged.push(instanceId);
    });
    if (reimaged.length === 0 && unchecked.length > 0) {
      const transient = unchecked.some((u) => u.error.transient);
      const first = (unchecked.find((u) => u.error.transient) ?? unchecked[0]!).error;
      return {
        ok: false,
        error: {
          name: first.name,
          message: `${operation}: ${unchecked.length} of ${input.instances.length} instance(s) could not be checked, none reimaged; ${first.message}`,
          transient,
        },
      };
    }
    return attempt(operation, async () => {
      if (reimaged.length > 0) await arm.startReimage(input.scaleSetId, reimaged);
      return { reimaged, registeredSince, changedSince, unchecked };
    });
  };
}
