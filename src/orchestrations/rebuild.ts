/**
 * Rebuilds one runner image end to end: build with Packer in the Container Apps job, publish a
 * gallery version (excluded from latest, in the build region and the canary's), replicate it to every
 * other target region while the canary proves it, promote it once both are done and roll every other
 * scale set of the image, then prune old versions. One instance per image and period (S5). A version
 * that fails its canary is rejected and deleted with its replicas, so it never becomes latest nor
 * reaches another scale set; a canary that moved no instance has proven nothing, and without a canary
 * nothing is built (S4). Pruning never deletes a version in use or among the newest PRUNE_KEEP (S3). Whatever ends the run, what it started is undone: the
 * Packer execution stopped, a partial version deleted, the canary put back (S9). The Packer job
 * authenticates with its own identity (S6).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type { ManagedScaleSet } from '../activities/inventory.js';
import { KILN_STATE_TAG, nextVersionName, planPrune, type ImageKind } from '../domain/release.js';
import { judgeSoak, versionOfImageReference } from '../domain/rollout.js';
import { pickLead, scaleSetsOfImage } from '../domain/rollout-targets.js';
import { regionKey } from '../domain/regions.js';
import { Activities, Orchestrations } from '../names.js';
import { REPLICATION_ATTEMPTS } from '../retry-policy.js';
import { callActivity, replaySafeLog } from './call-activity.js';
import { after } from './durable-time.js';
import { callSubOrchestrator, outputOf, type SubOrchestrationTask } from './call-sub-orchestrator.js';
import type { RolloutInput, RolloutOutput } from './rollout.js';
import type { WaitForBuildOutput, WaitForReplicationInput, WaitForReplicationOutput } from './wait.js';
import { inputOf, type StartedBy } from '../orchestration-contracts.js';
import { CONCLUSIONS } from '../history/run-record.js';
import { recordedRun } from './recorded-run.js';
import type { SoftwareChanges } from '../activities/software.js';
import { gateReasons, SOFTWARE_REPORT_TAG, type GateKind } from '../domain/software-report.js';

export interface RebuildInput {
  image: ImageKind;
  definition: string;
  dryRun: boolean;
  trigger: 'timer' | 'http' | 'runner-release';
  startedBy?: StartedBy;
  runnerVersion?: string;
  runnerSha256?: string;
  agentVersion?: string;
  policy: {
    buildTimeoutHours: number;
    canarySoakMinutes: number;
    pruneKeep: number;
    imageEolDays: number;
    /** Target regions, the build region first. */
    regions: string[];
    canaryTag: { name: string; value: string };
    baseImage: string;
    /** PROMOTION_GATE: change kinds that hold the version for approval (absent in runs started before it existed: none). */
    promotionGate?: GateKind[];
    approvalTimeoutHours?: number;
  };
}

/** The report name of what runs jobs on each image (docs/software-report.md). */
const AGENT_NAMES: Record<ImageKind, string> = { linux: 'actions-runner', windows: 'azure-pipelines-agent' };

/** The external event an approval or rejection raises on a rebuild held by PROMOTION_GATE. */
export const APPROVAL_EVENT = 'approval';

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  /** Who decided (the caller the endpoint saw). */
  by: string;
  reason?: string;
}

export type ImageState = 'promoted' | 'rejected' | 'failed' | 'skipped' | 'planned';

export interface RebuildOutput {
  image: ImageKind;
  definition: string;
  version: string;
  state: ImageState;
  phase: string;
  reason?: string;
  regions: string[];
  executionName?: string;
  canary?: string;
  timings: Record<string, string>;
  rollout?: {
    state: string;
    scaleSets: Record<string, { state: string; instancesUpdated: number; instancesPending: number }>;
  };
  pruned: string[];
  /** The runner/agent versions the build used, as resolved (by kiln or in the build), by name. */
  resolved?: Record<string, string>;
  /** What the rebuild could not tidy up (e.g. the managed image it published from), with why. */
  leftBehind?: string[];
  /** What the new version holds next to the promoted one (its software report's diff). */
  software?: SoftwareChanges;
  /** Set when PROMOTION_GATE held the version: why, until when, and how it ended. */
  approval?: {
    held: string[];
    deadline: string;
    decision?: 'approved' | 'rejected' | 'timedOut';
    by?: string;
    reason?: string;
    at?: string;
  };
  /** Dry run: what the rebuild would do now. */
  plan?: { canary?: string; rollOut: string[]; prune: string[] };
}

