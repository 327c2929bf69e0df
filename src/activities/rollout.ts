/**
 * Activities of the rollout flow: read the image version, inspect and observe a scale set, drain
 * idle instances, point the model at a version, start a manual upgrade, and check a wave's health.
 * Writes are idempotent (pointing the model at the version it already has, upgrading an instance
 * already on the model, removing a registration already gone are all no-ops), and every drain
 * re-checks busy state right before acting (S1).
 */
import type { AdoAgent, ScaleSet, ScaleSetInstance } from '../clients/types.js';
import type { Fleet } from '../domain/hygiene.js';
import { servedOneJob, type RegistrationState } from '../domain/rollout.js';
import { provisioningKey } from '../domain/registration.js';
import { regionKey } from '../domain/regions.js';
import type { ActivityDeps } from './deps.js';
import { scaleSetName } from './inventory.js';
import { ensureError } from '../clients/errors.js';
import { startBudget } from './budget.js';
import { attempt, type ActivityError, type ActivityResult } from './result.js';

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

export interface ReadScaleSetInput {
  scaleSetId: string;
}

/** The scale set as it is now (null: it no longer exists). */
export type ReadScaleSetOutput = ActivityResult<ScaleSet | null>;

/** A fresh read of the model, right before a change that depends on it (S8): never the list a run began with. */
export function createReadScaleSetActivity({ arm }: ActivityDeps) {
  return (input: ReadScaleSetInput): Promise<ReadScaleSetOutput> =>
    attempt(
      `read scale set ${input.scaleSetId}`,
      async () => (await arm.getScaleSet(input.scaleSetId)) ?? null,
    );
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
  /** Lower-case computer names of one-job machines whose registration of this provisioning served its job (servedOneJob). */
  served?: string[];
}

export type ObserveScaleSetOutput = ActivityResult<ScaleSetObservation>;

export function createObserveScaleSetActivity(deps: ActivityDeps) {
  return (input: ObserveScaleSetInput): Promise<ObserveScaleSetOutput> =>
    attempt(`observe scale set ${input.scaleSetId}`, async () => {
      const instances = await deps.arm.listInstances(input.scaleSetId);
      deps.metrics.fleetInstances(scaleSetName(input.scaleSetId), instances);
      const wanted = input.instanceIds ? new Set(input.instanceIds) : undefined;
      const looked = instances.filter(
        (i) => input.allInstances || (wanted ? wanted.has(i.instanceId) : !i.latestModelApplied),
      );
      const registrations = await deps.registrations.stateOf(
        input.fleet,
        looked.map((i) => i.computerName),
      );
      // Whether a one-job machine served its job matters to the health looks (the soak looks at all).
      const served = input.allInstances
        ? await servedNames(deps, input.scaleSetId, input.fleet, looked, registrations)
        : [];
      return { instances, registrations, ...(served.length > 0 ? { served } : {}) };
    });
}

/**
 * The lower-case computer names of the instances whose one-job registration of their current
 * provisioning served its job (servedOneJob): GitHub asks the broker's record of what it gave
 * (only for an instance with no runner now); Azure DevOps reads the agent's last job.
 */
async function servedNames(
  deps: ActivityDeps,
  scaleSetId: string,
  fleet: Fleet,
  instances: ScaleSetInstance[],
  registrations: Record<string, RegistrationState>,
): Promise<string[]> {
  const nowIso = deps.now().toISOString();
  const served: string[] = [];
  for (const instance of instances) {
    if (instance.provisioningState.toLowerCase() !== 'succeeded') continue;
    const name = instance.computerName.toLowerCase();
    const registration = registrations[name];
    const issuedByBroker =
      fleet === 'github' && registration === undefined && deps.issuedRegistrations !== undefined
        ? await deps.issuedRegistrations.wasIssued(
            provisioningKey(scaleSetId, instance.instanceId, instance.provisionedAt),
            nowIso,
          )
        : false;
    if (servedOneJob({ fleet, provisionedAt: instance.provisionedAt, registration, issuedByBroker }))
      served.push(name);
  }
  return served;
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
  /** Azure DevOps agents kiln disabled for the drained instances: to be enabled again once the wave is over (S9). */
  disabled: number[];
  /** GitHub runner registrations this drain deleted (an Azure DevOps drain disables, it deletes none). */
  runnersRemoved: number;
}

export type DrainOutput = ActivityResult<DrainResult>;

/**
 * GitHub: remove the idle runner's registration; the DELETE itself is the busy check (GitHub refuses
 * with 422 while a job runs). Azure DevOps: disable the agents, then one fresh list shows whether a
 * job was assigned before the disable took effect; those agents are given back. Instance after
 * instance within a budget (budget.ts): what is not drained waits for a later wave.
 */
