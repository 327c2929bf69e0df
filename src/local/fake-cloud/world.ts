/**
 * The state of the fake cloud: scale sets and their instances, GitHub runners, Azure DevOps agents,
 * gallery versions, Packer job executions and the jobs that keep runners busy, plus the ledger that
 * the simulator's report and the safety checks read. Built from a parsed Scenario; everything that
 * takes time in Azure is scheduled on the shared VirtualClock (never on real timers).
 *
 * The HTTP fakes (arm.ts, github.ts, ado.ts) only translate requests into the methods here, so the
 * semantics live in one place:
 * - a reimage or manual upgrade takes the instance down (runner/agent offline) for
 *   `latency.reimage` minutes; it then registers again with the same name `latency.register`
 *   minutes later, unless it now runs an unhealthy image version;
 * - a job keeps its instance's runner/agent busy; reimaging, upgrading or deleting the instance, or
 *   deleting the agent, while the job runs counts as an interrupted job (GitHub itself refuses to
 *   delete a busy runner);
 * - any write to a registration or scale set outside kiln's scope counts as a foreign touch.
 */
import { AccessControl, deploymentIdentities, runnerIdentityRole } from './access.js';
import { compareVersions } from '../../domain/versions.js';
import type { VirtualClock } from '../clock.js';
import { randomUuid, seedOf, seededRandom, type Random } from '../random.js';
import type { ImageKind, Scenario, ScenarioChange } from '../scenario/types.js';

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
}

export interface AdoJobRequest {
  requestId: number;
  jobId: string;
  planId: string;
  planType: string;
  queueTime: string;
  assignTime: string;
  receiveTime: string;
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
  /** `<scaleSet>_<instanceId>` */
  instance: string;
  minutes: number;
  /** armed: a race job waiting for kiln's next request of its operation. */
  state: 'scheduled' | 'armed' | 'pending' | 'running' | 'done' | 'interrupted';
  startedAt?: number;
  endsAt?: number;
  /** Permanent busy registration of a foreign fleet (never ends). */
  foreignRunner?: number;
  race?: { service: string; operation: string };
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

const MINUTE = 60_000;

/** The Key Vault secret each kind of instance registers with (scale-set.bicep's runtime settings). */
const REGISTRATION_SECRET: Record<ImageKind, string> = { linux: 'gh-pat', windows: 'ado-pat' };

export class World {
  readonly names: WorldNames;
  readonly scaleSets = new Map<string, WorldScaleSet>();
  readonly runners = new Map<number, WorldRunner>();
  readonly agents = new Map<number, WorldAgent>();
  readonly jobs: WorldJob[] = [];
  readonly versions = new Map<string, WorldGalleryVersion>();
  /** Managed image ids (lower case) that Packer builds left behind. */
  readonly managedImages = new Set<string>();
  readonly executions = new Map<string, WorldExecution>();
  readonly operations = new Map<string, AsyncOperation>();
  readonly ledger: Ledger = {
    jobsInterrupted: 0,
    foreignTouched: 0,
    deleted: { githubRunners: [], adoAgents: [], galleryVersions: [], instances: [] },
    events: [],
    violations: [],
  };
  /** Who may do what (role-source.ts sets the deployment's roles; until then everyone may do everything). */
  access: AccessControl;
  /** Newest versions kiln must keep (S3); the simulator sets it from the app's PRUNE_KEEP. */
  pruneKeep = 3;
  /** Which scale sets kiln pointed each bad version's model at (S4: at most one, its canary or lead). */
  private readonly badVersionReach = new Map<string, Set<string>>();
  private actor: Actor = 'kiln';
  private readonly random: Random;
  runnerRelease = { tag: 'v2.330.0', publishedAt: 0 };
  private nextRunnerId = 1001;
  private nextAgentId = 101;
  private nextRequestId = 5001;
  private nextLabelId = 30;

  constructor(
    readonly scenario: Scenario,
    readonly clock: VirtualClock,
    names: Partial<WorldNames> = {},
  ) {
    this.names = { ...DEFAULT_NAMES, ...names };
    this.access = new AccessControl(
      deploymentIdentities(this.names.subscriptionId, this.names.packerResourceGroup),
      'all',
      () => new Date(clock.nowMs()).toISOString(),
    );
    this.random = seededRandom(seedOf(JSON.stringify(scenario)));
    this.runnerRelease.publishedAt = clock.nowMs() - 10 * 24 * 60 * MINUTE;
    this.build();
  }

  // ---------------------------------------------------------------- ids and names

  scaleSetId(name: string, resourceGroup = this.names.runnersResourceGroup): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
  }