export const REBUILD_TIMING = {
  buildPollMinutes: 1,
  replicationPollMinutes: 5,
  publishWaitHours: 6,
  replicationWaitHours: 24,
};

export function* rebuildOrchestrator(context: OrchestrationContext): Generator<Task, RebuildOutput, unknown> {
  const { trigger } = inputOf(context, Orchestrations.rebuild);
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const output = yield* rebuildImage(context);
  const { buildStartedAt, builtAt } = output.timings;
  yield* callActivity(context, Activities.recordMetrics, {
    kind: 'rebuild',
    definition: output.definition,
    outcome: output.state,
    trigger,
    startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    ...(buildStartedAt && builtAt ? { build: { startedAt: buildStartedAt, finishedAt: builtAt } } : {}),
  });
  return output;
}

function* rebuildImage(context: OrchestrationContext): Generator<Task, RebuildOutput, unknown> {
  const input = inputOf(context, Orchestrations.rebuild);
  const { startedBy, ...asked } = input;
  return yield* recordedRun(
    context,
    { kind: 'rebuild', subject: input.image, dryRun: input.dryRun, startedBy, input: asked },
    rebuild(context, input),
    CONCLUSIONS.rebuild,
  );
}

function* rebuild(
  context: OrchestrationContext,
  input: RebuildInput,
): Generator<Task, RebuildOutput, unknown> {
  const id = context.df.instanceId;
  const now = () => context.df.currentUtcDateTime.toISOString();
  const out: RebuildOutput = {
    image: input.image,
    definition: input.definition,
    version: '',
    state: 'failed',
    phase: 'reading gallery',
    regions: [],
    timings: { startedAt: now() },
    pruned: [],
  };
  /** The live status: where the run is, plus a state (and why) once one is known. */
  const showStatus = (ended: { state?: ImageState | 'awaitingApproval'; reason?: string } = {}) =>
    context.df.setCustomStatus({
      image: input.image,
      version: out.version,
      phase: out.phase,
      ...ended,
      executionName: out.executionName,
      ...(out.software?.changes ? { changes: out.software.changes } : {}),
      ...(out.approval ? { approval: out.approval } : {}),
    });
  const phase = (name: string, state?: 'awaitingApproval') => {
    out.phase = name;
    showStatus(state ? { state } : {});
  };
  const fail = (reason: string, state: ImageState = 'failed') => {
    out.state = state;
    out.reason = reason;
    out.timings.finishedAt = now();
    showStatus({ state, reason });
    replaySafeLog(context, `rebuild of ${input.image} ${out.version}: ${state} (${reason})`);
    return out;
  };
  const tag = (state: string) =>
    callActivity(context, Activities.tagVersion, {
      definition: input.definition,
      version: out.version,
      tags: { [KILN_STATE_TAG]: state },
    });
  phase('reading gallery');

  const gallery = yield* callActivity(context, Activities.readGallery, {
    definition: input.definition,
  });
  if (!gallery.ok) return fail(gallery.error.message);
  out.version = nextVersionName(
    gallery.value.versions.map((v) => v.name),
    now(),
  );

  const listed = yield* callActivity(context, Activities.listManagedScaleSets, null);
  if (!listed.ok) return fail(listed.error.message);
  const scaleSets = scaleSetsOfImage(listed.value, input.image, input.definition);
  const canary = pickLead(scaleSets, input.policy.canaryTag);
  out.canary = canary?.name;
  if (!canary) {
    // A version nothing could prove would be promoted on faith (S4), and nothing would run it.
    out.state = 'skipped';
    out.reason = `no managed scale set uses the ${input.image} image: a new version could be proven nowhere, so none is built`;
    out.timings.finishedAt = now();
    phase('skipped');
    replaySafeLog(context, `rebuild of ${input.image}: skipped (${out.reason})`);
    return out;
  }
  // The version is published where it is built and where the canary runs (excluded from latest
  // there), then replicated to every other target region while the canary proves it: replication
  // does not depend on the canary, and waiting for one before the other is time the fleet waits.
  const buildRegion = input.policy.regions[0]!;
  const firstRegions = unique([buildRegion, canary.location]);
  const allRegions = unique([...input.policy.regions, canary.location]);

  // The runner baked into a Linux image is the latest release unless one was asked for; the
  // template needs its SHA-256, which GitHub gives as the release asset's digest.
  let runner = { version: input.runnerVersion, sha256: input.runnerSha256 };
  if (input.image === 'linux' && !runner.sha256) {
    const release = yield* callActivity(context, Activities.readRunnerRelease, null);
    const latest = release.ok ? release.value : null;
    if (!runner.version && latest?.linuxX64Sha256)
      runner = { version: latest.latest, sha256: latest.linuxX64Sha256 };
    else if (runner.version && latest?.latest === runner.version && latest.linuxX64Sha256)
      runner.sha256 = latest.linuxX64Sha256;
    else if (runner.version)
      return fail(
        `runner ${runner.version} is not the latest release: give its runnerSha256 (from its release notes) with the request`,
      );
  }

  const asked = input.image === 'linux' ? runner.version : input.agentVersion;
  if (asked) out.resolved = { [AGENT_NAMES[input.image]]: asked };

  if (input.dryRun) {
    out.state = 'planned';
    out.regions = allRegions;
    out.plan = {
      canary: canary.name,
      rollOut: scaleSets.filter((s) => s !== canary).map((s) => s.name),
      prune: planPrune({
        versions: [...gallery.value.versions.map((v) => v.name), out.version],
        keep: input.policy.pruneKeep,
        referenced: gallery.value.referenced,
        protected: [out.version],
      }),
    };
    phase('planned');
    return out;
  }

  // Build.
  phase('building');
  const build = yield* callActivity(context, Activities.startBuild, {
    image: input.image,
    definition: input.definition,
    version: out.version,
    runId: id,
    runnerVersion: runner.version,
    runnerSha256: runner.sha256,
    agentVersion: input.agentVersion,
  });
  if (!build.ok) return fail(build.error.message);
  out.executionName = build.value.executionName;
  out.timings.buildStartedAt = now();
  const deadline = after(context, { hours: input.policy.buildTimeoutHours }).toISOString();
  const waited = yield* settle(
    callSubOrchestrator(
      context,
      Orchestrations.waitForBuild,
      {
        executionName: build.value.executionName,
        deadline,
        pollMinutes: REBUILD_TIMING.buildPollMinutes,
      },
      `${id}:build`,
    ),
  );
  const built: WaitForBuildOutput = waited.ok ? waited.value : { status: 'Crashed', reason: waited.message };
  if (built.status === 'TimedOut' || built.status === 'Crashed') {
    // The execution may still run: a failed rebuild stops what it started (S9).
    const stopped = yield* callActivity(context, Activities.stopBuild, {
      executionName: build.value.executionName,
    });
    const stop = stopped.ok ? 'was stopped' : `could not be stopped (${stopped.error.message})`;
    return fail(
      built.status === 'TimedOut'
        ? `the Packer build ran longer than ${input.policy.buildTimeoutHours} h${built.reason ? ` (${built.reason})` : ''} and ${stop} (execution ${build.value.executionName})`
        : `waiting for the Packer build failed (${built.reason}); execution ${build.value.executionName} ${stop}`,
    );
  }
  if (built.status !== 'Succeeded') {
    return fail(
      `the Packer build ended ${built.status}${built.reason ? ` (${built.reason})` : ''}; see the logs of Container Apps execution ${build.value.executionName}`,
    );
  }
  out.timings.builtAt = now();

  // What the new version holds next to the promoted one, read before publishing: the report is stored
  // under the name chosen before the build, and the version links to it by tag.
  const software = yield* callActivity(context, Activities.readSoftwareChanges, {
    definition: input.definition,
    builtAs: out.version,
  });
  out.software = software.ok
    ? software.value
    : { configured: true, report: null, note: software.error.message };
  if (out.software.agent)
    out.resolved = { ...out.resolved, [out.software.agent.name]: out.software.agent.version };

  // Publish: build region only, excluded from latest until proven.
  phase('publishing');
  const eol = after(context, { days: input.policy.imageEolDays }).toISOString();
  const tags: Record<string, string> = {
    [KILN_STATE_TAG]: 'publishing',
    'kiln-run': id,
    'kiln-base-image': input.policy.baseImage,
  };
  if (input.image === 'linux') tags['kiln-runner-version'] = runner.version ?? 'template-default';
  else tags['kiln-agent-version'] = input.agentVersion ?? 'template-default';
  if (out.software.report) tags[SOFTWARE_REPORT_TAG] = out.software.report;
  const published = yield* callActivity(context, Activities.publishVersion, {
    definition: input.definition,
    version: out.version,
    managedImageId: build.value.managedImageId,
    tags,
    endOfLifeDate: eol,
    regions: firstRegions,
  });
  // Someone may have published under the name chosen at the start: the activity took the next free one.
  if (published.ok) out.version = published.value.version;
  const publishWait = published.ok
    ? yield* settle(
        callSubOrchestrator(
          context,
          Orchestrations.waitForReplication,
          waitInput(context, input, out.version, firstRegions, REBUILD_TIMING.publishWaitHours),
          `${id}:publish`,
        ),
      )
    : undefined;
  const inFirstRegions = publishWait?.ok ? publishWait.value : undefined;
  const missing = firstRegions.filter((r) => inFirstRegions?.regions[r] !== 'Completed');
  if (!published.ok || missing.length > 0) {
    // Nothing half-made stays behind: the partial version goes (the managed image stays for a retry),
    // if it is this run's: the name may be someone else's version (S3).
    yield* callActivity(context, Activities.deleteVersions, {
      definition: input.definition,
      versions: [out.version],
      ownRun: id,
    });
    return fail(
      !published.ok
        ? published.error.message
        : `publishing ${out.version} to ${missing.join(', ')} did not complete (${inFirstRegions?.reason ?? (publishWait && !publishWait.ok ? publishWait.message : missing.map((r) => `${r}: ${inFirstRegions?.regions[r]}`).join(', '))})`,
    );
  }
  // The managed image was only the way into the gallery; one left behind per build costs storage
  // every month, so a refusal is said, not swallowed (the version itself is fine: the run goes on).
  const imageGone = yield* callActivity(context, Activities.deleteManagedImage, {
    managedImageId: build.value.managedImageId,
  });
  if (!imageGone.ok)
    out.leftBehind = [
      ...(out.leftBehind ?? []),
      `managed image ${build.value.managedImageId}: ${imageGone.error.message}`,
    ];
  out.timings.publishedAt = now();
  out.regions = firstRegions;

  // Canary: the version must carry real jobs' runners before anything else sees it (S4). It is
  // tagged first, so that whoever reads the version meanwhile knows it is kiln's and not latest.
  phase(`canary on ${canary.name}`);
  yield* tag('canary');
  // Replication to the other target regions starts now and runs while the canary proves the version
  // (still excluded from latest: nothing but the canary can take it). A refusal here is retried
  // once the canary has proven it.
  const otherRegions = allRegions.filter((r) => !firstRegions.includes(r));
  let replicationStarted = otherRegions.length === 0;
  if (!replicationStarted) {
    const widen = yield* callActivity(context, Activities.updateVersion, {
      definition: input.definition,
      version: out.version,
      regions: allRegions,
    });
    replicationStarted = widen.ok;
    if (widen.ok) out.timings.replicationStartedAt = now();
    else
      replaySafeLog(
        context,
        `rebuild of ${input.image} ${out.version}: replication to ${otherRegions.join(', ')} could not start (${widen.error.message}); it is tried again once the canary has proven the version`,
      );
  }
  const proven = yield* proveOnCanary(context, input, out.version, canary);
  const canaryBefore = proven.previous;
  if (!proven.ok) {
    // A bad version is rejected for good; one the canary could not prove stays out, unjudged. Either
    // way it goes, with the replicas made meanwhile: no other scale set ever ran it.
    yield* tag(proven.rejected ? 'rejected' : 'unproven');
    const reason = `canary ${canary.name}: ${proven.reason}${yield* deleteUnpromoted(context, input, out)}`;
    return fail(reason, proven.rejected ? 'rejected' : 'failed');
  }
  out.timings.canaryPassedAt = now();

  // From here on the canary runs a version that is not promoted: if the image fails, the canary
  // goes back to what it ran before, so no scale set stays on a version that never became latest (S4).
  function* withCanaryBack(reason: string): Generator<Task, string, unknown> {
    return `${reason}; ${yield* restoreCanary(context, input, out.version, canaryBefore, canary!, 'canary-restore')}`;
  }

  // PROMOTION_GATE: a change a person must see (a tool removed, a major version) waits for approval,
  // with the canary still on the version; a rejection, or no answer in time, rejects it for good.
  const held = out.software.configured
    ? gateReasons(out.software.changes, input.policy.promotionGate ?? [])
    : [];
  if (held.length > 0) {
    const decided = yield* awaitApproval(context, input, out, held, {
      show: () => phase('awaiting approval', 'awaitingApproval'),
      tag,
    });
    if (!decided.approved) {
      yield* tag('rejected');
      const back = yield* withCanaryBack(decided.reason);
      return fail(`${back}${yield* deleteUnpromoted(context, input, out)}`, 'rejected');
    }
  }

  // Promotion waits for every target region too: by now replication has mostly run its course. A
  // region that failed (or never started) gets one more try.
  phase('replicating');
  yield* tag('replicating');
  let replicated: WaitForReplicationOutput | undefined;
  for (let attempt = 1; attempt <= REPLICATION_ATTEMPTS; attempt++) {
    if (attempt > 1 || !replicationStarted) {
      const update = yield* callActivity(context, Activities.updateVersion, {
        definition: input.definition,
        version: out.version,
        regions: allRegions,
      });
      if (!update.ok) return fail(yield* withCanaryBack(update.error.message));
    }
    const wait = yield* settle(
      callSubOrchestrator(
        context,
        Orchestrations.waitForReplication,
        waitInput(context, input, out.version, allRegions, REBUILD_TIMING.replicationWaitHours),
        `${id}:replicate-${attempt}`,
      ),
    );
    replicated = wait.ok ? wait.value : { regions: {}, reason: wait.message };
    if (Object.values(replicated.regions).every((s) => s === 'Completed') && allRegions.length > 0) break;
  }
  const notReplicated = Object.entries(replicated?.regions ?? {}).filter(([, s]) => s !== 'Completed');
  if (notReplicated.length > 0 || !replicated || Object.keys(replicated.regions).length === 0) {
    return fail(
      yield* withCanaryBack(
        `replication did not complete in ${notReplicated.map(([r, s]) => `${r} (${s})`).join(', ') || replicated?.reason}; the version stays excluded from latest`,
      ),
    );
  }
  out.regions = allRegions;
  out.timings.replicatedAt = now();

  // Promote, then roll every other managed scale set of the image.
  phase('promoting');
  yield* tag('promoting');
  const promote = yield* callActivity(context, Activities.updateVersion, {
    definition: input.definition,
    version: out.version,
    excludeFromLatest: false,
  });
  if (!promote.ok) return fail(yield* withCanaryBack(promote.error.message));
  const others = scaleSets.filter((s) => s !== canary);
  if (others.length > 0) {
    phase('rolling out');
    const rollout = yield* settle(
      callSubOrchestrator(
        context,
        Orchestrations.rollout,
        {
          ...rolloutInput(input, out.version, others),
          proven: true,
          // How long the canary's instances took to come back: the scale sets look then, none leads.
          ...(proven.healthyAfterMinutes !== undefined
            ? { healthyAfterMinutes: proven.healthyAfterMinutes }
            : {}),
        },
        `${id}:rollout`,
      ),
    );
    out.rollout = rollout.ok ? summarise(rollout.value) : { state: 'failed', scaleSets: {} };
  }
  yield* tag('promoted');
  out.timings.promotedAt = now();

  // Prune (S3): never the newest PRUNE_KEEP, never one in use, never this one.
  phase('pruning');
  const galleryNow = yield* callActivity(context, Activities.readGallery, {
    definition: input.definition,
  });
  if (galleryNow.ok) {
    const prune = planPrune({
      versions: galleryNow.value.versions.map((v) => v.name),
      keep: input.policy.pruneKeep,
      referenced: galleryNow.value.referenced,
      protected: [out.version],
    });
    if (prune.length > 0) {
      const deleted = yield* callActivity(context, Activities.deleteVersions, {
        definition: input.definition,
        versions: prune,
        unusedOnly: true,
      });
      if (deleted.ok) out.pruned = deleted.value;
    }
  }
  out.state = 'promoted';
  out.timings.finishedAt = now();
  phase('done');
  replaySafeLog(
    context,
    `rebuild of ${input.image}: ${out.version} promoted${out.pruned.length ? `, pruned ${out.pruned.join(', ')}` : ''}`,
  );
  return out;
}

