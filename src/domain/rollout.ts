/**
 * Rollout decisions, pure: which instances form the next wave, how a wave's health stands, and
 * when a breach calls for rollback. A wave holds only idle instances (S1); busy ones are revisited
 * wave after wave until `busyWaitHours`, then left pending on the old version — never forced. An
 * instance on a newer version than the rollout's is never moved back (S8) unless older is allowed.
 */
import { compareVersions, isGalleryVersion } from './versions.js';

export interface RolloutInstance {
  instanceId: string;
  computerName: string;
  latestModelApplied: boolean;
  provisioningState: string;
  /** The image the instance runs (a gallery version id when it runs one). */
  imageReferenceId?: string;
}

export interface RegistrationState {
  status: 'online' | 'offline';
  busy: boolean;
  /** The registrations seen with this name (a drain removes or disables exactly these first). */
  ids?: number[];
  /** When its last job finished (Azure DevOps says; GitHub does not): a `--once` agent's one job. */
  lastJobFinishedOn?: string;
}

export interface RolloutOptions {
  batchPercent: number;
  maxUnhealthyPercent: number;
  healthDeadlineMinutes: number;
  busyWaitHours: number;
}

export const DEFAULT_ROLLOUT_OPTIONS: RolloutOptions = {
  batchPercent: 20,
  maxUnhealthyPercent: 20,
  healthDeadlineMinutes: 15,
  busyWaitHours: 6,
};

export interface WavePlan {
  /** Idle instances on the old model to drain and upgrade now (at most the batch size). */
  upgrade: string[];
  /** Busy instances on the old model, revisited in a later wave. */
  busy: string[];
  /** Busy past busyWaitHours: left on the old version, reported pending. */
  pending: string[];
  /** Old-model instances idle but beyond this wave's batch. */
  waiting: string[];
  /** Off the model but on a newer version than the rollout's: never moved back (S8) unless older is allowed. */
  newer: string[];
}

export function batchSize(capacity: number, batchPercent: number): number {
  return Math.max(1, Math.floor((capacity * batchPercent) / 100));
}

export function planWave(input: {
  capacity: number;
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState | undefined>;
  options: RolloutOptions;
  rolloutStartedAt: string;
  now: string;
  /** Instances already given up on (pending) or already failed in this rollout. */
  exclude?: string[];
  /** The version the rollout moves to; with `allowOlder` unset, instances on a newer one stay (S8). */
  version?: string;
  allowOlder?: boolean;
}): WavePlan {
  const exclude = new Set(input.exclude ?? []);
  const waitedMs = Date.parse(input.now) - Date.parse(input.rolloutStartedAt);
  const busyExpired = waitedMs >= input.options.busyWaitHours * 3600_000;
  const plan: WavePlan = { upgrade: [], busy: [], pending: [], waiting: [], newer: [] };
  const runsNewer = (i: RolloutInstance) => {
    const running = versionOfImageReference(i.imageReferenceId);
    return (
      !input.allowOlder &&
      input.version !== undefined &&
      running !== undefined &&
      isGalleryVersion(running) &&
      compareVersions(running, input.version) > 0
    );
  };
  const size = batchSize(input.capacity, input.options.batchPercent);
  const stale = input.instances
    .filter((i) => !i.latestModelApplied && !exclude.has(i.instanceId))
    .sort((a, b) => Number(a.instanceId) - Number(b.instanceId) || a.instanceId.localeCompare(b.instanceId));
  for (const instance of stale) {
    const registration = input.registrations[instance.computerName.toLowerCase()];
    if (runsNewer(instance)) {
      plan.newer.push(instance.instanceId);
    } else if (registration?.busy) {
      (busyExpired ? plan.pending : plan.busy).push(instance.instanceId);
    } else if (plan.upgrade.length < size) {
      plan.upgrade.push(instance.instanceId);
    } else {
      plan.waiting.push(instance.instanceId);
    }
  }
  return plan;
}

/**
 * A look at a scale set kept to plan the next wave without looking again: the instances still on
 * the old model (only what planning reads of them) and their registrations.
 */
export interface WaveLook {
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState>;
}

/** The part of an observation that plans waves: instances still on the old model and their registrations. */
export function staleLook(observation: {
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState>;
}): WaveLook {
  const instances = observation.instances
    .filter((i) => !i.latestModelApplied)
    .map(({ instanceId, computerName, latestModelApplied, provisioningState, imageReferenceId }) => ({
      instanceId,
      computerName,
      latestModelApplied,
      provisioningState,
      ...(imageReferenceId ? { imageReferenceId } : {}),
    }));
  const names = new Set(instances.map((i) => i.computerName.toLowerCase()));
  return {
    instances,
    registrations: Object.fromEntries(
      Object.entries(observation.registrations).filter(([name]) => names.has(name)),
    ),
  };
}

/** The look's registrations with these names' replaced by a newer read (absent there: none now). */
export function withFreshRegistrations(
  look: WaveLook,
  names: string[],
  fresh: Record<string, RegistrationState>,
): WaveLook['registrations'] {
  const registrations = { ...look.registrations };
  for (const name of names) {
    const key = name.toLowerCase();
    if (fresh[key]) registrations[key] = fresh[key];
    else delete registrations[key];
  }
  return registrations;
}

export interface WaveHealth {
  healthy: string[];
  unhealthy: string[];
  /** Not healthy yet, deadline not reached. */
  starting: string[];
  /** The unhealthy ones whose upgrade failed in ARM (provisioning Failed) or that are gone. */
  failed: string[];
}

/**
 * An upgraded instance is healthy once provisioned on the wave's image with its runner/agent online.
 * The image is what the instance runs, not whether it matches the model: a model someone moves while
 * the wave comes back says nothing about the health of what the wave moved.
 */
