/**
 * A simulation scenario (format version 1, docs/scenarios.md) after parsing: every
 * default applied, every field present. The parser (parse-scenario.ts) produces it; the fake cloud
 * and `kiln simulate` consume it.
 */
export type ImageKind = 'linux' | 'windows';
export type TriggerName = 'http-rebuild' | 'http-rollout' | 'eventgrid' | 'cleanup';

export interface ScenarioScaleSet {
  name: string;
  image: ImageKind;
  region: string;
  capacity: number;
  /** Version the instances run now: the scenario's value or the newest existing version of the image. */
  version: string;
  /**
   * Takes the canary. Default: the first managed scale set of each image, unless some scale set of
   * that image sets canary itself. Never true on an unmanaged scale set.
   */
  canary: boolean;
  /** false: outside kiln's scope, must never be touched. */
  managed: boolean;
  /**
   * One job per machine (the `kiln-recycle=true` tag): runners are ephemeral, removed by GitHub after
   * their job; agents run with `--once`, offline after theirs. Present only when true (a scale set
   * built in code may leave it out).
   */
  recycle?: true;
  /**
   * Capacity on demand (issue 19): the scale set's capacity tags (kiln-min, kiln-max, kiln-warm,
   * kiln-warm-schedule, kiln-idle-minutes, kiln-labels). Absent: not autoscaled.
   */
  autoscale?: ScenarioAutoscale;
}

export interface ScenarioAutoscale {
  min?: number;
  max?: number;
  warm?: number;
  /** e.g. `Mon-Fri 07:00-19:00 Europe/Berlin:4` */
  warmSchedule?: string;
  idleMinutes?: number;
  /** GitHub: the labels its runners register with (kiln-labels). */
  labels?: string[];
}

/**
 * A change in what a build of an image holds, next to its baseline (the tools its toolset installs):
 * `to` a version (a baseline tool at another version, or a tool the baseline does not have, added),
 * or null (the tool is removed).
 */
export interface SoftwareToolChange {
  tool: string;
  to: string | null;
}

export interface ScenarioJob {
  /** <scaleSet>_<instanceId> */
  instance: string;
  minutes: number;
  startAfterMinutes: number;
  /**
   * A race between one of kiln's looks and the act that follows: from `startAfterMinutes` on, the job
   * is assigned right before the fake handles kiln's next request of this operation (whatever that
   * request is about), not at a virtual instant. Absent: the job starts at `startAfterMinutes`.
   */
  race?: { service: 'arm' | 'github' | 'ado'; operation: string };
}

export interface ScenarioFault {
  service: 'arm' | 'github' | 'ado' | 'keyvault' | 'identity' | 'tables' | 'blobs';
  /** Operation name, e.g. deleteRunner, listRunners, galleryImageVersions.createOrUpdate, replication. */
  operation: string;
  /** HTTP status to answer with (absent with `fail: true`, which makes a long-running operation end Failed). */
  status?: number;
  retryAfterSeconds?: number;
  fail?: boolean;
  /** Only in this region (one of gallery.regions). */
  region?: string;
  /** How many times the fault fires before the operation behaves again (ignored when persistent). */
  times: number;
  /** Fires on every matching request while it is active: an outage, or a 404 that never goes away. */
  persistent: boolean;
  /** Active from this many minutes after start (default 0). */
  afterMinutes: number;
  /** Active for this many minutes (absent: until the end of the run). */
  forMinutes?: number;
}

/**
 * Something done to the world by someone other than kiln, at a virtual time (minutes after start;
 * changes at the same minute apply in file order, those at minute 0 before any trigger fires).
 */
export type ScenarioChange =
  /** The scale set grows by `count` instances on its current model (they boot and register). */
  | { atMinutes: number; action: 'scaleOut'; scaleSet: string; count: number }
  /** The scale set shrinks by `count`, newest instances first (a job on one of them ends with it). */
  | { atMinutes: number; action: 'scaleIn'; scaleSet: string; count: number }
  /** One instance (`<scaleSet>_<id>`) is deleted. */
  | { atMinutes: number; action: 'deleteInstance'; instance: string }
  /** Someone points the scale set's model at another version; with `upgradeInstances`, its idle instances follow at once. */
  | { atMinutes: number; action: 'setModel'; scaleSet: string; version: string; upgradeInstances: boolean }
  /** The whole scale set is deleted. */
  | { atMinutes: number; action: 'deleteScaleSet'; scaleSet: string }
  /** A gallery version is deleted. */
  | { atMinutes: number; action: 'deleteVersion'; image: ImageKind; version: string }
  /**
   * A version is written to the gallery outside kiln, replicated to every gallery region. `unhealthy`:
   * instances booted on it never register (default: the image's `unhealthy`).
   */
  | {
      atMinutes: number;
      action: 'publish';
      image: ImageKind;
      version: string;
      excludeFromLatest: boolean;
      unhealthy: boolean;
    }
  /** An excluded version is made latest (excludeFromLatest: false) outside kiln. */
  | { atMinutes: number; action: 'promote'; image: ImageKind; version: string }
  /** One Event Grid delivery of Microsoft.Resources.ResourceWriteSuccess for the version. */
  | { atMinutes: number; action: 'event'; image: ImageKind; version: string };

