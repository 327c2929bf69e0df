/**
 * The two pieces of durable-functions the local runner needs that the package does not export from
 * its root: the replay entry point's context class and the trigger input shape. durable-functions is
 * pinned to an exact version in package.json because of this file.
 */
import { createRequire } from 'node:module';
import type { InvocationContext } from '@azure/functions';

const require = createRequire(import.meta.url);

interface TestingUtils {
  DummyOrchestrationContext: new (
    functionName?: string,
    invocationId?: string,
    logHandler?: (level: string, ...args: unknown[]) => void,
  ) => InvocationContext;
}

export const testingUtils: TestingUtils = require('durable-functions/lib/src/util/testingUtils');

/** What the SDK's orchestrator wrapper (createOrchestrator) resolves with. */
export interface OrchestratorState {
  isDone: boolean;
  actions: unknown[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion: number;
}

export type OrchestratorHandler = (
  trigger: unknown,
  context: InvocationContext,
) => Promise<OrchestratorState>;
export type ActivityHandler = (input: unknown, context: InvocationContext) => Promise<unknown>;

const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

/** The SDK reports orchestrator failure by throwing with its state appended to the message. */
export function stateFromFailure(error: unknown): { message: string; state?: OrchestratorState } {
  const text = error instanceof Error ? error.message : String(error);
  const at = text.indexOf(OUT_OF_PROC_LABEL);
  if (at < 0) return { message: text };
  try {
    const state = JSON.parse(text.slice(at + OUT_OF_PROC_LABEL.length)) as OrchestratorState;
    return { message: state.error ?? text.slice(0, at).trim(), state };
  } catch {
    return { message: text.slice(0, at).trim() };
  }
}

interface TestingUtilsWithOrchestrator extends TestingUtils {
  createOrchestrator: (fn: (context: unknown) => Generator<unknown, unknown, unknown>) => OrchestratorHandler;
}

/** Wraps a generator the way df.app.orchestration() does before registering it (for runner tests). */
export function orchestratorHandler(
  fn: (context: never) => Generator<unknown, unknown, never>,
): OrchestratorHandler {
  return (testingUtils as TestingUtilsWithOrchestrator).createOrchestrator(fn as never);
}
