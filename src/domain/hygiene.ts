/**
 * Fleet hygiene decisions, as a pure function of observed state and `now`: which GitHub runner and
 * Azure DevOps agent registrations to remove, which instances to reimage, and which instances of a
 * recycle scale set (tagged `kiln-recycle=true`: one job per machine) have served their job and are
 * recycled. Takes everything as arguments so a decision can be replayed and tested; the
 * orchestration re-checks busy state right before acting (S1) and never acts outside the scope
 * computed here (S2).
 */
export type Fleet = 'github' | 'ado';

export interface HygieneScaleSet {
  id: string;
  name: string;
  computerNamePrefix: string;
  fleet: Fleet;
  /** Tagged `kiln-recycle=true`: each instance serves one job, then is reimaged before it registers again. */
  recycle?: boolean;
  instances: {
    instanceId: string;
    computerName: string;
    provisioningState: string;
    provisionedAt?: string;
  }[];
}

export interface Registration {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  /** When the service says the status last changed (Azure DevOps); GitHub does not say. */
  statusChangedOn?: string;
  /** When the agent's last job finished (Azure DevOps' last completed request); GitHub does not say. */
  lastJobFinishedOn?: string;
}

export interface HygieneMemory {
  /** `<fleet>:<registration id>` → first time kiln saw it offline (ISO 8601). */
  offlineSince: Record<string, string>;
  /**
   * Instances of GitHub recycle scale sets whose runner kiln saw online or busy: lower-case computer
   * name → the instance's provisionedAt then. GitHub removes an ephemeral runner after its one job,
   * so a runner gone since, on that same provisioning, has served its job. Absent in what runs
   * before recycling existed remembered.
   */
  runnerSeen?: Record<string, string>;
}

export interface HygieneInput {
  now: string;
  offlineGraceMinutes: number;
  bootDeadlineMinutes: number;
  scaleSets: HygieneScaleSet[];
  /** undefined: the fleet is not configured or could not be listed; nothing is decided for it. */
  registrations: Partial<Record<Fleet, Registration[]>>;
  memory: HygieneMemory;
}

export type RemovalReason = 'ghost' | 'offline-past-grace';

export interface RegistrationDecision {
  fleet: Fleet;
  id: number;
  name: string;
  scaleSet: string;
  reason: RemovalReason;
}

export interface ReimageDecision {
  scaleSetId: string;
  scaleSet: string;
  instanceId: string;
  computerName: string;
  reason: 'never-registered';
}

/**
 * An instance of a recycle scale set whose one job is done: reimaged so that it registers afresh.
 * GitHub: its ephemeral runner, seen since the instance was provisioned, is gone. Azure DevOps: its
 * agent (run with `--once`) is offline and finished a job since the instance was provisioned; that
 * agent is removed first, then the instance is reimaged.
 */
export interface RecycleDecision {
  fleet: Fleet;
  scaleSetId: string;
  scaleSet: string;
  instanceId: string;
  computerName: string;
  /** Azure DevOps: the offline agent to remove before the reimage. */
  agent?: { id: number; name: string };
}

export interface Kept {
  fleet: Fleet;
  name: string;
  reason: 'busy' | 'within-grace' | 'online-without-instance';
}

export interface HygienePlan {
  remove: RegistrationDecision[];
  reimage: ReimageDecision[];
  recycle: RecycleDecision[];
  kept: Kept[];
  /** Registrations outside kiln's scope: reported, never changed (S2). */
  foreign: { fleet: Fleet; name: string }[];
  memory: HygieneMemory;
}

const FLEETS: Fleet[] = ['github', 'ado'];

