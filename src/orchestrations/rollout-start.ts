/**
 * The first execution of a scale set rollout: refuse what kiln may not pace, wait for the version to
 * reach the scale set's region, plan (in a dry run) or point the model at the version — read afresh
 * right before, written only if nothing changed it since (S8) — then continue as new into the waves.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { KILN_IN_PROGRESS, KILN_STATE_TAG } from '../domain/release.js';
import { regionKey } from '../domain/regions.js';
import { definitionOfImageReference, planDryRun, versionOfImageReference } from '../domain/rollout.js';
import { compareVersions } from '../domain/versions.js';
import { MODEL_WRITE_ATTEMPTS } from '../retry-policy.js';
import { Activities, Orchestrations } from '../names.js';
import { callActivity, replaySafeLog } from './call-activity.js';
import { callSubOrchestrator, outputOf } from './call-sub-orchestrator.js';
import {
  ROLLOUT_TIMING,
  result,
  status,
  type ScaleSetRolloutInput,
  type ScaleSetRolloutResult,
} from './rollout-progress.js';
import type { WaitForReplicationOutput } from './wait.js';

export function* begin(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
): Generator<Task, ScaleSetRolloutResult, unknown> {
  const { scaleSet } = input;
  const previousVersion = versionOfImageReference(scaleSet.imageReferenceId);
  const base = {
    previousVersion,
    version: previousVersion ?? '',
    instancesUpdated: 0,
    instancesPending: 0,
    unhealthy: 0,
    waves: 0,
  };
  status(context, 'inspecting', input);

  if (scaleSet.orchestrationMode !== 'Uniform') {
    return result(input, {
      ...base,
      state: 'refused',
      reason: `orchestration mode is ${scaleSet.orchestrationMode}; kiln rolls Uniform scale sets only`,
    });
  }
  if (scaleSet.upgradeMode !== 'Manual') {
    return result(input, {
      ...base,
      state: 'refused',
      reason: `upgrade policy is ${scaleSet.upgradeMode ?? 'not set'}; kiln needs Manual so that it, not Azure, paces the upgrade around busy jobs (S1)`,
    });
  }
  // The version must be in this region before any instance can boot from it.
  if (!input.replicatedTo?.includes(regionKey(scaleSet.location))) {
    status(context, 'waiting for replication', input);
    const notThere = yield* awaitReplication(context, input);
    if (notThere) return result(input, { ...base, ...notThere });
  }

  if (input.dryRun) {
    const observed = yield* callActivity(context, Activities.observeScaleSet, {
      scaleSetId: scaleSet.id,
      fleet: scaleSet.fleet,
    });
    if (!observed.ok) return result(input, { ...base, state: 'failed', reason: observed.error.message });
    const plan = planDryRun({
      capacity: scaleSet.capacity,
      batchPercent: input.options.batchPercent,
      modelImageId: scaleSet.imageReferenceId,
      versionId: input.versionId,
      ...observed.value,
    });
    return result(input, {
      ...base,
      state: 'planned',
      plannedWaves: plan.plannedWaves,
      busyNow: plan.busyNow,
      reason: `${plan.moving} instance(s) would move to ${input.version}`,
    });
  }

  // What the change depends on is read right before it (S8), and the write happens only if nothing
  // changed the model since that read (If-Match on its ETag): a list read when the run began, hours
  // ago for a scale set that waited for its lead, says nothing about what the model is now.
  // The model a write was decided on: when the write's answer is lost (its retry then meets the
  // changed ETag) and the next read finds the model on the version, that write is what moved it.
  let decidedOn: { imageReferenceId?: string } | undefined;
  for (let attempt = 1; ; attempt++) {
    const read = yield* callActivity(context, Activities.readScaleSet, {
      scaleSetId: scaleSet.id,
    });
    if (!read.ok) return result(input, { ...base, state: 'failed', reason: read.error.message });
    if (!read.value)
      return result(input, { ...base, state: 'untouched', reason: 'the scale set no longer exists' });
    const landed =
      decidedOn !== undefined && read.value.imageReferenceId?.toLowerCase() === input.versionId.toLowerCase();
    const current = landed ? decidedOn!.imageReferenceId : read.value.imageReferenceId;
    const currentVersion = versionOfImageReference(current);
    const now = { ...base, previousVersion: currentVersion, version: currentVersion ?? '' };
    const onVersion = !landed && current?.toLowerCase() === input.versionId.toLowerCase();
    if (!onVersion && input.restoreFrom && current?.toLowerCase() !== input.restoreFrom.toLowerCase()) {
      return result(input, {
        ...now,
        state: 'untouched',
        reason: `not put back on ${input.version}: its model was moved to ${currentVersion ?? current ?? 'nothing'} since, not by this run`,
      });
    }
    if (
      !onVersion &&
      !input.restoreFrom &&
      !input.allowOlder &&
      currentVersion &&
      compareVersions(currentVersion, input.version) > 0
    ) {
      return result(input, {
        ...now,
        state: 'untouched',
        reason: `it already runs the newer version ${currentVersion}`,
      });
    }
    // A model on a version kiln is still proving elsewhere (a rebuild's canary) is that run's: two
    // runs moving one scale set at once would undo each other (S5, S9). It is left until decided.
    if (!onVersion && !landed && !input.restoreFrom && currentVersion) {
      const there = yield* callActivity(context, Activities.resolveImageVersion, {
        definition: definitionOfImageReference(current) ?? input.definition,
        version: currentVersion,
      });
      if (!there.ok) return result(input, { ...now, state: 'failed', reason: there.error.message });
      // A lead or canary may have to go back; with its version deleted, it could not (S9).
      if (there.value === null && input.mustProve)
        return result(input, {
          ...now,
          state: 'refused',
          reason: `its model names ${currentVersion}, which no longer exists: a version proven here could not be undone`,
        });
      const state = there.value?.tags[KILN_STATE_TAG];
      if (there.value?.excludeFromLatest && state && KILN_IN_PROGRESS.has(state))
        return result(input, {
          ...now,
          state: 'untouched',
          reason: `kiln is proving ${currentVersion} on it (${KILN_STATE_TAG}=${state}): left to that run`,
        });
    }
    if (!onVersion && !landed) {
      decidedOn = { imageReferenceId: current };
      const set = yield* callActivity(context, Activities.setScaleSetImage, {
        scaleSetId: scaleSet.id,
        imageReferenceId: input.versionId,
        ...(read.value.etag ? { ifMatch: read.value.etag } : {}),
      });
      if (!set.ok) return result(input, { ...now, state: 'failed', reason: set.error.message });
      if (set.value === 'conflict') {
        if (attempt < MODEL_WRITE_ATTEMPTS) continue;
        return result(input, {
          ...now,
          state: 'failed',
          reason: `the model kept changing while kiln tried to point it at ${input.version} (${MODEL_WRITE_ATTEMPTS} attempts)`,
        });
      }
      replaySafeLog(
        context,
        `${scaleSet.name}: model now points at ${input.version} (was ${currentVersion ?? current ?? 'marketplace'})`,
      );
    }
    context.df.continueAsNew({
      ...input,
      progress: {
        phase: 'waves',
        previousImageId: current,
        previousVersion: currentVersion,
        movedModel: !onVersion,
        updated: [],
        unhealthy: [],
        pending: [],
        waves: 0,
        healthyAfterMinutes: input.healthyAfterMinutes,
      },
    } satisfies ScaleSetRolloutInput);
    return undefined as never;
  }
}

/**
 * Waits (on the replication sub-orchestration) until the version is in the scale set's region, or
 * says why the rollout cannot go on: the version is not published there (refused), is gone, its
 * replication there failed, or did not complete within the wait that began with the rollout.
 */
