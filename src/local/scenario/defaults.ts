/**
 * The defaults of scenario format version 1 (docs/scenarios.md), and the complete Scenario a valid
 * file makes once every default is applied.
 */
import { newestVersion } from '../../domain/versions.js';
import {
  IMAGE_KINDS,
  type ChangeInput,
  type Fields,
  type FaultInput,
  type JobInput,
  type ScaleSetInput,
} from './schema.js';
import type {
  ImageKind,
  Scenario,
  ScenarioChange,
  ScenarioFault,
  ScenarioJob,
  ScenarioScaleSet,
  ScenarioWorkload,
} from './types.js';

export const SCENARIO_DEFAULTS = {
  version: 1,
  /** The seed of a file without one: every such file draws the same ids, run after run. */
  seed: 1,
  start: '2026-12-01T02:55:00Z',
  /** `until` defaults to start + this many hours. */
  untilHours: 48,
  timers: true,
  dryRun: false,
  galleryRegions: ['westeurope'],
  /**
   * The version each image has in the gallery when `gallery.existingVersions.<image>` is absent:
   * the October build, so a run starting at the default December start builds one newer version.
   */
  existingVersion: '2026.10.1',
  images: {
    linux: { buildMinutes: 60, buildFails: false, unhealthy: false },
    windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
  },
  /** Scale sets when `scaleSets` is absent: one per image, in the build region (first gallery region). */
  scaleSets: [
    { name: 'vmss-gh-linux', image: 'linux' },
    { name: 'vmss-ado-win', image: 'windows' },
  ],
  capacity: 3,
  managed: true,
  startAfterMinutes: 0,
  /** `provision` (a new instance to running) defaults to the scenario's `reimage`. */
  latency: { replication: 30, reimage: 6, register: 2 },
  /** How kiln's instances register: infra/main.bicep's defaults (`github.registration`, `ado.registration`). */
  registration: { github: 'jit', ado: 'broker' },
  faultTimes: 1,
  faultPersistent: false,
  faultAfterMinutes: 0,
  eventgridDuplicates: 1,
  /** When the late Event Grid delivery for an older version comes: minutes after the new version is written. */
  lateOlderEventMinutes: 2,
  upgradeInstances: false,
  excludeFromLatest: false,
  /** `expect.outcome` when the file has none: what a run of the scenario should end as. */
  expectedOutcome: { dryRun: ['planned'], otherwise: ['succeeded'] },
} as const;

/** The parts of a scenario file once each is valid, the cross-field checks passed. */
export interface ValidScenarioParts {
  fields: Fields;
  start: string;
  until: string;
  regions: string[];
  existing: Record<ImageKind, string[]>;
  versionTags?: Scenario['gallery']['versionTags'];
  scaleSets: ScaleSetInput[];
  jobs: JobInput[];
  faults: FaultInput[];
  /** In the order they happen. */
  changes: ChangeInput[];
  /** App settings, each checked as the settings loader checks it. */
  settings: Record<string, string>;
  /** The late Event Grid delivery for an older version, resolved (validate.ts); absent: none. */
  lateOlderEvent?: { version: string; afterMinutes: number };
  /** Job demand, each stream checked against the rest (validate.ts); absent: none. */
  workload?: ScenarioWorkload;
}

