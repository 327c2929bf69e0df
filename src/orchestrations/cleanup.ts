/**
 * Fleet hygiene: observe the managed scale sets and the runner/agent registrations, let the domain
 * decide (planHygiene, with the orchestration's own clock), then act — or, in a dry run, only report.
 * Removals come first, then reimages: a recycled Azure DevOps instance loses its agent before its
 * reimage, whose own look-up then finds nothing registered under its name.
 * Deterministic: every read goes through an activity, time comes from the context (S7).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import {
  REMOVALS,
  type RemovalOutcome,
  type ReimageUnregisteredInput,
  type RemoveRegistrationsInput,
} from '../activities/remediation.js';
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
import { inputOf, type StartedBy } from '../orchestration-contracts.js';
import { CONCLUSIONS } from '../history/run-record.js';
import { recordedRun } from './recorded-run.js';

export interface CleanupInput {
  dryRun: boolean;
  startedBy?: StartedBy;
  /** What the previous run remembered (offline-since times, runners seen); carried by the starter from its output. */
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
    /** Instances of recycle scale sets whose one job is done. */
    recycle: { fleet: string; scaleSet: string; instanceId: string; computerName: string }[];
  };
  /**
   * What was done and how it ended (empty in a dry run), with why it was removed; a recycled
   * instance's agent is among `removed` (reason `recycle`).
   */
  removed: {
    fleet: string;
    name: string;
    reason: RemoveRegistrationsInput['registrations'][number]['reason'];
    outcome: RemovalOutcome | 'failed';
  }[];
  reimaged: { scaleSet: string; instanceIds: string[] }[];
  /** Recycle scale sets' instances reimaged after their one job. */
  recycled: { scaleSet: string; instanceIds: string[] }[];
  kept: Kept[];
  foreign: { fleet: string; name: string }[];
  errors: string[];
  memory: HygieneMemory;
}

export function* cleanupOrchestrator(context: OrchestrationContext): Generator<Task, CleanupOutput, unknown> {
  const input = inputOf(context, Orchestrations.cleanup);
  // The memory is what the starter carries from run to run, not what was asked: not recorded.
  const { memory: _memory, startedBy, ...asked } = input;
  return yield* recordedRun(
    context,
    { kind: 'cleanup', subject: 'fleet', dryRun: input.dryRun, startedBy, input: asked },
    cleanUp(context, input),
    CONCLUSIONS.cleanup,
  );
}

function* cleanUp(
  context: OrchestrationContext,
  input: CleanupInput,
): Generator<Task, CleanupOutput, unknown> {
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
      recycle: scaleSet.recycle,
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
  // Ghosts as found, for each fleet seen whole (a fleet left out was not looked at: no count at all).
  const fleetsSeen = (['github', 'ado'] as const).filter((fleet) => registrations[fleet] !== undefined);
  if (fleetsSeen.length > 0)
    yield* callActivity(context, Activities.recordMetrics, {
      kind: 'cleanup',
      ghostsFound: fleetsSeen.map((fleet) => ({
        fleet,
        count: plan.remove.filter((r) => r.fleet === fleet && r.reason === 'ghost').length,
      })),
    });

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
      recycle: plan.recycle.map(({ fleet, scaleSet, instanceId, computerName }) => ({
        fleet,
        scaleSet,
        instanceId,
        computerName,
      })),
    },
    removed: [],
    reimaged: [],
    recycled: [],
    kept: plan.kept,
    foreign: plan.foreign,
    errors,
    memory: input.dryRun ? (input.memory ?? { offlineSince: {} }) : plan.memory,
  };
  if (input.dryRun) return done(context, output);

  context.df.setCustomStatus({
    phase: 'acting',
    remove: plan.remove.length,
    reimage: plan.reimage.length,
    recycle: plan.recycle.length,
  });
  const removals: RemoveRegistrationsInput['registrations'] = [
    ...plan.remove.map(({ fleet, id, name, reason }) => ({ fleet, id, name, reason })),
    ...plan.recycle.flatMap(({ fleet, agent }) =>
      agent ? [{ fleet, id: agent.id, name: agent.name, reason: 'recycle' as const }] : [],
    ),
  ];
  const removalResults = yield* callActivityInChunks(
    context,
    Activities.removeRegistrations,
    removals,
    REMOVALS,
    (chunk) => ({ registrations: chunk }),
  );
  const notAttempted = new Map<string, string[]>();
  /** `<fleet>:<id>` of the registrations gone now: a recycled instance whose agent is among them may be reimaged. */
  const gone = new Set<string>();
  removalResults.forEach((result, index) => {
    const removal = removals[index]!;
    if (!result.ok) {
      // Items an activity left for later (its budget ran out) are one line per reason, not one each.
      const left = /: not attempted: (.*)$/.exec(result.error.message);
      if (left) notAttempted.set(left[1]!, [...(notAttempted.get(left[1]!) ?? []), removal.name]);
      else errors.push(result.error.message);
    } else if (result.value === 'deleted' || result.value === 'gone')
      gone.add(`${removal.fleet}:${removal.id}`);
    output.removed.push({
      fleet: removal.fleet,
      name: removal.name,
      reason: removal.reason,
      outcome: result.ok ? result.value : 'failed',
    });
  });
  for (const [reason, names] of notAttempted)
    errors.push(
      `${names.length} removal(s) not attempted (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): ${reason}`,
    );

  // A recycled Azure DevOps instance whose agent was kept (busy or online again at the re-check, S1)
  // or could not be removed is left for the next run.
  const recycling = plan.recycle.filter((d) => !d.agent || gone.has(`${d.fleet}:${d.agent.id}`));
  const recycledIds = new Set(recycling.map((d) => `${d.scaleSetId}|${d.instanceId}`));
  const byScaleSet = new Map<string, ReimageUnregisteredInput>();
  for (const d of [...plan.reimage, ...recycling]) {
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
      const isRecycle = (id: string) => recycledIds.has(`${request.scaleSetId}|${id}`);
      const reimaged = result.value.reimaged.filter((id) => !isRecycle(id));
      const recycled = result.value.reimaged.filter(isRecycle);
      if (reimaged.length > 0) output.reimaged.push({ scaleSet: name, instanceIds: reimaged });
      if (recycled.length > 0) output.recycled.push({ scaleSet: name, instanceIds: recycled });
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
    `cleanup finished: removed ${output.removed.filter((r) => r.outcome === 'deleted').length}, reimaged ${count(output.reimaged)}, recycled ${count(output.recycled)}, errors ${output.errors.length}`,
  );
  return output;
}

function count(instances: { instanceIds: string[] }[]): number {
  return instances.reduce((n, r) => n + r.instanceIds.length, 0);
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
    planned: { remove: [], reimage: [], recycle: [] },
    removed: [],
    reimaged: [],
    recycled: [],
    kept: [],
    foreign: [],
    errors,
    memory: input.memory ?? { offlineSince: {} },
  });
}
