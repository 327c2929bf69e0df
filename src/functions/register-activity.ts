/** Registers an activity whose handler is built, on first use, from the process's clients and settings. */
import * as df from 'durable-functions';
import type { ActivityDeps } from '../activities/deps.js';
import { getRuntime } from './runtime.js';

export function registerActivity<I, O>(
  name: string,
  factory: (deps: ActivityDeps) => (input: I) => Promise<O>,
): void {
  df.app.activity(name, { handler: (input: unknown) => factory(getRuntime())(input as I) });
}
