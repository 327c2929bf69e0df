/**
 * Fault injection for the fake cloud. A fault fires on the next `times` requests (or long-running
 * operations) of one service + operation, then the operation behaves again.
 *
 * Operation names, per service (named after the SDK operation that sends the request):
 *   identity  getToken                                   (App Service MSI and IMDS token requests)
 *             getAttestedDocument                        (a VM's IMDS attested document)
 *   keyvault  getSecret
 *   arm       subscriptions.get | resourceGroups.list | resourceGroups.get | resources.list
 *             virtualMachineScaleSets.get | .update | .reimage | .updateInstances (manualupgrade)
 *             | .deleteInstances
 *             virtualMachineScaleSetVMs.list | .get | .getInstanceView
 *             galleryImages.get
 *             galleryImageVersions.get | .listByGalleryImage | .createOrUpdate | .update | .delete
 *             jobs.get | jobs.start | jobs.listExecutions | jobs.stopExecution | jobExecution (get one)
 *             operations.get                           (polling an Azure-AsyncOperation / Location URL)
 *             replication                              (not an HTTP fault: with `region` and
 *                                                       `fail: true` that region's replication of the
 *                                                       next created/updated version ends Failed)
 *   github    getOrgInstallation | getRepoInstallation | createInstallationAccessToken
 *             listRunners | listRunnerGroups | getRunner | deleteRunner | createRegistrationToken | generateJitConfig
 *             getLatestRelease
 *             getJobForWorkflowRun | listWorkflowRunsForRepo | listJobsForWorkflowRun   (job demand)
 *   ado       getPools | listAgents | getAgent | updateAgent | deleteAgent
 *   tables    createTable | createEntity | getEntity | updateEntity | deleteEntity | listEntities
 *             | mergeEntity (Table storage: the broker's record of issued registrations, the run history)
 *   blobs     getBlob | getBlobProperties | putBlob   (Blob storage: the images' software reports)
 *   any       '*' matches every operation of the service.
 *
 * Shapes: `status` ≥ 400 answers that status with the service's error envelope (and `Retry-After`
 * when `retryAfterSeconds` is set; GitHub 403/429 come as a secondary rate limit, as GitHub sends
 * them); `status: 0` resets the connection; `hang: true` never answers; `fail: true` on a
 * long-running ARM operation (reimage, updateInstances, deleteInstances, createOrUpdate, jobs.start)
 * accepts it and lets it end Failed.
 */
import type { ScenarioFault } from '../scenario/types.js';

export type FakeService = ScenarioFault['service'];

/** Operation names each fake answers to (the list above), for validating scenarios. */
export const FAULT_OPERATIONS: Record<FakeService, readonly string[]> = {
  identity: ['getToken', 'getAttestedDocument'],
  keyvault: ['getSecret'],
  arm: [
    'subscriptions.get',
    'resourceGroups.list',
    'resourceGroups.get',
    'resources.list',
    'virtualMachineScaleSets.get',
    'virtualMachineScaleSets.update',
    'virtualMachineScaleSets.reimage',
    'virtualMachineScaleSets.updateInstances',
    'virtualMachineScaleSets.deleteInstances',
    'virtualMachineScaleSetVMs.list',
    'virtualMachineScaleSetVMs.get',
    'virtualMachineScaleSetVMs.getInstanceView',
    'galleryImages.get',
    'galleryImageVersions.get',
    'galleryImageVersions.listByGalleryImage',
    'galleryImageVersions.createOrUpdate',
    'galleryImageVersions.update',
    'galleryImageVersions.delete',
    'jobs.get',
    'jobs.start',
    'jobs.listExecutions',
    'jobs.stopExecution',
    'jobExecution',
    'operations.get',
    'replication',
  ],
  github: [
    'getOrgInstallation',
    'getRepoInstallation',
    'createInstallationAccessToken',
    'listRunners',
    'listRunnerGroups',
    'getRunner',
    'deleteRunner',
    'createRegistrationToken',
    'generateJitConfig',
    'getLatestRelease',
    'getJobForWorkflowRun',
    'listWorkflowRunsForRepo',
    'listJobsForWorkflowRun',
  ],
  ado: ['getPools', 'listAgents', 'getAgent', 'updateAgent', 'deleteAgent', 'listJobRequests'],
  tables: [
    'createTable',
    'createEntity',
    'getEntity',
    'updateEntity',
    'deleteEntity',
    'listEntities',
    'mergeEntity',
  ],
  blobs: ['getBlob', 'getBlobProperties', 'putBlob'],
};

