/**
 * Following runs: polls GET /api/runs/{id} until every run ended, showing one live progress line
 * (phase, waves, counts) — rewritten in place on a terminal, printed on change otherwise.
 */
import type { RunChild, RunDetail } from '../functions/runs-view.js';
import { CommandError, errorText, type AppClient } from './app-client.js';
import { EXIT } from './exit-codes.js';
import { isActiveStatus } from '../run-status.js';
import { describeChange, type SoftwareChange } from '../domain/software-report.js';

type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

export function isActive(run: Pick<RunDetail, 'status'>): boolean {
  return isActiveStatus(run.status);
}

function describeChild(child: RunChild): string | undefined {
  const s = obj(child.customStatus);
  if (child.name === 'rolloutScaleSetOrchestrator') {
    if (!isActiveStatus(child.status)) return undefined;
    const parts = [`${String(s.scaleSet ?? child.id)} ${child.phase ?? child.status}`];
    if (num(s.wave) && !/\bwave\b/.test(child.phase ?? '')) parts.push(`wave ${num(s.wave)}`);
    parts.push(`${num(s.onNewVersion)} on ${String(s.version ?? 'new version')}`);
    if (num(s.pendingBusy)) parts.push(`${num(s.pendingBusy)} busy`);
    if (num(s.unhealthy)) parts.push(`${num(s.unhealthy)} unhealthy`);
    return parts.join(', ');
  }
  if (!isActiveStatus(child.status)) return undefined;
  if (child.name === 'waitForBuildOrchestrator') return `build ${String(s.status ?? child.status)}`;
  if (child.name === 'waitForReplicationOrchestrator') {
    const regions = Array.isArray(s.regions) ? (s.regions as unknown[]) : [];
    return `replication ${regions.map((r) => `${String(obj(r).region ?? '?')} ${String(obj(r).state ?? '?')}`).join(', ') || 'waiting'}`;
  }
  return undefined;
}

