/**
 * Capacity on demand (issue 19): one look at the autoscaled scale sets (those tagged with kiln-min,
 * kiln-max, kiln-warm or kiln-warm-schedule), their instances and runners or agents and the queued
 * jobs, a plan (src/domain/autoscale.ts), then per scale set under its lease: scale in exactly the
 * instances the plan chose (each re-checked idle right before: S1), bring vacant ones back by a
 * reimage, raise the capacity. Started every AUTOSCALE_SCHEDULE by the timer as a singleton; what it
 * learnt (when instances went idle, which had a runner) rides in its output to the next look.
 *
 * The lease is the one rollouts take (src/leases): a scale set whose wave is being drained gets no
 * scale-in (a raise of its capacity may go on: new instances come up on the model), and one being
 * rolled back gets no change at all. A look that cannot read something acts on what it knows: an
 * unknown registration counts as busy, an unknown queue removes nothing.
 * Deterministic: every read goes through an activity, time comes from the context (S7).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { parseCapacityTags, type CapacityPolicy } from '../domain/capacity.js';
import {
  planAutoscale,
  type AutoscaleMemory,
  type AutoscaleScaleSet,
  type ScaleSetPlan,
} from '../domain/autoscale.js';
import { Activities, Orchestrations } from '../names.js';
import { inputOf, type StartedBy } from '../orchestration-contracts.js';
import type { ActivityResult } from '../activities/result.js';
import { callActivities, callActivityGroups, replaySafeLog } from './call-activity.js';

/** The tag that names the labels a GitHub scale set's runners register with (comma-separated). */
export const LABELS_TAG = 'kiln-labels';
/** How long the autoscaler's lease holds: far longer than one look's actions take. */
const LEASE_MINUTES = 10;

export interface AutoscaleInput {
  dryRun: boolean;
  startedBy?: StartedBy;
  /** What the last look remembered; carried by the starter from its output. */
  memory?: AutoscaleMemory;
  bootDeadlineMinutes: number;
  /** Labels of GitHub scale sets without a kiln-labels tag: the broker's GITHUB_RUNNER_LABELS. */
  defaultLabels: string[];
}

export interface AutoscaleScaleSetReport {
  scaleSet: string;
  fleet: 'github' | 'ado';
  min: number;
  max: number;
  desired: number;
  reason: string;
  counts: ScaleSetPlan['counts'];
  /** Queued jobs counted for it (absent: the queue could not be read). */
  queued?: number;
  /** What was done (or, in a dry run, would be). */
  capacity?: { from: number; to: number };
  reimaged: string[];
  removed: string[];
  /** Chosen, but busy at the check right before: kept (S1). */
  keptBusy: string[];
  /** Why it was left as it is, or only partly changed (a lease, a failed call). */
  skipped?: string;
  note?: string;
}

export interface AutoscaleOutput {
  dryRun: boolean;
  at: string;
  scaleSets: AutoscaleScaleSetReport[];
  /** Scale sets whose capacity tags are wrong: never scaled until fixed (the problems say how). */
  badTags: { scaleSet: string; problems: string[] }[];
  /** GitHub jobs queued that no autoscaled scale set serves. */
  unservedJobs: number;
  demand: { githubQueued?: number; githubCorrected?: number; adoQueued?: number };
  errors: string[];
  memory: AutoscaleMemory;
}