export function planHygiene(input: HygieneInput): HygienePlan {
  const now = Date.parse(input.now);
  const seenNow: Record<string, string> = {};
  const plan: HygienePlan = {
    remove: [],
    reimage: [],
    recycle: [],
    kept: [],
    foreign: [],
    memory: { offlineSince: {}, runnerSeen: seenNow },
  };
  const seenBefore = input.memory.runnerSeen ?? {};

  for (const fleet of FLEETS) {
    const registrations = input.registrations[fleet];
    if (!registrations) continue;
    const scaleSets = input.scaleSets.filter((s) => s.fleet === fleet);
    const registered = new Set<string>();

    for (const reg of registrations) {
      const owner = owningScaleSet(scaleSets, reg.name);
      if (!owner) {
        plan.foreign.push({ fleet, name: reg.name });
        continue;
      }
      registered.add(reg.name.toLowerCase());
      const instance = owner.instances.find((i) => i.computerName.toLowerCase() === reg.name.toLowerCase());
      if (
        fleet === 'github' &&
        owner.recycle &&
        instance?.provisionedAt &&
        (reg.busy || reg.status === 'online')
      )
        seenNow[instance.computerName.toLowerCase()] = instance.provisionedAt;
      if (reg.busy) {
        plan.kept.push({ fleet, name: reg.name, reason: 'busy' });
        continue;
      }
      if (reg.status === 'online') continue;

      if (!instance) {
        plan.remove.push({ fleet, id: reg.id, name: reg.name, scaleSet: owner.name, reason: 'ghost' });
        continue;
      }
      if (fleet === 'ado' && owner.recycle && finishedJobSinceProvisioned(reg, instance)) {
        plan.recycle.push({
          ...recycled(owner, instance),
          agent: { id: reg.id, name: reg.name },
        });
        continue;
      }
      const key = `${fleet}:${reg.id}`;
      const since = input.memory.offlineSince[key] ?? reg.statusChangedOn ?? input.now;
      plan.memory.offlineSince[key] = since;
      if (now - Date.parse(since) >= input.offlineGraceMinutes * 60_000) {
        plan.remove.push({
          fleet,
          id: reg.id,
          name: reg.name,
          scaleSet: owner.name,
          reason: 'offline-past-grace',
        });
      } else {
        plan.kept.push({ fleet, name: reg.name, reason: 'within-grace' });
      }
    }

    for (const scaleSet of scaleSets) {
      for (const instance of scaleSet.instances) {
        const name = instance.computerName.toLowerCase();
        if (registered.has(name)) continue;
        // Creating/updating instances are still on their way; a Failed one (a reimage or upgrade that
        // ended Failed) never registers on its own, and a reimage is how it comes back.
        const state = instance.provisioningState.toLowerCase();
        if ((state !== 'succeeded' && state !== 'failed') || !instance.provisionedAt) continue;
        // Its runner was there on this provisioning and is gone: GitHub removed it after its one job.
        // Remembered until the reimage gives the instance a new provisioning time.
        if (
          fleet === 'github' &&
          scaleSet.recycle &&
          state === 'succeeded' &&
          seenBefore[name] === instance.provisionedAt
        ) {
          plan.recycle.push(recycled(scaleSet, instance));
          seenNow[name] = instance.provisionedAt;
          continue;
        }
        if (now - Date.parse(instance.provisionedAt) < input.bootDeadlineMinutes * 60_000) continue;
        plan.reimage.push({
          scaleSetId: scaleSet.id,
          scaleSet: scaleSet.name,
          instanceId: instance.instanceId,
          computerName: instance.computerName,
          reason: 'never-registered',
        });
      }
    }
  }
  return plan;
}

type HygieneInstance = HygieneScaleSet['instances'][number];

function recycled(scaleSet: HygieneScaleSet, instance: HygieneInstance): RecycleDecision {
  return {
    fleet: scaleSet.fleet,
    scaleSetId: scaleSet.id,
    scaleSet: scaleSet.name,
    instanceId: instance.instanceId,
    computerName: instance.computerName,
  };
}

/**
 * An Azure DevOps agent run with `--once` exits after its job: offline, with a job that finished
 * after its instance was last provisioned (a job of an earlier provisioning says nothing).
 */
function finishedJobSinceProvisioned(reg: Registration, instance: HygieneInstance): boolean {
  if (instance.provisioningState.toLowerCase() !== 'succeeded' || !instance.provisionedAt) return false;
  if (!reg.lastJobFinishedOn) return false;
  return Date.parse(reg.lastJobFinishedOn) >= Date.parse(instance.provisionedAt);
}

/**
 * The managed scale set a registration belongs to: its name must be exactly a computer name the scale
 * set can give (prefix + 6 base-36 characters, as Uniform scale sets name their instances).
 */
export function owningScaleSet<T extends { computerNamePrefix: string }>(
  scaleSets: T[],
  name: string,
): T | undefined {
  const lower = name.toLowerCase();
  let best: T | undefined;
  for (const scaleSet of scaleSets) {
    const prefix = scaleSet.computerNamePrefix.toLowerCase();
    if (!prefix || !lower.startsWith(prefix)) continue;
    if (!/^[0-9a-z]{6}$/.test(lower.slice(prefix.length))) continue;
    if (!best || prefix.length > best.computerNamePrefix.length) best = scaleSet;
  }
  return best;
}

/** Counts by decision, the run's summary. */
export function summarisePlan(plan: HygienePlan): Record<string, number> {
  const count = (pred: (d: RegistrationDecision) => boolean) => plan.remove.filter(pred).length;
  return {
    ghostRunners: count((d) => d.fleet === 'github' && d.reason === 'ghost'),
    ghostAgents: count((d) => d.fleet === 'ado' && d.reason === 'ghost'),
    offlineRunners: count((d) => d.fleet === 'github' && d.reason === 'offline-past-grace'),
    offlineAgents: count((d) => d.fleet === 'ado' && d.reason === 'offline-past-grace'),
    reimage: plan.reimage.length,
    recycle: plan.recycle.length,
    keptBusy: plan.kept.filter((k) => k.reason === 'busy').length,
    keptWithinGrace: plan.kept.filter((k) => k.reason === 'within-grace').length,
    foreign: plan.foreign.length,
  };
}
