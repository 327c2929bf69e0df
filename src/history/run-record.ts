/**
 * What the run history (run-history.ts) keeps of a run: one record per execution of a rebuild,
 * rollout, cleanup or runner-release watch — who or what started it, its input, how it ended and
 * why, the versions and scale sets it touched, when it started and ended — and how each kind of run
 * is summed up from its output. Pure: the orchestrators build records here (deterministically,
 * src/orchestrations/recorded-run.ts), an activity writes them, GET /api/runs reads them.
 *
 * A record must fit Table storage: a string property holds at most 32 K characters (64 KiB of
 * UTF-16) and an entity 1 MiB. The input is kept as JSON up to INPUT_LIMIT characters (a longer one
 * is cut and flagged `inputTruncated`); a reason, a subject and who started a run are cut to their
 * limits with an ellipsis; versions and scale sets are names, at most LIST_LIMIT of each.
 */
import type { CleanupOutput } from '../orchestrations/cleanup.js';
import type { SoftwareChange } from '../domain/software-report.js';
import type { RebuildOutput } from '../orchestrations/rebuild.js';
import type { RolloutOutput } from '../orchestrations/rollout.js';
import type { RunnerReleaseWatchOutput } from '../orchestrations/runner-release-watch.js';
import type { StartedBy } from '../orchestration-contracts.js';

export type RunKind = 'rebuild' | 'rollout' | 'cleanup' | 'runner-release-watch';

/** A run as recorded when it starts. */
export interface RunStart {
  instanceId: string;
  kind: RunKind;
  /** What the run is about: an image, an image version, or "fleet". */
  subject: string;
  /** Who or what started it (describeStartedBy), "unknown" for a run started before kiln recorded it. */
  startedBy: string;
  dryRun: boolean;
  /** The orchestration's input as JSON (never a secret: S6), cut at INPUT_LIMIT characters. */
  input: string;
  inputTruncated?: true;
  /** The orchestration's own time when its first execution began (context.df.currentUtcDateTime). */
  startedAt: string;
}

/** How a run ended, summed up from its output (or its failure). */
export interface RunConclusion {
  subject?: string;
  /** The outcome kiln reports (succeeded, promoted, partial, rolledBack, planned, errors, failed, …). */
  outcome?: string;
  reason?: string;
  /** Gallery versions the run published, rolled, pruned (or, planning, would). */
  versions: string[];
  /** Scale sets the run moved or reimaged (or, planning, would). */
  scaleSets: string[];
  /** A cleanup's ghost registrations it deleted, per fleet (not in a dry run: nothing was deleted). */
  ghostsRemoved?: GhostsRemoved;
  details?: RunDetails;
}

/**
 * A rebuild's inputs and findings beyond its versions: the runner/agent versions it built with, what
 * the new version holds next to the promoted one, and how an approval the gate asked for ended.
 */
export interface RunDetails {
  resolved?: Record<string, string>;
  changes?: SoftwareChange[];
  /** The promoted version the changes are against. */
  comparedWith?: string;
  approval?: RebuildOutput['approval'];
}

export interface GhostsRemoved {
  github: number;
  ado: number;
}

/** A run as recorded when it ends: its whole record, so that it stands alone if the start was not recorded. */
export interface RunEnd extends RunStart {
  status: 'Completed' | 'Failed';
  endedAt: string;
  outcome?: string;
  reason?: string;
  versions: string[];
  scaleSets: string[];
  ghostsRemoved?: GhostsRemoved;
  details?: RunDetails;
}

/** A run as the history holds it. */
export interface RunRecord extends RunStart {
  status: 'Running' | 'Completed' | 'Failed';
  endedAt?: string;
  outcome?: string;
  reason?: string;
  versions: string[];
  scaleSets: string[];
  ghostsRemoved?: GhostsRemoved;
  details?: RunDetails;
}

/** Below Table storage's 32 K characters a string property, with room for the JSON's last bracket. */
export const INPUT_LIMIT = 30_000;
const REASON_LIMIT = 4_000;
const TEXT_LIMIT = 300;
const LIST_LIMIT = 100;

/** An orchestration input as the history keeps it: JSON, cut (and flagged) past INPUT_LIMIT. */
export function recordedInput(input: unknown): Pick<RunStart, 'input' | 'inputTruncated'> {
  const json = JSON.stringify(input ?? null);
  return json.length <= INPUT_LIMIT
    ? { input: json }
    : { input: json.slice(0, INPUT_LIMIT), inputTruncated: true };
}

/** Who or what started a run, in one line: "timer cleanupTimer", "http kiln-cli/0.1.0", "run rebuild-…". */
export function describeStartedBy(startedBy: StartedBy | undefined): string {
  if (!startedBy) return 'unknown';
  switch (startedBy.by) {
    case 'timer':
      return cut(`timer ${startedBy.timer}`, TEXT_LIMIT);
    case 'http':
      return cut(`http${startedBy.client ? ` ${startedBy.client}` : ''}`, TEXT_LIMIT);
    case 'eventgrid':
      return cut(`eventgrid ${startedBy.eventId}`, TEXT_LIMIT);
    case 'run':
      return cut(`run ${startedBy.instanceId}`, TEXT_LIMIT);
  }
}

