/**
 * The typed surface kiln's activities use. Implementations wrap the real SDKs (arm/, github/, ado/)
 * and are built by factories that receive settings and credentials, so tests point them at the fake
 * cloud through the same endpoint settings that serve sovereign clouds and GitHub Enterprise Server.
 * Values here are plain JSON (they cross into orchestration history).
 */

export interface ScaleSet {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  orchestrationMode: 'Uniform' | 'Flexible';
  /** upgradePolicy.mode; undefined when the model does not say. */
  upgradeMode?: 'Manual' | 'Automatic' | 'Rolling';
  computerNamePrefix: string;
  osType: 'Linux' | 'Windows';
  /** imageReference.id of the model: a gallery definition id (latest) or version id, or undefined for marketplace images. */
  imageReferenceId?: string;
  capacity: number;
  /** The model's ETag: a write with If-Match on it fails once anything else changed the model since it was read. */
  etag?: string;
  /** The managed identities its instances run with (who a token's `xms_mirid`/`oid` names); absent when none. */
  identity?: ScaleSetIdentity;
}

export interface ScaleSetIdentity {
  /** Object id of the system-assigned identity, when it has one. */
  principalId?: string;
  /** User-assigned identities: resource id, object id (principalId) and client id. */
  userAssigned: { resourceId: string; principalId?: string; clientId?: string }[];
}

export interface ScaleSetInstance {
  instanceId: string;
  /** VM resource name, e.g. vmss-gh-linux-weu_2 */
  name: string;
  /** Host name the runner/agent registers with. */
  computerName: string;
  /** The VM's unique id (properties.vmId): what its IMDS attested document names. */
  vmId?: string;
  latestModelApplied: boolean;
  /** e.g. Succeeded, Creating, Updating, Failed */
  provisioningState: string;
  /** When the instance last finished provisioning (instance view ProvisioningState time), ISO 8601. */
  provisionedAt?: string;
  powerState?: string;
  imageReferenceId?: string;
}

/** What kiln does in ARM: scale sets, gallery versions, the Packer job. */
export interface FullArmClient {
  /** Scale sets carrying the managed tag, across the subscription's resource groups. */
  listScaleSetsByTag(tag: { name: string; value: string }): Promise<ScaleSet[]>;
  /** undefined when the scale set does not exist. */
  getScaleSet(id: string): Promise<ScaleSet | undefined>;
  listInstances(scaleSetId: string): Promise<ScaleSetInstance[]>;
  /** One instance with its instance view; undefined when it does not exist. */
  getInstance(scaleSetId: string, instanceId: string): Promise<ScaleSetInstance | undefined>;
  /** Starts a reimage of the given instances and returns once ARM accepted it (does not wait for completion). */
  startReimage(scaleSetId: string, instanceIds: string[]): Promise<void>;

  // Scale set writes of a rollout. Each returns once ARM accepted (setScaleSetImage: a short LRO awaited).
  /**
   * PATCH of the model's imageReference.id (a gallery version id, or a definition id for "latest"):
   * points the model at an image. With `ifMatch` (an ETag from getScaleSet) the write happens only if
   * nothing changed the model since that read: 'conflict' when ARM refused it (412).
   */
  setScaleSetImage(
    scaleSetId: string,
    imageReferenceId: string,
    options?: { ifMatch?: string },
  ): Promise<'changed' | 'conflict'>;
  /**
   * PATCH of sku.capacity (the autoscaler only ever raises it: lowering it lets Azure pick which
   * instances go, busy or not). With `ifMatch`, 'conflict' when the scale set changed since that read.
   * Returns once ARM accepted; the new instances come up on the model in the background.
   */
  setCapacity(
    scaleSetId: string,
    capacity: number,
    options?: { ifMatch?: string },
  ): Promise<'changed' | 'conflict'>;
  /** POST manualupgrade for the instances; returns once accepted. */
  startManualUpgrade(scaleSetId: string, instanceIds: string[]): Promise<void>;
  /** POST delete for the instances; returns once accepted. */
  startDeleteInstances(scaleSetId: string, instanceIds: string[]): Promise<void>;

  // Gallery image versions of the configured gallery; `definition` is the image definition name.
  /** undefined on 404. */
  getImageVersion(
    definition: string,
    version: string,
    options?: { replicationStatus?: boolean },
  ): Promise<GalleryImageVersionInfo | undefined>;
  listImageVersions(definition: string): Promise<GalleryImageVersionInfo[]>;
  /** PUT; returns once ARM accepted (201/200), replication continues in the background. */
  startCreateImageVersion(
    definition: string,
    version: string,
    request: CreateImageVersionRequest,
  ): Promise<void>;
  /** PATCH excludeFromLatest and/or target regions; returns once accepted. */
  startUpdateImageVersion(
    definition: string,
    version: string,
    change: { excludeFromLatest?: boolean; targetRegions?: GalleryTargetRegion[]; endOfLifeDate?: string },
  ): Promise<void>;
  /** Merges these tags into the version's tags (ARM's PATCH replaces the tag set, so the client merges); returns once accepted. */
  setImageVersionTags(definition: string, version: string, tags: Record<string, string>): Promise<void>;
  /** DELETE; returns once accepted; a version already gone is success. */
  startDeleteImageVersion(definition: string, version: string): Promise<void>;

