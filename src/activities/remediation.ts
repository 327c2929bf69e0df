/**
 * Activities that change the fleet for hygiene. Each re-checks the live state right before acting
 * (S1: a busy runner or agent is never removed, and neither is one that came back online) and is
 * idempotent: something already gone counts as done.
 */
import type { ActivityDeps } from './deps.js';
import { attempt, type ActivityResult } from './result.js';

export type RemovalOutcome = 'deleted' | 'gone' | 'busy' | 'online';

export interface RemoveRegistrationInput {
  id: number;
  name: string;
}

export type RemoveRegistrationOutput = ActivityResult<RemovalOutcome>;

export function createRemoveGitHubRunnerActivity({ github }: ActivityDeps) {
  return (input: RemoveRegistrationInput): Promise<RemoveRegistrationOutput> =>
    attempt(`remove GitHub runner ${input.name}`, async () => {
      if (!github) throw new Error('no GitHub fleet is configured');
      const live = await github.getRunner(input.id);
      if (!live) return 'gone';
      if (live.busy) return 'busy';
      if (live.status === 'online') return 'online';
      // GitHub refuses (422) to delete a runner that picked up a job since the check: that is busy too.
      return github.deleteRunner(input.id);
    });
}

export function createRemoveAdoAgentActivity({ ado }: ActivityDeps) {
  return (input: RemoveRegistrationInput): Promise<RemoveRegistrationOutput> =>
    attempt(`remove Azure DevOps agent ${input.name}`, async () => {
      if (!ado) throw new Error('no Azure DevOps fleet is configured');
      const live = await ado.getAgent(input.id);
      if (!live) return 'gone';
      if (live.busy) return 'busy';
      if (live.status === 'online') return 'online';
      return ado.deleteAgent(input.id);
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
