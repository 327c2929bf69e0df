/**
 * `kiln explore`'s runner: hands seeds to a pool of worker processes (worker.ts, one world at a time
 * each), collects their verdicts, then shrinks the findings and writes each to a file. Exploring
 * comes first (a budget of seeds or of minutes), shrinking after, so a finding's shrinking never
 * delays the verdict on another seed.
 *
 * Shrinking costs up to `shrinkMinutes` per finding; many seeds often show the same bug, so only the
 * first `shrinkPerKind` seeds of each kind of finding (invariant + what happened, with names and
 * numbers left out) are shrunk. The others are written as explored: every finding has a file.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Outcome } from '../simulate/report.js';
import { findingFileName, renderFinding, type FindingOrigin } from './findings.js';
import { worldOfSeed, type RawScenario } from './generate-world.js';
import { BOUND_FINDING, kindsOfVerdict, type FindingKind, type WorldVerdict } from './run-world.js';
import type { ExploreFinding, ExploreSummary } from './summary.js';
import type { WorkerMessage, WorkerTask } from './worker.js';

export interface ExploreOptions {
  firstSeed: number;
  /** How many seeds (at most, with `minutes`); undefined: as many as `minutes` allows. */
  seeds?: number;
  /** Wall time for exploring, in minutes; undefined: until `seeds` are done. */
  minutes?: number;
  workers: number;
  outDir: string;
  /** Time limit of one finding's shrinking; 0: no shrinking. */
  shrinkMinutes: number;
  /** Findings of each kind that are shrunk (the first, by seed). */
  shrinkPerKind: number;
  /** A world still running after this long is a finding of its own (`hang`). */
  worldTimeoutMs: number;
  /** Progress lines (stderr in the CLI). */
  progress: (line: string) => void;
}

export const EXPLORE_DEFAULTS = {
  seeds: 100,
  firstSeed: 1,
  outDir: 'explore-findings',
  shrinkMinutes: 5,
  shrinkPerKind: 1,
  worldTimeoutMs: 5 * 60_000,
};

export class ExploreError extends Error {
  override readonly name = 'ExploreError';
}

/** The result of one task as the pool sees it: the worker's answer, or why there is none. */
type TaskResult =
  | Extract<WorkerMessage, { kind: 'world' | 'shrunk' | 'error' }>
  | { kind: 'died'; detail: string }
  | { kind: 'timeout' }
  | { kind: 'stopped' };

const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** The worker is TypeScript: it runs with the tsx loader, found from here (any working directory). */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const STDERR_TAIL = 8_000;

/** One worker process, started on demand and started again after it exits. */
class WorkerSlot {
  private child?: ChildProcess;
  private started?: Promise<void>;
  /** Resolves once the current child process has exited and its messages were all delivered. */
  private closed: Promise<void> = Promise.resolve();
  private stderr = '';
  private current?: (result: TaskResult) => void;

  constructor(private readonly stopped: () => boolean) {}

