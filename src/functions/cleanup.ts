/**
 * Registrations of fleet hygiene: the cleanup orchestration and its activities, the timer
 * (CLEANUP_SCHEDULE) and POST /api/cleanups. Adapters only: parse, validate, start, respond.
 */
import {
  app,
  HttpResponse,
  type HttpRequest,
  type InvocationContext,
  type Timer,
} from './azure-functions.js';
import * as df from 'durable-functions';
import {
  createListAdoAgentsActivity,
  createListGitHubRunnersActivity,
  createListManagedScaleSetsActivity,
  createListScaleSetInstancesActivity,
} from '../activities/inventory.js';
import {
  createReimageUnregisteredInstancesActivity,
  createRemoveRegistrationsActivity,
} from '../activities/remediation.js';
import { scheduleSetting } from '../config/schedule-setting.js';
import { Activities, InstanceIds, Orchestrations } from '../names.js';
import { cleanupOrchestrator, type CleanupInput } from '../orchestrations/cleanup.js';
import { parseCleanupRequest } from './parse-cleanup-request.js';
import { registerActivity } from './register-activity.js';
import { registerOrchestration } from './register-orchestration.js';
import { getSettings } from './runtime.js';
import { previousStatus, startResponse, startSingleton, startedOverHttp } from './start-run.js';
import { storedOutput, type StartedBy } from '../orchestration-contracts.js';

export function registerCleanup(): void {
  registerOrchestration(Orchestrations.cleanup, cleanupOrchestrator);

  registerActivity(Activities.listManagedScaleSets, createListManagedScaleSetsActivity);
  registerActivity(Activities.listScaleSetInstances, createListScaleSetInstancesActivity);
  registerActivity(Activities.listGitHubRunners, createListGitHubRunnersActivity);
  registerActivity(Activities.listAdoAgents, createListAdoAgentsActivity);
  registerActivity(Activities.removeRegistrations, createRemoveRegistrationsActivity);
  registerActivity(Activities.reimageUnregisteredInstances, createReimageUnregisteredInstancesActivity);

  app.timer('cleanupTimer', {
    schedule: scheduleSetting('CLEANUP_SCHEDULE'),
    extraInputs: [df.input.durableClient()],
    handler: async (_timer: Timer, context: InvocationContext) => {
      const outcome = await startCleanup(df.getClient(context), getSettings().dryRun, {
        by: 'timer',
        timer: 'cleanupTimer',
      });
      if (outcome.started) context.log(`started cleanup ${outcome.instanceId}`);
      else
        context.log(
          `cleanup ${outcome.instanceId} is still ${outcome.status.runtimeStatus}; not starting another`,
        );
    },
  });

  app.http('startCleanup', {
    route: 'cleanups',
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: async (request: HttpRequest, context: InvocationContext) => {
      const parsed = parseCleanupRequest(await request.text());
      if (!parsed.ok) return new HttpResponse({ status: parsed.status, jsonBody: { error: parsed.message } });
      const client = df.getClient(context);
      const dryRun = parsed.value.dryRun || getSettings().dryRun;
      const outcome = await startCleanup(client, dryRun, startedOverHttp(request));
      if (outcome.started) context.log(`started cleanup ${outcome.instanceId}${dryRun ? ' (dry run)' : ''}`);
      return startResponse(client, request, outcome, 'a cleanup');
    },
  });
}

async function startCleanup(client: df.DurableClient, dryRun: boolean, startedBy: StartedBy) {
  const settings = getSettings();
  const previous = await previousStatus(client, InstanceIds.cleanup);
  // What the last run learnt (when registrations went offline) lives in its durable output.
  const memory = storedOutput(Orchestrations.cleanup, previous)?.memory;
  const input: CleanupInput = {
    dryRun,
    startedBy,
    memory,
    offlineGraceMinutes: settings.hygiene.offlineGraceMinutes,
    bootDeadlineMinutes: settings.hygiene.bootDeadlineMinutes,
  };
  return startSingleton(client, Orchestrations.cleanup, InstanceIds.cleanup, input, previous);
}
