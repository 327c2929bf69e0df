/**
 * Registrations of the image pipeline: the rebuild orchestration, its polling sub-orchestrations and
 * activities, the monthly timer (REBUILD_SCHEDULE), POST /api/rebuilds, and the daily runner-release
 * watch (RUNNER_RELEASE_SCHEDULE). Adapters only: parse, validate, start, respond.
 */
import { createReadSoftwareChangesActivity } from '../activities/software.js';
import * as df from 'durable-functions';
import {
  createDeleteManagedImageActivity,
  createDeleteVersionsActivity,
  createGetBuildStatusActivity,
  createPublishVersionActivity,
  createReadGalleryActivity,
  createReadRunnerReleaseActivity,
  createStartBuildActivity,
  createStopBuildActivity,
  createTagVersionActivity,
  createUpdateVersionActivity,
} from '../activities/rebuild.js';
import type { Settings } from '../config/load-settings.js';
import { scheduleSetting } from '../config/schedule-setting.js';
import { rebuildPeriod, type ImageKind } from '../domain/release.js';
import { Activities, InstanceIds, Orchestrations } from '../names.js';
import { rebuildOrchestrator, type RebuildInput } from '../orchestrations/rebuild.js';
import {
  runnerReleaseWatchOrchestrator,
  type RunnerReleaseWatchInput,
} from '../orchestrations/runner-release-watch.js';
import { waitForBuildOrchestrator, waitForReplicationOrchestrator } from '../orchestrations/wait.js';
import {
  app,
  HttpResponse,
  type HttpRequest,
  type InvocationContext,
  type Timer,
} from './azure-functions.js';
import { parseRebuildRequest, type RebuildRequest } from './parse-rebuild-request.js';
import { registerActivity } from './register-activity.js';
import { registerOrchestration } from './register-orchestration.js';
import { getSettings, now } from './runtime.js';
import { startSingleton, startedOverHttp, statusLinks, type StartOutcome } from './start-run.js';
import type { StartedBy } from '../orchestration-contracts.js';
import { ACTIVE_RUNTIME_STATUSES } from '../run-status.js';
import linuxToolset from '../../packer/linux/toolset.json' with { type: 'json' };
import windowsToolset from '../../packer/windows/toolset.json' with { type: 'json' };

/** The marketplace image each build starts from, as publisher:offer:sku (kept once, in the Packer toolsets). */
const BASE_IMAGES: Record<ImageKind, string> = {
  linux: urn(linuxToolset.baseImage),
  windows: urn(windowsToolset.baseImage),
};
function urn(image: { publisher: string; offer: string; sku: string }): string {
  return `${image.publisher}:${image.offer}:${image.sku}`;
}

