/**
 * The worlds `kiln explore` runs: a fast-check arbitrary of RAW scenarios, objects shaped exactly as a
 * scenario file holds them (format version 1, `at:` for a change's minute, defaults left out). Each is
 * turned into a Scenario by the same parser `kiln simulate --scenario` uses, so every world is a valid
 * file and a finding can be written out and run as is.
 *
 * Worlds are small and short on purpose (1-4 scale sets of at most 5 instances, 4-30 hours of
 * virtual time): the point is thousands of them. The arbitrary draws a template of independent
 * choices (indices, minutes, weights) and resolves the references between them in a `map` — a job
 * names an instance of a scale set that exists, a change happens before `until` — so every value
 * fast-check shrinks to is still a valid world.
 *
 * The world of a seed is the first value of a fast-check run with that seed and WORLD_PARAMETERS:
 * `worldOfSeed` (fc.sample) and the first run of the shrinking `fc.check` agree on it.
 */
import fc from 'fast-check';
import { FAULT_OPERATIONS, LONG_RUNNING_FAULT_OPERATIONS } from '../fake-cloud/faults.js';
import { parseScenario } from '../scenario/parse-scenario.js';
import { baselineToolNames } from '../fake-cloud/software-reports.js';
import type { ExpectedOutcome, ImageKind, Scenario, ScenarioFault } from '../scenario/types.js';

// ---------------------------------------------------------------------------------------------------
// The raw scenario: what a YAML or JSON scenario file holds.

export interface RawScaleSet {
  name: string;
  image: ImageKind;
  region: string;
  capacity: number;
  version?: string;
  canary?: boolean;
  managed?: boolean;
  autoscale?: { min: number; max: number; warm?: number; idleMinutes?: number };
}

export interface RawJob {
  instance: string;
  minutes: number;
  startAfterMinutes?: number;
  race?: { service: 'arm' | 'github' | 'ado'; operation: string };
}

export interface RawFault {
  service: ScenarioFault['service'];
  operation: string;
  status?: number;
  retryAfterSeconds?: number;
  fail?: boolean;
  region?: string;
  times?: number;
  persistent?: boolean;
  afterMinutes?: number;
  forMinutes?: number;
}

export type RawChange =
  | { at: number; action: 'scaleOut' | 'scaleIn'; scaleSet: string; count: number }
  | { at: number; action: 'deleteInstance'; instance: string }
  | { at: number; action: 'setModel'; scaleSet: string; version: string; upgradeInstances?: boolean }
  | { at: number; action: 'deleteScaleSet'; scaleSet: string }
  | {
      at: number;
      action: 'publish';
      image: ImageKind;
      version: string;
      excludeFromLatest?: boolean;
      unhealthy?: boolean;
    }
  | { at: number; action: 'deleteVersion' | 'promote' | 'event'; image: ImageKind; version: string };

export interface RawScenario {
  version: 1;
  name: string;
  /** The explore seed the world was drawn with: the fake world draws its ids from it too. */
  seed?: number;
  until: string;
  timers: boolean;
  trigger?: ('http-rebuild' | 'cleanup')[];
  dryRun?: boolean;
  gallery: { regions: string[]; existingVersions: Record<ImageKind, string[]> };
  images?: Partial<
    Record<
      ImageKind,
      {
        buildMinutes?: number;
        buildFails?: boolean;
        unhealthy?: boolean;
        changes?: { tool: string; to: string | null }[];
        approval?: { decision: 'approve' | 'reject'; afterMinutes: number };
      }
    >
  >;
  scaleSets: RawScaleSet[];
  jobs?: RawJob[];
  ghosts?: { github?: number; ado?: number };
  foreign?: { github?: number; ado?: number };
  latency?: { replication?: number; reimage?: number; register?: number };
  faults?: RawFault[];
  changes?: RawChange[];
  expect: { outcome: ExpectedOutcome[] };
}