  galleryId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.galleryResourceGroup}/providers/Microsoft.Compute/galleries/${this.names.galleryName}`;
  }

  definitionId(kind: ImageKind): string {
    return `${this.galleryId()}/images/${this.names.definitions[kind]}`;
  }

  versionId(kind: ImageKind, version: string): string {
    return `${this.definitionId(kind)}/versions/${version}`;
  }

  packerJobId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.packerResourceGroup}/providers/Microsoft.App/jobs/${this.names.packerJobName}`;
  }

  subnetId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.runnersResourceGroup}/providers/Microsoft.Network/virtualNetworks/${this.names.virtualNetworkName}/subnets/${this.names.subnetName}`;
  }

  registryId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.packerResourceGroup}/providers/Microsoft.ContainerRegistry/registries/${this.names.registryName}`;
  }

  keyVaultId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.packerResourceGroup}/providers/Microsoft.KeyVault/vaults/${this.names.keyVaultName}`;
  }

  kindOfDefinition(definition: string): ImageKind | undefined {
    const d = definition.toLowerCase();
    return (Object.keys(this.names.definitions) as ImageKind[]).find(
      (k) => this.names.definitions[k].toLowerCase() === d,
    );
  }

  versionKey(kind: ImageKind, version: string): string {
    return `${kind}/${version}`;
  }

  /** The gallery version an image reference id names, if any (case-insensitive, as ARM ids are). */
  versionByImageId(imageId: string): WorldGalleryVersion | undefined {
    const m = /\/images\/([^/]+)\/versions\/([^/]+)$/i.exec(imageId);
    if (!m) return undefined;
    const kind = this.kindOfDefinition(m[1]!);
    return kind ? this.versions.get(this.versionKey(kind, m[2]!)) : undefined;
  }

  isoNow(): string {
    return this.clock.now().toISOString();
  }

  event(service: string, message: string): void {
    this.ledger.events.push({ at: this.isoNow(), service, message });
  }

  /** A UUID from the world's seeded randomness: the same scenario gives the same ids. */
  uuid(): string {
    return randomUuid(this.random);
  }

  /** Runs `change` as someone other than kiln: it counts against no invariant of kiln's. */
  asOutside<T>(change: () => T): T {
    const previous = this.actor;
    this.actor = 'outside';
    try {
      return change();
    } finally {
      this.actor = previous;
    }
  }

  get kilnActs(): boolean {
    return this.actor === 'kiln';
  }

  violate(invariant: Invariant, subject: string, detail: string): void {
    this.ledger.violations.push({ invariant, subject, detail, at: this.isoNow() });
    this.event('invariant', `VIOLATION ${invariant} ${subject}: ${detail}`);
  }

  // ---------------------------------------------------------------- initial state

  private build(): void {
    const s = this.scenario;
    const now = this.clock.nowMs();
    const galleryLocation = s.gallery.regions[0] ?? 'westeurope';
    for (const kind of ['linux', 'windows'] as ImageKind[]) {
      for (const v of s.gallery.existingVersions[kind] ?? []) {
        this.versions.set(this.versionKey(kind, v), {
          kind,
          definition: this.names.definitions[kind],
          name: v,
          location: galleryLocation,
          tags: {},
          targetRegions: s.gallery.regions.map((r) => ({
            name: r,
            regionalReplicaCount: 1,
            storageAccountType: 'Standard_LRS',
            excludeFromLatest: false,
          })),
          replicaCount: 1,
          storageAccountType: 'Standard_LRS',
          excludeFromLatest: false,
          publishedDate: now - 30 * 24 * 60 * MINUTE,
          provisioningState: 'Succeeded',
          replication: s.gallery.regions.map((r) => ({
            region: r,
            state: 'Completed',
            startedAt: now,
            doneAt: now,
            details: '',
          })),
          createdInRun: false,
          everLatest: true,
        });
      }
    }

    const windowsPrefixes = new Set<string>();
    s.scaleSets.forEach((ss, index) => {
      const id = this.scaleSetId(ss.name);
      const prefix = ss.image === 'linux' ? `${ss.name}-` : windowsPrefix(ss.name, index, windowsPrefixes);
      const tags: Record<string, string> = { 'kiln-image': ss.image };
      if (ss.managed) tags['kiln-managed'] = 'true';
      if (ss.canary) tags['kiln-canary'] = 'true';
      const imageId = this.versionId(ss.image, ss.version);
      const set: WorldScaleSet = {
        id,
        name: ss.name,
        resourceGroup: this.names.runnersResourceGroup,
        location: ss.region,
        kind: ss.image,
        managed: ss.managed,
        canary: ss.canary,
        tags,
        computerNamePrefix: prefix,
        imageId,
        instances: new Map(),
        nextInstanceId: 0,
        vmSize: 'Standard_D4s_v5',
        orchestrationMode: 'Uniform',
        upgradeMode: 'Manual',
        etag: 1,
        ranSince: new Set([ss.version]),
      };
      this.scaleSets.set(ss.name.toLowerCase(), set);
      for (let i = 0; i < ss.capacity; i++) {
        const inst = this.addInstance(set, now - 24 * 60 * MINUTE);
        this.register(set, inst, now - 24 * 60 * MINUTE + 3 * MINUTE);
      }
    });

    this.addGhosts();
    this.addForeign();

    s.jobs.forEach((j) => {
      const job: WorldJob = {
        id: this.jobs.length + 1,
        instance: j.instance,
        minutes: j.minutes,
        state: 'scheduled',
        ...(j.race ? { race: { ...j.race } } : {}),
      };
      this.jobs.push(job);
      this.clock.after(
        j.startAfterMinutes,
        () => {
          if (!job.race) return this.tryStartJob(job);
          job.state = 'armed';
          this.event(
            'sim',
            `job on ${job.instance} waits for kiln's next ${job.race.service} ${job.race.operation}`,
          );
        },
        `job ${j.instance} starts`,
      );
    });
  }

  /** A fake is about to handle one of kiln's requests: an armed race job is assigned now, between kiln's look and its act. */
  beforeRequest(service: string, operation: string): void {
    for (const job of this.jobs) {
      if (job.state !== 'armed' || job.race?.service !== service || job.race.operation !== operation)
        continue;
      job.state = 'scheduled';
      this.event(
        'sim',
        `race: a job is assigned on ${job.instance} right before kiln's ${service} ${operation}`,
      );
      this.tryStartJob(job);
    }
  }

  private addInstance(set: WorldScaleSet, provisionedAt: number): WorldInstance {
    const n = set.nextInstanceId++;
    const inst: WorldInstance = {
      instanceId: String(n),
      name: `${set.name}_${n}`,
      computerName: `${set.computerNamePrefix}${toBase36Id(n)}`,
      vmId: this.uuid(),
      imageId: set.imageId,
      latestModelApplied: true,
      provisioningState: 'Succeeded',
      powerState: 'running',
      provisionedAt,
      timeCreated: provisionedAt - 2 * MINUTE,
      epoch: 0,
    };
    set.instances.set(inst.instanceId, inst);
    return inst;
  }

  private register(set: WorldScaleSet, inst: WorldInstance, at: number): void {
    const iso = new Date(at).toISOString();
    if (set.kind === 'linux') {
      const existing = this.findRunnerByName(inst.computerName);
      if (existing) {
        existing.status = 'online';
        existing.busy = false;
      } else {
        const r = this.newRunner(inst.computerName, 'linux', 'online', set.name);
        this.runners.set(r.id, r);
      }
    } else {
      const existing = this.findAgentByName(inst.computerName);
      if (existing) {
        existing.status = 'online';
        existing.statusChangedOn = iso;
      } else {
        const id = this.nextAgentId++;
        this.agents.set(id, this.newAgent(id, inst.computerName, 'online', iso, false));
      }
    }
  }

  private newRunner(
    name: string,
    os: WorldRunner['os'],
    status: WorldRunner['status'],
    scaleSetLabel?: string,
    foreign = false,
  ): WorldRunner {
    const id = this.nextRunnerId++;
    const osLabel = os === 'linux' ? 'Linux' : os === 'windows' ? 'Windows' : 'macOS';
    const labels: WorldRunner['labels'] = [
      { id: 5, name: 'self-hosted', type: 'read-only' },
      { id: 7, name: 'X64', type: 'read-only' },
      { id: os === 'linux' ? 11 : os === 'windows' ? 12 : 20, name: osLabel, type: 'read-only' },
    ];
    if (scaleSetLabel) labels.push({ id: this.nextLabelId++, name: scaleSetLabel, type: 'custom' });
    return {
      id,
      name,
      os,
      status,
      busy: false,
      labels,
      foreign,
      ephemeral: false,
      version: this.runnerRelease.tag.replace(/^v/, ''),
    };
  }

  private newAgent(
    id: number,
    name: string,
    status: WorldAgent['status'],
    statusChangedOn: string,
    foreign: boolean,
  ): WorldAgent {
    return {
      id,
      name,
      status,
      enabled: true,
      foreign,
      version: '4.261.0',
      osDescription: 'Microsoft Windows 10.0.20348 ',
      createdOn: new Date(this.clock.nowMs() - 24 * 60 * MINUTE).toISOString(),
      statusChangedOn,
    };
  }

  private addGhosts(): void {
    const now = this.clock.nowMs();
    for (const kind of ['linux', 'windows'] as ImageKind[]) {
      const count = kind === 'linux' ? this.scenario.ghosts.github : this.scenario.ghosts.ado;
      const sets = [...this.scaleSets.values()].filter((s) => s.kind === kind && s.managed);
      for (let k = 0; k < count; k++) {
        const set = sets.length > 0 ? sets[k % sets.length]! : undefined;
        // Instance ids past the current capacity never existed in this run: their VMs are gone.
        const ghostId = set ? set.nextInstanceId + 100 + Math.floor(k / Math.max(sets.length, 1)) : 500 + k;
        const prefix = set ? set.computerNamePrefix : kind === 'linux' ? 'vmss-gh-gone-' : 'adogone';
        const name = `${prefix}${toBase36Id(ghostId)}`;
        const offlineSince = new Date(now - (90 + k * 7) * MINUTE).toISOString();
        if (kind === 'linux') {
          const r = this.newRunner(name, 'linux', 'offline', set?.name);
          this.runners.set(r.id, r);
        } else {
          const id = this.nextAgentId++;
          this.agents.set(id, this.newAgent(id, name, 'offline', offlineSince, false));
        }
      }
    }
  }

  private addForeign(): void {
    const now = this.clock.nowMs();
    for (let i = 0; i < this.scenario.foreign.github; i++) {
      const os: WorldRunner['os'] = i % 2 === 0 ? 'macos' : 'linux';
      const name =
        i % 2 === 0
          ? `mac-build-${String(i + 1).padStart(2, '0')}`
          : `gpu-runner-${String(i + 1).padStart(2, '0')}`;
      const r = this.newRunner(name, os, i % 3 === 1 ? 'offline' : 'online', undefined, true);
      if (i === 0) r.busy = true;
      this.runners.set(r.id, r);
    }
    for (let i = 0; i < this.scenario.foreign.ado; i++) {
      const id = this.nextAgentId++;
      const status = i % 3 === 1 ? 'offline' : 'online';
      const agent = this.newAgent(
        id,
        `build-agent-${String(i + 1).padStart(2, '0')}`,
        status,
        new Date(now - 300 * MINUTE).toISOString(),
        true,
      );
      if (i === 0) agent.assignedRequest = this.newRequest(now - 20 * MINUTE);
      this.agents.set(id, agent);
    }
  }

  private newRequest(at: number): AdoJobRequest {
    const iso = new Date(at).toISOString();
    return {
      requestId: this.nextRequestId++,
      jobId: this.uuid(),
      planId: this.uuid(),
      planType: 'Build',
      queueTime: iso,
      assignTime: iso,
      receiveTime: iso,
      definition: { id: 1, name: 'ci' },
    };
  }

  // ---------------------------------------------------------------- lookups

  findScaleSet(name: string): WorldScaleSet | undefined {
    return this.scaleSets.get(name.toLowerCase());
  }

  findRunnerByName(name: string): WorldRunner | undefined {
    for (const r of this.runners.values()) if (r.name === name) return r;
    return undefined;
  }

  findAgentByName(name: string): WorldAgent | undefined {
    for (const a of this.agents.values()) if (a.name === name) return a;
    return undefined;
  }

  /** The scale set instance a registration name belongs to (`<prefix><base36 id>`), if it exists. */
  instanceByComputerName(name: string): { set: WorldScaleSet; inst: WorldInstance } | undefined {
    for (const set of this.scaleSets.values()) {
      for (const inst of set.instances.values()) if (inst.computerName === name) return { set, inst };
    }
    return undefined;
  }

  instanceByVmName(vmName: string): { set: WorldScaleSet; inst: WorldInstance } | undefined {
    const idx = vmName.lastIndexOf('_');
    if (idx < 0) return undefined;
    const set = this.findScaleSet(vmName.slice(0, idx));
    const inst = set?.instances.get(vmName.slice(idx + 1));
    return set && inst ? { set, inst } : undefined;
  }

  private runningJobOn(vmName: string): WorldJob | undefined {
    return this.jobs.find((j) => j.instance === vmName && j.state === 'running');
  }

  private registrationOf(set: WorldScaleSet, inst: WorldInstance): WorldRunner | WorldAgent | undefined {
    return set.kind === 'linux'
      ? this.findRunnerByName(inst.computerName)
      : this.findAgentByName(inst.computerName);
  }

  // ---------------------------------------------------------------- jobs

  private tryStartJob(job: WorldJob): void {
    if (job.state !== 'scheduled' && job.state !== 'pending') return;
    const found = this.instanceByVmName(job.instance);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    const ready =
      found &&
      found.inst.provisioningState === 'Succeeded' &&
      reg &&
      reg.status === 'online' &&
      ('busy' in reg ? !reg.busy : !(reg as WorldAgent).assignedRequest && (reg as WorldAgent).enabled);
    if (!ready) {
      // The job waits in the queue for its runner/agent to come (back) online.
      job.state = 'pending';
      return;
    }
    job.state = 'running';
    job.startedAt = this.clock.nowMs();
    job.endsAt = job.startedAt + job.minutes * MINUTE;
    if ('busy' in reg) reg.busy = true;
    else reg.assignedRequest = this.newRequest(job.startedAt);
    this.event(
      found.set.kind === 'linux' ? 'github' : 'ado',
      `job started on ${job.instance} (${reg.name}) for ${job.minutes} min`,
    );
    this.clock.after(job.minutes, () => this.finishJob(job), `job ${job.instance} ends`);
  }

  private finishJob(job: WorldJob): void {
    if (job.state !== 'running') return;
    job.state = 'done';
    const found = this.instanceByVmName(job.instance);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    if (reg && 'busy' in reg) reg.busy = false;
    else if (reg) this.completeRequest(reg as WorldAgent, 'succeeded');
    this.event(found?.set.kind === 'windows' ? 'ado' : 'github', `job finished on ${job.instance}`);
  }

  private completeRequest(agent: WorldAgent, result: string): void {
    if (!agent.assignedRequest) return;
    agent.lastCompletedRequest = { ...agent.assignedRequest, finishTime: this.isoNow(), result };
    delete agent.assignedRequest;
  }

  private interruptJobOn(vmName: string, reason: string, service: string): void {
    const job = this.runningJobOn(vmName);
    if (!job) return;
    if (!this.kilnActs) {
      // Someone else took the instance away: the job ends with it, and it is not kiln's doing.
      job.state = 'done';
      this.event(service, `job on ${vmName} ended with its instance (${reason}, outside kiln)`);
    } else {
      job.state = 'interrupted';
      this.ledger.jobsInterrupted++;
      this.event(service, `JOB INTERRUPTED on ${vmName}: ${reason}`);
      this.violate('S1', vmName, `a running job was interrupted: ${reason}`);
    }
    const found = this.instanceByVmName(vmName);
    const reg = found ? this.registrationOf(found.set, found.inst) : undefined;
    if (reg && 'busy' in reg) reg.busy = false;
    else if (reg) this.completeRequest(reg as WorldAgent, 'canceled');
  }

  /** Jobs that wait for this instance's registration get it when it comes online. */
  private wakePendingJobs(vmName: string): void {
    for (const job of this.jobs)
      if (job.instance === vmName && job.state === 'pending') this.tryStartJob(job);
  }

  // ---------------------------------------------------------------- ARM: scale sets

  private touchScaleSet(set: WorldScaleSet, what: string): void {
    if (!set.managed && this.kilnActs)
      this.foreignTouch('arm', set.name, `${what} on unmanaged scale set ${set.name}`);
  }

  private foreignTouch(service: string, subject: string, what: string): void {
    this.ledger.foreignTouched++;
    this.event(service, `FOREIGN WRITE: ${what}`);
    this.violate('S2', subject, `kiln wrote to something outside its scope: ${what}`);
  }

  /** PATCH of the model: image and/or tags. */
  updateModel(set: WorldScaleSet, change: { imageId?: string; tags?: Record<string, string> }): void {
    this.touchScaleSet(set, 'model update');
    set.etag++;
    if (change.tags) set.tags = { ...change.tags };
    if (change.imageId && change.imageId.toLowerCase() !== set.imageId.toLowerCase()) {
      const previous = set.imageId;
      this.judgeModelChange(set, previous, change.imageId);
      set.imageId = change.imageId;
      for (const inst of set.instances.values())
        inst.latestModelApplied = inst.imageId.toLowerCase() === set.imageId.toLowerCase();
      this.event(
        'arm',
        `model of ${set.name} now ${tail(change.imageId)} (was ${tail(previous)})${this.kilnActs ? '' : ' — outside kiln'}`,
      );
    }
  }

  /**
   * S8 forward only: kiln moves a model to an older version than one it ran only to undo its own last
   * change of it. S4: kiln points a bad version at one scale set at most (its canary or lead).
   */
  private judgeModelChange(set: WorldScaleSet, fromId: string, toId: string): void {
    const from = versionOf(fromId);
    const to = versionOf(toId);
    delete set.rolledBackTo;
    if (!this.kilnActs) {
      set.ranSince = new Set(to ? [to] : []);
      set.lastModelChange = from && to ? { from, to, by: 'outside' } : undefined;
      return;
    }
    if (to) {
      const newest = [...set.ranSince].sort(compareVersions).at(-1);
      const undo =
        set.lastModelChange?.by === 'kiln' &&
        set.lastModelChange.from === to &&
        set.lastModelChange.to === from;
      if (newest && compareVersions(to, newest) < 0) {
        // An undo puts the scale set back as if the undone version never ran.
        if (undo) {
          set.rolledBackTo = to;
          if (from) set.ranSince.delete(from);
        } else
          this.violate(
            'S8',
            set.name,
            `model moved back to ${to} (from ${from ?? fromId}) although it ran ${newest} in this run, and not to undo kiln's own last change`,
          );
      }
      if (this.isUnhealthy(toId)) {
        const key = toId.toLowerCase();
        const reach = this.badVersionReach.get(key) ?? new Set<string>();
        reach.add(set.name);
        this.badVersionReach.set(key, reach);
        if (reach.size > 1)
          this.violate(
            'S4',
            set.name,
            `the bad version ${to} reached a second scale set (${[...reach].join(', ')})`,
          );
      }
      set.ranSince.add(to);
    }
    set.lastModelChange = from && to ? { from, to, by: 'kiln' } : undefined;
  }

  /**
   * Reimage (keeps the instance's OS image) or manual upgrade (applies the model's image). Returns
   * when ARM accepted; the instance comes back on the virtual clock. `fail` ends the operation Failed
   * with the instance left Failed.
   */
  rebuildInstances(
    set: WorldScaleSet,
    ids: string[],
    mode: 'reimage' | 'upgrade',
    op: AsyncOperation,
    fail: boolean,
  ): void {
    this.touchScaleSet(set, mode);
    const byKiln = this.kilnActs;
    const latency = this.scenario.latency;
    // A manual upgrade takes the model as it is when the upgrade is requested: a model changed while
    // the instance reimages is the next upgrade's.
    const model = set.imageId;
    for (const id of ids) {
      const inst = set.instances.get(id)!;
      this.interruptJobOn(inst.name, mode === 'reimage' ? 'instance reimaged' : 'instance upgraded', 'arm');
      inst.epoch++;
      const epoch = inst.epoch;
      inst.provisioningState = 'Updating';
      inst.powerState = 'starting';
      const reg = this.registrationOf(set, inst);
      this.setOffline(reg);
      this.event('arm', `${mode === 'reimage' ? 'reimaging' : 'upgrading'} ${inst.name}`);
      this.clock.after(
        latency.reimage,
        () => {
          if (inst.epoch !== epoch || !set.instances.has(id)) return;
          if (fail) {
            inst.provisioningState = 'Failed';
            inst.powerState = 'stopped';
            // Azure's ProvisioningState/failed status carries the time the operation failed.
            inst.provisionedAt = this.clock.nowMs();
            return;
          }
          if (mode === 'upgrade') {
            this.judgeInstanceMove(set, inst, model, byKiln ? 'kiln' : 'outside');
            inst.imageId = model;
          }
          inst.latestModelApplied = inst.imageId.toLowerCase() === set.imageId.toLowerCase();
          inst.provisioningState = 'Succeeded';
          inst.powerState = 'running';
          inst.provisionedAt = this.clock.nowMs();
          this.event(
            'arm',
            `${inst.name} ${mode === 'reimage' ? 'reimaged' : 'upgraded'} on ${tail(inst.imageId)}`,
          );
          this.scheduleRegistration(set, inst, epoch);
        },
        `${mode} ${inst.name}`,
      );
    }
    this.completeOperationAfter(
      op,
      latency.reimage,
      fail ? { code: 'VMProvisioningFailed', message: `${mode} failed` } : undefined,
    );
  }

  /** S8 for instances: kiln moves an instance to an older version only to follow its own rollback of the model. */
  private judgeInstanceMove(set: WorldScaleSet, inst: WorldInstance, toId: string, by: Actor): void {
    const from = versionOf(inst.imageId);
    const to = versionOf(toId);
    if (!from || !to || from === to) return;
    const last = inst.lastMove;
    inst.lastMove = { from, to, by };
    if (by !== 'kiln' || compareVersions(to, from) >= 0 || set.rolledBackTo === to) return;
    // Kiln undoing its own last move of this instance (its model moved back meanwhile, by anyone).
    if (last?.by === 'kiln' && last.from === to && last.to === from) return;
    this.violate(
      'S8',
      inst.name,
      `instance moved back from ${from} to ${to}, not by a rollback of kiln's own change`,
    );
  }

  private scheduleRegistration(set: WorldScaleSet, inst: WorldInstance, epoch: number): void {
    if (this.isUnhealthy(inst.imageId)) {
      this.event(
        set.kind === 'linux' ? 'github' : 'ado',
        `${inst.computerName} booted on unhealthy ${tail(inst.imageId)}: it never registers`,
      );
      return;
    }
    this.clock.after(
      this.scenario.latency.register,
      () => {
        if (
          inst.epoch !== epoch ||
          !set.instances.has(inst.instanceId) ||
          inst.provisioningState !== 'Succeeded'
        )
          return;
        if (!this.mayReadRegistrationSecret(set)) {
          this.event(
            set.kind === 'linux' ? 'github' : 'ado',
            `${inst.computerName} cannot read its registration secret (Key Vault 403): it never registers`,
          );
          return;
        }
        this.register(set, inst, this.clock.nowMs());
        this.event(set.kind === 'linux' ? 'github' : 'ado', `${inst.computerName} registered online`);
        this.wakePendingJobs(inst.name);
      },
      `register ${inst.computerName}`,
    );
  }

  /**
   * A booting kiln instance reads its registration secret from Key Vault with its scale set's
   * identity (scale-set.bicep's runtime settings). Instances of scale sets outside kiln use their
   * owners' identities and secrets, which the simulation does not model.
   */
  private mayReadRegistrationSecret(set: WorldScaleSet): boolean {
    if (!set.managed) return true;
    const who = this.access.identity(runnerIdentityRole(set.kind));
    return this.access.authorizeData(
      who,
      'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      `${this.keyVaultId()}/secrets/${REGISTRATION_SECRET[set.kind]}`,
    );
  }

  /** An image version is unhealthy when the scenario says so: for the version, or for its image's builds in this run. */
  isUnhealthy(imageId: string): boolean {
    const v = this.versionByImageId(imageId);
    if (!v) return false;
    return v.unhealthy ?? (v.createdInRun && this.scenario.images[v.kind].unhealthy);
  }

  deleteInstances(set: WorldScaleSet, ids: string[], op: AsyncOperation, fail: boolean): void {
    this.touchScaleSet(set, 'delete instances');
    for (const id of ids) {
      const inst = set.instances.get(id)!;
      this.interruptJobOn(inst.name, 'instance deleted', 'arm');
      inst.epoch++;
      inst.provisioningState = 'Deleting';
      inst.powerState = 'stopped';
      this.setOffline(this.registrationOf(set, inst));
      const epoch = inst.epoch;
      this.clock.after(
        1,
        () => {
          if (inst.epoch !== epoch || fail) {
            if (fail) inst.provisioningState = 'Failed';
            return;
          }
          set.instances.delete(id);
          this.ledger.deleted.instances.push(inst.name);
          this.event('arm', `deleted instance ${inst.name}`);
        },
        `delete ${inst.name}`,
      );
    }
    this.completeOperationAfter(
      op,
      1,
      fail ? { code: 'InternalExecutionError', message: 'delete failed' } : undefined,
    );
  }

  private setOffline(reg: WorldRunner | WorldAgent | undefined): void {
    if (!reg) return;
    if ('busy' in reg) {
      reg.status = 'offline';
      reg.busy = false;
    } else if (reg.status !== 'offline') {
      reg.status = 'offline';
      reg.statusChangedOn = this.isoNow();
      this.completeRequest(reg, 'abandoned');
    }
  }

  // ---------------------------------------------------------------- outside changes

  /**
   * Applies one of the scenario's outside changes (not `event`: Event Grid deliveries are the
   * simulator's). Whatever kiln's view of the world was, it is stale now.
   */
  applyChange(change: Exclude<ScenarioChange, { action: 'event' }>): void {
    this.asOutside(() => {
      const set = 'scaleSet' in change ? this.findScaleSet(change.scaleSet) : undefined;
      const missing = (what: string) =>
        this.event('sim', `outside change ${change.action} skipped: ${what} no longer exists`);
      switch (change.action) {
        case 'scaleOut': {
          if (!set) return missing(change.scaleSet);
          for (let i = 0; i < change.count; i++) this.bootNewInstance(set);
          this.event('sim', `${set.name} scaled out by ${change.count} outside kiln`);
          return;
        }
        case 'scaleIn': {
          if (!set) return missing(change.scaleSet);
          const newest = [...set.instances.values()]
            .filter((i) => i.provisioningState !== 'Deleting')
            .sort((a, b) => Number(b.instanceId) - Number(a.instanceId))
            .slice(0, change.count);
          this.event('sim', `${set.name} scaled in by ${newest.length} outside kiln`);
          if (newest.length > 0)
            this.deleteInstances(
              set,
              newest.map((i) => i.instanceId),
              this.newOperation(),
              false,
            );
          return;
        }
        case 'deleteInstance': {
          const found = this.instanceByVmName(change.instance);
          if (!found) return missing(change.instance);
          this.event('sim', `${change.instance} deleted outside kiln`);
          this.deleteInstances(found.set, [found.inst.instanceId], this.newOperation(), false);
          return;
        }
        case 'setModel': {
          if (!set) return missing(change.scaleSet);
          if (!this.versions.has(this.versionKey(set.kind, change.version)))
            return missing(`version ${change.version}`);
          this.updateModel(set, { imageId: this.versionId(set.kind, change.version) });
          if (change.upgradeInstances) {
            const idle = [...set.instances.values()].filter(
              (i) =>
                !i.latestModelApplied && i.provisioningState === 'Succeeded' && !this.runningJobOn(i.name),
            );
            if (idle.length > 0)
              this.rebuildInstances(
                set,
                idle.map((i) => i.instanceId),
                'upgrade',
                this.newOperation(),
                false,
              );
          }
          return;
        }
        case 'deleteScaleSet': {
          if (!set) return missing(change.scaleSet);
          for (const inst of set.instances.values()) {
            this.interruptJobOn(inst.name, 'scale set deleted', 'arm');
            inst.epoch++;
            this.setOffline(this.registrationOf(set, inst));
            this.ledger.deleted.instances.push(inst.name);
          }
          this.scaleSets.delete(set.name.toLowerCase());
          this.event('sim', `scale set ${set.name} deleted outside kiln`);
          return;
        }
        case 'deleteVersion': {
          const v = this.versions.get(this.versionKey(change.image, change.version));
          if (!v) return missing(`version ${change.version}`);
          this.deleteVersion(v);
          return;
        }
        case 'publish': {
          if (this.versions.has(this.versionKey(change.image, change.version))) return;
          this.createOrUpdateVersion(
            change.image,
            change.version,
            {
              location: this.scenario.gallery.regions[0]!,
              targetRegions: this.scenario.gallery.regions.map((name) => ({
                name,
                regionalReplicaCount: 1,
                storageAccountType: 'Standard_LRS',
                excludeFromLatest: change.excludeFromLatest,
              })),
              excludeFromLatest: change.excludeFromLatest,
              tags: { publishedBy: 'platform-team' },
              replicaCount: 1,
              storageAccountType: 'Standard_LRS',
              unhealthy: change.unhealthy,
            },
            this.newOperation(),
            new Set(),
          );
          return;
        }
        case 'promote': {
          const v = this.versions.get(this.versionKey(change.image, change.version));
          if (!v) return missing(`version ${change.version}`);
          this.setExcludeFromLatest(v, false);
          this.event('sim', `${v.definition}/${v.name} made latest outside kiln`);
          return;
        }
      }
    });
  }

  /** A new instance on the scale set's model: it provisions, boots and registers (unless its image is bad). */
  private bootNewInstance(set: WorldScaleSet): void {
    const inst = this.addInstance(set, this.clock.nowMs());
    inst.provisioningState = 'Creating';
    inst.powerState = 'starting';
    const epoch = inst.epoch;
    this.clock.after(
      this.scenario.latency.reimage,
      () => {
        if (inst.epoch !== epoch || !set.instances.has(inst.instanceId)) return;
        inst.provisioningState = 'Succeeded';
        inst.powerState = 'running';
        inst.provisionedAt = this.clock.nowMs();
        this.scheduleRegistration(set, inst, epoch);
      },
      `create ${inst.name}`,
    );
  }

  // ---------------------------------------------------------------- async operations

  newOperation(): AsyncOperation {
    const op: AsyncOperation = { id: this.uuid(), status: 'InProgress', startTime: this.clock.nowMs() };
    this.operations.set(op.id, op);
    return op;
  }

  completeOperationAfter(
    op: AsyncOperation,
    minutes: number,
    error?: { code: string; message: string },
  ): void {
    const done = () => {
      if (op.status !== 'InProgress') return;
      op.status = error ? 'Failed' : 'Succeeded';
      op.endTime = this.clock.nowMs();
      if (error) op.error = error;
    };
    if (minutes <= 0) done();
    else this.clock.after(minutes, done, `operation ${op.id}`);
  }

  // ---------------------------------------------------------------- GitHub

  /** DELETE of a runner registration: 'busy' when GitHub refuses (a job is running). */
  deleteRunner(id: number): 'deleted' | 'gone' | 'busy' {
    const r = this.runners.get(id);
    if (!r) return 'gone';
    if (r.foreign) this.foreignTouch('github', r.name, `delete of runner ${r.name}`);
    if (r.busy) {
      this.event('github', `refused to delete busy runner ${r.name} (422)`);
      return 'busy';
    }
    this.runners.delete(id);
    this.ledger.deleted.githubRunners.push(r.name);
    this.event('github', `deleted runner ${r.name} (${r.status})`);
    return 'deleted';
  }

  createJitRunner(name: string, labels: string[]): WorldRunner | 'exists' {
    if (this.findRunnerByName(name)) return 'exists';
    const r = this.newRunner(name, 'linux', 'offline');
    r.ephemeral = true;
    r.labels = labels.map((l, i) => ({ id: 100 + i, name: l, type: 'custom' as const }));
    this.runners.set(r.id, r);
    return r;
  }

  // ---------------------------------------------------------------- Azure DevOps

  deleteAgent(id: number): 'deleted' | 'gone' {
    const a = this.agents.get(id);
    if (!a) return 'gone';
    if (a.foreign) this.foreignTouch('ado', a.name, `delete of agent ${a.name}`);
    if (a.assignedRequest && !a.assignedRequest.finishTime) {
      const found = this.instanceByComputerName(a.name);
      if (found) this.interruptJobOn(found.inst.name, `agent ${a.name} deleted while busy`, 'ado');
      else {
        this.ledger.jobsInterrupted++;
        this.event('ado', `JOB INTERRUPTED: agent ${a.name} deleted while busy`);
        this.violate('S1', a.name, 'an agent was deleted while its job ran');
      }
    }
    this.agents.delete(id);
    this.ledger.deleted.adoAgents.push(a.name);
    this.event('ado', `deleted agent ${a.name} (${a.status})`);
    return 'deleted';
  }

  /**
   * Enable/disable. Disabling a busy agent lets its running job finish (that is how Azure DevOps
   * drains an agent), so it is not an interruption; it is recorded as an event.
   */
  setAgentEnabled(agent: WorldAgent, enabled: boolean): void {
    if (agent.foreign)
      this.foreignTouch('ado', agent.name, `${enabled ? 'enable' : 'disable'} of agent ${agent.name}`);
    if (enabled) delete agent.disabledByKiln;
    else if (this.kilnActs) agent.disabledByKiln = true;
    if (agent.enabled === enabled) return;
    agent.enabled = enabled;
    const busy = agent.assignedRequest && !agent.assignedRequest.finishTime;
    this.event(
      'ado',
      `${enabled ? 'enabled' : 'disabled'} agent ${agent.name}${busy ? ' (busy: its job keeps running)' : ''}`,
    );
    if (enabled) {
      const found = this.instanceByComputerName(agent.name);
      if (found) this.wakePendingJobs(found.inst.name);
    }
  }

  // ---------------------------------------------------------------- gallery

  /** PUT of a new version (or of an existing one: an update of its publishing profile). */
  createOrUpdateVersion(
    kind: ImageKind,
    name: string,
    spec: {
      location: string;
      targetRegions: TargetRegion[];
      excludeFromLatest: boolean;
      endOfLifeDate?: string;
      sourceId?: string;
      tags: Record<string, string>;
      replicaCount: number;
      storageAccountType: string;
      /** Outside publications may say whether instances booted on it register. */
      unhealthy?: boolean;
    },
    op: AsyncOperation,
    failRegions: Set<string>,
  ): { version: WorldGalleryVersion; created: boolean } {
    const key = this.versionKey(kind, name);
    const existing = this.versions.get(key);
    const now = this.clock.nowMs();
    const version: WorldGalleryVersion = existing ?? {
      kind,
      definition: this.names.definitions[kind],
      name,
      location: spec.location,
      tags: spec.tags,
      targetRegions: [],
      replicaCount: spec.replicaCount,
      storageAccountType: spec.storageAccountType,
      excludeFromLatest: spec.excludeFromLatest,
      endOfLifeDate: spec.endOfLifeDate,
      sourceId: spec.sourceId,
      publishedDate: now,
      provisioningState: 'Creating',
      replication: [],
      createdInRun: true,
      everLatest: false,
      ...(spec.unhealthy !== undefined ? { unhealthy: spec.unhealthy } : {}),
    };
    this.setExcludeFromLatest(version, spec.excludeFromLatest);
    if (existing) {
      version.provisioningState = 'Updating';
      version.endOfLifeDate = spec.endOfLifeDate ?? version.endOfLifeDate;
      version.tags = spec.tags;
    }
    this.versions.set(key, version);
    this.event('arm', `${existing ? 'updating' : 'creating'} gallery version ${version.definition}/${name}`);
    this.setTargetRegions(version, spec.targetRegions, op, failRegions);
    return { version, created: !existing };
  }

  /** Replaces the target regions; new regions replicate for `latency.replication` minutes. */
  setTargetRegions(
    version: WorldGalleryVersion,
    regions: TargetRegion[],
    op: AsyncOperation,
    failRegions: Set<string>,
  ): void {
    const now = this.clock.nowMs();
    const minutes = this.scenario.latency.replication;
    version.targetRegions = regions.map((r) => ({ ...r }));
    const keep = new Set(regions.map((r) => regionKey(r.name)));
    version.replication = version.replication.filter((r) => keep.has(regionKey(r.region)));
    const started: RegionReplication[] = [];
    for (const r of regions) {
      const existing = version.replication.find((x) => regionKey(x.region) === regionKey(r.name));
      if (existing && existing.state !== 'Failed') continue;
      const rep: RegionReplication = {
        region: r.name,
        state: 'Replicating',
        startedAt: now,
        doneAt: now + minutes * MINUTE,
        details: '',
      };
      if (existing) version.replication.splice(version.replication.indexOf(existing), 1);
      version.replication.push(rep);
      started.push(rep);
    }
    if (started.length === 0) {
      version.provisioningState = version.replication.some((r) => r.state === 'Failed')
        ? 'Failed'
        : 'Succeeded';
      this.completeOperationAfter(op, 0);
      return;
    }
    if (version.provisioningState === 'Succeeded') version.provisioningState = 'Updating';
    this.clock.after(
      minutes,
      () => {
        for (const rep of started) {
          if (!version.replication.includes(rep)) continue;
          if (failRegions.has(regionKey(rep.region))) {
            rep.state = 'Failed';
            rep.details = `Replication to ${regionDisplay(rep.region)} failed: OperationTimeout`;
            this.event('arm', `replication of ${version.definition}/${version.name} to ${rep.region} FAILED`);
          } else {
            rep.state = 'Completed';
            this.event('arm', `replicated ${version.definition}/${version.name} to ${rep.region}`);
          }
        }
        if (version.provisioningState === 'Deleting') return;
        const failed = version.replication.some((r) => r.state === 'Failed');
        if (version.replication.every((r) => r.state !== 'Replicating'))
          version.provisioningState = failed ? 'Failed' : 'Succeeded';
      },
      `replicate ${version.name}`,
    );
    const anyFail = started.some((r) => failRegions.has(regionKey(r.region)));
    this.completeOperationAfter(
      op,
      minutes,
      anyFail
        ? { code: 'ReplicationFailed', message: 'Replication failed in one or more regions.' }
        : undefined,
    );
  }

  /** excludeFromLatest of the version and of its regions; S4: kiln never makes a bad version latest. */
  setExcludeFromLatest(version: WorldGalleryVersion, exclude: boolean): void {
    const becomesLatest = !exclude && (version.excludeFromLatest || !version.everLatest);
    version.excludeFromLatest = exclude;
    for (const t of version.targetRegions) t.excludeFromLatest = exclude;
    if (exclude) return;
    version.everLatest = true;
    if (becomesLatest && this.kilnActs && this.isUnhealthy(this.versionId(version.kind, version.name)))
      this.violate('S4', `${version.definition}/${version.name}`, 'kiln made a bad version latest');
  }

  deleteVersion(version: WorldGalleryVersion): void {
    const key = this.versionKey(version.kind, version.name);
    const id = this.versionId(version.kind, version.name).toLowerCase();
    const users = [...this.scaleSets.values()]
      .filter(
        (s) =>
          s.imageId.toLowerCase() === id ||
          [...s.instances.values()].some((i) => i.imageId.toLowerCase() === id),
      )
      .map((s) => s.name);
    // The newest `pruneKeep` versions of the image, before this delete (S3).
    const newest = [...this.versions.values()]
      .filter((v) => v.kind === version.kind)
      .map((v) => v.name)
      .sort(compareVersions)
      .slice(-this.pruneKeep);
    this.versions.delete(key);
    this.ledger.deleted.galleryVersions.push(`${version.definition}/${version.name}`);
    const subject = `${version.definition}/${version.name}`;
    if (this.kilnActs && users.length > 0)
      this.violate('S3', subject, `deleted while scale sets use it (${users.join(', ')})`);
    // A version created in this run that never became latest is its publisher's own unfinished work.
    const ownUnfinished = version.createdInRun && !version.everLatest;
    if (this.kilnActs && !ownUnfinished && newest.includes(version.name))
      this.violate(
        'S3',
        subject,
        `deleted although it is among the newest ${this.pruneKeep} versions (${newest.join(', ')})`,
      );
    this.event(
      'arm',
      `deleted gallery version ${subject}${users.length > 0 ? ' (STILL REFERENCED by a scale set)' : ''}${this.kilnActs ? '' : ' — outside kiln'}`,
    );
  }

  // ---------------------------------------------------------------- Container Apps job executions

  startExecution(jobName: string, template: unknown, fail: boolean): WorldExecution {
    const kind = inferKind(template);
    const running = [...this.executions.values()].find((e) => e.kind === kind && e.status === 'Running');
    if (running)
      this.violate('S5', `${kind} image`, `a second Packer build started while ${running.name} still runs`);
    const name = `${jobName}-${Math.floor(this.random() * 36 ** 7)
      .toString(36)
      .padStart(7, '0')}`;
    const exec: WorldExecution = {
      name,
      jobName,
      kind,
      status: 'Running',
      startTime: this.clock.nowMs(),
      template,
    };
    this.executions.set(name, exec);
    const cfg = this.scenario.images[kind];
    // Packer runs as the job's identity: Container Apps pulls the job's image from the registry with
    // it, then Packer creates its build VM in the build resource group.
    const packer = this.access.identity('packer');
    const rg = (name: string) => `/subscriptions/${this.names.subscriptionId}/resourceGroups/${name}`;
    const buildVm = `${rg(this.names.buildResourceGroup)}/providers/Microsoft.Compute/virtualMachines/pkrvm${name.slice(-7)}`;
    const refused =
      this.access.authorize(packer, 'Microsoft.ContainerRegistry/registries/pull/read', this.registryId()) ??
      this.access.authorize(packer, 'Microsoft.Compute/virtualMachines/write', buildVm);
    if (refused) {
      this.event('arm', `packer job execution ${name} started (${kind}): ${refused.code}`);
      this.clock.after(
        1,
        () => {
          if (exec.status !== 'Running') return;
          exec.status = 'Failed';
          exec.endTime = this.clock.nowMs();
          this.event('arm', `packer job execution ${name} Failed (${refused.code})`);
        },
        `execution ${name}`,
      );
      return exec;
    }
    this.event('arm', `packer job execution ${name} started (${kind}, ${cfg.buildMinutes} min)`);
    this.clock.after(
      cfg.buildMinutes,
      () => {
        if (exec.status !== 'Running') return;
        exec.status = cfg.buildFails || fail ? 'Failed' : 'Succeeded';
        exec.endTime = this.clock.nowMs();
        if (exec.status === 'Succeeded') {
          const env = templateEnv(template);
          const imageId = `${rg(env.PACKER_IMAGE_RG ?? this.names.imagesResourceGroup)}/providers/Microsoft.Compute/images/${env.PKR_VAR_managed_image_name ?? name}`;
          if (this.access.authorize(packer, 'Microsoft.Compute/images/write', imageId)) {
            exec.status = 'Failed';
            this.event(
              'arm',
              `packer job execution ${name}: writing its managed image was refused (AuthorizationFailed)`,
            );
          } else if (env.PKR_VAR_managed_image_name && env.PACKER_IMAGE_RG) {
            this.managedImages.add(imageId.toLowerCase());
          }
        }
        this.event('arm', `packer job execution ${name} ${exec.status}`);
      },
      `execution ${name}`,
    );
    return exec;
  }

  stopExecution(exec: WorldExecution): void {
    if (exec.status !== 'Running') return;
    exec.status = 'Stopped';
    exec.endTime = this.clock.nowMs();
    this.event('arm', `packer job execution ${exec.name} stopped`);
  }
}

