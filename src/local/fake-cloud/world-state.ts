/**
 * The state of the fake cloud and how to look things up in it: the scale sets, registrations, jobs,
 * gallery versions, executions and operations of a World, its resource ids, its seeded randomness,
 * and the ledger (events and broken invariants) that the simulator's report reads.
 *
 * What changes the state lives in the layers above, one family each: world-jobs.ts (registrations,
 * the jobs that keep them busy and the workload's queue and meter), world-instances.ts (scale set models and instances),
 * world-gallery.ts (gallery versions and Packer executions) and world.ts (the initial fleet and the
 * scenario's outside changes). world-judge.ts judges kiln's writes against the safety invariants.
 */
import { AccessControl, deploymentIdentities } from './access.js';
import { FakeBlobStore } from './blob-store.js';
import type { VirtualClock } from '../clock.js';
import { randomUuid, seedOf, seededRandom, type Random } from '../random.js';
import type { ImageKind, Scenario } from '../scenario/types.js';
import {
  DEFAULT_NAMES,
  MINUTE,
  type Actor,
  type AsyncOperation,
  type Invariant,
  type Ledger,
  type WorldAgent,
  type WorldExecution,
  type WorldGalleryVersion,
  type WorldInstance,
  type WorldJob,
  type WorldNames,
  type WorldRunner,
  type WorldScaleSet,
} from './world-types.js';

export abstract class WorldState {
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
  /** The storage account's blobs: the images' software reports (blobs.ts serves them). */
  readonly blobs: FakeBlobStore;
  readonly ledger: Ledger = {
    jobsInterrupted: 0,
    foreignTouched: 0,
    deleted: { githubRunners: [], adoAgents: [], galleryVersions: [], instances: [] },
    events: [],
    violations: [],
  };
  /** Who may do what (role-source.ts sets the deployment's roles; until then everyone may do everything). */
  access: AccessControl;
  /**
   * Whether one blob upload of the simulated Packer job fails (the fake cloud takes a `blobs putBlob`
   * fault for it, as for a Put Blob the fake Blob service receives).
   */
  uploadFails: () => boolean = () => false;
  /** Newest versions kiln must keep (S3); the simulator sets it from the app's PRUNE_KEEP. */
  pruneKeep = 3;
  /** Which scale sets kiln pointed each bad version's model at (S4: at most one, its canary or lead). */
  readonly badVersionReach = new Map<string, Set<string>>();
  private actor: Actor = 'kiln';
  protected readonly random: Random;
  runnerRelease = { tag: 'v2.330.0', publishedAt: 0 };

  constructor(
    readonly scenario: Scenario,
    readonly clock: VirtualClock,
    names: Partial<WorldNames> = {},
  ) {
    this.names = { ...DEFAULT_NAMES, ...names };
    this.blobs = new FakeBlobStore(() => clock.nowMs());
    this.blobs.createContainer(this.names.softwareReportsContainer);
    this.access = new AccessControl(
      deploymentIdentities(this.names.subscriptionId, this.names.packerResourceGroup),
      'all',
      () => new Date(clock.nowMs()).toISOString(),
    );
    this.random = seededRandom(scenario.seed);
    this.runnerRelease.publishedAt = clock.nowMs() - 10 * 24 * 60 * MINUTE;
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

  /** The app's storage account (Functions host, task hub, the registration broker's record), beside the vault. */
  storageAccountId(): string {
    return `/subscriptions/${this.names.subscriptionId}/resourceGroups/${this.names.packerResourceGroup}/providers/Microsoft.Storage/storageAccounts/${this.names.storageAccountName}`;
  }

  /** A blob container of the app's storage account (the scope of a container-scoped role). */
  containerId(container: string): string {
    return `${this.storageAccountId()}/blobServices/default/containers/${container}`;
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

  /** A UUID from the world's seeded randomness: the same scenario and seed give the same ids. */
  uuid(): string {
    return randomUuid(this.random);
  }

  /**
   * A generator of its own for `purpose` (Key Vault secret versions, the app host's invocation ids),
   * seeded from the scenario's seed: what is drawn from it never shifts the world's own ids.
   */
  randomStream(purpose: string): Random {
    return seededRandom(seedOf(`${this.scenario.seed}/${purpose}`));
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

  protected runningJobOn(vmName: string): WorldJob | undefined {
    return this.jobs.find((j) => j.instance === vmName && j.state === 'running');
  }

  protected registrationOf(set: WorldScaleSet, inst: WorldInstance): WorldRunner | WorldAgent | undefined {
    return set.kind === 'linux'
      ? this.findRunnerByName(inst.computerName)
      : this.findAgentByName(inst.computerName);
  }

  /** An image version is unhealthy when the scenario says so: for the version, or for its image's builds in this run. */
  isUnhealthy(imageId: string): boolean {
    const v = this.versionByImageId(imageId);
    if (!v) return false;
    return v.unhealthy ?? (v.createdInRun && this.scenario.images[v.kind].unhealthy);
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
}
