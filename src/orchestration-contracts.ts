/**
 * What each orchestrator takes and gives back, by name. Parents start sub-orchestrations through
 * callSubOrchestrator (src/orchestrations/call-sub-orchestrator.ts) and the app registers
 * orchestrators through registerOrchestration (src/functions/register-orchestration.ts), both typed
 * from this map: a child's input or output that does not match is a compile error, not a cast.
 */
import type { AutoscaleInput, AutoscaleOutput } from './orchestrations/autoscale.js';
import type { CleanupInput, CleanupOutput } from './orchestrations/cleanup.js';
import type { RebuildInput, RebuildOutput } from './orchestrations/rebuild.js';
import type { RolloutInput, RolloutOutput } from './orchestrations/rollout.js';
import type { ScaleSetRolloutInput, ScaleSetRolloutResult } from './orchestrations/rollout-scale-set.js';
import type {
  RunnerReleaseWatchInput,
  RunnerReleaseWatchOutput,
} from './orchestrations/runner-release-watch.js';
import type {
  WaitForBuildInput,
  WaitForBuildOutput,
  WaitForReplicationInput,
  WaitForReplicationOutput,
} from './orchestrations/wait.js';
import type { OrchestrationContext } from 'durable-functions';
import { Orchestrations } from './names.js';

export interface OrchestrationContracts {
  [Orchestrations.cleanup]: { input: CleanupInput; output: CleanupOutput };
  [Orchestrations.rollout]: { input: RolloutInput; output: RolloutOutput };
  [Orchestrations.rolloutScaleSet]: { input: ScaleSetRolloutInput; output: ScaleSetRolloutResult };
  [Orchestrations.rebuild]: { input: RebuildInput; output: RebuildOutput };
  [Orchestrations.waitForBuild]: { input: WaitForBuildInput; output: WaitForBuildOutput };
  [Orchestrations.waitForReplication]: { input: WaitForReplicationInput; output: WaitForReplicationOutput };
  [Orchestrations.runnerReleaseWatch]: { input: RunnerReleaseWatchInput; output: RunnerReleaseWatchOutput };
  [Orchestrations.autoscale]: { input: AutoscaleInput; output: AutoscaleOutput };
}

/**
 * Who or what started a run, as its starter knows it: a timer (the function's name), an HTTP request
 * (the client its User-Agent names, e.g. kiln-cli/0.1.0 — informative, the function key names no
 * one), an Event Grid event, or another run. The run history records it (src/history/run-record.ts);
 * absent in the input of a run started before kiln recorded it.
 */
export type StartedBy =
  | { by: 'timer'; timer: string }
  | { by: 'http'; client?: string }
  | { by: 'eventgrid'; eventId: string }
  | { by: 'run'; instanceId: string };

export type OrchestrationName = keyof OrchestrationContracts;
export type OrchestrationInput<N extends OrchestrationName> = OrchestrationContracts[N]['input'];
export type OrchestrationOutput<N extends OrchestrationName> = OrchestrationContracts[N]['output'];

/**
 * An orchestrator's own input, as its contract says: the replay engine hands it over untyped, and
 * this is the one place it is taken to be what the parent or the starter sent (both typed above).
 */
export function inputOf<N extends OrchestrationName>(
  context: OrchestrationContext,
  _name: N,
): OrchestrationInput<N> {
  return context.df.getInput() as OrchestrationInput<N>;
}

/**
 * The output a finished run of orchestrator `name` stored, as its contract says; undefined when the
 * status is of another orchestrator or holds no output yet.
 */
export function storedOutput<N extends OrchestrationName>(
  name: N,
  status: { name?: string; output?: unknown } | undefined,
): OrchestrationOutput<N> | undefined {
  if (!status || status.output === undefined || status.output === null) return undefined;
  if (status.name !== undefined && status.name !== name) return undefined;
  return status.output as OrchestrationOutput<N>;
}
