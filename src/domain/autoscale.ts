/**
 * The autoscaler's plan for one look (issue 19), pure: from the autoscaled scale sets, their
 * instances, the runners and agents, the queued jobs and what the last look remembered, say per
 * scale set how many instances it should have and how to get there:
 *
 * - Every instance is busy (its runner or agent runs a job, or its state is unknown: S1), idle
 *   (registered, online, not busy), booting (provisioning, or provisioned and not registered yet
 *   within the boot deadline), vacant (provisioned, with no runner or agent online after it had one —
 *   an ephemeral runner or `--once` agent whose one job is done — or past the boot deadline without
 *   ever registering: it can take no job until it is reimaged) or broken (Failed: hygiene's).
 * - Desired = busy + queued + warm within [min, max] (capacity.ts). Short of it: vacant instances on
 *   the current model are reimaged first (no new instance needed), then the capacity is raised (new
 *   instances come up on the current model). Over it: vacant instances go first, then idle ones as
 *   chooseScaleIn picks them (idle long enough, old model first). Vacant instances nobody needs go
 *   whatever the demand: they are paid for and can take no job.
 * - An unknown queue (its read failed) scales out on what is known and scales nothing in.
 */
import type { ScaleSetInstance } from '../clients/types.js';
import type { QueuedGitHubJob } from '../demand/types.js';
import { chooseScaleIn, desiredCapacity, type CapacityPolicy, type Desired } from './capacity.js';
import type { Fleet } from './hygiene.js';

export interface AutoscaleScaleSet {
  id: string;
  name: string;
  fleet: Fleet;
  policy: CapacityPolicy;
  /** GitHub: the labels its runners register with (a job is this scale set's if they include all of the job's). */
  labels: string[];
  /** The model's image (instances on another are old). */
  model?: string;
  instances: ScaleSetInstance[];
}

export interface AutoscaleRegistration {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  /** Azure DevOps: a disabled agent takes no job (a rollout is draining it). */
  enabled?: boolean;
  /** Azure DevOps: when its last job ended. */
  lastJobFinishedOn?: string;
}

/** What one look hands the next (carried in the orchestration's output, like hygiene's memory). */
export interface AutoscaleMemory {
  /** Instance name → the provisioning (provisionedAt) in which a registration of it was seen online. */
  seen: Record<string, string>;
  /** Instance name → when it was first seen idle in a row. */
  idleSince: Record<string, string>;
}

export interface AutoscaleInput {
  scaleSets: AutoscaleScaleSet[];
  /** null: the list could not be read (every instance of that fleet counts as busy: S1). */
  runners: AutoscaleRegistration[] | null;
  agents: AutoscaleRegistration[] | null;
  /** GitHub jobs waiting for a runner; null: unknown (the read failed). */
  githubQueued: QueuedGitHubJob[] | null;
  /** Azure DevOps job requests waiting for an agent of the pool; null: unknown. */
  adoQueued: number | null;
  memory?: AutoscaleMemory;
  now: string;
  bootDeadlineMinutes: number;
}

export type InstanceState = 'busy' | 'idle' | 'booting' | 'vacant' | 'broken' | 'unknown';

export interface PlannedInstance {
  instanceId: string;
  computerName: string;
  registrationIds: number[];
  oldModel: boolean;
}

export interface ScaleSetPlan {
  scaleSet: string;
  scaleSetId: string;
  fleet: Fleet;
  counts: Record<InstanceState, number> & { total: number };
  /** Queued jobs this scale set is to serve (undefined: unknown). */
  queued?: number;
  desired: Desired;
  /** Raise the capacity to this (absent: no scale-out). */
  capacityTo?: number;
  /** Vacant instances on the current model to bring back (cheaper than a new instance). */
  reimage: PlannedInstance[];
  /** Instances to delete, each re-checked right before: vacant ones and idle ones over desired. */
  remove: (PlannedInstance & { why: 'vacant' | 'idle' })[];
  /** Why nothing more was removed, when something was over desired. */
  note?: string;
}