/**
 * Deletes a version that will never be promoted (rejected or unproven) with the replicas it has by
 * now: only while it is this run's and no scale set uses it (the canary was put back first). Says how
 * that went, for the run's reason; a version that stays is named in `leftBehind`.
 */
function* deleteUnpromoted(
  context: OrchestrationContext,
  input: RebuildInput,
  out: RebuildOutput,
): Generator<Task, string, unknown> {
  const deleted = yield* callActivity(context, Activities.deleteVersions, {
    definition: input.definition,
    versions: [out.version],
    ownRun: context.df.instanceId,
    unusedOnly: true,
  });
  if (deleted.ok && deleted.value.includes(out.version))
    return `; version ${out.version} deleted with its replicas`;
  const why = deleted.ok
    ? "a scale set still uses it, or it is no longer tagged as this run's"
    : deleted.error.message;
  out.leftBehind = [
    ...(out.leftBehind ?? []),
    `gallery version ${out.version} (excluded from latest): ${why}`,
  ];
  return `; version ${out.version} stays, excluded from latest (${why})`;
}

/**
 * Holds the version until someone approves or rejects it (the APPROVAL_EVENT external event) or
 * APPROVAL_TIMEOUT_HOURS pass. Tags it awaitingApproval meanwhile, so no other rollout takes it.
 */
