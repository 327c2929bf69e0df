/**
 * How far each scale set is from where it should be, for GET /api/fleet and the dashboard, pure:
 * the age of every image version it runs and how many promoted versions are newer, the runner or
 * agent those versions carry and whether it is acceptable (runner-compliance.ts), and — while a
 * rollout moves it — how fast instances move to the new version and when, at that pace, the scale
 * set and the rollout's whole fleet are done. Nothing is invented: no rollout running means no pace.
 */
import {
  adoAgentCompliance,
  githubRunnerCompliance,
  worstCompliance,
  AGENT_VERSION_TAG,
  RUNNER_VERSION_TAG,
  type AgentCompliance,
  type ComplianceState,
  type RunnerCompliance,
  type RunnerReleaseInfo,
} from './runner-compliance.js';
import { compareVersions, isGalleryVersion } from './versions.js';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** A scale set rollout of a running rollout, as its custom status shows it (rollout-progress.ts). */
export interface RolloutScaleSetProgress {
  name: string;
  /** `queued`: not started yet; `rolling`: its rollout runs; `ended`: its rollout ended. */
  state: 'queued' | 'rolling' | 'ended';
  phase?: string;
  /** Instances its rollout moved to the version and saw healthy. */
  onNewVersion: number;
  /** When its first wave started. */
  firstWaveAt?: string;
}

/** A rollout that runs now (on its own, or a rebuild's), with its scale sets. */
export interface RunningRollout {
  /** The orchestration whose scale set rollouts these are (a rollout, a rebuild's rollout or canary). */
  run: string;
  version: string;
  scaleSets: RolloutScaleSetProgress[];
}

export interface Pace {
  /** Instances not on the version yet. */
  remaining: number;
  /** Instances moved to the version per hour since the first wave started; absent until one moved. */
  perHour?: number;
  /** Hours until none is left at that pace (0 when none is left). */
  hoursLeft?: number;
  /** When none is left at that pace. */
  doneBy?: string;
}

/** The pace of `moved` instances since `since`, and what it says about the `remaining` ones. */
export function paceOf(input: { moved: number; since?: string; remaining: number; now: string }): Pace {
  const { moved, since, remaining, now } = input;
  const hours = since ? (Date.parse(now) - Date.parse(since)) / HOUR_MS : 0;
  const perHour = moved > 0 && hours > 0 ? moved / hours : undefined;
  if (remaining === 0) return { remaining, ...(perHour ? { perHour } : {}), hoursLeft: 0 };
  if (!perHour) return { remaining };
  const hoursLeft = remaining / perHour;
  return {
    remaining,
    perHour,
    hoursLeft,
    doneBy: new Date(Date.parse(now) + hoursLeft * HOUR_MS).toISOString(),
  };
}

/** What these functions read of a scale set's view. */
export interface DriftScaleSet {
  name: string;
  image: 'linux' | 'windows';
  instancesByVersion: { version: string; count: number }[];
}

/** What these functions read of a gallery version's view. */
export interface DriftVersion {
  version: string;
  state: string;
  publishedDate?: string;
  tags: Record<string, string>;
}

export interface VersionDrift {
  version: string;
  count: number;
  publishedDate?: string;
  /** Whole days since the version was published. */
  ageDays?: number;
  /** Promoted versions newer than this one (0: it is the latest promoted); absent when not comparable. */
  behind?: number;
}

export interface ScaleSetRollout extends Pace {
  run: string;
  version: string;
  state: RolloutScaleSetProgress['state'];
  phase?: string;
  onNewVersion: number;
}

export interface ScaleSetDrift {
  /** The newest promoted version of its image. */
  latestPromoted?: string;
  /** Instances not on the latest promoted version. */
  notOnLatest: number;
  /** Per version it runs, newest first. */
  versions: VersionDrift[];
  /** The running rollout that moves it (or moved it: its part ended), with its pace; absent when none runs for it. */
  rollout?: ScaleSetRollout;
}

export type VersionCompliance = { version: string; count: number } & (RunnerCompliance | AgentCompliance);

export interface ScaleSetCompliance {
  /** What is checked: the GitHub Actions runner (Linux) or the Azure DevOps agent (Windows). */
  kind: 'runner' | 'agent';
  /** The state that needs attention first among its versions. */
  state?: ComplianceState;
  versions: VersionCompliance[];
}

export interface RolloutPace extends Pace {
  run: string;
  version: string;
  scaleSets: string[];
  /** Instances of those scale sets now. */
  instances: number;
  /** Instances its scale set rollouts moved to the version and saw healthy. */
  moved: number;
  /** When its first wave started. */
  since?: string;
}

export function ageDays(publishedDate: string, now: string): number {
  return Math.floor((Date.parse(now) - Date.parse(publishedDate)) / DAY_MS);
}

function latestPromoted(versions: DriftVersion[]): string | undefined {
  return versions
    .filter((v) => v.state === 'promoted' && isGalleryVersion(v.version))
    .map((v) => v.version)
    .sort(compareVersions)
    .at(-1);
}

