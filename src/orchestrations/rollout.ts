/**
 * Rolls an image version out to the scale sets that use its definition. The lead scale set (the
 * canary-tagged one, else the first) goes alone; only when it has proven the version — at least one
 * instance moved to it and came back healthy — do the others follow, in parallel, each in its own
 * sub-orchestration, so a bad version is rolled back on one scale set and never reaches another (S4).
 * A rebuild's promotion, proven by its canary, needs no lead when it knows the canary's pace.
 * A lead that had nothing to move (already on the version, refused, gone) hands the lead to the next
 * scale set; a lead that could move nothing (every instance busy, none at all) has proven nothing,
 * goes back, and the rollout stops there. Started by HTTP, by Event Grid (a version written outside
 * kiln) or by a rebuild; the instance id is derived from definition and version (S5).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { KILN_KEEPS_OUT, KILN_STATE_TAG } from '../domain/release.js';
import { DEFAULT_ROLLOUT_OPTIONS, versionOfImageReference } from '../domain/rollout.js';
import {
  groupByRegion,
  judgeLead,
  leftAsideReason,
  orderByRegion,
  overallState,
  pickLead,
  selectTargets,
  type RolloutState,
} from '../domain/rollout-targets.js';
import { Activities, Orchestrations } from '../names.js';
import { callActivity, replaySafeLog } from './call-activity.js';
import { callSubOrchestrator, outputOf, type SubOrchestrationTask } from './call-sub-orchestrator.js';
import type {
  ScaleSetRolloutInput,
  ScaleSetRolloutOptions,
  ScaleSetRolloutResult,
} from './rollout-scale-set.js';
import { inputOf, type StartedBy } from '../orchestration-contracts.js';
import { CONCLUSIONS } from '../history/run-record.js';
import { recordedRun } from './recorded-run.js';

export type RolloutSource = 'http' | 'eventgrid' | 'rebuild';

/**
 * What a rollout is, for whoever reads its output: an operator's (`http`), a version written outside
 * kiln (`eventgrid`), or one of a rebuild's: proving the new version on the canary (`canary`),
 * rolling it to the rest once promoted (`promotion`), or putting the canary back (`restore`).
 */
export type RolloutKind = 'http' | 'eventgrid' | 'canary' | 'promotion' | 'restore';

export function rolloutKind(input: Pick<RolloutInput, 'source' | 'proven' | 'restoreFrom'>): RolloutKind {
  if (input.source !== 'rebuild') return input.source;
  if (input.restoreFrom) return 'restore';
  return input.proven ? 'promotion' : 'canary';
}

export interface RolloutInput {
  definition: string;
  version: string;
  source: RolloutSource;
  startedBy?: StartedBy;
  dryRun: boolean;
  /** Scale set resource ids or names; default: every managed scale set whose model uses the definition. */
  scaleSets?: string[];
  options?: Partial<ScaleSetRolloutOptions>;
  /** Regions in the order the lead is chosen from (the first scale set in the first region leads). */
  regionOrder?: string[];
  canaryTag: { name: string; value: string };
  /** The version was proven already (a rebuild's canary): the lead need not prove it again. */
  proven?: boolean;
  /**
   * How long an upgraded instance took to come back on the version elsewhere (the canary's first
   * wave). A proven rollout that knows it needs no lead to pace the rest: the first region starts at once.
   */
  healthyAfterMinutes?: number;
  /** An undo (a canary put back): move only scale sets whose model is still on this version. */
  restoreFrom?: string;
  /** An operator's rollback: scale sets may move to an older version than they run (S8 otherwise leaves them). */
  allowOlder?: boolean;
}

export interface RolloutOutput {
  definition: string;
  version: string;
  source: RolloutSource;
  kind: RolloutKind;
  dryRun: boolean;
  state: RolloutState;
  reason?: string;
  scaleSets: Record<string, ScaleSetRolloutResult>;
}

export function* rolloutOrchestrator(context: OrchestrationContext): Generator<Task, RolloutOutput, unknown> {
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const output = yield* recordedRollOut(context);
  yield* callActivity(context, Activities.recordMetrics, {
    kind: 'rollout',
    definition: output.definition,
    version: output.version,
    source: output.source,
    state: output.state,
    startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    scaleSets: Object.values(output.scaleSets).map((s) => ({
      name: s.scaleSet,
      state: s.state,
      waves: s.waves,
    })),
  });
  return output;
}

function* recordedRollOut(context: OrchestrationContext): Generator<Task, RolloutOutput, unknown> {
  const input = inputOf(context, Orchestrations.rollout);
  const { startedBy, ...asked } = input;
  return yield* recordedRun(
    context,
    {
      kind: 'rollout',
      subject: `${input.definition} ${input.version}`,
      dryRun: input.dryRun,
      startedBy,
      input: asked,
    },
    rollOut(context, input),
    CONCLUSIONS.rollout,
  );
}

