/**
 * The shapes of the fake cloud's state (world-state.ts holds it): scale sets and instances, runner
 * and agent registrations, jobs, gallery versions, Packer executions, long-running operations and the
 * ledger of what happened; the resource names of the world, and how regions and ids are written.
 */
import type { ImageKind } from '../scenario/types.js';

export interface LedgerEvent {
  at: string;
  service: string;
  message: string;
}

/** The safety invariants the simulator judges (DESIGN.md: S1-S5, S8 forward only, S9 nothing half-done). */
export type Invariant = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S8' | 'S9';

/** A broken invariant: which, about what (a scale set, instance, version, run), what happened, when. */
export interface Violation {
  invariant: Invariant;
  subject: string;
  detail: string;
  at: string;
}

export interface Ledger {
  jobsInterrupted: number;
  foreignTouched: number;
  deleted: { githubRunners: string[]; adoAgents: string[]; galleryVersions: string[]; instances: string[] };
  events: LedgerEvent[];
  /** Invariants kiln broke, judged from the world's truth whatever kiln reports. */
  violations: Violation[];
}

/** Who changed the world: kiln (through the HTTP fakes) or the scenario's outside changes. */
export type Actor = 'kiln' | 'outside';

export interface WorldInstance {
  instanceId: string;
  /** VM resource name `<scaleSet>_<instanceId>`. */
  name: string;
  computerName: string;
  vmId: string;
  imageId: string;
  latestModelApplied: boolean;
  provisioningState: 'Creating' | 'Updating' | 'Succeeded' | 'Deleting' | 'Failed';
  powerState: 'running' | 'starting' | 'stopped' | 'deallocated';
  /** Virtual ms when provisioning last finished. */
  provisionedAt: number;
  timeCreated: number;
  /** Bumped by every reimage/upgrade/delete so that stale scheduled work does nothing. */
  epoch: number;
  /** The instance's last move between versions, and who made it (S8: kiln may undo its own move). */
  lastMove?: { from: string; to: string; by: Actor };
}

export interface WorldScaleSet {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  kind: ImageKind;
  managed: boolean;
  canary: boolean;
  tags: Record<string, string>;
  computerNamePrefix: string;
  /** Model imageReference.id. */
  imageId: string;
  instances: Map<string, WorldInstance>;
  nextInstanceId: number;
  vmSize: string;
  /** Scenario scale sets are Uniform with a Manual upgrade policy; tests change these to see kiln refuse. */
  orchestrationMode: 'Uniform' | 'Flexible';
  upgradeMode: 'Manual' | 'Automatic' | 'Rolling';
  /** Bumped by every write of the model; ARM answers it as the scale set's ETag. */
  etag: number;
  /** Versions the model ran since the run began or since the last outside change of it (S8). */
  ranSince: Set<string>;
  /** The last change of the model: kiln may move back only the change it made itself, and only while it is the last (S8). */
  lastModelChange?: { from: string; to: string; by: Actor };
  /** Set while the model's last change was kiln's rollback to this version: instances may follow it back. */
  rolledBackTo?: string;
}

export interface WorldRunner {
  id: number;
  name: string;
  os: 'linux' | 'windows' | 'macos';
  status: 'online' | 'offline';
  busy: boolean;
  labels: { id: number; name: string; type: 'read-only' | 'custom' }[];
  foreign: boolean;
  ephemeral: boolean;
  version: string;
  /** A runner registered by generate-jitconfig: the secret its encoded config carries, and whether a runner started with it. */
  jit?: { secret: string; started: boolean };
}

/** An Azure DevOps job request: queued (no assignTime) until an agent takes it as its assignedRequest. */
export interface AdoJobRequest {
  requestId: number;
  jobId: string;
  planId: string;
  planType: string;
  queueTime: string;
  assignTime?: string;
  receiveTime?: string;
  finishTime?: string;
  result?: string;
  definition?: { id: number; name: string };
}