/** One line for a run: id, status, phase and what its children are doing. */
export function describeRun(run: RunDetail): string {
  const custom = obj(run.customStatus);
  const parts = [`${run.id}: ${run.status}`];
  if (run.phase) parts.push(run.phase);
  const sets = obj(custom.scaleSets);
  const running = new Set((run.children ?? []).filter((c) => isActiveStatus(c.status)).map((c) => c.id));
  // A queued scale set whose sub-orchestration runs is rolling.
  const states = Object.values(sets).map((v) =>
    typeof v === 'string' ? v : running.has(String(obj(v).child)) ? 'rolling' : String(obj(v).state ?? '?'),
  );
  if (states.length > 0) {
    const counts = new Map<string, number>();
    for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
    parts.push(`scale sets: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  }
  if (custom.state === 'awaitingApproval') parts.push(heldLine(run.id, custom));
  if (run.kind === 'cleanup' && custom.phase === 'acting')
    parts.push(
      `removing ${num(custom.remove)}, reimaging ${num(custom.reimage)}, recycling ${num(custom.recycle)}`,
    );
  for (const child of run.children ?? []) {
    const line = describeChild(child);
    if (line) parts.push(line);
  }
  if (!isActive(run)) {
    if (run.outcome) parts.push(run.outcome);
    if (run.failureReason) parts.push(run.failureReason);
  }
  return parts.join(' · ');
}

export async function getRun(client: AppClient, id: string): Promise<RunDetail> {
  const response = await client.request('GET', `/runs/${encodeURIComponent(id)}`);
  if (response.status === 404)
    throw new CommandError(`no run "${id}": ${errorText(response.body)}`, EXIT.usage);
  if (response.status !== 200)
    throw new CommandError(
      `GET /api/runs/${id} answered ${response.status}: ${errorText(response.body)}`,
      EXIT.unreachable,
    );
  return response.body as RunDetail;
}

export interface FollowOptions {
  intervalMs: number;
  /** Where the live line goes (stderr); a TTY gets the line rewritten in place. */
  out: NodeJS.WriteStream;
  now?: () => Date;
}

/** Polls until every run ended; returns their final details. */
export async function follow(client: AppClient, ids: string[], options: FollowOptions): Promise<RunDetail[]> {
  const tty = options.out.isTTY === true;
  let last = '';
  for (;;) {
    const runs = await Promise.all(ids.map((id) => getRun(client, id)));
    const line = runs.map(describeRun).join('  |  ');
    if (tty) options.out.write(`\r\x1b[K${line.slice(0, Math.max(20, (options.out.columns ?? 120) - 1))}`);
    else if (line !== last)
      options.out.write(`${(options.now?.() ?? new Date()).toISOString().slice(11, 19)} ${line}\n`);
    last = line;
    if (!runs.some(isActive)) {
      if (tty) options.out.write('\n');
      return runs;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

/** The final summary of ended runs, for stdout. */
export function summarise(runs: RunDetail[]): string {
  const lines: string[] = [];
  for (const run of runs) {
    lines.push(
      `${run.id} (${run.kind} ${run.subject}${run.dryRun ? ', dry run' : ''}): ${run.status}${run.outcome ? ` — ${run.outcome}` : ''}`,
    );
    if (run.failureReason) lines.push(`  reason: ${run.failureReason}`);
    const output = obj(run.output);
    for (const s of Object.values(obj(output.scaleSets ?? obj(output.rollout).scaleSets))) {
      const r = obj(s);
      lines.push(
        `  ${String(r.scaleSet ?? '?')}: ${String(r.state ?? '?')}, ${num(r.instancesUpdated)} updated${num(r.instancesPending) ? `, ${num(r.instancesPending)} pending (busy)` : ''}${r.reason ? ` — ${String(r.reason)}` : ''}`,
      );
    }
    if (run.kind === 'rebuild' && output.version)
      lines.push(
        `  version ${String(output.version)}${Array.isArray(output.regions) && output.regions.length ? ` in ${(output.regions as string[]).join(', ')}` : ''}`,
      );
    if (run.kind === 'rebuild') lines.push(...softwareLines(output, obj(run.customStatus)));
    if (run.kind === 'cleanup' && output.summary)
      lines.push(
        `  ${Object.entries(obj(output.summary))
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** What holds a rebuild for approval, until when, and the commands that answer it. */
export function heldLine(id: string, custom: Record<string, unknown>): string {
  const approval = obj(custom.approval);
  const held = Array.isArray(approval.held) ? approval.held.map(String) : [];
  return `awaiting approval until ${String(approval.deadline ?? '?')} (${held.join('; ') || 'PROMOTION_GATE'}): kiln rebuild approve ${id} | kiln rebuild reject ${id}`;
}

/** A rebuild's software changes against the promoted version, and how its approval went. */
export function softwareLines(
  output: Record<string, unknown>,
  custom: Record<string, unknown> = {},
): string[] {
  const software = obj(output.software);
  const changes = Array.isArray(software.changes)
    ? software.changes
    : Array.isArray(custom.changes)
      ? custom.changes
      : undefined;
  const against = obj(software.against);
  const lines: string[] = [];
  if (changes === undefined) {
    if (software.note) lines.push(`  software: ${String(software.note)}`);
  } else if (changes.length === 0) {
    lines.push(
      `  software: no changes${against.version ? ` against ${String(against.version)}` : ''}${software.note ? ` (${String(software.note)})` : ''}`,
    );
  } else {
    lines.push(`  software changes${against.version ? ` against ${String(against.version)}` : ''}:`);
    for (const change of changes) {
      const c = change as SoftwareChange;
      lines.push(`    ${String(c.kind).padEnd(7)} ${describeChange(c)}`);
    }
  }
  const approval = obj(output.approval ?? custom.approval);
  if (approval.decision)
    lines.push(
      `  approval: ${String(approval.decision)}${approval.by ? ` by ${String(approval.by)}` : ''}${approval.reason ? ` (${String(approval.reason)})` : ''}${approval.at ? ` at ${String(approval.at)}` : ''}`,
    );
  return lines;
}