export function createDrainInstancesActivity(deps: ActivityDeps) {
  return (input: DrainInput): Promise<DrainOutput> =>
    attempt(`drain ${input.instances.length} instance(s) of ${input.scaleSetId}`, async () =>
      input.fleet === 'github' ? drainRunners(deps, input.instances) : drainAgents(deps, input.instances),
    );
}

export async function drainRunners(
  deps: ActivityDeps,
  instances: DrainInput['instances'],
): Promise<DrainResult> {
  const github = deps.github ?? missing('GitHub');
  const result: DrainResult = { drained: [], busy: [], disabled: [], runnersRemoved: 0 };
  const budget = startBudget();
  const failures: ActivityError[] = [];
  for (const instance of instances) {
    if (budget.exhausted()) {
      // Left on the old version for a later wave; the orchestration waits on its timers, not here.
      result.busy.push(instance.instanceId);
      continue;
    }
    const drained = await attempt(`drain runner ${instance.computerName}`, async () => {
      const known = instance.registrationIds ?? [];
      let idle = true;
      let vanished = known.length === 0;
      // Counted as each DELETE succeeds, so a drain that fails part-way still says what it removed.
      const remove = async (id: number) => {
        const outcome = await github.deleteRunner(id);
        if (outcome === 'deleted') result.runnersRemoved++;
        return outcome;
      };
      for (const id of known) {
        const outcome = await remove(id);
        if (outcome === 'busy') idle = false;
        if (outcome === 'gone') vanished = true;
      }
      // Not seen by the look, or gone since: a new registration may have taken the name. Ask by name.
      if (idle && vanished) {
        for (const runner of await github.findRunnersByName(instance.computerName)) {
          if (runner.busy || (await remove(runner.id)) === 'busy') idle = false;
        }
      }
      return idle;
    });
    budget.record(drained);
    if (!drained.ok) failures.push(drained.error);
    (drained.ok && drained.value ? result.drained : result.busy).push(instance.instanceId);
  }
  return orFail(result, failures);
}

export async function drainAgents(
  deps: ActivityDeps,
  instances: DrainInput['instances'],
): Promise<DrainResult> {
  const ado = deps.ado ?? missing('Azure DevOps');
  const disabled = new Set<number>();
  const budget = startBudget();
  const failures: ActivityError[] = [];
  for (const instance of instances) {
    if (budget.exhausted()) break;
    const done = await attempt(`disable the agent of ${instance.computerName}`, async () => {
      for (const id of instance.registrationIds ?? []) {
        const agent = await ado.setAgentEnabled(id, false);
        if (agent) disabled.add(id);
      }
    });
    budget.record(done);
    if (!done.ok) failures.push(done.error);
  }
  // One fresh list after every disable: the last word on busy (S1), and it shows agents the look missed.
  // Without it nothing is known: what was disabled is given back before the failure travels on (S9).
  const byName = new Map<string, AdoAgent[]>();
  let listed: AdoAgent[];
  try {
    listed = await ado.listAgents();
  } catch (error) {
    await enableAll(ado, disabled);
    throw error;
  }
  for (const agent of listed) {
    const key = agent.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), agent]);
  }
  const result: DrainResult = { drained: [], busy: [], disabled: [], runnersRemoved: 0 };
  for (const instance of instances) {
    const agents = byName.get(instance.computerName.toLowerCase()) ?? [];
    // An agent kiln could not disable (failed, or not attempted within the budget) still takes jobs.
    const takesJobs = agents.some((a) => a.busy || (a.enabled && !disabled.has(a.id)));
    if (!takesJobs) {
      result.drained.push(instance.instanceId);
      result.disabled.push(...agents.filter((a) => disabled.has(a.id)).map((a) => a.id));
      continue;
    }
    // Busy, or an agent the look did not see is still enabled: give back what kiln disabled, try later.
    await enableAll(
      ado,
      agents.filter((a) => disabled.has(a.id)).map((a) => a.id),
    );
    result.busy.push(instance.instanceId);
  }
  return orFail(result, failures);
}

/** Enables each agent, best effort: one that cannot be enabled now is left for the wave's give-back. */
export async function enableAll(ado: NonNullable<ActivityDeps['ado']>, ids: Iterable<number>): Promise<void> {
  for (const id of ids) await ado.setAgentEnabled(id, true).catch(() => undefined);
}

/**
 * A drain that drained nothing because its requests failed is a failure (transient if any was), so
 * the orchestration retries it on its timers and, if the service stays down, ends the rollout; one
 * that drained some goes on with those, and the rest wait for a later wave.
 */
