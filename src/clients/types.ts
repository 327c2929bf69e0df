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
}

export interface ScaleSetInstance {
  instanceId: string;
  /** VM resource name, e.g. vmss-gh-linux-weu_2 */
  name: string;
  /** Host name the runner/agent registers with. */
  computerName: string;
  latestModelApplied: boolean;
  /** e.g. Succeeded, Creating, Updating, Failed */
  provisioningState: string;
  /** When the instance last finished provisioning (instance view ProvisioningState time), ISO 8601. */
  provisionedAt?: string;
  powerState?: string;
  imageReferenceId?: string;
}

export interface ArmClient {
  /** Scale sets carrying the managed tag, across the subscription's resource groups. */
  listScaleSetsByTag(tag: { name: string; value: string }): Promise<ScaleSet[]>;
  /** undefined when the scale set does not exist. */
  getScaleSet(id: string): Promise<ScaleSet | undefined>;
  listInstances(scaleSetId: string): Promise<ScaleSetInstance[]>;
  /** Starts a reimage of the given instances and returns once ARM accepted it (does not wait for completion). */
  startReimage(scaleSetId: string, instanceIds: string[]): Promise<void>;
}

export interface GitHubRunner {
  id: number;
  name: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
}

export type DeleteOutcome = 'deleted' | 'gone' | 'busy';

export interface GitHubClient {
  /** All runners of the configured org or repo (follows pagination). */
  listRunners(): Promise<GitHubRunner[]>;
  /** undefined on 404. */
  getRunner(id: number): Promise<GitHubRunner | undefined>;
  /** Runners with exactly this name (GET …/runners?name=…): one request, for re-checks right before acting. */
  findRunnersByName(name: string): Promise<GitHubRunner[]>;
  /** 204 → deleted; 404 → gone (already removed, success); 422 → busy (GitHub refused: a job is running). */
  deleteRunner(id: number): Promise<DeleteOutcome>;
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
}

export interface AdoClient {
  /** Agents of the configured pool, with their assigned requests. */
  listAgents(): Promise<AdoAgent[]>;
  getAgent(id: number): Promise<AdoAgent | undefined>;
  /** Agents of the pool with exactly this name (agentName=…), with their assigned requests. */
  findAgentsByName(name: string): Promise<AdoAgent[]>;
  /** 2xx → deleted; 404 → gone. */
  deleteAgent(id: number): Promise<Exclude<DeleteOutcome, 'busy'>>;
}

export interface SecretReader {
  getSecret(name: string): Promise<string>;
}

/** Everything an activity may need; each trigger adapter builds one from settings. */
export interface Clients {
  arm: ArmClient;
  github?: GitHubClient;
  ado?: AdoClient;
}
