/**
 * Registrations of capacity on demand (issue 19): the autoscale orchestration, its activities and
 * the timer (AUTOSCALE_SCHEDULE) that starts it as a singleton. Adapters only: start, log.
 */
import { app, type InvocationContext, type Timer } from './azure-functions.js';
import * as df from 'durable-functions';
import {
  createAcquireScaleSetLeaseActivity,
  createRaiseCapacityActivity,
  createReleaseScaleSetLeaseActivity,
  createScaleInActivity,
} from '../activities/autoscale.js';
import { scheduleSetting } from '../config/schedule-setting.js';
import { Activities, InstanceIds, Orchestrations } from '../names.js';
import { autoscaleOrchestrator, type AutoscaleInput } from '../orchestrations/autoscale.js';
import { registerActivity } from './register-activity.js';
import { registerOrchestration } from './register-orchestration.js';
import { getSettings } from './runtime.js';
import { previousStatus, startSingleton } from './start-run.js';
import { storedOutput, type StartedBy } from '../orchestration-contracts.js';

export function registerAutoscale(): void {
  registerOrchestration(Orchestrations.autoscale, autoscaleOrchestrator);
  registerActivity(Activities.acquireScaleSetLease, createAcquireScaleSetLeaseActivity);
  registerActivity(Activities.releaseScaleSetLease, createReleaseScaleSetLeaseActivity);
  registerActivity(Activities.raiseCapacity, createRaiseCapacityActivity);
  registerActivity(Activities.scaleIn, createScaleInActivity);

  app.timer('autoscaleTimer', {
    schedule: scheduleSetting('AUTOSCALE_SCHEDULE'),
    extraInputs: [df.input.durableClient()],
    handler: async (_timer: Timer, context: InvocationContext) => {
      const outcome = await startAutoscale(df.getClient(context), getSettings().dryRun, {
        by: 'timer',
        timer: 'autoscaleTimer',
      });
      // Every minute: only a look that could not start says so.
      if (!outcome.started)
        context.log(
          `autoscale ${outcome.instanceId} is still ${outcome.status.runtimeStatus}; not starting another`,
        );
    },
  });
}

/** Starts the autoscaler's look as a singleton (one running at a time), carrying what the last one learnt. */
export async function startAutoscale(client: df.DurableClient, dryRun: boolean, startedBy: StartedBy) {
  const settings = getSettings();
  const previous = await previousStatus(client, InstanceIds.autoscale);
  // What the last look learnt (which instances had a runner, since when they are idle).
  const memory = storedOutput(Orchestrations.autoscale, previous)?.memory;
  const input: AutoscaleInput = {
    dryRun,
    startedBy,
    ...(memory ? { memory } : {}),
    bootDeadlineMinutes: settings.hygiene.bootDeadlineMinutes,
    defaultLabels: settings.runnerLabels,
  };
  return startSingleton(client, Orchestrations.autoscale, InstanceIds.autoscale, input, previous);
}
