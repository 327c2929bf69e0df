/**
 * Fleet hygiene: observe the managed scale sets and the runner/agent registrations, let the domain
 * decide (planHygiene, with the orchestration's own clock), then act — or, in a dry run, only report.
 * Deterministic: every read goes through an activity, time comes from the context (S7).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { REMOVALS, type RemovalOutcome, type ReimageUnregisteredInput } from '../activities/remediation.js';
import {
  planHygiene,
  summarisePlan,
  type HygieneMemory,
  type Kept,
  type Registration,
  type RemovalReason,
} from '../domain/hygiene.js';
import { Activities, Orchestrations } from '../names.js';
import {
  callActivities,
  callActivity,
  callActivityGroups,
  callActivityInChunks,
  replaySafeLog,
} from './call-activity.js';
import { inputOf } from '../orchestration-contracts.js';

export interface CleanupInput {
  dryRun: boolean;
  /** What the previous run remembered (offline-since times); carried by the starter from its output. */
  memory?: HygieneMemory;
  offlineGraceMinutes: number;
  bootDeadlineMinutes: number;
}

export interface CleanupOutput {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  summary: Record<string, number>;
  /** What the plan decided (the same in a dry run and a real run). */
  planned: {
    remove: { fleet: string; name: string; scaleSet: string; reason: RemovalReason }[];
    reimage: { scaleSet: string; instanceId: string; computerName: string }[];
  };
  /** What was done and how it ended (empty in a dry run). */
  removed: { fleet: string; name: string; outcome: RemovalOutcome | 'failed' }[];
  reimaged: { scaleSet: string; instanceIds: string[] }[];
  kept: Kept[];
  foreign: { fleet: string; name: string }[];
  errors: string[];
  memory: HygieneMemory;
}