export interface WorldAgent {
  id: number;
  name: string;
  status: 'online' | 'offline';
  enabled: boolean;
  foreign: boolean;
  version: string;
  osDescription: string;
  createdOn: string;
  statusChangedOn: string;
  assignedRequest?: AdoJobRequest;
  lastCompletedRequest?: AdoJobRequest;
  /** Disabled by kiln and not enabled since (S9: kiln gives back what it disabled). */
  disabledByKiln?: boolean;
}

export interface WorldJob {
  id: number;
  /** `<scaleSet>_<instanceId>` (a workload job: empty until it is assigned). */
  instance: string;
  minutes: number;
  /**
   * armed: a race job waiting for kiln's next request of its operation. queued: a workload job
   * waiting for an idle runner or agent that serves it.
   */
  state: 'scheduled' | 'armed' | 'queued' | 'pending' | 'running' | 'done' | 'interrupted';
  /** A job of the scenario's workload: its stream, what it asks for, when it arrived (virtual ms). */
  demand?: WorkloadDemand;
  /** An Azure DevOps workload job's request, from its arrival: queued, then its agent's assignedRequest. */
  request?: AdoJobRequest;
  startedAt?: number;
  endsAt?: number;
  /** A workload GitHub job as GitHub knows it (its ids, repository and runner): what its webhooks and job reads say. */
  github?: GitHubJobIdentity;
  /** Permanent busy registration of a foreign fleet (never ends). */
  foreignRunner?: number;
  race?: { service: string; operation: string };
}

/** A workload GitHub job's identity at GitHub: one job per workflow run, in repository `<owner>/app-<stream>`. */
export interface GitHubJobIdentity {
  id: number;
  runId: number;
  /** `owner/name`. */
  repository: string;
  /** The runner that took it (set when it starts). */
  runnerName?: string;
  runnerId?: number;
  /** Virtual ms when it started and when it ended. */
  startedAt?: number;
  completedAt?: number;
  conclusion?: 'success' | 'cancelled';
}

/** A workload GitHub job's status as GitHub reports it (queued until a runner takes it). */
export type GitHubJobStatus = 'queued' | 'in_progress' | 'completed';

/** What a workload job asks for: GitHub labels (all of them) or an Azure DevOps pool. */
export type WorkloadDemand = { stream: number; arrivedAt: number } & (
  { fleet: 'github'; labels: string[] } | { fleet: 'ado'; pool: string }
);

/** The managed instances' running minutes over the run, idle or busy, and the capacity changes of managed scale sets. */
export interface WorkloadMeter {
  idleInstanceMinutes: number;
  busyInstanceMinutes: number;
  scaleOuts: number;
  scaleIns: number;
}

export interface TargetRegion {
  name: string;
  regionalReplicaCount: number;
  storageAccountType: string;
  excludeFromLatest: boolean;
}

export interface RegionReplication {
  region: string;
  state: 'Replicating' | 'Completed' | 'Failed';
  startedAt: number;
  doneAt: number;
  details: string;
}

export interface WorldGalleryVersion {
  kind: ImageKind;
  definition: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  targetRegions: TargetRegion[];
  replicaCount: number;
  storageAccountType: string;
  excludeFromLatest: boolean;
  endOfLifeDate?: string;
  sourceId?: string;
  publishedDate: number;
  provisioningState: 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';
  replication: RegionReplication[];
  /** Versions created during the run (not in the scenario's existing versions). */
  createdInRun: boolean;
  /** Instances booted on it never register (absent: the scenario's `images.<kind>.unhealthy` for versions created in the run). */
  unhealthy?: boolean;
  /** Was latest (not excluded) at some point: a version never latest and created in the run is its publisher's own work in progress. */
  everLatest: boolean;
}

export interface WorldExecution {
  name: string;
  jobName: string;
  kind: ImageKind;
  status: 'Running' | 'Succeeded' | 'Failed' | 'Stopped';
  startTime: number;
  endTime?: number;
  template: unknown;
}