function remainingIn(scaleSet: DriftScaleSet | undefined, version: string): number {
  if (!scaleSet) return 0;
  return scaleSet.instancesByVersion.filter((v) => v.version !== version).reduce((n, v) => n + v.count, 0);
}

/** The running rollout of a scale set: where it rolls, else where it is queued, else where its part ended. */
function rolloutOf(
  name: string,
  rollouts: RunningRollout[],
): { rollout: RunningRollout; progress: RolloutScaleSetProgress } | undefined {
  const found = rollouts.flatMap((rollout) =>
    rollout.scaleSets.filter((s) => s.name === name).map((progress) => ({ rollout, progress })),
  );
  return (['rolling', 'queued', 'ended'] as const)
    .map((state) => found.find((f) => f.progress.state === state))
    .find(Boolean);
}

export function scaleSetDrift(input: {
  scaleSet: DriftScaleSet;
  /** The gallery versions of its image. */
  versions: DriftVersion[];
  rollouts: RunningRollout[];
  now: string;
}): ScaleSetDrift {
  const { scaleSet, versions, now } = input;
  const latest = latestPromoted(versions);
  const promoted = versions.filter((v) => v.state === 'promoted' && isGalleryVersion(v.version));
  const drift: ScaleSetDrift = {
    ...(latest ? { latestPromoted: latest } : {}),
    notOnLatest: remainingIn(scaleSet, latest ?? ''),
    versions: scaleSet.instancesByVersion.map(({ version, count }): VersionDrift => {
      const gallery = versions.find((v) => v.version === version);
      const comparable = latest !== undefined && isGalleryVersion(version);
      return {
        version,
        count,
        ...(gallery?.publishedDate
          ? { publishedDate: gallery.publishedDate, ageDays: ageDays(gallery.publishedDate, now) }
          : {}),
        ...(comparable
          ? { behind: promoted.filter((p) => compareVersions(p.version, version) > 0).length }
          : {}),
      };
    }),
  };
  const moving = rolloutOf(scaleSet.name, input.rollouts);
  if (moving) {
    const { rollout, progress } = moving;
    const remaining = remainingIn(scaleSet, rollout.version);
    drift.rollout = {
      run: rollout.run,
      version: rollout.version,
      state: progress.state,
      ...(progress.phase ? { phase: progress.phase } : {}),
      onNewVersion: progress.onNewVersion,
      // A scale set whose part of the rollout ended moves no more: it has no pace.
      ...(progress.state === 'ended'
        ? { remaining }
        : paceOf({ moved: progress.onNewVersion, since: progress.firstWaveAt, remaining, now })),
    };
  }
  return drift;
}

export function scaleSetCompliance(input: {
  scaleSet: DriftScaleSet;
  versions: DriftVersion[];
  /** The latest GitHub Actions runner release; undefined when it is not known. */
  runnerRelease: RunnerReleaseInfo | undefined;
  /** AGENT_VERSION ('' when unset). */
  agentVersion: string;
  now: string;
}): ScaleSetCompliance {
  const { scaleSet, versions, now } = input;
  const kind = scaleSet.image === 'linux' ? 'runner' : 'agent';
  const checked = scaleSet.instancesByVersion.map(({ version, count }): VersionCompliance => {
    const tags = versions.find((v) => v.version === version)?.tags ?? {};
    const compliance =
      kind === 'runner'
        ? githubRunnerCompliance({ installedTag: tags[RUNNER_VERSION_TAG], latest: input.runnerRelease, now })
        : adoAgentCompliance({ installedTag: tags[AGENT_VERSION_TAG], configured: input.agentVersion });
    return { version, count, ...compliance };
  });
  const state = worstCompliance(checked.map((c) => c.state));
  return { kind, ...(state ? { state } : {}), versions: checked };
}

/** Each running rollout's pace over all its scale sets, and when its whole fleet is done at that pace. */
export function rolloutPaces(input: {
  rollouts: RunningRollout[];
  scaleSets: DriftScaleSet[];
  now: string;
}): RolloutPace[] {
  return input.rollouts.map((rollout) => {
    const names = rollout.scaleSets.map((s) => s.name);
    const sets = input.scaleSets.filter((s) => names.includes(s.name));
    const starts = rollout.scaleSets.flatMap((s) => (s.firstWaveAt ? [s.firstWaveAt] : [])).sort();
    const moved = rollout.scaleSets.reduce((n, s) => n + s.onNewVersion, 0);
    return {
      run: rollout.run,
      version: rollout.version,
      scaleSets: names,
      instances: sets.reduce((n, s) => n + s.instancesByVersion.reduce((m, v) => m + v.count, 0), 0),
      moved,
      ...(starts[0] ? { since: starts[0] } : {}),
      ...paceOf({
        moved,
        since: starts[0],
        remaining: sets.reduce((n, s) => n + remainingIn(s, rollout.version), 0),
        now: input.now,
      }),
    };
  });
}
