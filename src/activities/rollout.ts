/**
 * Activities of the rollout flow: read the image version, inspect and observe a scale set, drain
 * idle instances, point the model at a version, start a manual upgrade, and check a wave's health.
 * Writes are idempotent (pointing the model at the version it already has, upgrading an instance
 * already on the model, removing a registration already gone are all no-ops), and every drain
 * re-checks busy state right before acting (S1).
 */
import type { AdoAgent, ScaleSetInstance } from '../clients/types.js';
import type { Fleet } from '../domain/hygiene.js';
import type { RegistrationState } from '../domain/rollout.js';
import { regionKey } from '../domain/regions.js';
import type { ActivityDeps } from './deps.js';
import { ensureError } from '../clients/errors.js';
import { attempt, type ActivityResult } from './result.js';

export interface ImageVersionState {
  id: string;
  definition: string;
  version: string;
  excludeFromLatest: boolean;
  tags: Record<string, string>;
  provisioningState?: string;
  /** Replication state per region (lower-case, no spaces: "westeurope"). */
  regions: Record<string, string>;
}

export interface ResolveImageVersionInput {
  definition: string;
  version: string;
}

export type ResolveImageVersionOutput = ActivityResult<ImageVersionState | null>;

export function createResolveImageVersionActivity({ arm }: ActivityDeps) {
  return (input: ResolveImageVersionInput): Promise<ResolveImageVersionOutput> =>
    attempt(`read image version ${input.definition}/${input.version}`, async () => {
      const found = await arm.getImageVersion(input.definition, input.version, { replicationStatus: true });
      if (!found) return null;
      const regions: Record<string, string> = {};
      for (const r of found.replication?.regions ?? []) regions[regionKey(r.region)] = r.state;
      return {
        id: found.id,
        definition: input.definition,
        version: found.name,
        excludeFromLatest: found.excludeFromLatest,
        tags: found.tags,
        provisioningState: found.provisioningState,
        regions,
      };
    });
}

export interface ObserveScaleSetInput {
  scaleSetId: string;
  fleet: Fleet;
  /** Look up registrations for these instances only (all stale ones when omitted). */
  instanceIds?: string[];
  /** Look up registrations for every instance. */
  allInstances?: boolean;
}

export interface ScaleSetObservation {
  instances: ScaleSetInstance[];
  /** By lower-case computer name; absent: no registration. */
  registrations: Record<string, RegistrationState>;
}

export type ObserveScaleSetOutput = ActivityResult<ScaleSetObservation>;

export function createObserveScaleSetActivity(deps: ActivityDeps) {
  return (input: ObserveScaleSetInput): Promise<ObserveScaleSetOutput> =>
    attempt(`observe scale set ${input.scaleSetId}`, async () => {
      const instances = await deps.arm.listInstances(input.scaleSetId);
      const wanted = input.instanceIds ? new Set(input.instanceIds) : undefined;
      const names = instances
        .filter((i) => input.allInstances || (wanted ? wanted.has(i.instanceId) : !i.latestModelApplied))
        .map((i) => i.computerName);
      return { instances, registrations: await deps.registrations.stateOf(input.fleet, names) };
    });
}

export interface ReadRegistrationsInput {
  fleet: Fleet;
  names: string[];
}

export type ReadRegistrationsOutput = ActivityResult<Record<string, RegistrationState>>;

/** Registrations only, no ARM: what a busy wait needs to see whether a job has ended. */
export function createReadRegistrationsActivity(deps: ActivityDeps) {
  return (input: ReadRegistrationsInput): Promise<ReadRegistrationsOutput> =>
    attempt(`read ${input.names.length} ${input.fleet} registration(s)`, () =>
      deps.registrations.stateOf(input.fleet, input.names),
    );
}

function missing(fleet: string): never {
  throw new Error(`no ${fleet} fleet is configured`);
}

export interface DrainInput {
  scaleSetId: string;
  fleet: Fleet;
  /** `registrationIds`: the registrations the wave's look saw with the instance's name. */
  instances: { instanceId: string; computerName: string; registrationIds?: number[] }[];
}

export interface DrainResult {
  /** Idle and no longer able to take a job: safe to upgrade. */
  drained: string[];
  /** Busy at the last check (or refused by the service as busy): left alone. */
  busy: string[];
}

export type DrainOutput = ActivityResult<DrainResult>;

/**
 * GitHub: remove the idle runner's registration; the DELETE itself is the busy check (GitHub refuses
 * with 422 while a job runs). Azure DevOps: disable the agents, then one fresh list shows whether a
 * job was assigned before the disable took effect; those agents are given back.
 */
export function createDrainInstancesActivity(deps: ActivityDeps) {
  return (input: DrainInput): Promise<DrainOutput> =>
    attempt(`drain ${input.instances.length} instance(s) of ${input.scaleSetId}`, async () =>
      input.fleet === 'github' ? drainRunners(deps, input.instances) : drainAgents(deps, input.instances),
    );
}