function* awaitApproval(
  context: OrchestrationContext,
  input: RebuildInput,
  out: RebuildOutput,
  held: string[],
  hold: { show: () => void; tag: (state: string) => Generator<Task, unknown, unknown> },
): Generator<Task, { approved: boolean; reason: string }, unknown> {
  const hours = input.policy.approvalTimeoutHours ?? 72;
  const deadline = after(context, { hours });
  out.approval = { held, deadline: deadline.toISOString() };
  hold.show();
  yield* hold.tag('awaitingApproval');
  replaySafeLog(
    context,
    `rebuild of ${input.image} ${out.version}: awaiting approval until ${out.approval.deadline} (${held.join('; ')})`,
  );
  const event = context.df.waitForExternalEvent(APPROVAL_EVENT);
  const timer = context.df.createTimer(deadline);
  const first = yield context.df.Task.any([event, timer]);
  const at = context.df.currentUtcDateTime.toISOString();
  if (first !== event) {
    out.approval = { ...out.approval, decision: 'timedOut', at };
    return {
      approved: false,
      reason: `no one approved it within APPROVAL_TIMEOUT_HOURS (${hours} h), so it is rejected; held for: ${held.join('; ')}`,
    };
  }
  timer.cancel();
  const answer = (event.result ?? {}) as Partial<ApprovalDecision>;
  const by = typeof answer.by === 'string' && answer.by ? answer.by : 'someone';
  const why = typeof answer.reason === 'string' && answer.reason ? answer.reason : undefined;
  const approved = answer.decision === 'approve';
  out.approval = {
    ...out.approval,
    decision: approved ? 'approved' : 'rejected',
    by,
    ...(why ? { reason: why } : {}),
    at,
  };
  replaySafeLog(context, `rebuild of ${input.image} ${out.version}: ${out.approval.decision} by ${by}`);
  return {
    approved,
    reason: `rejected by ${by}${why ? ` (${why})` : ''}; held for: ${held.join('; ')}`,
  };
}