function* rollOut(
  context: OrchestrationContext,
  input: RolloutInput,
): Generator<Task, RolloutOutput, unknown> {
  const output: RolloutOutput = {
    definition: input.definition,
    version: input.version,
    source: input.source,
    kind: rolloutKind(input),
    dryRun: input.dryRun,
    state: 'succeeded',
    scaleSets: {},
  };
  const startedAt = context.df.currentUtcDateTime.toISOString();
  context.df.setCustomStatus({ phase: 'checking version', version: input.version });

  const version = yield* callActivity(context, Activities.resolveImageVersion, {
    definition: input.definition,
    version: input.version,
  });
  if (!version.ok) return end(context, output, 'failed', version.error.message);
  if (!version.value)
    return end(
      context,
      output,
      'failed',
      `gallery version ${input.definition}/${input.version} does not exist`,
    );
  if (input.source === 'eventgrid') {
    // Events are hints: act only on a finished, promotable version that kiln is not publishing itself.
    const kilnState = version.value.tags[KILN_STATE_TAG];
    if (kilnState && KILN_KEEPS_OUT.has(kilnState))
      return end(
        context,
        output,
        'skipped',
        `kiln is ${kilnState === 'rejected' ? 'keeping out' : 'publishing'} this version itself (${KILN_STATE_TAG}=${kilnState})`,
      );
    if (version.value.excludeFromLatest)
      return end(context, output, 'skipped', 'the version is excluded from latest');
    // A version still being written is fine: each scale set waits for replication to its region.
    if (version.value.provisioningState === 'Failed')
      return end(context, output, 'skipped', 'the version failed to provision');
  }

  const listed = yield* callActivity(context, Activities.listManagedScaleSets, null);
  if (!listed.ok) return end(context, output, 'failed', listed.error.message);
  const { targets, outOfScope } = selectTargets(listed.value, input.definition, input.scaleSets);
  for (const name of outOfScope) output.scaleSets[name] = refusedOutOfScope(name);
  if (outOfScope.length > 0 && input.source === 'http') {
    // An operator's name that matches no managed scale set is a typo or a scale set outside kiln's
    // scope (S2): the rollout moves nothing rather than part of what was asked. A rebuild names the
    // scale sets it listed hours before; one untagged or deleted since is refused on its own.
    const managed = listed.value.map((s) => s.name).sort();
    return end(
      context,
      output,
      'failed',
      `not a managed scale set: ${outOfScope.join(', ')} (managed: ${managed.join(', ') || 'none'}); ` +
        'name managed scale sets only, or tag the scale set with MANAGED_TAG to bring it into scope',
    );
  }
  if (targets.length === 0 && outOfScope.length === 0)
    return end(context, output, 'skipped', `no managed scale set uses ${input.definition}`);

  const options: ScaleSetRolloutOptions = { ...DEFAULT_ROLLOUT_OPTIONS, pauseMinutes: 0, ...input.options };
  const ordered = orderByRegion(targets, input.regionOrder);
  const lead = pickLead(ordered, input.canaryTag);
  // The lead's first wave shows how long an upgraded instance takes to come back: the rest look then.
  let healthyAfterMinutes: number | undefined = input.healthyAfterMinutes;
  const versionId = version.value.id;
  const childInput = (scaleSet: ManagedScaleSet, mustProve: boolean): ScaleSetRolloutInput => ({
    ...(healthyAfterMinutes !== undefined ? { healthyAfterMinutes } : {}),
    ...(mustProve ? { mustProve } : {}),
    ...(input.restoreFrom
      ? { restoreFrom: versionId.replace(/\/versions\/[^/]+$/i, `/versions/${input.restoreFrom}`) }
      : {}),
    ...(input.allowOlder ? { allowOlder: true } : {}),
    scaleSet,
    definition: input.definition,
    version: input.version,
    versionId: version.value!.id,
    replicatedTo: Object.keys(version.value!.regions).filter(
      (r) => version.value!.regions[r] === 'Completed',
    ),
    options,
    dryRun: input.dryRun,
    startedAt,
    source: input.source,
  });
  const child = (scaleSet: ManagedScaleSet, mustProve = false) =>
    callSubOrchestrator(
      context,
      Orchestrations.rolloutScaleSet,
      childInput(scaleSet, mustProve),
      `${context.df.instanceId}:${scaleSet.name}`,
    );

  const report = (phase: string) =>
    context.df.setCustomStatus({
      phase,
      version: input.version,
      scaleSets: Object.fromEntries(
        ordered.map((s) => {
          const r = output.scaleSets[s.name];
          return [
            s.name,
            r
              ? {
                  state: r.state,
                  onNewVersion: r.instancesUpdated,
                  pendingBusy: r.instancesPending,
                  unhealthy: r.unhealthy,
                }
              : { state: 'queued', child: `${context.df.instanceId}:${s.name}` },
          ];
        }),
      ),
    });

  // Leads go one at a time until one proves the version (S4: health needs evidence). An undo, or a
  // version a canary proved already, needs no proof: its first scale set leads only to pace the rest,
  // and not at all when the canary's pace is known.
  const mustProve = !input.proven && !input.restoreFrom;
  const paced = input.proven && input.healthyAfterMinutes !== undefined;
  const leads = lead && !paced ? [lead, ...ordered.filter((s) => s !== lead)] : [];
  const tried: ManagedScaleSet[] = [];
  for (const candidate of leads) {
    report(`rolling ${candidate.name} first`);
    const leadResult = yield* runChild(child(candidate, mustProve), candidate);
    output.scaleSets[candidate.name] = leadResult;
    tried.push(candidate);
    healthyAfterMinutes ??= leadResult.healthyAfterMinutes;
    const judged = judgeLead(leadResult, mustProve);
    if (judged.verdict === 'halt') {
      for (const s of ordered) {
        if (!tried.includes(s))
          output.scaleSets[s.name] = untouched(
            s,
            `not started: ${candidate.name} ${judged.what} (${leadResult.reason})`,
          );
      }
      replaySafeLog(
        context,
        `rollout of ${input.version} halted after ${candidate.name}: ${leadResult.reason}`,
      );
      return end(context, output, judged.state, `${candidate.name}: ${leadResult.reason}`);
    }
    if (judged.verdict === 'restFollow') break;
  }

  // With a region order the rest go region by region (parallel within a region) and stop at a rollback;
  // without one, all at once.
  const rest = ordered.filter((s) => !tried.includes(s));
  const groups = input.regionOrder ? groupByRegion(rest) : [rest];
  for (const [index, group] of groups.entries()) {
    const running = group.map((s) => ({ scaleSet: s, task: child(s) }));
    report(groups.length > 1 ? `rolling ${group[0]!.location}` : 'rolling');
    // The group's children start together (one Task.all) and are then read one by one. A Task.any
    // over the shrinking list of children still running would make the SDK send their
    // CallSubOrchestrator actions again (azure-functions-durable-js #574): duplicate children.
    try {
      yield context.df.Task.all(running.map((r) => r.task));
    } catch {
      // A crashed child: runChild below reports it, the others are awaited one by one.
    }
    for (const r of running) output.scaleSets[r.scaleSet.name] = yield* runChild(r.task, r.scaleSet);
    report(index < groups.length - 1 ? 'rolling' : 'done');
    const broken = group
      .map((s) => output.scaleSets[s.name]!)
      .find((r) => r.state === 'rolledBack' || r.state === 'failed');
    if (broken && index < groups.length - 1) {
      for (const s of groups.slice(index + 1).flat())
        output.scaleSets[s.name] = untouched(
          s,
          `not started: ${broken.scaleSet} in ${broken.region} ${broken.state === 'rolledBack' ? 'was rolled back' : 'failed'}`,
        );
      break;
    }
  }
  const results = Object.values(output.scaleSets);
  const state = overallState(results, output.dryRun);
  return end(context, output, state, state === 'skipped' ? leftAsideReason(results) : undefined);
}