/** The environment variables of an execution template's containers. */
export function templateEnv(template: unknown): Record<string, string> {
  const t = template as { containers?: { env?: { name?: string; value?: string }[] }[] } | undefined;
  const env: Record<string, string> = {};
  for (const c of t?.containers ?? [])
    for (const e of c.env ?? []) if (e.name && e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** Which image a Packer execution builds: an env value or argument naming linux/windows. */
export function inferKind(template: unknown): ImageKind {
  const t = template as
    | { containers?: { env?: { name?: string; value?: string }[]; args?: string[]; command?: string[] }[] }
    | undefined;
  for (const c of t?.containers ?? []) {
    for (const e of c.env ?? []) {
      const v = (e.value ?? '').toLowerCase();
      if (v === 'linux' || v === 'windows') return v;
    }
  }
  const text = JSON.stringify(template ?? {}).toLowerCase();
  if (text.includes('windows')) return 'windows';
  return 'linux';
}

function windowsPrefix(name: string, index: number, used: Set<string>): string {
  const base =
    name
      .replace(/^vmss-?/i, '')
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()
      .slice(0, 7) || 'win';
  let prefix = `${base}${index.toString(36)}`.slice(0, 9);
  let n = 0;
  while (used.has(prefix)) prefix = `${base.slice(0, 6)}${(n++).toString(36)}`.slice(0, 9);
  used.add(prefix);
  return prefix;
}

/** The version an image reference names (undefined: a definition or marketplace image). */
function versionOf(imageId: string): string | undefined {
  return /\/versions\/([^/]+)$/i.exec(imageId)?.[1];
}

function tail(imageId: string): string {
  const m = /\/images\/([^/]+)(?:\/versions\/([^/]+))?$/i.exec(imageId);
  return m ? (m[2] ? `${m[1]}/${m[2]}` : `${m[1]} (latest)`) : imageId;
}