/** A conclusion cut to what a record holds. */
export function fitConclusion(conclusion: RunConclusion): RunConclusion {
  return {
    ...(conclusion.subject !== undefined ? { subject: cut(conclusion.subject, TEXT_LIMIT) } : {}),
    ...(conclusion.outcome !== undefined ? { outcome: cut(conclusion.outcome, TEXT_LIMIT) } : {}),
    ...(conclusion.reason ? { reason: cut(conclusion.reason, REASON_LIMIT) } : {}),
    versions: unique(conclusion.versions).slice(0, LIST_LIMIT),
    scaleSets: unique(conclusion.scaleSets).slice(0, LIST_LIMIT),
    ...(conclusion.ghostsRemoved ? { ghostsRemoved: conclusion.ghostsRemoved } : {}),
  };
}

export function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function unique(names: string[]): string[] {
  return [...new Set(names.filter(Boolean))];
}

/** Scale set states in which a rollout moved (or, planning, would move) the scale set. */
const MOVED = new Set(['updated', 'rolledBack', 'pending', 'planned']);

/** How each kind of run ended, from its output. */
export const CONCLUSIONS: {
  cleanup: (output: CleanupOutput) => RunConclusion;
  rollout: (output: RolloutOutput) => RunConclusion;
  rebuild: (output: RebuildOutput) => RunConclusion;
  'runner-release-watch': (output: RunnerReleaseWatchOutput) => RunConclusion;
} = {
  cleanup: (out) => ({
    outcome: out.errors.length > 0 ? 'errors' : out.dryRun ? 'planned' : 'succeeded',
    ...(out.errors.length > 0 ? { reason: out.errors.join('; ') } : {}),
    versions: [],
    scaleSets: out.dryRun
      ? [...out.planned.reimage, ...out.planned.recycle].map((d) => d.scaleSet)
      : [...out.reimaged, ...out.recycled].map((r) => r.scaleSet),
    ...(out.dryRun ? {} : { ghostsRemoved: ghostsDeleted(out) }),
  }),
  rollout: (out) => ({
    outcome: out.state,
    ...(out.reason ? { reason: out.reason } : {}),
    versions: [out.version],
    scaleSets: Object.values(out.scaleSets)
      .filter((s) => s.instancesUpdated > 0 || MOVED.has(s.state))
      .map((s) => s.scaleSet),
  }),
  rebuild: (out) => ({
    subject: `${out.image}${out.version ? ` ${out.version}` : ''}`,
    outcome: out.state,
    ...(out.reason ? { reason: out.reason } : {}),
    versions: [out.version, ...(out.plan ? out.plan.prune : out.pruned)],
    scaleSets: out.plan
      ? [out.plan.canary ?? '', ...out.plan.rollOut]
      : [
          // The canary took the version once it was published.
          ...(out.timings.publishedAt && out.canary ? [out.canary] : []),
          ...Object.entries(out.rollout?.scaleSets ?? {})
            .filter(([, s]) => s.instancesUpdated > 0 || MOVED.has(s.state))
            .map(([name]) => name),
        ],
    ...(rebuildDetails(out) ? { details: rebuildDetails(out) } : {}),
  }),
  'runner-release-watch': (out) => ({
    // The watch's own result (a rebuild it started is a run of its own): it failed, or it did its job.
    outcome: out.action === 'failed' ? 'failed' : 'succeeded',
    reason: out.reason,
    versions: out.rebuild ? [out.rebuild.version] : [],
    scaleSets: [],
  }),
};

/** The ghosts a cleanup deleted, per fleet (one already gone, or kept busy, was not deleted by it). */
function ghostsDeleted(out: CleanupOutput): GhostsRemoved {
  const deleted = (fleet: string) =>
    out.removed.filter((r) => r.fleet === fleet && r.reason === 'ghost' && r.outcome === 'deleted').length;
  return { github: deleted('github'), ado: deleted('ado') };
}

/** The conclusion of a run of `kind` from an output of unknown shape (a durable status's); undefined when it is none. */
export function concludeStored(kind: RunKind, output: unknown): RunConclusion | undefined {
  if (!output || typeof output !== 'object' || Array.isArray(output)) return undefined;
  try {
    return fitConclusion((CONCLUSIONS[kind] as (output: unknown) => RunConclusion)(output));
  } catch {
    return undefined; // an output of an older shape: nothing to say about it
  }
}

function rebuildDetails(out: RebuildOutput): RunDetails | undefined {
  const details: RunDetails = {
    ...(out.resolved ? { resolved: out.resolved } : {}),
    ...(out.software?.changes ? { changes: out.software.changes } : {}),
    ...(out.software?.against ? { comparedWith: out.software.against.version } : {}),
    ...(out.approval ? { approval: out.approval } : {}),
  };
  return Object.keys(details).length > 0 ? details : undefined;
}
