/**
 * What GET /api/runs and GET /api/runs/{id} answer: the run history's records (src/history/), a
 * running one with how the durable task hub sees it now, and runs shaped from durable instance
 * statuses — which instances are kiln's runs (rebuilds, rollouts, cleanups, the runner-release
 * watch), their phase from the custom status, and the children a run's sub-orchestrations are
 * (`<run id>:<suffix>`). Pure: the handlers read the history and the statuses and pass them here.
 */
import {
  concludeStored,
  describeStartedBy,
  type RunDetails,
  type RunKind,
  type RunRecord,
} from '../history/run-record.js';
import { Orchestrations } from '../names.js';
import type { StartedBy } from '../orchestration-contracts.js';
import { isActiveStatus } from '../run-status.js';

export type { RunKind };

const KINDS: Record<string, RunKind> = {
  [Orchestrations.rebuild]: 'rebuild',
  [Orchestrations.rollout]: 'rollout',
  [Orchestrations.cleanup]: 'cleanup',
  [Orchestrations.runnerReleaseWatch]: 'runner-release-watch',
};

/** A durable status as the client returns it (dates as Date or ISO strings, depending on the call). */
export interface DurableStatusLike {
  name?: string;
  instanceId?: string;
  runtimeStatus?: unknown;
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  createdTime?: Date | string;
  lastUpdatedTime?: Date | string;
}

export interface RunChild {
  id: string;
  name: string;
  status: string;
  phase?: string;
  customStatus: unknown;
}

export interface RunSummary {
  id: string;
  kind: RunKind;
  /** Who or what started it: "timer cleanupTimer", "http kiln-cli/0.1.0", "eventgrid <event id>", "run <parent run>", "unknown". */
  startedBy: string;
  status: string;
  phase?: string;
  /** What the run is about: an image, an image version, or "fleet". */
  subject: string;
  dryRun: boolean;
  createdTime: string;
  lastUpdatedTime: string;
  /** The outcome kiln reports when it ended (succeeded, promoted, rolledBack, …). */
  outcome?: string;
  failureReason?: string;
  customStatus: unknown;
  /** Sub-orchestrations (rollout waves per scale set, build and replication waits); running runs only in a list. */
  children?: RunChild[];
}

/** A run of the history: its record, and for a running one how it goes now. */
export interface HistoryRun extends RunSummary {
  /** The input it was started with; the cut JSON text when `inputTruncated`. */
  input: unknown;
  inputTruncated?: true;
  endedAt?: string;
  versions: string[];
  scaleSets: string[];
  /** A cleanup's ghost registrations it deleted, per fleet. */
  ghostsRemoved?: { github: number; ado: number };
  /** A rebuild's runner/agent versions, software changes and approval. */
  details?: RunDetails;
}

export interface RunDetail extends RunSummary {
  input: unknown;
  output: unknown;
  children: RunChild[];
}