/** The runner and agent: what a build always holds (a scenario changes them through versions, not removal). */
const AGENT_TOOLS = new Set(['actions-runner', 'azure-pipelines-agent']);

/** Explore judges invariants only: any outcome of a run is acceptable. */
export const ANY_OUTCOME: ExpectedOutcome[] = ['succeeded', 'partial', 'rolledBack', 'failed', 'planned'];

/** The scenario's default start (left out of the file): 5 minutes before the monthly rebuild timer. */
export const WORLD_START = '2026-12-01T02:55:00Z';

/**
 * fast-check parameters every world is drawn with. Unbiased: a seed only ever uses fast-check's first
 * run, which biases towards extreme values; the weights below are the distribution instead.
 */
export const WORLD_PARAMETERS = { unbiased: true } as const;

// ---------------------------------------------------------------------------------------------------
// Vocabulary

const REGIONS = ['westeurope', 'northeurope'] as const;
/** Versions the gallery may hold before the run (1-3 of them per image, in this order). */
const EXISTING_VERSIONS = ['2026.7.1', '2026.8.1', '2026.9.1', '2026.10.1', '2026.11.1'] as const;
/** Versions published outside kiln during the run: newer than any existing one ... */
const NEWER_VERSIONS = ['2026.12.1', '2026.12.3', '2026.12.5', '2026.12.7'] as const;
/** ... or older than the newest existing one (a late or backdated publish). */
const OLDER_VERSIONS = ['2026.8.5', '2026.9.5', '2026.10.5'] as const;

/** Operations a `race` job waits for: kiln's look at a runner or instance, then its act on it. */
export const RACE_OPERATIONS = [
  { service: 'github', operation: 'deleteRunner' },
  { service: 'github', operation: 'listRunners' },
  { service: 'github', operation: 'getRunner' },
  { service: 'ado', operation: 'updateAgent' },
  { service: 'ado', operation: 'listAgents' },
  { service: 'ado', operation: 'deleteAgent' },
  { service: 'arm', operation: 'virtualMachineScaleSets.updateInstances' },
  { service: 'arm', operation: 'virtualMachineScaleSets.reimage' },
  { service: 'arm', operation: 'virtualMachineScaleSetVMs.list' },
] as const satisfies readonly NonNullable<RawJob['race']>[];

export const FAULT_STATUSES = [500, 503, 429, 404, 0] as const;
/** The longest identity or Key Vault outage (minutes). */
const SHORT_OUTAGE_MINUTES = 3;

/** HTTP faults of these services; `replication` is no request, its fault is `fail: true`. */
const HTTP_OPERATIONS: Record<ScenarioFault['service'], readonly string[]> = {
  arm: FAULT_OPERATIONS.arm.filter((op) => op !== 'replication'),
  // The job demand reads (issue 19) are left out: no flow the explorer runs sends them yet, and
  // leaving them out keeps every seed's world as it was.
  github: FAULT_OPERATIONS.github.filter(
    (op) => !['getJobForWorkflowRun', 'listWorkflowRunsForRepo', 'listJobsForWorkflowRun'].includes(op),
  ),
  ado: FAULT_OPERATIONS.ado,
  identity: FAULT_OPERATIONS.identity,
  keyvault: FAULT_OPERATIONS.keyvault,
  tables: FAULT_OPERATIONS.tables,
  blobs: FAULT_OPERATIONS.blobs,
};

// ---------------------------------------------------------------------------------------------------
// Small helpers: weighted choices that shrink towards their first (simplest) option.

type Weighted<T> = [weight: number, arbitrary: fc.Arbitrary<T>];

function weighted<T>(...options: Weighted<T>[]): fc.Arbitrary<T> {
  // Cross shrink: a value of a later option may shrink to the first one (a list to none at all).
  return fc.oneof(
    { withCrossShrink: true },
    ...options.map(([weight, arbitrary]) => ({ weight, arbitrary })),
  );
}

