/**
 * Starting sub-orchestrations typed by their contracts (src/orchestration-contracts.ts): the input
 * must be what the child takes, and its task says what the child gives back.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import type {
  OrchestrationInput,
  OrchestrationName,
  OrchestrationOutput,
} from '../orchestration-contracts.js';

/** A sub-orchestration's task: its result, once done, is the child's output. */
export interface SubOrchestrationTask<O> extends Task {
  result?: O;
}

export function callSubOrchestrator<N extends OrchestrationName>(
  context: OrchestrationContext,
  name: N,
  input: OrchestrationInput<N>,
  instanceId: string,
): SubOrchestrationTask<OrchestrationOutput<N>> {
  // The child answers its contract's output: registerOrchestration holds its orchestrator to it.
  return context.df.callSubOrchestrator(name, input, instanceId) as SubOrchestrationTask<
    OrchestrationOutput<N>
  >;
}

/** A sub-orchestration's output, awaited (or read, once done); throws what the child threw. */
export function* outputOf<O>(task: SubOrchestrationTask<O>): Generator<Task, O, unknown> {
  // The replay engine answers a yielded task with its result: this task's is the child's output.
  return (yield task) as O;
}