export function* cleanupOrchestrator(context: OrchestrationContext): Generator<Task, CleanupOutput, unknown> {
  const input = inputOf(context, Orchestrations.cleanup);
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const errors: string[] = [];
  context.df.setCustomStatus({ phase: 'observing', dryRun: input.dryRun });

  const scaleSetsResult = yield* callActivity(context, Activities.listManagedScaleSets, null);
  if (!scaleSetsResult.ok) {
    // Without the scope nothing can be judged safely: stop here (S2).
    return finish(context, input, startedAt, [scaleSetsResult.error.message]);
  }
  const scaleSets = scaleSetsResult.value;

  const [instanceResults, [runners], [agents]] = yield* callActivityGroups(context, [
    scaleSets.map((s) => ({ name: Activities.listScaleSetInstances, input: { scaleSetId: s.id } })),
    [{ name: Activities.listGitHubRunners, input: null }],
    [{ name: Activities.listAdoAgents, input: null }],
  ]);

  const observed: ManagedScaleSet[] = [];
  const hygieneScaleSets = [];
  for (const [index, scaleSet] of scaleSets.entries()) {
    const result = instanceResults[index]!;
    if (!result.ok) {
      // A scale set we cannot see: its registrations would all look like ghosts. Skip its fleet.
      errors.push(result.error.message);
      continue;
    }
    observed.push(scaleSet);
    hygieneScaleSets.push({
      id: scaleSet.id,
      name: scaleSet.name,
      computerNamePrefix: scaleSet.computerNamePrefix,
      fleet: scaleSet.fleet,
      instances: result.value,
    });
  }
  const unseenFleets = new Set(scaleSets.filter((s) => !observed.includes(s)).map((s) => s.fleet));

  const registrations: { github?: Registration[]; ado?: Registration[] } = {};
  if (!runners.ok) errors.push(runners.error.message);
  else if (runners.value && !unseenFleets.has('github')) registrations.github = runners.value;
  if (!agents.ok) errors.push(agents.error.message);
  else if (agents.value && !unseenFleets.has('ado')) registrations.ado = agents.value;

  const plan = planHygiene({
    now: context.df.currentUtcDateTime.toISOString(),
    offlineGraceMinutes: input.offlineGraceMinutes,
    bootDeadlineMinutes: input.bootDeadlineMinutes,
    scaleSets: hygieneScaleSets,
    registrations,
    memory: input.memory ?? { offlineSince: {} },
  });
  const summary = summarisePlan(plan);
  replaySafeLog(context, `cleanup plan${input.dryRun ? ' (dry run)' : ''}: ${JSON.stringify(summary)}`);

  const output: CleanupOutput = {
    dryRun: input.dryRun,
    startedAt,
    finishedAt: startedAt,
    summary,
    planned: {
      remove: plan.remove.map(({ fleet, name, scaleSet, reason }) => ({ fleet, name, scaleSet, reason })),
      reimage: plan.reimage.map(({ scaleSet, instanceId, computerName }) => ({
        scaleSet,
        instanceId,
        computerName,
      })),
    },
    removed: [],
    reimaged: [],
    kept: plan.kept,
    foreign: plan.foreign,
    errors,
    memory: input.dryRun ? (input.memory ?? { offlineSince: {} }) : plan.memory,
  };
  if (input.dryRun) return done(context, output);

  context.df.setCustomStatus({ phase: 'acting', remove: plan.remove.length, reimage: plan.reimage.length });
  const removals = yield* callActivityInChunks(
    context,
    Activities.removeRegistrations,
    plan.remove,
    REMOVALS,
    (chunk) => ({
      registrations: chunk.map(({ fleet, id, name, reason }) => ({ fleet, id, name, reason })),
    }),
  );
  const notAttempted = new Map<string, string[]>();
  removals.forEach((result, index) => {
    const decision = plan.remove[index]!;
    if (!result.ok) {
      // Items an activity left for later (its budget ran out) are one line per reason, not one each.
      const left = /: not attempted: (.*)$/.exec(result.error.message);
      if (left) notAttempted.set(left[1]!, [...(notAttempted.get(left[1]!) ?? []), decision.name]);
      else errors.push(result.error.message);
    }
    output.removed.push({
      fleet: decision.fleet,
      name: decision.name,
      outcome: result.ok ? result.value : 'failed',
    });
  });
  for (const [reason, names] of notAttempted)
    errors.push(
      `${names.length} removal(s) not attempted (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): ${reason}`,
    );

  const byScaleSet = new Map<string, ReimageUnregisteredInput>();
  for (const d of plan.reimage) {
    const scaleSet = observed.find((s) => s.id === d.scaleSetId)!;
    const entry = byScaleSet.get(d.scaleSetId) ?? {
      scaleSetId: d.scaleSetId,
      fleet: scaleSet.fleet,
      instances: [],
    };
    entry.instances.push({ instanceId: d.instanceId, computerName: d.computerName });
    byScaleSet.set(d.scaleSetId, entry);
  }
  const reimages = yield* callActivities(
    context,
    [...byScaleSet.values()].map((input) => ({ name: Activities.reimageUnregisteredInstances, input })),
  );
  [...byScaleSet.values()].forEach((request, index) => {
    const result = reimages[index]!;
    const name = observed.find((s) => s.id === request.scaleSetId)!.name;
    if (!result.ok) errors.push(result.error.message);
    else {
      if (result.value.reimaged.length > 0)
        output.reimaged.push({ scaleSet: name, instanceIds: result.value.reimaged });
      // Not checked, so not reimaged: the next run plans them again; this one says why.
      for (const { error } of result.value.unchecked) errors.push(error.message);
    }
  });
  return done(context, output);
}

function done(context: OrchestrationContext, output: CleanupOutput): CleanupOutput {
  output.finishedAt = context.df.currentUtcDateTime.toISOString();
  context.df.setCustomStatus({
    phase: 'done',
    dryRun: output.dryRun,
    summary: output.summary,
    errors: output.errors.length,
  });
  replaySafeLog(
    context,
    `cleanup finished: removed ${output.removed.filter((r) => r.outcome === 'deleted').length}, reimaged ${output.reimaged.reduce((n, r) => n + r.instanceIds.length, 0)}, errors ${output.errors.length}`,
  );
  return output;
}

function finish(
  context: OrchestrationContext,
  input: CleanupInput,
  startedAt: string,
  errors: string[],
): CleanupOutput {
  return done(context, {
    dryRun: input.dryRun,
    startedAt,
    finishedAt: startedAt,
    summary: {},
    planned: { remove: [], reimage: [] },
    removed: [],
    reimaged: [],
    kept: [],
    foreign: [],
    errors,
    memory: input.memory ?? { offlineSince: {} },
  });
}