/** true with this probability (shrinks to false). */
function chance(p: number): fc.Arbitrary<boolean> {
  const percent = Math.round(p * 100);
  return weighted([100 - percent, fc.constant(false)], [percent, fc.constant(true)]);
}

/** None with probability `none` (the simplest: shrinks to it), else 1 to `maxLength` items. */
function someOf<T>(item: fc.Arbitrary<T>, none: number, maxLength: number): fc.Arbitrary<T[]> {
  const percent = Math.round(none * 100);
  return weighted<T[]>(
    [percent, fc.constant([])],
    [100 - percent, fc.array(item, { minLength: 1, maxLength })],
  );
}

function between(min: number, max: number): fc.Arbitrary<number> {
  return fc.integer({ min, max });
}

/** A minute of the run, most often in its first hours (clamped to the run's length when resolved). */
const minuteOfRun = weighted([45, between(0, 60)], [40, between(61, 360)], [15, between(361, 1800)]);

// ---------------------------------------------------------------------------------------------------
// The template: independent choices, resolved into a raw scenario by `resolve`.

const imageTemplate = fc.record({
  buildMinutes: weighted<number | undefined>([60, fc.constant(undefined)], [40, between(20, 150)]),
  buildFails: chance(0.08),
  unhealthy: chance(0.15),
  // A build that drops a tool (by index into the image's tools, the runner or agent aside): the
  // promotion gate holds it, and a person approves, rejects, or never answers.
  dropTool: weighted<number | undefined>([85, fc.constant(undefined)], [15, fc.nat(40)]),
  approval: weighted<{ decision: 'approve' | 'reject'; afterMinutes: number } | undefined>(
    [40, fc.constant(undefined)],
    [40, fc.record({ decision: fc.constant('approve' as const), afterMinutes: between(0, 300) })],
    [20, fc.record({ decision: fc.constant('reject' as const), afterMinutes: between(0, 300) })],
  ),
});

const scaleSetTemplate = fc.record({
  image: weighted<ImageKind>([60, fc.constant('linux')], [40, fc.constant('windows')]),
  region: fc.nat(1),
  capacity: weighted([70, between(1, 3)], [8, fc.constant(0)], [22, between(4, 5)]),
  managed: weighted([88, fc.constant(true)], [12, fc.constant(false)]),
  canary: weighted<boolean | undefined>(
    [70, fc.constant(undefined)],
    [20, fc.constant(true)],
    [10, fc.constant(false)],
  ),
  /** Runs an older existing version than the newest (index into the image's existing versions). */
  version: weighted<number | undefined>([85, fc.constant(undefined)], [15, fc.nat(2)]),
});

const jobTemplate = fc.record({
  scaleSet: fc.nat(3),
  instance: fc.nat(4),
  // Longer than the rollout's 6 h busy wait a quarter of the time.
  minutes: weighted([50, between(10, 120)], [25, between(121, 360)], [25, between(361, 900)]),
  startAfterMinutes: weighted<number | undefined>([70, fc.constant(undefined)], [30, between(1, 300)]),
  race: weighted<(typeof RACE_OPERATIONS)[number] | undefined>(
    [80, fc.constant(undefined)],
    [20, fc.constantFrom(...RACE_OPERATIONS)],
  ),
});

