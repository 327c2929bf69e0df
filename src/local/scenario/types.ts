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
  canary: boolean;
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
  region?: string;
  /** How many times the fault fires before the operation behaves again. */
  times: number;
}

export interface Scenario {
  version: 1;
  name: string;
  start: string;
  until: string;
  timers: boolean;
  trigger: TriggerName[];
  dryRun: boolean;
  gallery: { regions: string[]; existingVersions: Record<ImageKind, string[]> };
  images: Record<ImageKind, { buildMinutes: number; buildFails: boolean; unhealthy: boolean }>;
  scaleSets: ScenarioScaleSet[];
  jobs: ScenarioJob[];
  ghosts: { github: number; ado: number };
  foreign: { github: number; ado: number };
  latency: { replication: number; reimage: number; register: number };
  faults: ScenarioFault[];
  eventgrid?: { version: { image: ImageKind; version: string }; duplicates: number };
}