export function* autoscaleOrchestrator(
  context: OrchestrationContext,
): Generator<Task, AutoscaleOutput, unknown> {
  const input = inputOf(context, Orchestrations.autoscale);
  const at = context.df.currentUtcDateTime.toISOString();
  const output: AutoscaleOutput = {
    dryRun: input.dryRun,
    at,
    scaleSets: [],
    badTags: [],
    unservedJobs: 0,
    demand: {},
    errors: [],
    memory: input.memory ?? { seen: {}, idleSince: {} },
  };

  const listed = yield* callActivities(context, [{ name: Activities.listManagedScaleSets, input: null }]);
  if (!listed[0].ok) {
    output.errors.push(listed[0].error.message);
    return output;
  }
  const autoscaled: { set: ManagedScaleSet; policy: CapacityPolicy }[] = [];
  for (const set of listed[0].value) {
    const parsed = parseCapacityTags(set.tags);
    if (!parsed.ok) output.badTags.push({ scaleSet: set.name, problems: parsed.problems });
    else if (parsed.policy) autoscaled.push({ set, policy: parsed.policy });
  }
  if (autoscaled.length === 0) return output;

  const hasGitHub = autoscaled.some((a) => a.set.fleet === 'github');
  const hasAdo = autoscaled.some((a) => a.set.fleet === 'ado');
  const [instances, runners, agents, githubDemand, adoDemand] = yield* callActivityGroups(context, [
    autoscaled.map(({ set }) => ({ name: Activities.listScaleSetInstances, input: { scaleSetId: set.id } })),
    hasGitHub ? [{ name: Activities.listGitHubRunners, input: null }] : [],
    hasAdo ? [{ name: Activities.listAdoAgents, input: null }] : [],
    hasGitHub ? [{ name: Activities.readGitHubDemand, input: { now: at } }] : [],
    hasAdo ? [{ name: Activities.readAdoDemand, input: null }] : [],
  ]);

  const observed: AutoscaleScaleSet[] = [];
  autoscaled.forEach(({ set, policy }, k) => {
    const result = instances[k]!;
    if (!result.ok) {
      output.errors.push(result.error.message);
      return;
    }
    observed.push({
      id: set.id,
      name: set.name,
      fleet: set.fleet,
      policy,
      labels: labelsOf(set, input.defaultLabels),
      model: set.imageReferenceId,
      instances: result.value,
    });
  });
  // Each read below is a group of one call, or none when no scale set needs it. A failed read is
  // noted and answers undefined: the plan then treats it as unknown, never as empty.
  const answerOf = <T>(answers: readonly ActivityResult<T>[], notAsked: T): T | undefined => {
    const answer = answers[0];
    if (!answer) return notAsked;
    if (!answer.ok) {
      output.errors.push(answer.error.message);
      return undefined;
    }
    return answer.value;
  };
  const runnerList = answerOf(runners, null);
  const agentList = answerOf(agents, null);
  const github = answerOf(githubDemand, null);
  const ado = answerOf(adoDemand, null);
  if (github) {
    output.demand.githubQueued = github.queued.length;
    output.demand.githubCorrected = github.corrected;
  }
  if (hasAdo && ado !== undefined) output.demand.adoQueued = ado?.queued.length ?? 0;

  const plan = planAutoscale({
    scaleSets: observed,
    // null from a read that was made: no such fleet is configured, so nothing is registered.
    runners: runnerList === undefined ? null : (runnerList ?? []),
    agents: agentList === undefined ? null : (agentList ?? []),
    githubQueued: github === undefined ? null : (github?.queued ?? []),
    adoQueued: ado === undefined ? null : (ado?.queued.length ?? 0),
    memory: input.memory,
    now: at,
    bootDeadlineMinutes: input.bootDeadlineMinutes,
  });
  output.memory = plan.memory;
  output.unservedJobs = plan.unservedJobs;
  const reports = new Map<string, AutoscaleScaleSetReport>();
  for (const p of plan.plans) {
    const policy = observed.find((s) => s.name === p.scaleSet)!.policy;
    const report: AutoscaleScaleSetReport = {
      scaleSet: p.scaleSet,
      fleet: p.fleet,
      min: policy.min,
      max: policy.max,
      desired: p.desired.desired,
      reason: p.desired.reason,
      counts: p.counts,
      ...(p.queued !== undefined ? { queued: p.queued } : {}),
      ...(p.capacityTo !== undefined
        ? { capacity: { from: p.counts.total - p.remove.length, to: p.capacityTo } }
        : {}),
      reimaged: p.reimage.map((i) => i.instanceId),
      removed: p.remove.map((i) => i.instanceId),
      keptBusy: [],
      ...(p.note ? { note: p.note } : {}),
    };
    reports.set(p.scaleSet, report);
    output.scaleSets.push(report);
  }
  if (input.dryRun) return output;

  const acting = plan.plans.filter(
    (p) => p.capacityTo !== undefined || p.reimage.length + p.remove.length > 0,
  );
  if (acting.length === 0) return output;
  for (const p of acting) {
    const r = reports.get(p.scaleSet)!;
    r.removed = [];
    r.reimaged = [];
  }

  // Each acting scale set under its lease: the one rollouts take for a wave or a rollback.
  const owner = context.df.instanceId;
  const leases = yield* callActivities(
    context,
    acting.map((p) => ({
      name: Activities.acquireScaleSetLease,
      input: { scaleSet: p.scaleSet, owner, purpose: 'autoscale' as const, now: at, minutes: LEASE_MINUTES },
    })),
  );
  const held: ScaleSetPlan[] = [];
  const raiseOnly: ScaleSetPlan[] = [];
  acting.forEach((p, k) => {
    const r = reports.get(p.scaleSet)!;
    const lease = leases[k]!;
    if (!lease.ok) {
      r.skipped = `its lease could not be taken: ${lease.error.message}`;
      delete r.capacity;
    } else if (lease.value === null) {
      r.skipped =
        'no lease table (KILN_TABLE_ENDPOINT is empty): the autoscaler changes nothing without the lock it shares with rollouts';
      delete r.capacity;
    } else if (!lease.value.acquired) {
      const { purpose, owner: by } = lease.value.heldBy;
      if (purpose === 'rollout' && p.capacityTo !== undefined) {
        r.skipped = `a rollout wave holds it (${by}): capacity raised, nothing scaled in or reimaged`;
        raiseOnly.push(p);
      } else {
        r.skipped = `${purpose === 'autoscale' ? 'another autoscaler' : `a ${purpose}`} holds it (${by}): left as it is`;
        delete r.capacity;
      }
    } else held.push(p);
  });

  // Scale-ins and reimages first (what they remove lowers the capacity the raise counts from).
  const removing = held.filter((p) => p.remove.length > 0);
  const reimaging = held.filter((p) => p.reimage.length > 0);
  const [scaleIns, reimages] = yield* callActivityGroups(context, [
    removing.map((p) => ({
      name: Activities.scaleIn,
      input: {
        scaleSetId: p.scaleSetId,
        fleet: p.fleet,
        instances: p.remove.map(({ instanceId, computerName, registrationIds }) => ({
          instanceId,
          computerName,
          registrationIds,
        })),
      },
    })),
    reimaging.map((p) => ({
      name: Activities.reimageUnregisteredInstances,
      input: {
        scaleSetId: p.scaleSetId,
        fleet: p.fleet,
        instances: p.reimage.map(({ instanceId, computerName }) => ({ instanceId, computerName })),
      },
    })),
  ]);
  removing.forEach((p, k) => {
    const r = reports.get(p.scaleSet)!;
    const answer = scaleIns[k]!;
    if (!answer.ok) r.skipped = `scale-in failed: ${answer.error.message}`;
    else {
      r.removed = answer.value.deleted;
      r.keptBusy = answer.value.busy;
      if (answer.value.deleted.length > 0)
        replaySafeLog(context, `${p.scaleSet}: scaled in ${answer.value.deleted.join(', ')}`);
    }
  });
  reimaging.forEach((p, k) => {
    const r = reports.get(p.scaleSet)!;
    const answer = reimages[k]!;
    if (!answer.ok) r.skipped = `reimage failed: ${answer.error.message}`;
    else r.reimaged = answer.value.reimaged;
  });

  const raising = [...held, ...raiseOnly].filter((p) => p.capacityTo !== undefined);
  const raised = yield* callActivities(
    context,
    raising.map((p) => ({
      name: Activities.raiseCapacity,
      input: { scaleSetId: p.scaleSetId, capacity: p.capacityTo! },
    })),
  );
  raising.forEach((p, k) => {
    const r = reports.get(p.scaleSet)!;
    const answer = raised[k]!;
    if (!answer.ok) {
      r.skipped = `capacity not raised: ${answer.error.message}`;
      delete r.capacity;
    } else if (answer.value.outcome !== 'raised') delete r.capacity;
    else {
      r.capacity = { from: answer.value.before, to: answer.value.after };
      replaySafeLog(context, `${p.scaleSet}: capacity ${answer.value.before} → ${answer.value.after}`);
    }
  });

  yield* callActivities(
    context,
    held.map((p) => ({ name: Activities.releaseScaleSetLease, input: { scaleSet: p.scaleSet, owner } })),
  );
  return output;
}

function labelsOf(set: ManagedScaleSet, defaults: string[]): string[] {
  const tag = Object.entries(set.tags).find(([k]) => k.toLowerCase() === LABELS_TAG)?.[1];
  const labels = (tag ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return labels.length > 0 ? labels : defaults;
}