function iso(value: Date | string | undefined): string {
  if (value === undefined) return '';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

/** A JSON object as a record; anything else (an array, a scalar, nothing) as an empty one. */
export function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `<parent>:<suffix>` is a sub-orchestration of `<parent>` (kiln names every one so); undefined for a run. */
export function parentOf(instanceId: string): string | undefined {
  const at = instanceId.lastIndexOf(':');
  return at > 0 ? instanceId.slice(0, at) : undefined;
}

function runKind(status: DurableStatusLike): RunKind | undefined {
  const id = status.instanceId ?? '';
  // kiln names every sub-orchestration `<parent id>:<suffix>`; those belong to their parent's run.
  if (id.includes(':')) return undefined;
  return KINDS[status.name ?? ''];
}

export function isActive(status: string): boolean {
  return isActiveStatus(status);
}

function phaseOf(customStatus: unknown): string | undefined {
  const phase = record(customStatus).phase;
  return typeof phase === 'string' ? phase : undefined;
}

function subjectOf(kind: RunKind, input: Record<string, unknown>, custom: Record<string, unknown>): string {
  if (kind === 'rollout') return `${String(input.definition ?? '?')} ${String(input.version ?? '?')}`;
  if (kind === 'rebuild') {
    const version = custom.version ?? record(custom).version;
    return `${String(input.image ?? input.definition ?? '?')}${typeof version === 'string' && version ? ` ${version}` : ''}`;
  }
  if (kind === 'runner-release-watch') return 'actions/runner';
  return 'fleet';
}

export function toChild(status: DurableStatusLike): RunChild {
  const phase = phaseOf(status.customStatus);
  return {
    id: status.instanceId ?? '',
    name: status.name ?? '',
    status: String(status.runtimeStatus ?? 'Unknown'),
    ...(phase ? { phase } : {}),
    customStatus: status.customStatus ?? null,
  };
}

export function childrenOf(id: string, all: DurableStatusLike[]): RunChild[] {
  return all
    .filter((s) => (s.instanceId ?? '').startsWith(`${id}:`))
    .sort(
      (a, b) =>
        iso(a.createdTime).localeCompare(iso(b.createdTime)) ||
        (a.instanceId ?? '').localeCompare(b.instanceId ?? ''),
    )
    .map(toChild);
}

/** Outcomes that need no reason shown: the run did what it was asked. */
const WELL = ['succeeded', 'promoted', 'planned', 'skipped'];

/** Why a run failed or did not do all it was asked, if it did not. */
function failureReasonOf(status: string, outcome: string | undefined, reason: string | undefined) {
  if (status === 'Failed' || status === 'Terminated') return reason ?? status;
  return reason && outcome && !WELL.includes(outcome) ? reason : undefined;
}

function toRunSummary(status: DurableStatusLike, kind: RunKind): RunSummary {
  const input = record(status.input);
  const custom = record(status.customStatus);
  const runtimeStatus = String(status.runtimeStatus ?? 'Unknown');
  const phase = phaseOf(status.customStatus);
  const { outcome, reason } = concludeStored(kind, status.output) ?? {};
  const failureReason = failureReasonOf(
    runtimeStatus,
    outcome,
    typeof status.output === 'string' ? status.output : reason,
  );
  return {
    id: status.instanceId ?? '',
    kind,
    startedBy: describeStartedBy(input.startedBy as StartedBy | undefined),
    status: runtimeStatus,
    ...(phase ? { phase } : {}),
    subject: subjectOf(kind, input, custom),
    dryRun: input.dryRun === true,
    createdTime: iso(status.createdTime),
    lastUpdatedTime: iso(status.lastUpdatedTime),
    ...(outcome ? { outcome } : {}),
    ...(failureReason ? { failureReason } : {}),
    customStatus: status.customStatus ?? null,
  };
}

/** Runs among `all` instances, newest first, at most `top`; running runs carry their children. */
export function listRuns(all: DurableStatusLike[], top: number): RunSummary[] {
  return all
    .map((s) => ({ s, kind: runKind(s) }))
    .filter((x): x is { s: DurableStatusLike; kind: RunKind } => x.kind !== undefined)
    .map(({ s, kind }) => {
      const run = toRunSummary(s, kind);
      return isActive(run.status) ? { ...run, children: childrenOf(run.id, all) } : run;
    })
    .sort((a, b) => b.createdTime.localeCompare(a.createdTime) || a.id.localeCompare(b.id))
    .slice(0, top);
}

export function toRunDetail(status: DurableStatusLike, all: DurableStatusLike[]): RunDetail | undefined {
  const id = status.instanceId ?? '';
  const kind = KINDS[status.name ?? ''];
  if (!kind) return undefined;
  return {
    ...toRunSummary(status, kind),
    input: status.input ?? null,
    output: status.output ?? null,
    children: childrenOf(id, all),
  };
}

/**
 * A run of the history as GET /api/runs answers it. A run recorded as running is shown as the
 * durable task hub sees it now (status, phase, children), when the hub still holds this execution
 * of its instance id: a run that ended without recording it (terminated from outside, or its end
 * record failed) shows how it ended there; one the hub no longer holds shows status Unknown.
 */
export function toHistoryRun(
  run: RunRecord,
  live: DurableStatusLike | undefined,
  all: DurableStatusLike[],
): HistoryRun {
  const recorded: HistoryRun = {
    id: run.instanceId,
    kind: run.kind,
    startedBy: run.startedBy,
    status: run.status,
    subject: run.subject,
    dryRun: run.dryRun,
    createdTime: run.startedAt,
    lastUpdatedTime: run.endedAt ?? run.startedAt,
    ...(run.outcome ? { outcome: run.outcome } : {}),
    ...withReason(failureReasonOf(run.status, run.outcome, run.reason)),
    customStatus: null,
    input: run.inputTruncated ? run.input : JSON.parse(run.input),
    ...(run.inputTruncated ? { inputTruncated: true as const } : {}),
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    versions: run.versions,
    scaleSets: run.scaleSets,
    ...(run.ghostsRemoved ? { ghostsRemoved: run.ghostsRemoved } : {}),
    ...(run.details ? { details: run.details } : {}),
  };
  if (run.status !== 'Running') return recorded;
  // The hub holds the latest execution of an id, created before it started: this one, if created by then.
  const created = live ? Date.parse(iso(live.createdTime)) : Number.NaN;
  if (!live || !(created <= Date.parse(run.startedAt)))
    return {
      ...recorded,
      status: 'Unknown',
      failureReason:
        'its end was not recorded, and the durable task hub no longer holds this run (a later run of the same id replaced it, or it was purged)',
    };
  const now = toRunSummary(live, run.kind);
  const seen = {
    status: now.status,
    ...(now.phase ? { phase: now.phase } : {}),
    customStatus: now.customStatus,
    lastUpdatedTime: now.lastUpdatedTime,
  };
  if (isActive(now.status)) return { ...recorded, ...seen, children: childrenOf(run.instanceId, all) };
  return {
    ...recorded,
    ...seen,
    endedAt: now.lastUpdatedTime,
    ...(now.outcome ? { outcome: now.outcome } : {}),
    ...withReason(now.failureReason),
  };
}

const withReason = (failureReason: string | undefined) => (failureReason ? { failureReason } : {});
