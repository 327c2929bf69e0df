/**
 * Daily: compares the GitHub Actions runner baked into the newest promoted Linux version with the
 * latest release, and rebuilds the Linux image with the new runner once it has been out for
 * RUNNER_MAX_AGE_DAYS (GitHub refuses runners left un-updated for 30 days).
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { newestPromoted, runnerRefreshDue } from '../domain/release.js';
import { compareVersions, isGalleryVersion } from '../domain/versions.js';
import { Activities, InstanceIds, Orchestrations } from '../names.js';
import { callActivity, replaySafeLog } from './call-activity.js';
import { callSubOrchestrator, outputOf } from './call-sub-orchestrator.js';
import type { RebuildInput } from './rebuild.js';
import { inputOf, type StartedBy } from '../orchestration-contracts.js';
import { CONCLUSIONS } from '../history/run-record.js';
import { recordedRun } from './recorded-run.js';

export interface RunnerReleaseWatchInput {
  startedBy?: StartedBy;
  maxAgeDays: number;
  period: string;
  /** The Linux rebuild to start when the runner is due (runner version filled in here). */
  rebuild: RebuildInput;
}

export interface RunnerReleaseWatchOutput {
  action: 'none' | 'rebuilt' | 'failed';
  baked?: string;
  latest?: string;
  reason: string;
  rebuild?: { instanceId: string; version: string; state: string };
}

export function* runnerReleaseWatchOrchestrator(
  context: OrchestrationContext,
): Generator<Task, RunnerReleaseWatchOutput, unknown> {
  const input = inputOf(context, Orchestrations.runnerReleaseWatch);
  const { startedBy, ...asked } = input;
  return yield* recordedRun(
    context,
    {
      kind: 'runner-release-watch',
      subject: 'actions/runner',
      dryRun: input.rebuild.dryRun,
      startedBy,
      input: asked,
    },
    watch(context, input),
    CONCLUSIONS['runner-release-watch'],
  );
}

function* watch(
  context: OrchestrationContext,
  input: RunnerReleaseWatchInput,
): Generator<Task, RunnerReleaseWatchOutput, unknown> {
  const release = yield* callActivity(context, Activities.readRunnerRelease, null);
  if (!release.ok) return { action: 'failed', reason: release.error.message };
  if (!release.value) return { action: 'none', reason: 'no GitHub fleet is configured' };
  const gallery = yield* callActivity(context, Activities.readGallery, {
    definition: input.rebuild.definition,
  });
  if (!gallery.ok) return { action: 'failed', reason: gallery.error.message };

  const promoted = newestPromoted(gallery.value.versions);
  const bakedTag = promoted?.tags['kiln-runner-version'];
  const baked = bakedTag && isGalleryVersion(bakedTag) ? bakedTag : undefined;
  const { latest, publishedAt, linuxX64Sha256 } = release.value;
  yield* callActivity(context, Activities.recordMetrics, {
    kind: 'runnerRelease',
    ...(baked ? { baked } : {}),
    latest,
    ...(publishedAt ? { latestPublishedAt: publishedAt } : {}),
  });
  const due = runnerRefreshDue({
    baked,
    latest,
    latestPublishedAt: publishedAt,
    now: context.df.currentUtcDateTime.toISOString(),
    maxAgeDays: input.maxAgeDays,
  });
  if (!due)
    return {
      action: 'none',
      baked,
      latest,
      reason:
        baked && compareVersions(baked, latest) >= 0
          ? 'the baked runner is the latest'
          : `runner ${latest} is younger than ${input.maxAgeDays} days`,
    };
  if (!linuxX64Sha256)
    return {
      action: 'failed',
      baked,
      latest,
      reason: `release ${latest} gives no SHA-256 for the linux-x64 package; rebuild with runnerVersion and runnerSha256`,
    };

  const instanceId = InstanceIds.rebuild('linux', input.period, latest);
  replaySafeLog(context, `runner ${latest} is due (baked: ${baked ?? 'unknown'}); starting ${instanceId}`);
  try {
    const rebuilt = yield* outputOf(
      callSubOrchestrator(
        context,
        Orchestrations.rebuild,
        {
          ...input.rebuild,
          startedBy: { by: 'run', instanceId: context.df.instanceId },
          trigger: 'runner-release',
          runnerVersion: latest,
          runnerSha256: linuxX64Sha256,
        },
        instanceId,
      ),
    );
    return {
      action: 'rebuilt',
      baked,
      latest,
      reason: `runner ${latest} replaces ${baked ?? 'the baked runner'}`,
      rebuild: { instanceId, version: rebuilt.version, state: rebuilt.state },
    };
  } catch (error) {
    return {
      action: 'failed',
      baked,
      latest,
      reason: `the rebuild ${instanceId} failed: ${(error as Error).message}`,
    };
  }
}