/**
 * Rolls the canary onto the version and checks it stays healthy for the soak time; puts it back
 * otherwise. Proof needs evidence (S4): at least one instance moved to the version and seen healthy,
 * and still on it and healthy after the soak. `rejected`: the version itself failed (it is bad);
 * otherwise the canary could not prove it either way. `previous`: what the canary ran right before
 * its rollout moved it (read by that rollout, not taken from the list the rebuild began with).
 */
function* proveOnCanary(
  context: OrchestrationContext,
  input: RebuildInput,
  version: string,
  canary: ManagedScaleSet,
): Generator<
  Task,
  ({ ok: true; healthyAfterMinutes?: number } | { ok: false; reason: string; rejected: boolean }) & {
    previous?: string;
  },
  unknown
> {
  const id = context.df.instanceId;
  const rolled = yield* settle(
    callSubOrchestrator(
      context,
      Orchestrations.rollout,
      rolloutInput(input, version, [canary]),
      `${id}:canary`,
    ),
  );
  const rollout = rolled.ok ? rolled.value : undefined;
  const result = rollout?.scaleSets[canary.name];
  const previous = result?.previousVersion ?? versionOfImageReference(canary.imageReferenceId);
  const restore = (name: string) => restoreCanary(context, input, version, previous, canary, name);
  const reason =
    result?.reason ?? rollout?.reason ?? (rolled.ok ? `rollout ${rolled.value.state}` : rolled.message);
  if (result?.state === 'rolledBack') return { ok: false, reason, rejected: true, previous };
  const moved =
    result && (result.state === 'updated' || result.state === 'pending') && result.instancesUpdated > 0;
  if (!moved) {
    // Failed part-way, crashed, or proved nothing: the model may still name the version. A canary
    // rollout that proved nothing put it back itself; otherwise it is put back here (an undo that
    // moves only a model still on this version).
    // Nothing to put back when the canary's rollout did not touch its model (or put it back itself).
    const untouched = result?.unproven || result?.state === 'untouched' || result?.state === 'refused';
    const back = untouched ? '' : `; ${yield* restore('canary-restore')}`;
    return {
      ok: false,
      reason: `${result?.unproven ? reason : `the canary could not prove the version (${reason})`}${back}`,
      rejected: false,
      previous,
    };
  }
  yield context.df.createTimer(after(context, { minutes: input.policy.canarySoakMinutes }));
  const observed = yield* callActivity(context, Activities.observeScaleSet, {
    scaleSetId: canary.id,
    fleet: canary.fleet,
    allInstances: true,
  });
  if (!observed.ok) {
    const back = yield* restore('canary-rollback');
    return {
      ok: false,
      reason: `health after the soak could not be read: ${observed.error.message}; ${back}`,
      rejected: false,
      previous,
    };
  }
  const { onVersion, sick } = judgeSoak({ ...observed.value, version, recycles: canary.recycle });
  if (sick.length > 0 || onVersion.length === 0) {
    // Healthy at the gate but not after the soak (or nothing left on it to show): put the canary back.
    const back = yield* restore('canary-rollback');
    return {
      ok: false,
      reason:
        sick.length > 0
          ? `${sick.length} instance(s) lost their ${canary.fleet === 'github' ? 'runner' : 'agent'} during the ${input.policy.canarySoakMinutes}-minute soak (${sick.map((i) => i.computerName).join(', ')}); ${back}`
          : `no instance ran the version at the end of the ${input.policy.canarySoakMinutes}-minute soak, so it proved nothing; ${back}`,
      rejected: sick.length > 0,
      previous,
    };
  }
  return { ok: true, previous, healthyAfterMinutes: result.healthyAfterMinutes };
}