  /** Runs one task; `onSmaller` hears of the smaller worlds a shrinking finds on its way. */
  async run(
    task: WorkerTask,
    timeoutMs: number,
    onSmaller?: (message: Extract<WorkerMessage, { kind: 'smaller' }>) => void,
  ): Promise<TaskResult> {
    await this.start();
    const child = this.child!;
    const closed = this.closed;
    const result = await new Promise<TaskResult>((resolve) => {
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        child.kill('SIGKILL');
      }, timeoutMs);
      const onMessage = (message: WorkerMessage) => {
        if (message.kind === 'smaller') onSmaller?.(message);
        else if (message.kind === 'world' || message.kind === 'shrunk' || message.kind === 'error')
          finish(message);
      };
      const finish = (result: TaskResult) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        this.current = undefined;
        resolve(result);
      };
      this.current = finish;
      child.on('message', onMessage);
      child.send(task);
    });
    // A worker exits after a world that crashed the simulator (or after an error): the next task
    // waits for a fresh one.
    const exits =
      result.kind === 'error' ||
      result.kind === 'timeout' ||
      (result.kind === 'world' && result.verdict.crash !== undefined);
    if (exits) await closed;
    return result;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  private start(): Promise<void> {
    if (this.child && this.started) return this.started;
    this.stderr = '';
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    let onClose: () => void = () => undefined;
    this.closed = new Promise<void>((resolve) => (onClose = resolve));
    this.started = new Promise<void>((resolve, reject) => {
      const onReady = (message: WorkerMessage) => {
        if (message.kind !== 'ready') return;
        child.off('message', onReady);
        resolve();
      };
      child.on('message', onReady);
      // 'close' comes after 'exit' and after the last message: a result sent right before exiting counts.
      child.on('close', (code, signal) => {
        child.off('message', onReady);
        if (this.child === child) {
          this.child = undefined;
          this.started = undefined;
        }
        const stderr = this.stderr.trim();
        const detail = `the worker process exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr}` : ''}`;
        reject(new ExploreError(`an explore worker could not start: ${detail}`));
        this.current?.(this.stopped() ? { kind: 'stopped' } : { kind: 'died', detail });
        onClose();
      });
    });
    // A rejection nobody awaits (the worker exited after its last task) is no error.
    this.started.catch(() => undefined);
    return this.started;
  }
}

interface Explored {
  seed: number;
  verdict: WorldVerdict;
  seconds: number;
}

/** Runs the exploration and writes the findings; resolves with the summary. */
export async function explore(options: ExploreOptions): Promise<ExploreSummary> {
  const startedAt = performance.now();
  let stopping = false;
  const slots = Array.from({ length: options.workers }, () => new WorkerSlot(() => stopping));
  const stop = () => {
    if (stopping) return;
    stopping = true;
    options.progress('kiln explore: stopping (the summary covers the worlds that finished)');
    for (const slot of slots) slot.kill();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    // Exploring: seeds in order, to whichever worker is free.
    const deadline = options.minutes === undefined ? Infinity : performance.now() + options.minutes * 60_000;
    const last = options.seeds === undefined ? Infinity : options.firstSeed + options.seeds - 1;
    let next = options.firstSeed;
    const explored = new Map<number, Explored>();
    let done = 0;
    const total = options.seeds !== undefined && options.minutes === undefined ? options.seeds : undefined;
    await Promise.all(
      slots.map(async (slot) => {
        while (!stopping && next <= last && performance.now() < deadline) {
          const seed = next++;
          const result = await slot.run({ kind: 'world', seed }, options.worldTimeoutMs);
          const entry = exploredOf(seed, result, options.worldTimeoutMs);
          if (!entry) continue;
          explored.set(seed, entry);
          done++;
          options.progress(progressLine(entry, done, total));
        }
      }),
    );
    const exploreSeconds = (performance.now() - startedAt) / 1000;

    // Findings, by seed, each written as explored; the first few of each kind are then shrunk.
    const seeds = [...explored.keys()].sort((a, b) => a - b);
    const findings: ExploreFinding[] = [];
    const toShrink: ExploreFinding[] = [];
    const byKind = new Map<string, ExploreFinding[]>();
    const files: string[] = [];
    const write = (
      finding: ExploreFinding,
      raw: RawScenario,
      verdict: WorldVerdict,
      origin: FindingOrigin,
    ) => {
      const found = explored.get(finding.seed)!.verdict;
      mkdirSync(options.outDir, { recursive: true });
      writeFileSync(
        finding.file,
        renderFinding({
          seed: finding.seed,
          kind: finding.kind,
          raw,
          verdict,
          origin,
          path: finding.file,
          found,
        }),
      );
      finding.fileViolations = verdict.violations;
      if (!files.includes(finding.file)) files.push(finding.file);
    };
    for (const seed of seeds) {
      const { verdict } = explored.get(seed)!;
      for (const kind of kindsOfVerdict(verdict)) {
        const finding: ExploreFinding = {
          seed,
          kind,
          violations: verdict.violations.filter((v) => v.invariant === kind),
          ...(verdict.crash !== undefined ? { crash: firstLine(verdict.crash) } : {}),
          file: join(options.outDir, findingFileName(seed, kind)),
          shrink: { state: 'skipped', reason: '' },
          fileViolations: [],
        };
        findings.push(finding);
        const signature = signatureOf(kind, verdict);
        const earlier = byKind.get(signature) ?? [];
        byKind.set(signature, [...earlier, finding]);
        if (earlier.length > 0) finding.sameKindAs = earlier[0]!.seed;
        const shrunkBefore = earlier.slice(0, options.shrinkPerKind);
        const reason = stopping
          ? 'the run was stopped before shrinking'
          : kind === 'hang'
            ? 'a world that does not finish cannot be shrunk'
            : options.shrinkMinutes <= 0
              ? 'shrinking is off (--shrink-minutes 0)'
              : options.shrinkPerKind <= 0
                ? 'shrinking is off (--shrink-per-kind 0)'
                : earlier.length >= options.shrinkPerKind
                  ? `${shrunkBefore.map((f) => `seed ${f.seed}`).join(', ')} already show${shrunkBefore.length === 1 ? 's' : ''} this kind of finding (${shrunkBefore.map((f) => f.file).join(', ')})`
                  : undefined;
        if (reason === undefined) {
          // Written now, replaced once shrunk: a run stopped while shrinking still leaves the file.
          toShrink.push(finding);
          finding.shrink = { state: 'skipped', reason: 'its shrinking did not finish' };
          write(finding, worldOfSeed(seed), verdict, { shrunk: false, reason: finding.shrink.reason });
        } else {
          finding.shrink = { state: 'skipped', reason };
          write(finding, worldOfSeed(seed), verdict, { shrunk: false, reason });
        }
      }
    }

    // Shrinking: one finding per free worker, each within its time limit.
    const shrinkStarted = performance.now();
    const queue = [...toShrink];
    await Promise.all(
      slots.map(async (slot) => {
        while (!stopping) {
          const finding = queue.shift();
          if (!finding) break;
          const original = explored.get(finding.seed)!.verdict;
          options.progress(
            `shrinking seed ${finding.seed} ${finding.kind} (at most ${options.shrinkMinutes} min)`,
          );
          let best: { raw: RawScenario; verdict: WorldVerdict } | undefined;
          let smaller = 0;
          const timeLimitMs = options.shrinkMinutes * 60_000;
          const begun = performance.now();
          const result = await slot.run(
            { kind: 'shrink', seed: finding.seed, finding: finding.kind, timeLimitMs },
            timeLimitMs + options.worldTimeoutMs,
            (message) => {
              best = { raw: message.raw, verdict: message.verdict };
              smaller++;
            },
          );
          const seconds = (performance.now() - begun) / 1000;
          if (result.kind === 'shrunk' && result.reproduced) {
            finding.shrink = {
              state: 'shrunk',
              runs: result.runs,
              shrinks: result.shrinks,
              seconds: result.seconds,
              interrupted: result.interrupted,
            };
            write(finding, result.raw, result.verdict, { shrunk: true, ...finding.shrink });
          } else if (result.kind === 'shrunk') {
            finding.shrink = { state: 'not-reproduced', runs: result.runs };
            write(finding, worldOfSeed(finding.seed), original, {
              shrunk: false,
              reason: `replayed for shrinking, the world did NOT show ${finding.kind} again: the simulator may not be deterministic on it`,
            });
          } else if (best) {
            // The worker was stopped (time limit, crash): the smallest world it had found still stands.
            finding.shrink = {
              state: 'shrunk',
              runs: smaller + 1,
              shrinks: smaller,
              seconds,
              interrupted: true,
            };
            write(finding, best.raw, best.verdict, { shrunk: true, ...finding.shrink });
          } else {
            const why =
              result.kind === 'timeout'
                ? 'the shrinking outlasted its time limit before it found a smaller world'
                : result.kind === 'died'
                  ? `the worker died while shrinking: ${firstLine(result.detail)}`
                  : result.kind === 'error'
                    ? `shrinking failed: ${firstLine(result.message)}`
                    : 'the run was stopped';
            finding.shrink = { state: 'skipped', reason: why };
            write(finding, worldOfSeed(finding.seed), original, { shrunk: false, reason: why });
          }
          options.progress(
            `shrunk seed ${finding.seed} ${finding.kind}: ${describeShrink(finding)} → ${finding.file}`,
          );
        }
      }),
    );
    for (const finding of queue) {
      finding.shrink = { state: 'skipped', reason: 'the run was stopped before shrinking' };
      write(finding, worldOfSeed(finding.seed), explored.get(finding.seed)!.verdict, {
        shrunk: false,
        reason: finding.shrink.reason,
      });
    }
    const shrinkSeconds = toShrink.length > 0 ? (performance.now() - shrinkStarted) / 1000 : 0;

    return summarize({
      explored: seeds.map((seed) => explored.get(seed)!),
      findings,
      files,
      workers: options.workers,
      wallSeconds: (performance.now() - startedAt) / 1000,
      exploreSeconds,
      shrinkSeconds,
      interrupted: stopping,
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const slot of slots) slot.kill();
  }
}

/** A world's verdict from a task's result: a crash when the worker died or the world outlasted its time. */
function exploredOf(seed: number, result: TaskResult, timeoutMs: number): Explored | undefined {
  switch (result.kind) {
    case 'world':
      return { seed, verdict: result.verdict, seconds: result.seconds };
    case 'timeout':
      return {
        seed,
        verdict: {
          violations: [],
          crash: `hang: the world still ran after ${Math.round(timeoutMs / 1000)} s`,
        },
        seconds: timeoutMs / 1000,
      };
    case 'died':
      return {
        seed,
        verdict: { violations: [], crash: `the simulator's process died: ${result.detail}` },
        seconds: 0,
      };
    case 'error':
      return { seed, verdict: { violations: [], crash: result.message }, seconds: 0 };
    default:
      return undefined;
  }
}

/**
 * What a finding is about, without the names and numbers of its world: the invariant and what
 * happened ("S5 rollout-IMG-agent-N.N.N started while rebuild-IMG-N-N:canary was still running").
 */
function signatureOf(kind: FindingKind, verdict: WorldVerdict): string {
  const refusal = verdict.authorizationFailures?.[0];
  const contract = verdict.contractViolations?.[0];
  const text =
    kind === 'crash' || kind === 'hang'
      ? firstLine(verdict.crash ?? '')
      : kind === 'authorization'
        ? `${refusal?.identity} ${refusal?.action} ${refusal?.code}`
        : kind === 'contract'
          ? `${contract?.service} ${contract?.operation} ${contract?.direction} ${contract?.field} ${contract?.rule}`
          : kind === 'bound'
            ? BOUND_FINDING
            : (verdict.violations.find((v) => v.invariant === kind)?.detail ?? '');
  const general = text
    .replace(/\b(linux|windows)\b/g, 'IMG')
    .replace(/vmss-[a-z]+-[a-d][\w-]*/g, 'SS')
    .replace(/\d+/g, 'N');
  return `${kind} ${general}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function progressLine(entry: Explored, done: number, total: number | undefined): string {
  const count =
    total === undefined ? `[${done}]` : `[${String(done).padStart(String(total).length)}/${total}]`;
  const { verdict } = entry;
  const what =
    verdict.crash !== undefined
      ? `CRASH ${firstLine(verdict.crash)}`
      : verdict.violations.length === 0
        ? 'no violation'
        : verdict.violations.map((v) => `${v.invariant} ${v.subject}`).join(', ');
  const bound = verdict.bound
    ? `, BOUND: ${verdict.bound.virtualMinutes} virtual min < critical path ${verdict.bound.criticalPathMinutes}`
    : '';
  return `${count} seed ${entry.seed}  ${(verdict.outcome ?? '—').padEnd(10)} ${what}${bound}  (${entry.seconds.toFixed(1)} s)`;
}

function describeShrink(finding: ExploreFinding): string {
  const s = finding.shrink;
  if (s.state === 'shrunk')
    return `${s.shrinks} smaller world${s.shrinks === 1 ? '' : 's'} in ${s.runs} runs, ${s.seconds.toFixed(0)} s${s.interrupted ? ' (time limit)' : ''}`;
  if (s.state === 'not-reproduced') return 'NOT reproduced when replayed';
  return `not shrunk: ${s.reason}`;
}

function summarize(input: {
  explored: Explored[];
  findings: ExploreFinding[];
  files: string[];
  workers: number;
  wallSeconds: number;
  exploreSeconds: number;
  shrinkSeconds: number;
  interrupted: boolean;
}): ExploreSummary {
  const { explored } = input;
  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const e of explored)
    if (e.verdict.outcome) outcomes[e.verdict.outcome] = (outcomes[e.verdict.outcome] ?? 0) + 1;
  const violations: ExploreSummary['violations'] = {};
  for (const f of input.findings) {
    const entry = (violations[f.kind] ??= { worlds: 0, seeds: [] });
    entry.worlds++;
    entry.seeds.push(f.seed);
  }
  const slowest = explored.reduce<Explored | undefined>(
    (a, b) => (!a || b.seconds > a.seconds ? b : a),
    undefined,
  );
  return {
    worlds: explored.length,
    seeds: explored.length > 0 ? { first: explored[0]!.seed, last: explored.at(-1)!.seed } : null,
    workers: input.workers,
    wallSeconds: round(input.wallSeconds),
    exploreSeconds: round(input.exploreSeconds),
    shrinkSeconds: round(input.shrinkSeconds),
    meanSecondsPerWorld: round(explored.reduce((n, e) => n + e.seconds, 0) / Math.max(1, explored.length), 3),
    slowest: slowest ? { seed: slowest.seed, seconds: round(slowest.seconds) } : null,
    outcomes,
    violations: Object.fromEntries(Object.entries(violations).sort(([a], [b]) => a.localeCompare(b))),
    findings: input.findings,
    files: input.files,
    interrupted: input.interrupted,
  };
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
