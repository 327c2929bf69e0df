/**
 * Every orchestration and activity name in one place. Orchestrators import these constants (and the
 * activities' input/output types), so a renamed activity is a compile error, not a runtime
 * "function not found".
 */
export const Orchestrations = {
  cleanup: 'cleanupOrchestrator',
} as const;

export const Activities = {
  listManagedScaleSets: 'listManagedScaleSets',
  listScaleSetInstances: 'listScaleSetInstances',
  listGitHubRunners: 'listGitHubRunners',
  listAdoAgents: 'listAdoAgents',
  removeGitHubRunner: 'removeGitHubRunner',
  removeAdoAgent: 'removeAdoAgent',
  reimageUnregisteredInstances: 'reimageUnregisteredInstances',
} as const;

/** Instance ids that make runs singletons (S5). */
export const InstanceIds = {
  cleanup: 'kiln-cleanup',
} as const;
