/**
 * Registers an activity whose handler is built, on first use, from the process's clients and
 * settings. The handler must take and answer what the activity's contract says
 * (src/activity-contracts.ts), the same contract the orchestrators call it by.
 */
import * as df from 'durable-functions';
import type { ActivityDeps } from '../activities/deps.js';
import type { ActivityResult } from '../activities/result.js';
import type { ActivityInput, ActivityName, ActivityOutput } from '../activity-contracts.js';
import { getRuntime } from './runtime.js';

export function registerActivity<N extends ActivityName>(
  name: N,
  factory: (deps: ActivityDeps) => (input: ActivityInput<N>) => Promise<ActivityResult<ActivityOutput<N>>>,
): void {
  // The input is what an orchestrator passed to callActivity under this name: its contract's input.
  df.app.activity(name, { handler: (input: unknown) => factory(getRuntime())(input as ActivityInput<N>) });
}