const faultTemplate = fc.record({
  service: weighted<ScenarioFault['service']>(
    [40, fc.constant('arm')],
    [25, fc.constant('github')],
    [20, fc.constant('ado')],
    // Rarer: their SDKs (MSAL, Key Vault) retry with real-time backoffs CLIENT_RETRY_BASE_MS does not set.
    [4, fc.constant('identity')],
    [5, fc.constant('keyvault')],
  ),
  operation: fc.nat(100),
  /** A long-running ARM operation that is accepted and ends Failed, instead of an HTTP status. */
  fail: chance(0.15),
  status: weighted<number>(
    [30, fc.constant(500)],
    [20, fc.constant(503)],
    [20, fc.constant(429)],
    [15, fc.constant(404)],
    [15, fc.constant(0)],
  ),
  // Clients wait Retry-After in real time: never more than a second.
  retryAfterSeconds: weighted<number | undefined>([70, fc.constant(undefined)], [30, fc.constantFrom(0, 1)]),
  /** Replication fails in one region (the other region, when there are two). */
  region: fc.nat(1),
  /** An identity or Key Vault fault that is persistent stays so (a short outage) only this often. */
  slowOutage: chance(0.25),
  lifetime: weighted<{ times: number } | { persistent: true; afterMinutes?: number; forMinutes?: number }>(
    [60, between(1, 3).map((times) => ({ times }))],
    [15, fc.constant({ persistent: true as const })],
    [
      25,
      fc.record({
        persistent: fc.constant(true as const),
        afterMinutes: minuteOfRun,
        forMinutes: weighted([60, between(5, 30)], [40, between(31, 180)]),
      }),
    ],
  ),
});

/** A version published outside kiln and the Event Grid deliveries that announce it. */
const sequenceTemplate = fc.record({
  image: weighted<ImageKind>([60, fc.constant('linux')], [40, fc.constant('windows')]),
  newer: weighted([85, fc.constant(true)], [15, fc.constant(false)]),
  version: fc.nat(3),
  unhealthy: chance(0.3),
  excludeFromLatest: chance(0.15),
  /** Minutes after the publish an excluded version is made latest outside kiln. */
  promoteAfter: weighted<number | undefined>([60, fc.constant(undefined)], [40, between(1, 240)]),
  publishAt: weighted([60, between(0, 30)], [40, between(31, 600)]),
  /** Each delivery, minutes after the publish: one, or duplicates. */
  deliveries: fc.array(weighted([60, between(0, 30)], [40, between(31, 240)]), {
    minLength: 1,
    maxLength: 3,
  }),
  /** A late delivery for an existing (older) version, minutes after the publish. */
  lateOlder: weighted<{ after: number; version: number } | undefined>(
    [80, fc.constant(undefined)],
    [20, fc.record({ after: between(1, 300), version: fc.nat(2) })],
  ),
});

const changeTemplate = fc.record({
  action: weighted<
    'scaleOut' | 'scaleIn' | 'deleteInstance' | 'setModel' | 'deleteVersion' | 'deleteScaleSet'
  >(
    [20, fc.constant('scaleOut')],
    [15, fc.constant('scaleIn')],
    [15, fc.constant('deleteInstance')],
    [25, fc.constant('setModel')],
    [15, fc.constant('deleteVersion')],
    [10, fc.constant('deleteScaleSet')],
  ),
  at: minuteOfRun,
  scaleSet: fc.nat(3),
  count: between(1, 3),
  instance: fc.nat(4),
  version: fc.nat(6),
  image: fc.constantFrom<ImageKind>('linux', 'windows'),
  upgradeInstances: chance(0.5),
});

