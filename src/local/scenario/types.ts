/**
 * A simulation scenario (format version 1, ../shared/scenarios/README.md) after parsing: every
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
}

export interface ScenarioJob {
  /** <scaleSet>_<instanceId> */
  instance: string;
  minutes: number;
  startAfterMinutes: number;
}

export interface ScenarioFault {
  service: 'arm' | 'github' | 'ado' | 'keyvault' | 'identity';
  /** Operation name, e.g. deleteRunner, listRunners, galleryImageVersions.createOrUpdate, replication. */
  operation: string;
  /** HTTP status to answer with (absent with `fail: true`, which makes a long-running operation end Failed). */
  status?: number;
  retryAfterSeconds?: number;
  fail?: boolean;
  /** Only in this region (one of gallery.regions). */
  region?: string;
  /** How many times the fault fires before the operation behaves again. */
  times: number;
}

export interface Scenario {
  version: 1;
  name: string;
  /** Virtual clock origin, UTC as 2026-12-01T02:55:00Z (milliseconds only when there are some). */
  start: string;
  /** Where the clock stops, same form, after start (default start + 48h). */
  until: string;
  timers: boolean;
  trigger: TriggerName[];
  dryRun: boolean;
  /**
   * regions: replication targets, the first is the build region. existingVersions: per image, in the
   * file's order (not sorted); an image the file leaves out has one version, 2026.10.1.
   */
  gallery: { regions: string[]; existingVersions: Record<ImageKind, string[]> };
  images: Record<ImageKind, { buildMinutes: number; buildFails: boolean; unhealthy: boolean }>;
  scaleSets: ScenarioScaleSet[];
  jobs: ScenarioJob[];
  ghosts: { github: number; ado: number };
  foreign: { github: number; ado: number };
  latency: { replication: number; reimage: number; register: number };
  faults: ScenarioFault[];
  /** Present only when the file has an eventgrid block (required when trigger includes eventgrid). */
  eventgrid?: { version: { image: ImageKind; version: string }; duplicates: number };
}