  // Container Apps job executions (the Packer build job); `jobId` is the job's resource id.
  /** POST start with the FULL template (the body replaces the job's template for this execution). */
  startJobExecution(
    jobId: string,
    template: { containers: JobContainer[]; initContainers?: JobContainer[] },
  ): Promise<{ name: string; id: string }>;
  /** undefined on 404. */
  getJobExecution(jobId: string, executionName: string): Promise<JobExecutionInfo | undefined>;
  /** The newest execution whose first container carries every one of these environment values. */
  findJobExecution(jobId: string, env: Record<string, string>): Promise<JobExecutionInfo | undefined>;
  /** Returns once accepted. */
  stopJobExecution(jobId: string, executionName: string): Promise<void>;

  // What the rebuild needs beyond the rest.
  /** Every scale set of the subscription, managed or not: a gallery version any of them uses is never pruned (S3). */
  listAllScaleSets(): Promise<ScaleSet[]>;
  /** Deletes the intermediate managed image Packer built; one already gone is success. Returns once accepted. */
  startDeleteManagedImage(imageId: string): Promise<void>;
}

import type { WorkflowJob } from '../demand/types.js';

export interface GitHubRunner {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
}

type DeleteOutcome = 'deleted' | 'gone' | 'busy';

export interface FullGitHubClient {
  /** All runners of the configured org or repo (follows pagination). */
  listRunners(): Promise<GitHubRunner[]>;
  /** undefined on 404. */
  getRunner(id: number): Promise<GitHubRunner | undefined>;
  /** Runners with exactly this name (GET …/runners?name=…): one request, for re-checks right before acting. */
  findRunnersByName(name: string): Promise<GitHubRunner[]>;
  /** 204 → deleted; 404 → gone (already removed, success); 422 → busy (GitHub refused: a job is running). */
  deleteRunner(id: number): Promise<DeleteOutcome>;
  /** A registration token (secret: never put it in orchestration state or logs). */
  createRegistrationToken(): Promise<{ token: string; expiresAt: string }>;
  /**
   * POST …/actions/runners/generate-jitconfig: registers an ephemeral runner and answers its JIT
   * config (secret: never log it). 'exists' when GitHub refused the name (409: a runner has it).
   */
  generateJitConfig(request: {
    name: string;
    runnerGroupId: number;
    labels: string[];
  }): Promise<{ runnerId: number; encodedJitConfig: string } | 'exists'>;
  /** Latest release of actions/runner. */
  getLatestRunnerRelease(): Promise<RunnerRelease>;
  /**
   * GET /repos/{owner}/{repo}/actions/jobs/{job_id}: one workflow job of `repository` (`owner/name`),
   * undefined on 404 (no such job, or a repository kiln cannot see). One request.
   */
  getWorkflowJob(repository: string, jobId: number): Promise<WorkflowJob | undefined>;
  /**
   * The queued jobs of `repository`'s queued workflow runs (GET …/actions/runs?status=queued, one
   * page of 100, then each run's jobs, filtered to queued and waiting): the jobs of at most `maxRuns`
   * runs (default 10), those `known` says the caller knows nothing of first, each group oldest first.
   * `requests.count` (when given) grows by each request made, so a caller keeps its budget.
   */
  /** The ids of `repository`'s queued workflow runs (GET …/actions/runs?status=queued, one page of 100), oldest first. One request. */
  listQueuedRuns(repository: string): Promise<number[]>;
  /** The jobs of one run (GET …/actions/runs/{run_id}/jobs, latest attempt); a run gone (404) has none. One request. */
  listRunJobs(repository: string, runId: number): Promise<WorkflowJob[]>;
  listQueuedJobs(
    repository: string,
    options?: { maxRuns?: number; requests?: { count: number }; known?: (runId: number) => boolean },
  ): Promise<WorkflowJob[]>;
}

export interface AdoAgent {
  id: number;
  name: string;
  status: 'online' | 'offline';
  enabled: boolean;
  /** An assigned request without finishTime. */
  busy: boolean;
  poolId: number;
  statusChangedOn?: string;
  /** finishTime of the agent's last completed request: when its last job ended. */
  lastJobFinishedOn?: string;
}