function* awaitReplication(
  context: OrchestrationContext,
  input: ScaleSetRolloutInput,
): Generator<Task, { state: 'failed' | 'refused'; reason: string } | undefined, unknown> {
  const { location } = input.scaleSet;
  let waited: WaitForReplicationOutput;
  try {
    waited = yield* outputOf(
      callSubOrchestrator(
        context,
        Orchestrations.waitForReplication,
        {
          definition: input.definition,
          version: input.version,
          regions: [location],
          deadline: new Date(
            Date.parse(input.startedAt) + ROLLOUT_TIMING.replicationWaitHours * 3600_000,
          ).toISOString(),
          pollMinutes: ROLLOUT_TIMING.replicationPollMinutes,
          missingIsFinal: true,
        },
        `${context.df.instanceId}:replication`,
      ),
    );
  } catch (error) {
    return { state: 'failed', reason: `waiting for replication failed: ${(error as Error).message}` };
  }
  const state = waited.regions[location];
  if (state === 'Completed') return undefined;
  if (waited.gone) return { state: 'failed', reason: `version ${input.version} no longer exists` };
  if (state === undefined)
    return { state: 'failed', reason: waited.reason ?? 'replication could not be read' };
  if (state === 'Missing')
    return { state: 'refused', reason: `version ${input.version} is not replicated to ${location}` };
  if (state === 'Failed')
    return { state: 'failed', reason: `replication of ${input.version} to ${location} failed` };
  return {
    state: 'failed',
    reason: `replication of ${input.version} to ${location} did not complete within ${ROLLOUT_TIMING.replicationWaitHours} h`,
  };
}