const worldTemplate = fc.record({
  twoRegions: chance(0.3),
  existing: fc.record({
    linux: fc.subarray([...EXISTING_VERSIONS], { minLength: 1, maxLength: 3 }),
    windows: fc.subarray([...EXISTING_VERSIONS], { minLength: 1, maxLength: 3 }),
  }),
  timers: chance(0.15),
  untilHours: weighted([40, between(4, 12)], [60, between(13, 30)]),
  trigger: weighted<RawScenario['trigger']>(
    [40, fc.constant(undefined)],
    [30, fc.constant(['http-rebuild'])],
    [20, fc.constant(['cleanup'])],
    [10, fc.constant(['http-rebuild', 'cleanup'])],
  ),
  dryRun: chance(0.04),
  images: fc.record({ linux: imageTemplate, windows: imageTemplate }),
  scaleSets: fc.array(scaleSetTemplate, { minLength: 1, maxLength: 4 }),
  jobs: someOf(jobTemplate, 0.35, 5),
  ghosts: weighted<{ github: number; ado: number } | undefined>(
    [70, fc.constant(undefined)],
    [30, fc.record({ github: between(0, 3), ado: between(0, 2) })],
  ),
  foreign: weighted<{ github: number; ado: number } | undefined>(
    [75, fc.constant(undefined)],
    [25, fc.record({ github: between(0, 2), ado: between(0, 1) })],
  ),
  latency: weighted<{ replication: number; reimage: number; register: number } | undefined>(
    [80, fc.constant(undefined)],
    [20, fc.record({ replication: between(1, 60), reimage: between(1, 10), register: between(1, 5) })],
  ),
  faults: someOf(faultTemplate, 0.45, 3),
  sequences: someOf(sequenceTemplate, 0.3, 3),
  changes: someOf(changeTemplate, 0.4, 4),
  /**
   * Capacity on demand (issue 19), per scale set by index: only where the timers run, since the
   * autoscaler is a timer, and rare: an autoscaled world looks every minute, so it takes several
   * times as long to run. Drawn last, so that every world drawn before it was added stays the same.
   */
  autoscale: fc.array(
    weighted<{ min: number; span: number; warm: number; idleMinutes: number } | undefined>(
      [85, fc.constant(undefined)],
      [
        15,
        fc.record({
          min: between(0, 2),
          span: between(0, 4),
          warm: between(0, 2),
          idleMinutes: between(0, 15),
        }),
      ],
    ),
    { minLength: 4, maxLength: 4 },
  ),
});

type WorldTemplate = typeof worldTemplate extends fc.Arbitrary<infer T> ? T : never;

