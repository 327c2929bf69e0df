/**
 * Every orchestration and activity name in one place. Orchestrators import these constants (and the
 * activities' input/output types), so a renamed activity is a compile error, not a runtime
 * "function not found".
 */
export const Orchestrations = {
  cleanup: 'cleanupOrchestrator',
  rollout: 'rolloutOrchestrator',
  rolloutScaleSet: 'rolloutScaleSetOrchestrator',
} as const;

export const Activities = {
  listManagedScaleSets: 'listManagedScaleSets',
  listScaleSetInstances: 'listScaleSetInstances',
  listGitHubRunners: 'listGitHubRunners',
  listAdoAgents: 'listAdoAgents',
  removeGitHubRunner: 'removeGitHubRunner',
  removeAdoAgent: 'removeAdoAgent',
  reimageUnregisteredInstances: 'reimageUnregisteredInstances',
  resolveImageVersion: 'resolveImageVersion',
  observeScaleSet: 'observeScaleSet',
  drainInstances: 'drainInstances',
  setScaleSetImage: 'setScaleSetImage',
  startUpgrade: 'startUpgrade',
  checkWaveHealth: 'checkWaveHealth',
} as const;

/** Instance ids that make runs singletons (S5). */
export const InstanceIds = {
  cleanup: 'kiln-cleanup',
  /**
   * One rollout per image definition and version, whoever asks (HTTP, Event Grid, a rebuild). A dry
   * run has its own id, so planning a version never stops it from being rolled later.
   */
  rollout: (definition: string, version: string, dryRun = false) =>
    `${dryRun ? 'plan-' : ''}rollout-${definition}-${version}`.replace(/[^A-Za-z0-9._-]/g, '_'),
} as const;