/** The complete scenario: every default applied, every field present. */
export function completeScenario(parts: ValidScenarioParts): Scenario {
  const {
    fields,
    start,
    until,
    regions,
    existing,
    versionTags,
    scaleSets: scaleSetValues,
    jobs,
    faults,
    changes,
  } = parts;
  const scaleSets = scaleSetValues.map((s): ScenarioScaleSet => ({
    name: s.name,
    image: s.image,
    region: s.region ?? regions[0]!,
    capacity: s.capacity ?? SCENARIO_DEFAULTS.capacity,
    version: s.version ?? newestVersion(existing[s.image])!,
    canary: s.canary ?? false,
    managed: s.managed ?? SCENARIO_DEFAULTS.managed,
    ...(s.recycle ? { recycle: true as const } : {}),
    ...(s.autoscale ? { autoscale: s.autoscale } : {}),
  }));
  // The canary defaults to the first managed scale set of each image, unless some scale set of that
  // image says canary: true or false itself (then the scenario chose, even if it chose none).
  for (const image of IMAGE_KINDS) {
    if (scaleSetValues.some((s) => s.image === image && s.canary !== undefined)) continue;
    const first = scaleSets.find((s) => s.image === image && s.managed);
    if (first) first.canary = true;
  }
  const images = {} as Scenario['images'];
  for (const image of IMAGE_KINDS) {
    const d = SCENARIO_DEFAULTS.images[image];
    const given = fields.images?.[image];
    images[image] = {
      buildMinutes: given?.buildMinutes ?? d.buildMinutes,
      buildFails: given?.buildFails ?? d.buildFails,
      unhealthy: given?.unhealthy ?? d.unhealthy,
      ...(given?.approval
        ? {
            approval: {
              decision: given.approval.decision,
              afterMinutes: given.approval.afterMinutes ?? 30,
              ...(given.approval.reason ? { reason: given.approval.reason } : {}),
            },
          }
        : {}),
      ...(given?.changes?.length ? { changes: given.changes.map((c) => ({ ...c })) } : {}),
    };
  }
  const dryRun = fields.dryRun ?? SCENARIO_DEFAULTS.dryRun;
  const scenario: Scenario = {
    version: 1,
    name: fields.name!,
    seed: fields.seed ?? SCENARIO_DEFAULTS.seed,
    start,
    until,
    timers: fields.timers ?? SCENARIO_DEFAULTS.timers,
    trigger: [...(fields.trigger ?? [])],
    dryRun,
    gallery: {
      regions: [...regions],
      existingVersions: { linux: [...existing.linux], windows: [...existing.windows] },
      ...(versionTags ? { versionTags } : {}),
    },
    images,
    scaleSets,
    jobs: jobs.map((j): ScenarioJob => ({
      instance: j.instance,
      minutes: j.minutes,
      startAfterMinutes: j.startAfterMinutes ?? SCENARIO_DEFAULTS.startAfterMinutes,
      ...(j.race ? { race: { ...j.race } } : {}),
    })),
    ghosts: { github: fields.ghosts?.github ?? 0, ado: fields.ghosts?.ado ?? 0 },
    foreign: { github: fields.foreign?.github ?? 0, ado: fields.foreign?.ado ?? 0 },
    latency: {
      replication: fields.latency?.replication ?? SCENARIO_DEFAULTS.latency.replication,
      reimage: fields.latency?.reimage ?? SCENARIO_DEFAULTS.latency.reimage,
      register: fields.latency?.register ?? SCENARIO_DEFAULTS.latency.register,
      provision: fields.latency?.provision ?? fields.latency?.reimage ?? SCENARIO_DEFAULTS.latency.reimage,
    },
    registration: {
      github: fields.registration?.github ?? SCENARIO_DEFAULTS.registration.github,
      ado: fields.registration?.ado ?? SCENARIO_DEFAULTS.registration.ado,
    },
    faults: faults.map((f): ScenarioFault => {
      const fault: ScenarioFault = {
        service: f.service,
        operation: f.operation,
        times: f.times ?? SCENARIO_DEFAULTS.faultTimes,
        persistent: f.persistent ?? SCENARIO_DEFAULTS.faultPersistent,
        afterMinutes: f.afterMinutes ?? SCENARIO_DEFAULTS.faultAfterMinutes,
      };
      if (f.status !== undefined) fault.status = f.status;
      if (f.retryAfterSeconds !== undefined) fault.retryAfterSeconds = f.retryAfterSeconds;
      if (f.fail !== undefined) fault.fail = f.fail;
      if (f.region !== undefined) fault.region = f.region;
      if (f.forMinutes !== undefined) fault.forMinutes = f.forMinutes;
      return fault;
    }),
    changes: changes.map((change) => toChange(change, images)),
    settings: { ...parts.settings },
    expect: {
      outcome: [
        ...(fields.expect?.outcome ??
          (dryRun ? SCENARIO_DEFAULTS.expectedOutcome.dryRun : SCENARIO_DEFAULTS.expectedOutcome.otherwise)),
      ],
    },
  };
  if (parts.workload) scenario.workload = parts.workload;
  if (fields.eventgrid) {
    scenario.eventgrid = {
      version: { ...fields.eventgrid.version },
      duplicates: fields.eventgrid.duplicates ?? SCENARIO_DEFAULTS.eventgridDuplicates,
      ...(parts.lateOlderEvent ? { lateOlderEvent: { ...parts.lateOlderEvent } } : {}),
    };
  }
  return scenario;
}

/** The parsed change: `at` becomes `atMinutes`, each action with exactly its fields and their defaults. */
function toChange(change: ChangeInput, images: Scenario['images']): ScenarioChange {
  const atMinutes = change.at;
  switch (change.action) {
    case 'scaleOut':
    case 'scaleIn':
      return { atMinutes, action: change.action, scaleSet: change.scaleSet!, count: change.count! };
    case 'deleteInstance':
      return { atMinutes, action: change.action, instance: change.instance! };
    case 'setModel':
      return {
        atMinutes,
        action: change.action,
        scaleSet: change.scaleSet!,
        version: change.version!,
        upgradeInstances: change.upgradeInstances ?? SCENARIO_DEFAULTS.upgradeInstances,
      };
    case 'deleteScaleSet':
      return { atMinutes, action: change.action, scaleSet: change.scaleSet! };
    case 'publish':
      return {
        atMinutes,
        action: change.action,
        image: change.image!,
        version: change.version!,
        excludeFromLatest: change.excludeFromLatest ?? SCENARIO_DEFAULTS.excludeFromLatest,
        unhealthy: change.unhealthy ?? images[change.image!].unhealthy,
      };
    case 'deleteVersion':
    case 'promote':
    case 'event':
      return { atMinutes, action: change.action, image: change.image!, version: change.version! };
  }
}