export type ScenarioChangeAction = ScenarioChange['action'];

/** How runs may end for the scenario to pass (`kiln simulate` exits 0 only then, and only with no violation). */
export type ExpectedOutcome = 'succeeded' | 'partial' | 'rolledBack' | 'failed' | 'planned';

export interface Scenario {
  version: 1;
  name: string;
  /**
   * Where the fake world draws its ids and random choices from (VM ids, operation ids, Packer
   * execution names, event ids): the same scenario and seed give the same run and the same report.
   */
  seed: number;
  /** Virtual clock origin, UTC as 2026-12-01T02:55:00Z (milliseconds only when there are some). */
  start: string;
  /** Where the clock stops, same form, after start (default start + 48h). */
  until: string;
  timers: boolean;
  trigger: TriggerName[];
  dryRun: boolean;
  /**
   * regions: replication targets, the first is the build region. existingVersions: per image, in the
   * file's order (not sorted); an image the file leaves out has one version, 2026.10.1. versionTags:
   * tags of existing versions, per image and version (present only when the file has some).
   */
  gallery: {
    regions: string[];
    existingVersions: Record<ImageKind, string[]>;
    versionTags?: Partial<Record<ImageKind, Record<string, Record<string, string>>>>;
  };
  /**
   * `changes`: what the image's builds in the run hold next to the baseline, in their software
   * reports (present only when the file has some).
   */
  images: Record<ImageKind, ScenarioImage>;
  scaleSets: ScenarioScaleSet[];
  jobs: ScenarioJob[];
  ghosts: { github: number; ado: number };
  foreign: { github: number; ado: number };
  /**
   * Virtual minutes: `replication` of a gallery version to a region, `reimage` (and upgrade) of an
   * instance, `register` from boot to runner or agent online, `provision` from a new instance to
   * running (default: `reimage`).
   */
  latency: { replication: number; reimage: number; register: number; provision: number };
  /**
   * How kiln's instances get their registration (the deployment's `github.registration` and
   * `ado.registration`): `jit`/`broker` ask kiln's registration broker with the VM's identity
   * token, and the runner identities have no Key Vault role; `pat` reads the PAT from Key Vault.
   */
  registration: { github: 'jit' | 'pat'; ado: 'broker' | 'pat' };
  faults: ScenarioFault[];
  /**
   * Present only when the file has an eventgrid block (required when trigger includes eventgrid).
   * `lateOlderEvent`: one more delivery, for an older existing version of the image, `afterMinutes`
   * after the new version is written (absent: none).
   */
  eventgrid?: {
    version: { image: ImageKind; version: string };
    duplicates: number;
    lateOlderEvent?: { version: string; afterMinutes: number };
  };
  /** Outside changes, in time order (stable: file order within a minute). Default: none. */
  changes: ScenarioChange[];
  /**
   * App settings the simulated app runs with (names as in src/config/settings.ts, values as app
   * settings hold them), over the environment's. Default: none.
   */
  settings: Record<string, string>;
  /** Job demand (issue 19): present only when the file has a workload block. */
  workload?: ScenarioWorkload;
  /**
   * The outcomes the scenario expects (default: succeeded, or planned in a dry run). A run whose
   * outcome is not among them exits 1 even when every invariant held.
   */
  expect: { outcome: ExpectedOutcome[] };
}

/** How an image's builds go in the fake cloud, and how a person answers a rebuild held for approval. */
export interface ScenarioImage {
  buildMinutes: number;
  buildFails: boolean;
  unhealthy: boolean;
  changes?: SoftwareToolChange[];
  /** Absent: nobody answers, so a held rebuild waits until APPROVAL_TIMEOUT_HOURS. */
  approval?: { decision: 'approve' | 'reject'; afterMinutes: number; reason?: string };
}

/** One piece of a stream's arrival rate: `perHour` jobs an hour on average (Poisson) from `from` to `to`. */
export interface WorkloadWindow {
  from: string;
  to: string;
  perHour: number;
}

/**
 * A stream of jobs of one kind: GitHub jobs asking for `labels` (a runner serves one when its labels
 * include all of them, ignoring case, as GitHub matches them), or Azure DevOps jobs queued to `pool`.
 * Each job lasts a whole number of minutes drawn uniformly from `minutes.min` to `minutes.max`.
 */
export type WorkloadStream =
  | { fleet: 'github'; labels: string[]; arrivals: WorkloadWindow[]; minutes: { min: number; max: number } }
  | { fleet: 'ado'; pool: string; arrivals: WorkloadWindow[]; minutes: { min: number; max: number } };

/** The scenario's job demand: its arrivals are drawn from `seed` (default: the scenario's seed). */
export interface ScenarioWorkload {
  seed: number;
  streams: WorkloadStream[];
  /**
   * GitHub's workflow_job webhooks to the app (POST /api/github/webhooks), signed with the secret the
   * fake vault holds: absent, none are sent. `lose` is the share of deliveries lost on the way, drawn
   * from the scenario's seed (what the reconcile read of GitHub demand must make up for).
   */
  webhooks?: { lose: number };
}
