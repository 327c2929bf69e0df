/**
 * Registrations of job demand (issue 19): the activities that read what waits for a runner or
 * agent, for the autoscale orchestration to call.
 */
import { createReadAdoDemandActivity } from '../activities/demand-ado.js';
import { Activities } from '../names.js';
import { registerActivity } from './register-activity.js';

export function registerDemandActivities(): void {
  registerActivity(Activities.readAdoDemand, createReadAdoDemandActivity);
}