export function assessWave(input: {
  wave: string[];
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState | undefined>;
  /** Lower-case computer names whose one-job registration of this provisioning served its job (see servedOneJob). */
  served?: string[];
  waveStartedAt: string;
  now: string;
  healthDeadlineMinutes: number;
  /** The image the wave moved its instances to (absent: the model's, whatever it is). */
  imageReferenceId?: string;
}): WaveHealth {
  const onImage = (i: RolloutInstance) =>
    input.imageReferenceId && i.imageReferenceId
      ? i.imageReferenceId.toLowerCase() === input.imageReferenceId.toLowerCase()
      : i.latestModelApplied;
  const health: WaveHealth = { healthy: [], unhealthy: [], starting: [], failed: [] };
  const pastDeadline =
    Date.parse(input.now) - Date.parse(input.waveStartedAt) >= input.healthDeadlineMinutes * 60_000;
  const served = new Set(input.served ?? []);
  for (const id of input.wave) {
    const instance = input.instances.find((i) => i.instanceId === id);
    const state = instance?.provisioningState.toLowerCase();
    const name = instance?.computerName.toLowerCase() ?? '';
    const registered = input.registrations[name]?.status === 'online' || served.has(name);
    if (instance && state === 'succeeded' && onImage(instance) && registered) health.healthy.push(id);
    else if (!instance || state === 'failed') {
      health.unhealthy.push(id);
      health.failed.push(id);
    } else if (pastDeadline) health.unhealthy.push(id);
    else health.starting.push(id);
  }
  return health;
}

export function breachesThreshold(unhealthy: number, waveSize: number, maxUnhealthyPercent: number): boolean {
  if (waveSize === 0) return false;
  return (unhealthy * 100) / waveSize > maxUnhealthyPercent;
}

/**
 * What a dry run says of one scale set: the instances that would move (every one while the model is
 * on another image, else those not on the model yet), how many of those are busy now, and how many
 * waves they would take at the batch size.
 */
export function planDryRun(input: {
  capacity: number;
  batchPercent: number;
  /** The image the scale set's model points at. */
  modelImageId: string | undefined;
  /** The version the rollout moves to. */
  versionId: string;
  instances: RolloutInstance[];
  registrations: Record<string, RegistrationState | undefined>;
}): { moving: number; busyNow: number; plannedWaves: number } {
  const modelMoves = input.modelImageId?.toLowerCase() !== input.versionId.toLowerCase();
  const moving = input.instances.filter((i) => modelMoves || !i.latestModelApplied);
  const busyNow = moving.filter((i) => input.registrations[i.computerName.toLowerCase()]?.busy).length;
  return {
    moving: moving.length,
    busyNow,
    plannedWaves: Math.ceil(moving.length / batchSize(input.capacity, input.batchPercent)),
  };
}

/**
 * A canary at the end of its soak: the instances that run the version, and those of them that are
 * sick (not provisioned, or their runner/agent not online). It proved the version only with some on
 * it and none sick (S4).
 */
export function judgeSoak<I extends RolloutInstance>(input: {
  instances: I[];
  registrations: Record<string, RegistrationState | undefined>;
  version: string;
  /** Lower-case computer names whose one-job registration of this provisioning served its job. */
  served?: string[];
  /** The scale set recycles one-job machines (kiln-recycle): an instance being reimaged is between jobs. */
  recycles?: boolean;
}): { onVersion: I[]; sick: I[] } {
  const served = new Set(input.served ?? []);
  // A one-job machine that hygiene is reimaging after its job shows nothing either way: left out.
  const recycling = (i: I) => input.recycles === true && i.provisioningState.toLowerCase() === 'updating';
  const onVersion = input.instances.filter(
    (i) => versionOfImageReference(i.imageReferenceId) === input.version && !recycling(i),
  );
  const sick = onVersion.filter((i) => {
    const name = i.computerName.toLowerCase();
    const registered = input.registrations[name]?.status === 'online' || served.has(name);
    return !registered || i.provisioningState.toLowerCase() !== 'succeeded';
  });
  return { onVersion, sick };
}

/**
 * Whether an instance's one-job registration of its current provisioning has served its job:
 * GitHub removes an ephemeral (JIT) runner after its one job, so a runner that kiln's broker gave
 * this provisioning and that is gone now ran it; an Azure DevOps agent run with `--once` goes offline
 * after its job, so one offline whose last job finished after the instance was provisioned ran it.
 * Such an instance registered on its image and worked: as healthy as one online.
 */
export function servedOneJob(input: {
  fleet: 'github' | 'ado';
  provisionedAt?: string;
  registration: RegistrationState | undefined;
  /** kiln's broker handed this provisioning its registration (its record of issued registrations). */
  issuedByBroker: boolean;
}): boolean {
  const { registration } = input;
  if (input.fleet === 'github') return input.issuedByBroker && registration === undefined;
  if (!registration || registration.status !== 'offline' || registration.busy) return false;
  if (!input.provisionedAt || !registration.lastJobFinishedOn) return false;
  return Date.parse(registration.lastJobFinishedOn) >= Date.parse(input.provisionedAt);
}

/** Gallery version ids compare case-insensitively; the version is the last path segment. */
export function versionOfImageReference(imageReferenceId: string | undefined): string | undefined {
  const match = /\/versions\/([^/]+)$/i.exec(imageReferenceId ?? '');
  return match?.[1];
}

export function definitionOfImageReference(imageReferenceId: string | undefined): string | undefined {
  const match = /\/galleries\/[^/]+\/images\/([^/]+)(?:\/versions\/[^/]+)?$/i.exec(imageReferenceId ?? '');
  return match?.[1];
}