/** Builds the raw scenario: resolves indices to names, clamps minutes to the run, leaves defaults out. */
function resolve(t: WorldTemplate): RawScenario {
  const regions = t.twoRegions ? [...REGIONS] : [REGIONS[0]];
  // With the timers on, every 15 minutes a cleanup runs: keep such runs short.
  const untilHours = t.timers ? 4 + (t.untilHours % 5) : t.untilHours;
  const runMinutes = untilHours * 60;
  const clamp = (minute: number) => Math.min(minute, runMinutes);
  const existing = { linux: [...t.existing.linux], windows: [...t.existing.windows] };
  const letters = 'abcd';

  const scaleSets: RawScaleSet[] = t.scaleSets.map((s, index) => {
    const set: RawScaleSet = {
      name: `vmss-${s.image === 'linux' ? 'gh' : 'ado'}-${letters[index]!}`,
      image: s.image,
      region: regions[s.region % regions.length]!,
      capacity: s.capacity,
    };
    const versions = existing[s.image];
    if (s.version !== undefined && versions.length > 1) set.version = versions[s.version % versions.length]!;
    if (!s.managed) set.managed = false;
    else if (s.canary !== undefined) set.canary = s.canary;
    const autoscale = t.autoscale[index];
    if (t.timers && autoscale) {
      const max = autoscale.min + autoscale.span;
      set.autoscale = { min: autoscale.min, max };
      if (autoscale.warm > 0) set.autoscale.warm = Math.min(autoscale.warm, max);
      if (autoscale.idleMinutes !== 10) set.autoscale.idleMinutes = autoscale.idleMinutes;
    }
    return set;
  });
  const setAt = (index: number) => scaleSets[index % scaleSets.length]!;

  const jobs: RawJob[] = [];
  for (const j of t.jobs) {
    const set = setAt(j.scaleSet);
    if (set.capacity === 0) continue;
    const job: RawJob = { instance: `${set.name}_${j.instance % set.capacity}`, minutes: j.minutes };
    if (j.startAfterMinutes !== undefined) job.startAfterMinutes = clamp(j.startAfterMinutes);
    if (j.race) job.race = { ...j.race };
    jobs.push(job);
  }

  const faults: RawFault[] = t.faults.map((f) => {
    const fault: RawFault = { service: f.service, operation: '' };
    if (f.fail && f.service === 'arm') {
      fault.operation = LONG_RUNNING_FAULT_OPERATIONS[f.operation % LONG_RUNNING_FAULT_OPERATIONS.length]!;
      fault.fail = true;
      if (fault.operation === 'replication' && regions.length > 1)
        fault.region = regions[f.region % regions.length]!;
    } else {
      const operations = HTTP_OPERATIONS[f.service];
      fault.operation = operations[f.operation % operations.length]!;
      fault.status = f.status;
      // A persistent Retry-After of a second would cost a real second per request for the whole outage.
      if (f.retryAfterSeconds !== undefined && (f.status === 429 || f.status === 503))
        fault.retryAfterSeconds = 'times' in f.lifetime ? f.retryAfterSeconds : 0;
    }
    // Identity and Key Vault faults cost real seconds per request (their SDKs' own backoff): one
    // firing, or a short outage.
    const slow = f.service === 'identity' || f.service === 'keyvault';
    if ('times' in f.lifetime || (slow && !f.slowOutage)) {
      if ('times' in f.lifetime && f.lifetime.times !== 1 && !slow) fault.times = f.lifetime.times;
    } else {
      fault.persistent = true;
      if (f.lifetime.afterMinutes !== undefined) fault.afterMinutes = clamp(f.lifetime.afterMinutes);
      if (f.lifetime.forMinutes !== undefined) fault.forMinutes = f.lifetime.forMinutes;
      if (slow) fault.forMinutes = Math.min(fault.forMinutes ?? SHORT_OUTAGE_MINUTES, SHORT_OUTAGE_MINUTES);
    }
    return fault;
  });

  const changes: RawChange[] = [];
  const published: Record<ImageKind, string[]> = { linux: [], windows: [] };
  for (const s of t.sequences) {
    const names = s.newer ? NEWER_VERSIONS : OLDER_VERSIONS;
    const version = names[s.version % names.length]!;
    const publishAt = clamp(s.publishAt);
    const publish: RawChange = { at: publishAt, action: 'publish', image: s.image, version };
    if (s.excludeFromLatest) publish.excludeFromLatest = true;
    // Explicit either way, so the file says which versions are bad.
    publish.unhealthy = s.unhealthy;
    changes.push(publish);
    published[s.image].push(version);
    for (const after of s.deliveries)
      changes.push({ at: clamp(publishAt + after), action: 'event', image: s.image, version });
    if (s.excludeFromLatest && s.promoteAfter !== undefined)
      changes.push({ at: clamp(publishAt + s.promoteAfter), action: 'promote', image: s.image, version });
    if (s.lateOlder) {
      const older = existing[s.image];
      changes.push({
        at: clamp(publishAt + s.lateOlder.after),
        action: 'event',
        image: s.image,
        version: older[s.lateOlder.version % older.length]!,
      });
    }
  }
  const versionsOf = (image: ImageKind) => [...existing[image], ...published[image]];
  for (const c of t.changes) {
    const at = clamp(c.at);
    const set = setAt(c.scaleSet);
    switch (c.action) {
      case 'scaleOut':
      case 'scaleIn':
        changes.push({ at, action: c.action, scaleSet: set.name, count: c.count });
        break;
      case 'deleteInstance':
        if (set.capacity > 0)
          changes.push({ at, action: c.action, instance: `${set.name}_${c.instance % set.capacity}` });
        break;
      case 'setModel': {
        const versions = versionsOf(set.image);
        const change: RawChange = {
          at,
          action: 'setModel',
          scaleSet: set.name,
          version: versions[c.version % versions.length]!,
        };
        if (c.upgradeInstances) change.upgradeInstances = true;
        changes.push(change);
        break;
      }
      case 'deleteVersion': {
        const versions = versionsOf(c.image);
        changes.push({
          at,
          action: c.action,
          image: c.image,
          version: versions[c.version % versions.length]!,
        });
        break;
      }
      case 'deleteScaleSet':
        changes.push({ at, action: c.action, scaleSet: set.name });
        break;
    }
  }
  // In time order, as a person would write them (the parser sorts the same way: stable by minute).
  changes.sort((a, b) => a.at - b.at);

  const raw: RawScenario = {
    version: 1,
    name: 'explore',
    until: new Date(Date.parse(WORLD_START) + runMinutes * 60_000).toISOString().replace('.000Z', 'Z'),
    timers: t.timers,
    gallery: { regions, existingVersions: existing },
    scaleSets,
    expect: { outcome: [...ANY_OUTCOME] },
  };
  if (t.trigger) raw.trigger = [...t.trigger];
  if (t.dryRun) raw.dryRun = true;
  const images: NonNullable<RawScenario['images']> = {};
  for (const image of ['linux', 'windows'] as const) {
    const i = t.images[image];
    const given: NonNullable<RawScenario['images']>[ImageKind] = {};
    if (i.buildMinutes !== undefined) given.buildMinutes = i.buildMinutes;
    if (i.buildFails) given.buildFails = true;
    if (i.unhealthy) given.unhealthy = true;
    if (i.dropTool !== undefined) {
      const tools = baselineToolNames(image).filter((name) => !AGENT_TOOLS.has(name));
      given.changes = [{ tool: tools[i.dropTool % tools.length]!, to: null }];
      if (i.approval) given.approval = { ...i.approval };
    }
    if (Object.keys(given).length > 0) images[image] = given;
  }
  if (Object.keys(images).length > 0) raw.images = images;
  if (jobs.length > 0) raw.jobs = jobs;
  if (t.ghosts && t.ghosts.github + t.ghosts.ado > 0) raw.ghosts = { ...t.ghosts };
  if (t.foreign && t.foreign.github + t.foreign.ado > 0) raw.foreign = { ...t.foreign };
  if (t.latency) raw.latency = { ...t.latency };
  if (faults.length > 0) raw.faults = faults;
  if (changes.length > 0) raw.changes = changes;
  return orderKeys(raw);
}