/**
 * One job request of the pool (`GET …/pools/{poolId}/jobrequests`, an unfinished one): queued while
 * no agent is reserved for it, running on `reservedAgent` once one is, finished with a finishTime.
 */
export interface AdoJobRequest {
  requestId: number;
  /** When the job was queued. */
  queueTime: string;
  /** When an agent was assigned (absent while queued). */
  assignTime?: string;
  /** When the job ended (absent while queued or running). */
  finishTime?: string;
  /** The agent that runs (or ran) it; absent while queued. */
  reservedAgent?: { id: number; name: string };
  /** The TaskResult once finished (succeeded, failed, canceled, …); absent while unfinished. */
  result?: string;
}

export interface FullAdoClient {
  /** Agents of the configured pool, with their assigned and last completed requests. */
  listAgents(): Promise<AdoAgent[]>;
  getAgent(id: number): Promise<AdoAgent | undefined>;
  /** Agents of the pool with exactly this name (agentName=…), with their assigned and last completed requests. */
  findAgentsByName(name: string): Promise<AdoAgent[]>;
  /**
   * The pool's unfinished job requests (`jobrequests?completedRequestCount=0`), as Azure DevOps
   * answers them (queued and running; a finished one may still appear). A 404 (the pool is gone) or
   * an answer without a list is a failed read, never an empty queue.
   */
  listJobRequests(): Promise<AdoJobRequest[]>;
  /** 2xx → deleted; 404 → gone. */
  deleteAgent(id: number): Promise<Exclude<DeleteOutcome, 'busy'>>;
  /** PATCH enabled; undefined when the agent is gone. */
  setAgentEnabled(id: number, enabled: boolean): Promise<AdoAgent | undefined>;
  /**
   * The secret an agent's `config.cmd --auth pat` registers with (the registration broker hands it
   * out): kiln's own credential, the PAT from Key Vault (ADO_AUTH=pat) or an Entra access token of
   * kiln's identity for Azure DevOps (ADO_AUTH=entra), which Azure DevOps takes in a PAT's place.
   */
  agentRegistrationSecret(): Promise<string>;
}

export interface SecretReader {
  getSecret(name: string): Promise<string>;
}

/**
 * Reads blobs of kiln's software reports container (KILN_BLOB_ENDPOINT, KILN_SOFTWARE_REPORTS_CONTAINER)
 * with the app's identity: a blob's text, or undefined when there is no such blob.
 */
export interface SoftwareReportStore {
  read(name: string): Promise<string | undefined>;
}

export type ApiService = 'arm' | 'github' | 'ado';

/** Sees every HTTP attempt a client makes, retries included (kiln's metrics: src/telemetry). */
export interface ApiObserver {
  /** An answer: its status and headers (names in any case). */
  response(service: ApiService, status: number, headers: Iterable<[string, string]>): void;
  /** No answer: the connection failed, or the attempt timed out. */
  failure(service: ApiService): void;
}

export interface GalleryTargetRegion {
  /** Region name as ARM answers it (may be a display name such as "West Europe"). */
  name: string;
  replicas: number;
  excludeFromLatest?: boolean;
  storageAccountType?: string;
}

interface GalleryRegionReplication {
  region: string;
  /** Unknown | Replicating | Completed | Failed */
  state: string;
  progress?: number;
  details?: string;
}

export interface GalleryImageVersionInfo {
  id: string;
  /** x.y.z */
  name: string;
  /** Creating | Updating | Succeeded | Failed | Deleting | Migrating */
  provisioningState?: string;
  excludeFromLatest: boolean;
  targetRegions: GalleryTargetRegion[];
  publishedDate?: string;
  endOfLifeDate?: string;
  sourceId?: string;
  tags: Record<string, string>;
  /** Only when read with replication status. */
  replication?: { aggregatedState: string; regions: GalleryRegionReplication[] };
}

export interface CreateImageVersionRequest {
  /** Gallery location (the build region). */
  location: string;
  /** Managed image (or VM / other version) the version is made from. */
  sourceId: string;
  targetRegions: GalleryTargetRegion[];
  excludeFromLatest: boolean;
  endOfLifeDate?: string;
  tags?: Record<string, string>;
}

export interface JobContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; secretRef?: string }[];
  resources?: { cpu?: number; memory?: string };
}

export interface JobExecutionInfo {
  name: string;
  /** Running | Processing | Succeeded | Failed | Stopped | Degraded | Unknown */
  status: string;
  startTime?: string;
  endTime?: string;
}

export interface RunnerRelease {
  /** e.g. v2.330.0 */
  tag: string;
  /** e.g. 2.330.0 */
  version: string;
  publishedAt?: string;
  /** SHA-256 of actions-runner-linux-x64-<version>.tar.gz from the release asset's digest, when GitHub gives it. */
  linuxX64Sha256?: string;
}