async function drainRunners(deps: ActivityDeps, instances: DrainInput['instances']): Promise<DrainResult> {
  const github = deps.github ?? missing('GitHub');
  const result: DrainResult = { drained: [], busy: [] };
  for (const instance of instances) {
    const known = instance.registrationIds ?? [];
    let idle = true;
    let vanished = known.length === 0;
    for (const id of known) {
      const outcome = await github.deleteRunner(id);
      if (outcome === 'busy') idle = false;
      if (outcome === 'gone') vanished = true;
    }
    // Not seen by the look, or gone since: a new registration may have taken the name. Ask by name.
    if (idle && vanished) {
      for (const runner of await github.findRunnersByName(instance.computerName)) {
        if (runner.busy || (await github.deleteRunner(runner.id)) === 'busy') idle = false;
      }
    }
    (idle ? result.drained : result.busy).push(instance.instanceId);
  }
  return result;
}

async function drainAgents(deps: ActivityDeps, instances: DrainInput['instances']): Promise<DrainResult> {
  const ado = deps.ado ?? missing('Azure DevOps');
  const disabled = new Set<number>();
  for (const instance of instances) {
    for (const id of instance.registrationIds ?? []) {
      const agent = await ado.setAgentEnabled(id, false);
      if (agent) disabled.add(id);
    }
  }
  // One fresh list after every disable: the last word on busy (S1), and it shows agents the look missed.
  const byName = new Map<string, AdoAgent[]>();
  for (const agent of await ado.listAgents()) {
    const key = agent.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), agent]);
  }
  const result: DrainResult = { drained: [], busy: [] };
  for (const instance of instances) {
    const agents = byName.get(instance.computerName.toLowerCase()) ?? [];
    const takesJobs = agents.some((a) => a.busy || (a.enabled && !disabled.has(a.id)));
    if (!takesJobs) {
      result.drained.push(instance.instanceId);
      continue;
    }
    // Busy, or an agent the look did not see is still enabled: give back what kiln disabled, try later.
    for (const agent of agents) if (disabled.has(agent.id)) await ado.setAgentEnabled(agent.id, true);
    result.busy.push(instance.instanceId);
  }
  return result;
}

export interface SetScaleSetImageInput {
  scaleSetId: string;
  imageReferenceId: string;
}

export type SetScaleSetImageOutput = ActivityResult<null>;

export function createSetScaleSetImageActivity({ arm }: ActivityDeps) {
  return (input: SetScaleSetImageInput): Promise<SetScaleSetImageOutput> =>
    attempt(`point ${input.scaleSetId} at ${input.imageReferenceId}`, async () => {
      await arm.setScaleSetImage(input.scaleSetId, input.imageReferenceId);
      return null;
    });
}

export interface StartUpgradeInput {
  scaleSetId: string;
  instanceIds: string[];
}

/** The instances whose upgrade started. */
export type StartUpgradeOutput = ActivityResult<string[]>;

/**
 * Starts the upgrade. The wave may have been planned from an earlier look (a busy wait reads only the
 * registrations): when ARM refuses the request, the instances are listed and those that no longer
 * exist (scaled in meanwhile) are left out before one more try.
 */
export function createStartUpgradeActivity({ arm }: ActivityDeps) {
  return (input: StartUpgradeInput): Promise<StartUpgradeOutput> =>
    attempt(`upgrade instances ${input.instanceIds.join(',')} of ${input.scaleSetId}`, async () => {
      if (input.instanceIds.length === 0) return [];
      try {
        await arm.startManualUpgrade(input.scaleSetId, input.instanceIds);
        return input.instanceIds;
      } catch (error) {
        if (ensureError(error).name !== 'PermanentError') throw error;
        const present = new Set(
          (await arm.listInstances(input.scaleSetId))
            .filter((i) => i.provisioningState.toLowerCase() !== 'deleting')
            .map((i) => i.instanceId),
        );
        const existing = input.instanceIds.filter((id) => present.has(id));
        if (existing.length === input.instanceIds.length) throw error;
        if (existing.length > 0) await arm.startManualUpgrade(input.scaleSetId, existing);
        return existing;
      }
    });
}

export interface CheckHealthInput {
  scaleSetId: string;
  fleet: Fleet;
  /** Instances of the wave not yet seen healthy. */
  instanceIds: string[];
}

export type CheckHealthOutput = ActivityResult<ScaleSetObservation>;

/**
 * One look at the whole scale set: the wave's instances (registrations of those provisioned on the
 * new model) and every instance still on the old model, so the look that ends a wave also plans the
 * next one. Returns those instances only.
 */
export function createCheckWaveHealthActivity(deps: ActivityDeps) {
  return (input: CheckHealthInput): Promise<CheckHealthOutput> =>
    attempt(`check health of ${input.instanceIds.length} instance(s) of ${input.scaleSetId}`, async () => {
      const wave = new Set(input.instanceIds);
      // Only what the orchestration reads (the wave, and what is still on the old model): its history
      // keeps every result, and a large scale set's full list would grow it for nothing.
      const instances = (await deps.arm.listInstances(input.scaleSetId)).filter(
        (i) => wave.has(i.instanceId) || !i.latestModelApplied,
      );
      const names = instances
        .filter((i) =>
          wave.has(i.instanceId)
            ? i.latestModelApplied && i.provisioningState.toLowerCase() === 'succeeded'
            : !i.latestModelApplied,
        )
        .map((i) => i.computerName);
      return { instances, registrations: await deps.registrations.stateOf(input.fleet, names) };
    });
}