/** The file's keys in the order the scenario format documents them. */
function orderKeys(raw: RawScenario): RawScenario {
  const order: (keyof RawScenario)[] = [
    'version',
    'name',
    'seed',
    'until',
    'timers',
    'trigger',
    'dryRun',
    'gallery',
    'images',
    'scaleSets',
    'jobs',
    'ghosts',
    'foreign',
    'latency',
    'faults',
    'changes',
    'expect',
  ];
  const out: Record<string, unknown> = {};
  for (const key of order) if (raw[key] !== undefined) out[key] = raw[key];
  return out as unknown as RawScenario;
}

/** Every world explore may run: a raw scenario file's content. */
export const worldArbitrary: fc.Arbitrary<RawScenario> = worldTemplate.map(resolve);

/** The world of a seed (the first value fast-check draws with that seed), named after the seed. */
export function worldOfSeed(seed: number): RawScenario {
  const [raw] = fc.sample(worldArbitrary, { ...WORLD_PARAMETERS, seed, numRuns: 1 });
  return nameWorld(raw!, seed);
}

/**
 * The same world named after its seed, with the seed as its scenario `seed:`, so the fake world draws
 * the same ids whenever the world (or a smaller world shrunk from it) is run or written out.
 */
export function nameWorld(raw: RawScenario, seed: number): RawScenario {
  return orderKeys({ ...raw, name: `explore-seed-${seed}`, seed });
}

/** The Scenario of a world, through the scenario parser (as `kiln simulate --scenario` reads the file). */
export function scenarioOf(raw: RawScenario): Scenario {
  return parseScenario(JSON.stringify(raw), raw.name);
}
