/**
 * Registers an orchestrator under its name. It must give back what its contract says
 * (src/orchestration-contracts.ts), the same contract parents start it by.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { OrchestrationName, OrchestrationOutput } from '../orchestration-contracts.js';

export function registerOrchestration<N extends OrchestrationName>(
  name: N,
  orchestrator: (context: OrchestrationContext) => Generator<Task, OrchestrationOutput<N>, unknown>,
): void {
  df.app.orchestration(name, orchestrator);
}
