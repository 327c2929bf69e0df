/**
 * What each activity takes and gives back, by name. Orchestrators call activities through
 * callActivity (src/orchestrations/call-activity.ts) and the app registers them through
 * registerActivity (src/functions/register-activity.ts), both typed from this map: an input or an
 * output that does not match is a compile error on either side, not a cast that lies at run time.
 * `output` is the value inside the ActivityResult every activity answers (src/activities/result.ts).
 */
import type { ReadSoftwareChangesInput, SoftwareChanges } from './activities/software.js';
import type { AdoAgent, GitHubRunner, ScaleSet, ScaleSetInstance } from './clients/types.js';
import type { ListScaleSetInstancesInput, ManagedScaleSet } from './activities/inventory.js';
import type {
  BuildStarted,
  BuildStatusInput,
  DeleteVersionsInput,
  GalleryState,
  PublishVersionInput,
  ReadGalleryInput,
  RunnerReleaseState,
  StartBuildInput,
  TagVersionInput,
  UpdateVersionInput,
} from './activities/rebuild.js';
import type {
  RemovalOutcome,
  RemoveRegistrationsInput,
  ReimageUnregisteredInput,
  ReimageUnregisteredResult,
} from './activities/remediation.js';
import type { RecordMetricsInput } from './activities/metrics.js';
import type { ReadGitHubDemandInput } from './activities/demand-github.js';
import type { ActivityResult } from './activities/result.js';
import type {
  CheckHealthInput,
  DrainInput,
  DrainResult,
  ImageVersionState,
  ObserveScaleSetInput,
  ReadRegistrationsInput,
  ReadScaleSetInput,
  ResolveImageVersionInput,
  ReturnDrainedInput,
  ScaleSetObservation,
  SetScaleSetImageInput,
  StartUpgradeInput,
} from './activities/rollout.js';
import type { RecordRunEndInput, RecordRunStartOutput } from './activities/run-history.js';
import type { RegistrationState } from './domain/rollout.js';
import type { RunStart } from './history/run-record.js';
import type {
  AcquireLeaseInput,
  RaiseCapacityInput,
  RaiseCapacityResult,
  ReleaseLeaseInput,
  ScaleInInput,
  ScaleInResult,
} from './activities/autoscale.js';
import type { AdoDemand, GitHubDemand } from './demand/types.js';
import type { AcquireOutcome } from './leases/scale-set-leases.js';
import { Activities } from './names.js';

export interface ActivityContracts {
  // Fleet hygiene (src/activities/inventory.ts, remediation.ts).
  [Activities.listManagedScaleSets]: { input: null; output: ManagedScaleSet[] };
  [Activities.listScaleSetInstances]: { input: ListScaleSetInstancesInput; output: ScaleSetInstance[] };
  /** null: no GitHub fleet is configured. */
  [Activities.listGitHubRunners]: { input: null; output: GitHubRunner[] | null };
  /** null: no Azure DevOps fleet is configured. */
  [Activities.listAdoAgents]: { input: null; output: AdoAgent[] | null };
  /** One result per registration of the chunk, in order (see callActivityInChunks). */
  [Activities.removeRegistrations]: {
    input: RemoveRegistrationsInput;
    output: ActivityResult<RemovalOutcome>[];
  };
  [Activities.reimageUnregisteredInstances]: {
    input: ReimageUnregisteredInput;
    output: ReimageUnregisteredResult;
  };

  // Job demand (issue 19, src/activities/demand-ado.ts).
  /** The pool's queued requests and the agents running one; null: no Azure DevOps fleet is configured. */
  [Activities.readAdoDemand]: { input: null; output: AdoDemand | null };

  // Rollout (src/activities/rollout.ts).
  /** null: the version does not exist. */
  [Activities.resolveImageVersion]: { input: ResolveImageVersionInput; output: ImageVersionState | null };
  [Activities.observeScaleSet]: { input: ObserveScaleSetInput; output: ScaleSetObservation };
  [Activities.drainInstances]: { input: DrainInput; output: DrainResult };
  [Activities.setScaleSetImage]: { input: SetScaleSetImageInput; output: 'changed' | 'conflict' };
  /** `modelNow`: the model had moved elsewhere, so nothing was upgraded. */
  [Activities.startUpgrade]: { input: StartUpgradeInput; output: { upgraded: string[]; modelNow?: string } };
  [Activities.checkWaveHealth]: { input: CheckHealthInput; output: ScaleSetObservation };
  [Activities.readRegistrations]: {
    input: ReadRegistrationsInput;
    output: Record<string, RegistrationState>;
  };
  /** null: the scale set no longer exists. */
  [Activities.readScaleSet]: { input: ReadScaleSetInput; output: ScaleSet | null };
  [Activities.returnDrained]: { input: ReturnDrainedInput; output: null };

  // Image pipeline (src/activities/rebuild.ts).
  [Activities.readGallery]: { input: ReadGalleryInput; output: GalleryState };
  [Activities.startBuild]: { input: StartBuildInput; output: BuildStarted };
  [Activities.getBuildStatus]: { input: BuildStatusInput; output: { status: string } };
  [Activities.stopBuild]: { input: BuildStatusInput; output: null };
  /** `version`: the name it was published under (the next free one if the asked one was taken). */
  [Activities.publishVersion]: { input: PublishVersionInput; output: { version: string } };
  [Activities.updateVersion]: { input: UpdateVersionInput; output: null };
  [Activities.tagVersion]: { input: TagVersionInput; output: null };
  /** The versions deleted. */
  [Activities.deleteVersions]: { input: DeleteVersionsInput; output: string[] };
  [Activities.deleteManagedImage]: { input: { managedImageId: string }; output: null };
  /** null: no GitHub fleet is configured. */
  [Activities.readRunnerRelease]: { input: null; output: RunnerReleaseState | null };
  // Software reports (src/activities/software.ts).
  [Activities.readSoftwareChanges]: { input: ReadSoftwareChangesInput; output: SoftwareChanges };

  // Metrics of how a run ended (src/activities/metrics.ts): orchestrators never record one themselves.
  [Activities.recordMetrics]: { input: RecordMetricsInput; output: null };
  // The run history (src/activities/run-history.ts). null: no history is configured.
  [Activities.recordRunStart]: { input: RunStart; output: RecordRunStartOutput | null };
  [Activities.recordRunEnd]: { input: RecordRunEndInput; output: null };
  // Job demand (src/activities/demand-github.ts). null: no GitHub fleet or no job demand table.
  [Activities.readGitHubDemand]: { input: ReadGitHubDemandInput; output: GitHubDemand | null };

  // Capacity on demand (src/activities/autoscale.ts, src/activities/demand-*.ts).
  /** null: no lease table is configured. */
  [Activities.acquireScaleSetLease]: { input: AcquireLeaseInput; output: AcquireOutcome | null };
  [Activities.releaseScaleSetLease]: { input: ReleaseLeaseInput; output: null };
  [Activities.raiseCapacity]: { input: RaiseCapacityInput; output: RaiseCapacityResult };
  [Activities.scaleIn]: { input: ScaleInInput; output: ScaleInResult };
}

export type ActivityName = keyof ActivityContracts;
export type ActivityInput<N extends ActivityName> = ActivityContracts[N]['input'];
export type ActivityOutput<N extends ActivityName> = ActivityContracts[N]['output'];
