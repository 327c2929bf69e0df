/**
 * Activities of the rollout flow: read the image version, inspect and observe a scale set, drain
 * idle instances, point the model at a version, start a manual upgrade, and check a wave's health.
 * Writes are idempotent (pointing the model at the version it already has, upgrading an instance
 * already on the model, removing a registration already gone are all no-ops), and every drain
 * re-checks busy state right before acting (S1).
 */
import type { AdoAgent, GitHubRunner, ScaleSetInstance } from '../clients/types.js';
import type { Fleet } from '../domain/hygiene.js';
import type { RegistrationState } from '../domain/rollout.js';
import { regionKey } from '../domain/regions.js';
import type { ActivityDeps } from './deps.js';
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
  imageReferenceId?: string;
}

export type ObserveScaleSetOutput = ActivityResult<ScaleSetObservation>;

/** Above this many names one paged list is cheaper than a lookup per name. */
const LIST_THRESHOLD = 50;

export function createObserveScaleSetActivity(deps: ActivityDeps) {
  return (input: ObserveScaleSetInput): Promise<ObserveScaleSetOutput> =>
    attempt(`observe scale set ${input.scaleSetId}`, async () => {
      const [scaleSet, instances] = await Promise.all([
        deps.arm.getScaleSet(input.scaleSetId),
        deps.arm.listInstances(input.scaleSetId),
      ]);
      const wanted = input.instanceIds ? new Set(input.instanceIds) : undefined;
      const names = instances
        .filter((i) => input.allInstances || (wanted ? wanted.has(i.instanceId) : !i.latestModelApplied))
        .map((i) => i.computerName);
      return {
        instances,
        registrations: await registrationsFor(deps, input.fleet, names),
        imageReferenceId: scaleSet?.imageReferenceId,
      };
    });
}

async function registrationsFor(
  deps: ActivityDeps,
  fleet: Fleet,
  names: string[],
): Promise<Record<string, RegistrationState>> {
  const result: Record<string, RegistrationState> = {};
  if (names.length === 0) return result;
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const add = (r: GitHubRunner | AdoAgent) => {
    const key = r.name.toLowerCase();
    if (!wanted.has(key)) return;
    const previous = result[key];
    // Several registrations with one name (a stale one and its replacement): busy or online wins.
    result[key] = {
      status: previous?.status === 'online' || r.status === 'online' ? 'online' : 'offline',
      busy: (previous?.busy ?? false) || r.busy,
    };
  };
  if (fleet === 'github') {
    const github = deps.github ?? missing('GitHub');
    const found =
      names.length > LIST_THRESHOLD
        ? await github.listRunners()
        : (await Promise.all(names.map((n) => github.findRunnersByName(n)))).flat();
    found.forEach(add);
  } else {
    const ado = deps.ado ?? missing('Azure DevOps');
    const found =
      names.length > LIST_THRESHOLD
        ? await ado.listAgents()
        : (await Promise.all(names.map((n) => ado.findAgentsByName(n)))).flat();
    found.forEach(add);
  }
  return result;
}

function missing(fleet: string): never {
  throw new Error(`no ${fleet} fleet is configured`);
}

export interface DrainInput {
  scaleSetId: string;
  fleet: Fleet;
  instances: { instanceId: string; computerName: string }[];
}

export interface DrainResult {
  /** Idle and no longer able to take a job: safe to upgrade. */
  drained: string[];
  /** Busy at the last check (or refused by the service as busy): left alone. */
  busy: string[];
}

export type DrainOutput = ActivityResult<DrainResult>;

/**
 * GitHub: remove the idle runner's registration (a 422 refusal means it picked up a job: busy).
 * Azure DevOps: disable the agent, then re-check that no request was assigned meanwhile.
 */
export function createDrainInstancesActivity(deps: ActivityDeps) {
  return (input: DrainInput): Promise<DrainOutput> =>
    attempt(`drain ${input.instances.length} instance(s) of ${input.scaleSetId}`, async () => {
      const result: DrainResult = { drained: [], busy: [] };
      for (const instance of input.instances) {
        const idle =
          input.fleet === 'github'
            ? await drainRunner(deps, instance.computerName)
            : await drainAgent(deps, instance.computerName);
        (idle ? result.drained : result.busy).push(instance.instanceId);
      }
      return result;
    });
}

async function drainRunner(deps: ActivityDeps, name: string): Promise<boolean> {
  const github = deps.github ?? missing('GitHub');
  for (const runner of await github.findRunnersByName(name)) {
    if (runner.busy) return false;
    if ((await github.deleteRunner(runner.id)) === 'busy') return false;
  }
  return true;
}

async function drainAgent(deps: ActivityDeps, name: string): Promise<boolean> {
  const ado = deps.ado ?? missing('Azure DevOps');
  for (const agent of await ado.findAgentsByName(name)) {
    if (agent.busy) return false;
    if (agent.enabled) await ado.setAgentEnabled(agent.id, false);
    const now = await ado.getAgent(agent.id);
    if (now?.busy) {
      // A job was assigned between the check and the disable: give the agent back.
      await ado.setAgentEnabled(agent.id, true);
      return false;
    }
  }
  return true;
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

export type StartUpgradeOutput = ActivityResult<null>;

export function createStartUpgradeActivity({ arm }: ActivityDeps) {
  return (input: StartUpgradeInput): Promise<StartUpgradeOutput> =>
    attempt(`upgrade instances ${input.instanceIds.join(',')} of ${input.scaleSetId}`, async () => {
      if (input.instanceIds.length > 0) await arm.startManualUpgrade(input.scaleSetId, input.instanceIds);
      return null;
    });
}

export interface CheckHealthInput {
  scaleSetId: string;
  fleet: Fleet;
  /** Instances of the wave not yet seen healthy. */
  instanceIds: string[];
}

export type CheckHealthOutput = ActivityResult<ScaleSetObservation>;

/** ARM first (cheap); the runner/agent is looked up only for instances already provisioned on the new model. */
export function createCheckWaveHealthActivity(deps: ActivityDeps) {
  return (input: CheckHealthInput): Promise<CheckHealthOutput> =>
    attempt(`check health of ${input.instanceIds.length} instance(s) of ${input.scaleSetId}`, async () => {
      const instances = await deps.arm.listInstances(input.scaleSetId);
      const wanted = new Set(input.instanceIds);
      const ready = instances.filter(
        (i) =>
          wanted.has(i.instanceId) &&
          i.latestModelApplied &&
          i.provisioningState.toLowerCase() === 'succeeded',
      );
      const registrations = await registrationsFor(
        deps,
        input.fleet,
        ready.map((i) => i.computerName),
      );
      return { instances: instances.filter((i) => wanted.has(i.instanceId)), registrations };
    });
}