/** The result of a child task (already completed, or awaited here); a crashed child is a failure. */
function* runChild(
  task: SubOrchestrationTask<ScaleSetRolloutResult>,
  scaleSet: ManagedScaleSet,
): Generator<Task, ScaleSetRolloutResult, unknown> {
  try {
    return yield* outputOf(task);
  } catch (error) {
    return { ...untouched(scaleSet, `rollout crashed: ${(error as Error).message}`), state: 'failed' };
  }
}

function untouched(scaleSet: ManagedScaleSet, reason: string): ScaleSetRolloutResult {
  const version = versionOfImageReference(scaleSet.imageReferenceId) ?? '';
  return {
    scaleSet: scaleSet.name,
    scaleSetId: scaleSet.id,
    region: scaleSet.location,
    state: 'untouched',
    reason,
    version,
    previousVersion: version,
    instancesUpdated: 0,
    instancesPending: 0,
    unhealthy: 0,
    waves: 0,
  };
}

function refusedOutOfScope(name: string): ScaleSetRolloutResult {
  return {
    scaleSet: name,
    scaleSetId: name,
    region: '',
    state: 'refused',
    reason: 'not a managed scale set: outside kiln scope (S2)',
    version: '',
    instancesUpdated: 0,
    instancesPending: 0,
    unhealthy: 0,
    waves: 0,
  };
}

function end(
  context: OrchestrationContext,
  output: RolloutOutput,
  state: RolloutState,
  reason: string | undefined,
): RolloutOutput {
  output.state = output.dryRun && (state === 'succeeded' || state === 'partial') ? 'planned' : state;
  if (reason) output.reason = reason;
  context.df.setCustomStatus({
    phase: 'done',
    state: output.state,
    reason,
    scaleSets: Object.fromEntries(Object.entries(output.scaleSets).map(([k, v]) => [k, v.state])),
  });
  replaySafeLog(
    context,
    `rollout of ${output.definition} ${output.version}: ${output.state}${reason ? ` (${reason})` : ''}`,
  );
  return output;
}