export interface AutoscalePlan {
  plans: ScaleSetPlan[];
  /** GitHub jobs no autoscaled scale set serves (other runners', or labels nobody carries). */
  unservedJobs: number;
  memory: AutoscaleMemory;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

export function planAutoscale(input: AutoscaleInput): AutoscalePlan {
  const nowMs = Date.parse(input.now);
  const memory: AutoscaleMemory = { seen: {}, idleSince: {} };
  const scaleSets = [...input.scaleSets].sort(byName);
  const queuedFor = assignQueued(scaleSets, input.githubQueued, input.adoQueued);
  const plans: ScaleSetPlan[] = [];

  for (const set of scaleSets) {
    const registrations = set.fleet === 'github' ? input.runners : input.agents;
    const named = new Map<string, AutoscaleRegistration[]>();
    for (const r of registrations ?? []) {
      const key = r.name.toLowerCase();
      named.set(key, [...(named.get(key) ?? []), r]);
    }
    const counts: ScaleSetPlan['counts'] = {
      busy: 0,
      idle: 0,
      booting: 0,
      vacant: 0,
      broken: 0,
      unknown: 0,
      total: 0,
    };
    const idle: { instance: ScaleSetInstance; since: string }[] = [];
    const vacant: ScaleSetInstance[] = [];
    /** Live instances that may not go: busy, unknown (S1) or booting. Broken ones are no capacity. */
    const staying: ScaleSetInstance[] = [];
    for (const instance of set.instances) {
      const provisioning = instance.provisioningState.toLowerCase();
      if (provisioning === 'deleting') continue;
      counts.total++;
      const name = instance.computerName;
      const regs = named.get(name.toLowerCase()) ?? [];
      const state = stateOf(
        instance,
        regs,
        registrations === null,
        input.memory,
        nowMs,
        input.bootDeadlineMinutes,
      );
      counts[state]++;
      const provisionedAt = instance.provisionedAt ?? '';
      if (regs.some((r) => r.status === 'online')) memory.seen[name] = provisionedAt;
      else if (input.memory?.seen[name] === provisionedAt) memory.seen[name] = provisionedAt;
      if (state === 'idle') {
        const since =
          input.memory?.idleSince[name] ??
          regs.find((r) => r.lastJobFinishedOn)?.lastJobFinishedOn ??
          input.now;
        memory.idleSince[name] = since;
        idle.push({ instance, since });
      } else if (state === 'vacant') vacant.push(instance);
      else if (state !== 'broken') staying.push(instance);
    }

    const queued = queuedFor.get(set.name);
    const desired = desiredCapacity({
      policy: set.policy,
      now: new Date(nowMs),
      busy: counts.busy + counts.unknown,
      queued: queued ?? 0,
      idleInstances: counts.idle,
      total: counts.total,
    });
    // Instances that are or will be able to take a job: the capacity the demand is measured against.
    const live = counts.busy + counts.unknown + counts.idle + counts.booting;
    const plan: ScaleSetPlan = {
      scaleSet: set.name,
      scaleSetId: set.id,
      fleet: set.fleet,
      counts,
      ...(queued !== undefined ? { queued } : {}),
      desired,
      reimage: [],
      remove: [],
    };
    const planned = (i: ScaleSetInstance): PlannedInstance => ({
      instanceId: i.instanceId,
      computerName: i.computerName,
      registrationIds: (named.get(i.computerName.toLowerCase()) ?? []).map((r) => r.id),
      oldModel: isOld(i, set.model),
    });
    // Vacant instances: those on the current model may come back by a reimage; the rest go.
    const reusable = vacant.filter((i) => !isOld(i, set.model)).sort(byInstanceId);
    let shortfall = Math.max(0, desired.desired - live);
    for (const i of reusable) {
      if (shortfall === 0) break;
      plan.reimage.push(planned(i));
      shortfall--;
    }
    const reimaged = new Set(plan.reimage.map((i) => i.instanceId));
    for (const i of [...vacant].sort(byInstanceId))
      if (!reimaged.has(i.instanceId)) plan.remove.push({ ...planned(i), why: 'vacant' });
    // Removals lower the capacity by themselves (they go first); the raise counts from what is left.
    const left = counts.total - plan.remove.length;
    if (shortfall > 0) {
      const to = Math.min(set.policy.max, left + shortfall);
      if (to > left) plan.capacityTo = to;
    }
    if (desired.desired < live) {
      if (queued === undefined)
        plan.note = `the queue could not be read: nothing idle is removed while demand is unknown`;
      else if (registrations === null)
        plan.note = `the ${set.fleet === 'github' ? 'runners' : 'agents'} could not be read: nothing is removed (S1)`;
      else {
        const choice = chooseScaleIn({
          instances: [
            ...idle.map(({ instance, since }) => ({
              instanceId: instance.instanceId,
              computerName: instance.computerName,
              runner: 'idle' as const,
              idleSince: since,
              oldModel: isOld(instance, set.model),
            })),
            ...staying.map((instance) => ({
              instanceId: instance.instanceId,
              computerName: instance.computerName,
              runner: 'busy' as const,
              oldModel: isOld(instance, set.model),
            })),
          ],
          desired: desired.desired,
          now: new Date(nowMs),
          policy: set.policy,
        });
        const chosen = new Set(choice.remove.map((r) => r.instanceId));
        for (const { instance } of idle)
          if (chosen.has(instance.instanceId)) plan.remove.push({ ...planned(instance), why: 'idle' });
        const young = choice.kept.filter((k) => k.reason === 'idle-too-briefly').length;
        if (live - chosen.size > desired.desired)
          plan.note = `${live - chosen.size - desired.desired} over desired stay: ${young} idle for less than ${set.policy.idleMinutes} min, the rest busy or booting`;
      }
    }
    plans.push(plan);
  }
  return { plans, unservedJobs: unserved(scaleSets, input.githubQueued), memory };
}

function stateOf(
  instance: ScaleSetInstance,
  regs: AutoscaleRegistration[],
  unknown: boolean,
  memory: AutoscaleMemory | undefined,
  nowMs: number,
  bootDeadlineMinutes: number,
): InstanceState {
  const provisioning = instance.provisioningState.toLowerCase();
  if (provisioning === 'failed') return 'broken';
  if (provisioning !== 'succeeded') return 'booting';
  if (unknown) return 'unknown';
  if (regs.some((r) => r.busy)) return 'busy';
  const online = regs.filter((r) => r.status === 'online');
  // A disabled agent is being drained by a rollout: it comes back, it is not free to go.
  if (online.some((r) => r.enabled !== false)) return 'idle';
  if (online.length > 0) return 'booting';
  const provisionedAt = instance.provisionedAt ? Date.parse(instance.provisionedAt) : Number.NaN;
  const hadOne = memory?.seen[instance.computerName] === (instance.provisionedAt ?? '');
  if (hadOne) return 'vacant';
  if (Number.isNaN(provisionedAt) || nowMs - provisionedAt < bootDeadlineMinutes * 60_000) return 'booting';
  return 'vacant';
}

function isOld(instance: ScaleSetInstance, model: string | undefined): boolean {
  if (!instance.latestModelApplied) return true;
  return (
    model !== undefined &&
    instance.imageReferenceId !== undefined &&
    instance.imageReferenceId.toLowerCase() !== model.toLowerCase() &&
    /\/versions\//i.test(model)
  );
}

function byInstanceId(a: ScaleSetInstance, b: ScaleSetInstance): number {
  return a.instanceId.localeCompare(b.instanceId, 'en', { numeric: true });
}

/** Whether a runner with these labels takes a job asking for `wanted` (all of them, any case, as GitHub matches). */
export function labelsServe(labels: readonly string[], wanted: readonly string[]): boolean {
  const have = new Set(labels.map((l) => l.toLowerCase()));
  return wanted.every((l) => have.has(l.toLowerCase()));
}

/**
 * Each queued job goes to one scale set that serves it: the one with the most room left under its
 * max at that point (ties: by name), so a burst spreads over the scale sets that can take it.
 * Azure DevOps requests go to the pool's scale sets the same way.
 */
function assignQueued(
  scaleSets: AutoscaleScaleSet[],
  github: QueuedGitHubJob[] | null,
  ado: number | null,
): Map<string, number> {
  const counts = new Map<string, number>();
  const room = (s: AutoscaleScaleSet) => s.policy.max - (counts.get(s.name) ?? 0);
  const give = (candidates: AutoscaleScaleSet[]) => {
    const best = [...candidates].sort((a, b) => room(b) - room(a) || byName(a, b))[0];
    if (best) counts.set(best.name, (counts.get(best.name) ?? 0) + 1);
  };
  const githubSets = scaleSets.filter((s) => s.fleet === 'github');
  const adoSets = scaleSets.filter((s) => s.fleet === 'ado');
  if (github !== null) {
    for (const s of githubSets) counts.set(s.name, 0);
    for (const job of github) give(githubSets.filter((s) => labelsServe(s.labels, job.labels)));
  }
  if (ado !== null) {
    for (const s of adoSets) counts.set(s.name, 0);
    for (let k = 0; k < ado; k++) give(adoSets);
  }
  return counts;
}

function unserved(scaleSets: AutoscaleScaleSet[], github: QueuedGitHubJob[] | null): number {
  const sets = scaleSets.filter((s) => s.fleet === 'github');
  return (github ?? []).filter((job) => !sets.some((s) => labelsServe(s.labels, job.labels))).length;
}