export function registerRebuild(): void {
  registerOrchestration(Orchestrations.rebuild, rebuildOrchestrator);
  registerOrchestration(Orchestrations.waitForBuild, waitForBuildOrchestrator);
  registerOrchestration(Orchestrations.waitForReplication, waitForReplicationOrchestrator);
  registerOrchestration(Orchestrations.runnerReleaseWatch, runnerReleaseWatchOrchestrator);
  registerActivity(Activities.readGallery, createReadGalleryActivity);
  registerActivity(Activities.startBuild, createStartBuildActivity);
  registerActivity(Activities.getBuildStatus, createGetBuildStatusActivity);
  registerActivity(Activities.stopBuild, createStopBuildActivity);
  registerActivity(Activities.publishVersion, createPublishVersionActivity);
  registerActivity(Activities.updateVersion, createUpdateVersionActivity);
  registerActivity(Activities.tagVersion, createTagVersionActivity);
  registerActivity(Activities.deleteVersions, createDeleteVersionsActivity);
  registerActivity(Activities.deleteManagedImage, createDeleteManagedImageActivity);
  registerActivity(Activities.readRunnerRelease, createReadRunnerReleaseActivity);
  registerActivity(Activities.readSoftwareChanges, createReadSoftwareChangesActivity);

  app.timer('rebuildTimer', {
    schedule: scheduleSetting('REBUILD_SCHEDULE'),
    extraInputs: [df.input.durableClient()],
    handler: async (_timer: Timer, context: InvocationContext) => {
      const settings = getSettings();
      const client = df.getClient(context);
      for (const image of ['linux', 'windows'] as ImageKind[]) {
        const other = await runningRebuild(client, image);
        if (other) {
          context.log(`rebuild ${other} of ${image} is running; not starting another (S5)`);
          continue;
        }
        const outcome = await startRebuild(
          client,
          settings,
          image,
          { images: [image], dryRun: settings.dryRun },
          'timer',
          now(),
          { by: 'timer', timer: 'rebuildTimer' },
        );
        context.log(
          outcome.started
            ? `started rebuild ${outcome.instanceId}`
            : `rebuild ${outcome.instanceId} is still ${outcome.status.runtimeStatus}; not starting another`,
        );
      }
    },
  });

  app.timer('runnerReleaseTimer', {
    schedule: scheduleSetting('RUNNER_RELEASE_SCHEDULE'),
    extraInputs: [df.input.durableClient()],
    handler: async (_timer: Timer, context: InvocationContext) => {
      const settings = getSettings();
      if (!settings.github) return;
      const client = df.getClient(context);
      const at = now();
      const linux = await runningRebuild(client, 'linux');
      if (linux) {
        context.log(`the Linux rebuild ${linux} is running; the runner release is checked again tomorrow`);
        return;
      }
      const input: RunnerReleaseWatchInput = {
        startedBy: { by: 'timer', timer: 'runnerReleaseTimer' },
        maxAgeDays: settings.rebuild.runnerMaxAgeDays,
        period: rebuildPeriod(at.toISOString()),
        rebuild: rebuildInput(settings, 'linux', { dryRun: settings.dryRun }, 'runner-release'),
      };
      const outcome = await startSingleton(
        client,
        Orchestrations.runnerReleaseWatch,
        InstanceIds.runnerReleaseWatch,
        input,
      );
      if (outcome.started) context.log('started the runner release watch');
    },
  });

  app.http('startRebuild', {
    route: 'rebuilds',
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const parsed = parseRebuildRequest(await request.text());
      if (!parsed.ok) return new HttpResponse({ status: parsed.status, jsonBody: { error: parsed.message } });
      const settings = getSettings();
      if (settings.gallery.targetRegions.length === 0) {
        return new HttpResponse({
          status: 500,
          jsonBody: { error: 'TARGET_REGIONS is not set: kiln does not know where to build and replicate' },
        });
      }
      const client = df.getClient(context);
      const at = now();
      // One rebuild per image at a time (S5): refuse the whole request if any image is already rebuilding.
      const running = [];
      for (const image of parsed.value.images) {
        const id = await runningRebuild(client, image);
        if (id)
          running.push({
            image,
            id,
            statusQueryGetUri: statusLinks(client, request, id).statusQueryGetUri,
          });
      }
      if (running.length > 0) {
        return new HttpResponse({
          status: 409,
          headers: { Location: running[0]!.statusQueryGetUri },
          jsonBody: {
            error: `a rebuild of ${running.map((r) => r.image).join(' and ')} is already running`,
            runs: running,
          },
        });
      }
      const runs = [];
      for (const image of parsed.value.images) {
        const outcome = await startRebuild(
          client,
          settings,
          image,
          parsed.value,
          'http',
          at,
          startedOverHttp(request),
        );
        runs.push({
          image,
          started: outcome.started,
          ...statusLinks(client, request, outcome.instanceId),
        });
        context.log(
          `started rebuild ${outcome.instanceId}${parsed.value.dryRun || settings.dryRun ? ' (dry run)' : ''}`,
        );
      }
      return new HttpResponse({
        status: 202,
        headers: { Location: runs[0]!.statusQueryGetUri },
        jsonBody: { runs },
      });
    },
  });
}

/**
 * The instance id of a rebuild of this image that is running, whatever started it (the monthly
 * timer, a request, or the runner-release watch, whose ids differ): one rebuild per image (S5).
 * Plans (dry runs) change nothing and block nothing.
 */
async function runningRebuild(client: df.DurableClient, image: ImageKind): Promise<string | undefined> {
  const prefix = InstanceIds.rebuild(image, '');
  const active = (await client.getStatusBy({
    runtimeStatus: [...ACTIVE_RUNTIME_STATUSES] as df.OrchestrationRuntimeStatus[],
  })) as { instanceId: string; name: string }[];
  return active.find(
    (s) =>
      s.name === Orchestrations.rebuild &&
      s.instanceId.startsWith(prefix) &&
      !s.instanceId.includes(':') &&
      !s.instanceId.endsWith('-plan'),
  )?.instanceId;
}

function startRebuild(
  client: df.DurableClient,
  settings: Settings,
  image: ImageKind,
  request: RebuildRequest,
  trigger: RebuildInput['trigger'],
  at: Date,
  startedBy: StartedBy,
): Promise<StartOutcome> {
  const input = { ...rebuildInput(settings, image, request, trigger), startedBy };
  const id = InstanceIds.rebuild(image, rebuildPeriod(at.toISOString())) + (input.dryRun ? '-plan' : '');
  return startSingleton(client, Orchestrations.rebuild, id, input);
}

function rebuildInput(
  settings: Settings,
  image: ImageKind,
  request: Pick<RebuildRequest, 'dryRun' | 'runnerVersion' | 'runnerSha256' | 'agentVersion'>,
  trigger: RebuildInput['trigger'],
): RebuildInput {
  return {
    image,
    definition: settings.gallery.definitions[image],
    dryRun: request.dryRun || settings.dryRun,
    trigger,
    runnerVersion: request.runnerVersion,
    runnerSha256: request.runnerSha256,
    agentVersion: request.agentVersion ?? (settings.packer.agentVersion || undefined),
    policy: {
      buildTimeoutHours: settings.rebuild.buildTimeoutHours,
      canarySoakMinutes: settings.rebuild.canarySoakMinutes,
      pruneKeep: settings.rebuild.pruneKeep,
      imageEolDays: settings.rebuild.imageEolDays,
      regions: settings.gallery.targetRegions.map((r) => r.name),
      canaryTag: settings.canaryTag,
      baseImage: BASE_IMAGES[image],
      promotionGate: settings.rebuild.promotionGate,
      approvalTimeoutHours: settings.rebuild.approvalTimeoutHours,
    },
  };
}
