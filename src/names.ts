/**
 * Every orchestration and activity name in one place. Orchestrators import these constants (and the
 * activities' input/output types), so a renamed activity is a compile error, not a runtime
 * "function not found".
 */
export const Orchestrations = {
  cleanup: 'cleanupOrchestrator',
  rollout: 'rolloutOrchestrator',
  rolloutScaleSet: 'rolloutScaleSetOrchestrator',
  rebuild: 'rebuildOrchestrator',
  waitForBuild: 'waitForBuildOrchestrator',
  waitForReplication: 'waitForReplicationOrchestrator',
  runnerReleaseWatch: 'runnerReleaseWatchOrchestrator',
} as const;

export const Activities = {
  listManagedScaleSets: 'listManagedScaleSets',
  listScaleSetInstances: 'listScaleSetInstances',
  listGitHubRunners: 'listGitHubRunners',
  listAdoAgents: 'listAdoAgents',
  removeRegistrations: 'removeRegistrations',
  reimageUnregisteredInstances: 'reimageUnregisteredInstances',
  resolveImageVersion: 'resolveImageVersion',
  observeScaleSet: 'observeScaleSet',
  drainInstances: 'drainInstances',
  setScaleSetImage: 'setScaleSetImage',
  startUpgrade: 'startUpgrade',
  checkWaveHealth: 'checkWaveHealth',
  readRegistrations: 'readRegistrations',
  readScaleSet: 'readScaleSet',
  returnDrained: 'returnDrained',
  readGallery: 'readGallery',
  startBuild: 'startBuild',
  getBuildStatus: 'getBuildStatus',
  stopBuild: 'stopBuild',
  publishVersion: 'publishVersion',
  updateVersion: 'updateVersion',
  tagVersion: 'tagVersion',
  deleteVersions: 'deleteVersions',
  deleteManagedImage: 'deleteManagedImage',
  readRunnerRelease: 'readRunnerRelease',
  readSoftwareChanges: 'readSoftwareChanges',
  recordMetrics: 'recordMetrics',
  recordRunStart: 'recordRunStart',
  recordRunEnd: 'recordRunEnd',
  readGitHubDemand: 'readGitHubDemand',
} as const;

/** Instance ids that make runs singletons (S5). */
export const InstanceIds = {
  cleanup: 'kiln-cleanup',
  /** One rebuild per image and month (S5); a runner-release rebuild is also one per runner version. */
  rebuild: (image: string, period: string, runnerVersion?: string) =>
    `rebuild-${image}-${period}${runnerVersion ? `-runner-${runnerVersion}` : ''}`.replace(
      /[^A-Za-z0-9._-]/g,
      '_',
    ),
  runnerReleaseWatch: 'kiln-runner-release-watch',
  /**
   * One rollout per image definition and version, whoever asks (HTTP, Event Grid, a rebuild). A dry
   * run has its own id, so planning a version never stops it from being rolled later.
   */
  rollout: (definition: string, version: string, dryRun = false) =>
    `${dryRun ? 'plan-' : ''}rollout-${definition}-${version}`.replace(/[^A-Za-z0-9._-]/g, '_'),
} as const;