export interface AsyncOperation {
  id: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: number;
  endTime?: number;
  error?: { code: string; message: string };
}

export interface WorldNames {
  subscriptionId: string;
  tenantId: string;
  runnersResourceGroup: string;
  galleryResourceGroup: string;
  galleryName: string;
  definitions: Record<ImageKind, string>;
  packerResourceGroup: string;
  packerJobName: string;
  /** Where Packer writes the managed image of each build (PACKER_IMAGE_RG). */
  imagesResourceGroup: string;
  /** Packer's build VMs (PACKER_TEMP_RG). */
  buildResourceGroup: string;
  /** The container registry the Packer job's image comes from (PACKER_JOB_IMAGE's host). */
  registryName: string;
  /** The vault's ARM name (its data plane is the fake Key Vault's URL). */
  keyVaultName: string;
  /** The app's storage account's ARM name (its Table and Blob services are the fake Table and Blob storage's URLs). */
  storageAccountName: string;
  /** The blob container of the images' software reports (infra/modules/storage.bicep makes it). */
  softwareReportsContainer: string;
  /** The runners' virtual network and subnet, in the runners' resource group. */
  virtualNetworkName: string;
  subnetName: string;
  githubOwner: string;
  githubRepo: string;
  adoOrganization: string;
  adoPoolName: string;
  adoPoolId: number;
  githubAppId: string;
  githubInstallationId: number;
}

export const DEFAULT_NAMES: WorldNames = {
  subscriptionId: '00000000-0000-4000-8000-00000000c0de',
  tenantId: '00000000-0000-4000-8000-0000000ten7',
  runnersResourceGroup: 'rg-kiln-runners',
  galleryResourceGroup: 'rg-kiln-images',
  galleryName: 'galKiln',
  definitions: { linux: 'linux-agent', windows: 'windows-agent' },
  packerResourceGroup: 'rg-kiln',
  packerJobName: 'job-kiln-packer',
  imagesResourceGroup: 'rg-images',
  buildResourceGroup: 'rg-packer-temp',
  registryName: 'crkiln',
  // The first label of the fake vault's host (kiln.vault.localhost), as a vault's name is in Azure.
  keyVaultName: 'kiln',
  storageAccountName: 'stkiln',
  softwareReportsContainer: 'software-reports',
  virtualNetworkName: 'vnet-kiln',
  subnetName: 'runners',
  githubOwner: 'acme',
  githubRepo: 'runners',
  adoOrganization: 'acme',
  adoPoolName: 'kiln-windows',
  adoPoolId: 17,
  githubAppId: '123456',
  githubInstallationId: 4242,
};

/** Display names as the gallery answers them (requests may use either form). */
const REGION_DISPLAY: Record<string, string> = {
  westeurope: 'West Europe',
  northeurope: 'North Europe',
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  uksouth: 'UK South',
  swedencentral: 'Sweden Central',
  germanywestcentral: 'Germany West Central',
  francecentral: 'France Central',
};

export function regionKey(region: string): string {
  return region.toLowerCase().replace(/[\s-]+/g, '');
}

export function regionDisplay(region: string): string {
  return REGION_DISPLAY[regionKey(region)] ?? region;
}

export function toBase36Id(instanceId: number): string {
  return instanceId.toString(36).padStart(6, '0');
}

export const MINUTE = 60_000;

/** The version an image reference names (undefined: a definition or marketplace image). */
export function versionOf(imageId: string): string | undefined {
  return /\/versions\/([^/]+)$/i.exec(imageId)?.[1];
}

/** `definition/version` (or `definition (latest)`) of an image reference, for event messages. */
export function imageLabel(imageId: string): string {
  const m = /\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(imageId);
  return m ? (m[2] ? `${m[1]}/${m[2]}` : `${m[1]} (latest)`) : imageId;
}