function orFail(result: DrainResult, failures: ActivityError[]): DrainResult {
  if (result.drained.length > 0 || failures.length === 0) return result;
  const first = failures[0]!;
  const error = new Error(
    `${first.message}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`,
  );
  error.name = failures.some((f) => f.transient) ? 'TransientError' : first.name;
  throw error;
}

export interface SetScaleSetImageInput {
  scaleSetId: string;
  imageReferenceId: string;
  /** The ETag of the read the decision was made on: the write is refused ('conflict') if anything changed the model since. */
  ifMatch?: string;
}

export type SetScaleSetImageOutput = ActivityResult<'changed' | 'conflict'>;

export function createSetScaleSetImageActivity({ arm }: ActivityDeps) {
  return (input: SetScaleSetImageInput): Promise<SetScaleSetImageOutput> =>
    attempt(`point ${input.scaleSetId} at ${input.imageReferenceId}`, () =>
      arm.setScaleSetImage(input.scaleSetId, input.imageReferenceId, { ifMatch: input.ifMatch }),
    );
}

export interface StartUpgradeInput {
  scaleSetId: string;
  instanceIds: string[];
  /** The model the wave moves instances to: nothing is upgraded once the model points elsewhere. */
  imageReferenceId: string;
}

/**
 * The instances whose upgrade started; `modelNow` when the model no longer points at the wanted
 * image (someone else moved it since the rollout did): then nothing was upgraded.
 */
export type StartUpgradeOutput = ActivityResult<{ upgraded: string[]; modelNow?: string }>;

/**
 * Starts the upgrade, once the model is confirmed to point where the wave expects: a manual upgrade
 * applies whatever the model says now, so a model moved since (by a newer rollout, or outside kiln)
 * would move the instances somewhere the rollout never decided (S8). The wave may have been planned
 * from an earlier look (a busy wait reads only the registrations): when ARM refuses the request, the
 * instances are listed and those that no longer exist (scaled in meanwhile) are left out before one
 * more try.
 */
export function createStartUpgradeActivity({ arm }: ActivityDeps) {
  return (input: StartUpgradeInput): Promise<StartUpgradeOutput> =>
    attempt(`upgrade instances ${input.instanceIds.join(',')} of ${input.scaleSetId}`, async () => {
      if (input.instanceIds.length === 0) return { upgraded: [] };
      const model = (await arm.getScaleSet(input.scaleSetId))?.imageReferenceId;
      if (model?.toLowerCase() !== input.imageReferenceId.toLowerCase())
        return { upgraded: [], modelNow: model ?? 'none (the scale set is gone)' };
      try {
        await arm.startManualUpgrade(input.scaleSetId, input.instanceIds);
        return { upgraded: input.instanceIds };
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
        return { upgraded: existing };
      }
    });
}

export interface ReturnDrainedInput {
  scaleSetId: string;
  fleet: Fleet;
  /** Azure DevOps agents kiln disabled: enabled again. */
  agentIds: number[];
  /** GitHub instances whose runner kiln removed but that were not upgraded: reimaged, so their runner registers again. */
  reimage: string[];
}

/**
 * The undo of a drain (S9): agents kiln disabled take jobs again, and instances whose runner kiln
 * removed without upgrading them are reimaged (a reimage keeps their version). Idempotent: enabling an
 * enabled agent or one gone since, and reimaging, are harmless to repeat.
 */
export function createReturnDrainedActivity({ arm, ado }: ActivityDeps) {
  return (input: ReturnDrainedInput): Promise<ActivityResult<null>> =>
    attempt(
      `give back ${input.agentIds.length + input.reimage.length} drained instance(s) of ${input.scaleSetId}`,
      async () => {
        if (input.agentIds.length > 0) {
          const client = ado ?? missing('Azure DevOps');
          for (const id of input.agentIds) await client.setAgentEnabled(id, true);
        }
        if (input.reimage.length > 0) await arm.startReimage(input.scaleSetId, input.reimage);
        return null;
      },
    );
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
          wave.has(i.instanceId) ? i.provisioningState.toLowerCase() === 'succeeded' : !i.latestModelApplied,
        )
        .map((i) => i.computerName);
      const registrations = await deps.registrations.stateOf(input.fleet, names);
      const served = await servedNames(
        deps,
        input.scaleSetId,
        input.fleet,
        instances.filter((i) => wave.has(i.instanceId)),
        registrations,
      );
      return { instances, registrations, ...(served.length > 0 ? { served } : {}) };
    });
}
