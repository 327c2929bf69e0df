/**
 * Registrations of the rollout flow: its orchestrations and activities, POST /api/rollouts, and the
 * Event Grid trigger for gallery image versions written outside kiln. Adapters only.
 */
import {
  app,
  HttpResponse,
  type EventGridEvent,
  type HttpRequest,
  type InvocationContext,
} from './azure-functions.js';
import * as df from 'durable-functions';
import type { DurableOrchestrationStatus } from 'durable-functions';
import {
  createCheckWaveHealthActivity,
  createDrainInstancesActivity,
  createObserveScaleSetActivity,
  createReadRegistrationsActivity,
  createReadScaleSetActivity,
  createResolveImageVersionActivity,
  createReturnDrainedActivity,
  createSetScaleSetImageActivity,
  createStartUpgradeActivity,
} from '../activities/rollout.js';
import { readGalleryEvent } from '../domain/gallery-event.js';
import { Activities, InstanceIds, Orchestrations } from '../names.js';
import { rolloutOrchestrator, type RolloutInput, type RolloutOutput } from '../orchestrations/rollout.js';
import { rolloutScaleSetOrchestrator } from '../orchestrations/rollout-scale-set.js';
import { registerActivity } from './register-activity.js';
import { registerOrchestration } from './register-orchestration.js';
import { parseRolloutRequest } from './parse-rollout-request.js';
import { getSettings } from './runtime.js';
import { previousStatus, startResponse, startSingleton, startedOverHttp } from './start-run.js';

export function registerRollout(): void {
  registerOrchestration(Orchestrations.rollout, rolloutOrchestrator);
  registerOrchestration(Orchestrations.rolloutScaleSet, rolloutScaleSetOrchestrator);
  registerActivity(Activities.resolveImageVersion, createResolveImageVersionActivity);
  registerActivity(Activities.observeScaleSet, createObserveScaleSetActivity);
  registerActivity(Activities.drainInstances, createDrainInstancesActivity);
  registerActivity(Activities.setScaleSetImage, createSetScaleSetImageActivity);
  registerActivity(Activities.startUpgrade, createStartUpgradeActivity);
  registerActivity(Activities.checkWaveHealth, createCheckWaveHealthActivity);
  registerActivity(Activities.readRegistrations, createReadRegistrationsActivity);
  registerActivity(Activities.readScaleSet, createReadScaleSetActivity);
  registerActivity(Activities.returnDrained, createReturnDrainedActivity);

  app.http('startRollout', {
    route: 'rollouts',
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const settings = getSettings();
      const parsed = parseRolloutRequest(await request.text(), settings.gallery.definitions);
      if (!parsed.ok) return new HttpResponse({ status: parsed.status, jsonBody: { error: parsed.message } });
      const { definition, version, scaleSets, dryRun, regionOrder, allowOlder, ...options } = parsed.value;
      const { image: _image, ...rolloutOptions } = options;
      const input: RolloutInput = {
        definition,
        version,
        source: 'http',
        startedBy: startedOverHttp(request),
        dryRun: dryRun || settings.dryRun,
        scaleSets,
        regionOrder,
        options: rolloutOptions,
        canaryTag: settings.canaryTag,
        ...(allowOlder ? { allowOlder } : {}),
      };
      const client = df.getClient(context);
      const outcome = await startSingleton(
        client,
        Orchestrations.rollout,
        InstanceIds.rollout(definition, version, input.dryRun),
        input,
      );
      if (outcome.started)
        context.log(`started rollout ${outcome.instanceId}${input.dryRun ? ' (dry run)' : ''}`);
      return startResponse(client, request, outcome, `a rollout of ${definition} ${version}`);
    },
  });

  app.eventGrid('galleryVersionEvents', {
    extraInputs: [df.input.durableClient()],
    handler: async (event: EventGridEvent, context: InvocationContext) => {
      const settings = getSettings();
      const reading = readGalleryEvent(event, {
        subscriptionId: settings.subscriptionId,
        resourceGroup: settings.gallery.resourceGroup,
        name: settings.gallery.name,
        definitions: settings.gallery.definitions,
      });
      if (reading.kind === 'ignored') {
        // Acknowledged, not retried: Event Grid would redeliver a failure for a day.
        // (A delivery that is not even an object must not throw: a failure would be redelivered for a day.)
        context.log(`event ${(event as { id?: unknown } | null)?.id ?? '?'} ignored: ${reading.reason}`);
        return;
      }
      const instanceId = InstanceIds.rollout(reading.definition, reading.version, settings.dryRun);
      const client = df.getClient(context);
      const previous = await previousStatus(client, instanceId);
      if (previous && !mayRollAgain(previous)) {
        // Deliveries repeat and arrive out of order: a version whose rollout runs or ran to a decision
        // starts nothing (S5). One that failed, or skipped a version not ready then, is tried again.
        context.log(
          `event ${reading.eventId}: ${reading.definition} ${reading.version} already has rollout ${instanceId} (${previous.runtimeStatus}); nothing started`,
        );
        return;
      }
      const input: RolloutInput = {
        definition: reading.definition,
        version: reading.version,
        source: 'eventgrid',
        startedBy: { by: 'eventgrid', eventId: reading.eventId },
        dryRun: settings.dryRun,
        canaryTag: settings.canaryTag,
      };
      const outcome = await startSingleton(client, Orchestrations.rollout, instanceId, input, previous);
      context.log(
        outcome.started
          ? `event ${reading.eventId}: started rollout ${instanceId}`
          : `event ${reading.eventId}: rollout ${instanceId} already running`,
      );
    },
  });
}

/**
 * Whether a rollout that already ran may run again for a new delivery: a failed run must not block
 * its own retry (a start lost to a short outage would otherwise never be retried), and a version
 * skipped while excluded or still being published may be ready now. A rollout that succeeded, is
 * partial or was rolled back has decided; one an operator terminated stays stopped.
 */
export function mayRollAgain(previous: DurableOrchestrationStatus): boolean {
  const status = String(previous.runtimeStatus);
  if (status === 'Failed') return true;
  if (status !== 'Completed') return false;
  const state = (previous.output as Partial<RolloutOutput> | null | undefined)?.state;
  return state === 'failed' || state === 'skipped';
}
