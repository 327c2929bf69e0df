/**
 * What GET /api/runs and GET /api/runs/{id} answer, shaped from durable instance statuses: which
 * instances are kiln's runs (rebuilds, rollouts, cleanups, the runner-release watch), their phase
 * from the custom status, and the children a run's sub-orchestrations are (`<run id>:<suffix>`).
 * Pure: the handlers read the statuses through the durable client and pass them here.
 */
import { Orchestrations } from '../names.js';
import { isActiveStatus } from '../run-status.js';

export type RunKind = 'rebuild' | 'rollout' | 'cleanup' | 'runner-release-watch';

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

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
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

function outcomeOf(kind: RunKind, output: unknown): { outcome?: string; reason?: string } {
  const out = record(output);
  if (kind === 'cleanup') {
    const errors = Array.isArray(out.errors) ? out.errors.length : 0;
    if (!('summary' in out)) return {};
    return errors > 0
      ? { outcome: 'errors', reason: (out.errors as unknown[]).map(String).join('; ') }
      : { outcome: out.dryRun ? 'planned' : 'succeeded' };
  }
  const reason = typeof out.reason === 'string' ? out.reason : undefined;
  if (kind === 'runner-release-watch') {
    // The watch's own result; a rebuild it started is a run of its own.
    if (typeof out.action !== 'string') return {};
    return out.action === 'failed'
      ? { outcome: 'failed', ...(reason ? { reason } : {}) }
      : { outcome: 'succeeded' };
  }
  const state = typeof out.state === 'string' ? out.state : undefined;
  return { ...(state ? { outcome: state } : {}), ...(reason ? { reason } : {}) };
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

function childrenOf(id: string, all: DurableStatusLike[]): RunChild[] {
  return all
    .filter((s) => (s.instanceId ?? '').startsWith(`${id}:`))
    .sort(
      (a, b) =>
        iso(a.createdTime).localeCompare(iso(b.createdTime)) ||
        (a.instanceId ?? '').localeCompare(b.instanceId ?? ''),
    )
    .map(toChild);
}

function toRunSummary(status: DurableStatusLike, kind: RunKind): RunSummary {
  const input = record(status.input);
  const custom = record(status.customStatus);
  const runtimeStatus = String(status.runtimeStatus ?? 'Unknown');
  const phase = phaseOf(status.customStatus);
  const { outcome, reason } = outcomeOf(kind, status.output);
  let failureReason: string | undefined;
  if (runtimeStatus === 'Failed' || runtimeStatus === 'Terminated')
    failureReason = typeof status.output === 'string' ? status.output : (reason ?? runtimeStatus);
  else if (reason && outcome && !['succeeded', 'promoted', 'planned', 'skipped'].includes(outcome))
    failureReason = reason;
  return {
    id: status.instanceId ?? '',
    kind,
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