/**
 * The ARM operations that run long (accepted, then polled until they end) and so can end Failed:
 * the only ones a `fail: true` fault applies to. `replication` is no request of kiln's: it is the
 * gallery replicating a created or updated version, region by region (a fault's `region` picks one).
 */
export const LONG_RUNNING_FAULT_OPERATIONS: readonly string[] = [
  'virtualMachineScaleSets.reimage',
  'virtualMachineScaleSets.updateInstances',
  'virtualMachineScaleSets.deleteInstances',
  'galleryImageVersions.createOrUpdate',
  'jobs.start',
  'replication',
];

/**
 * A fault as the fake cloud takes it: a scenario fault, or one a test adds (its timing fields
 * default to "the next `times` requests from now on").
 */
export interface FakeFault
  extends
    Omit<ScenarioFault, 'times' | 'persistent' | 'afterMinutes'>,
    Partial<Pick<ScenarioFault, 'times' | 'persistent' | 'afterMinutes'>> {
  /** The response never comes (the client's own timeout must fire). */
  hang?: boolean;
}

/** Called before a fake handles a request of `operation` (a race: a job assigned between kiln's look and its act). */
export type RequestObserver = (service: FakeService, operation: string) => void;

export class FaultBook {
  private readonly faults: { fault: FakeFault; left: number; from: number; to: number }[] = [];
  private readonly observers: RequestObserver[] = [];
  /** How often each fault fired, by `service:operation`. */
  readonly fired: Record<string, number> = {};

  /**
   * `now` and `startMs` place the faults' windows (`afterMinutes`, `forMinutes`) on the virtual clock;
   * without them every fault is active from the start.
   */
  constructor(
    initial: readonly FakeFault[] = [],
    private readonly now: () => number = () => 0,
    private readonly startMs = 0,
  ) {
    for (const f of initial) this.add(f);
  }

  add(fault: FakeFault): void {
    const from = this.startMs + (fault.afterMinutes ?? 0) * 60_000;
    const to = fault.forMinutes === undefined ? Number.POSITIVE_INFINITY : from + fault.forMinutes * 60_000;
    this.faults.push({
      fault: { ...fault },
      left: fault.persistent ? Number.POSITIVE_INFINITY : (fault.times ?? 1),
      from,
      to,
    });
  }

  /** `observer` sees every request a fake is about to handle, before any fault is taken for it. */
  observe(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  /**
   * Takes one firing of the first live fault matching the request (HTTP faults: status or hang).
   * Long-running `fail` faults and replication faults are taken with takeFailure().
   */
  takeHttp(service: FakeService, operation: string): FakeFault | undefined {
    for (const observer of this.observers) observer(service, operation);
    return this.take(service, operation, (f) => !f.fail && (f.hang === true || f.status !== undefined));
  }

  /** Takes one `fail: true` firing for a long-running operation (optionally for one region). */
  takeFailure(service: FakeService, operation: string, region?: string): FakeFault | undefined {
    return this.take(
      service,
      operation,
      (f) =>
        f.fail === true &&
        (f.region === undefined || region === undefined || norm(f.region) === norm(region)),
    );
  }

  private take(
    service: FakeService,
    operation: string,
    pred: (f: FakeFault) => boolean,
  ): FakeFault | undefined {
    const now = this.now();
    const hit = this.faults.find(
      (e) =>
        e.left > 0 &&
        now >= e.from &&
        now < e.to &&
        e.fault.service === service &&
        (e.fault.operation === operation || e.fault.operation === '*') &&
        pred(e.fault),
    );
    if (!hit) return undefined;
    hit.left--;
    const key = `${service}:${operation}`;
    this.fired[key] = (this.fired[key] ?? 0) + 1;
    return hit.fault;
  }
}

function norm(region: string): string {
  return region.toLowerCase().replace(/\s+/g, '');
}