/**
 * Puts the canary back on `previous`, the version it ran right before the rebuild moved it — an undo
 * of the rebuild's own change only: a canary someone else moved since is left where it is (S8). Says
 * how that went.
 */
function* restoreCanary(
  context: OrchestrationContext,
  input: RebuildInput,
  version: string,
  previous: string | undefined,
  canary: ManagedScaleSet,
  name: string,
): Generator<Task, string, unknown> {
  if (!previous)
    return `the canary ${canary.name} ran no gallery version before, so it could not be put back`;
  const back = yield* settle(
    callSubOrchestrator(
      context,
      Orchestrations.rollout,
      { ...rolloutInput(input, previous, [canary]), restoreFrom: version },
      `${context.df.instanceId}:${name}`,
    ),
  );
  if (!back.ok) return `putting the canary ${canary.name} back on ${previous} failed (${back.message})`;
  const result = back.value.scaleSets[canary.name];
  if (result?.state === 'updated' || result?.alreadyOnVersion)
    return `the canary ${canary.name} is back on ${previous}`;
  return `putting the canary ${canary.name} back on ${previous} ended ${result?.state ?? back.value.state}${(result?.reason ?? back.value.reason) ? ` (${result?.reason ?? back.value.reason})` : ''}`;
}

function rolloutInput(input: RebuildInput, version: string, scaleSets: ManagedScaleSet[]): RolloutInput {
  return {
    definition: input.definition,
    version,
    source: 'rebuild',
    dryRun: false,
    scaleSets: scaleSets.map((s) => s.id),
    // Promotion rolls region by region, in the order of the target regions.
    regionOrder: input.policy.regions,
    canaryTag: input.policy.canaryTag,
  };
}

/** A sub-orchestration's result, or why it crashed: a crash must not skip the undo of what the run started (S9). */
function* settle<O>(
  task: SubOrchestrationTask<O>,
): Generator<Task, { ok: true; value: O } | { ok: false; message: string }, unknown> {
  try {
    return { ok: true, value: yield* outputOf(task) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/** Region names, once each (compared as ARM compares them). */
function unique(regions: string[]): string[] {
  const seen = new Set<string>();
  return regions.filter((r) => {
    const key = regionKey(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function waitInput(
  context: OrchestrationContext,
  input: RebuildInput,
  version: string,
  regions: string[],
  hours: number,
): WaitForReplicationInput {
  const deadline = after(context, { hours }).toISOString();
  return {
    definition: input.definition,
    version,
    regions,
    deadline,
    pollMinutes: REBUILD_TIMING.replicationPollMinutes,
  };
}

function summarise(rollout: RolloutOutput): RebuildOutput['rollout'] {
  return {
    state: rollout.state,
    scaleSets: Object.fromEntries(
      Object.values(rollout.scaleSets).map((s) => [
        s.scaleSet,
        { state: s.state, instancesUpdated: s.instancesUpdated, instancesPending: s.instancesPending },
      ]),
    ),
  };
}
