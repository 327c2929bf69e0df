/**
 * What `kiln explore` reports at the end of a run: how many worlds, how long they took, which
 * invariants broke in which seeds, and the finding files written; as JSON (`--json`) or as text.
 */
import type { Violation } from '../fake-cloud/world.js';
import type { Outcome } from '../simulate/report.js';
import { BOUND_FINDING, type FindingKind } from './run-world.js';

export interface ExploreFinding {
  seed: number;
  kind: FindingKind;
  /** The seed's world's violations of this invariant (none for a crash or a hang). */
  violations: Violation[];
  /** First line of the simulator's error, for a crash or a hang. */
  crash?: string;
  /** The finding's file. */
  file: string;
  /** How the file's world came to be: shrunk (and how far), or why not. */
  shrink:
    | { state: 'shrunk'; runs: number; shrinks: number; seconds: number; interrupted: boolean }
    | { state: 'skipped'; reason: string }
    | { state: 'not-reproduced'; runs: number };
  /** The violations of the world in the file (after shrinking). */
  fileViolations: Violation[];
  /** The first seed that showed this kind of finding (invariant and what happened), when an earlier one did. */
  sameKindAs?: number;
}

export interface ExploreSummary {
  worlds: number;
  /** The seeds explored: first..last, every one in between. */
  seeds: { first: number; last: number } | null;
  workers: number;
  /** Wall time of the whole run, of exploring and of shrinking (seconds). */
  wallSeconds: number;
  exploreSeconds: number;
  shrinkSeconds: number;
  /** Mean wall time of one world, as the workers measured it (seconds). */
  meanSecondsPerWorld: number;
  /** The slowest world. */
  slowest: { seed: number; seconds: number } | null;
  outcomes: Partial<Record<Outcome, number>>;
  /** Per invariant (or crash/hang): the seeds whose world showed it. */
  violations: Partial<Record<FindingKind, { worlds: number; seeds: number[] }>>;
  findings: ExploreFinding[];
  files: string[];
  /** The run was stopped (Ctrl+C) before it explored every seed it meant to. */
  interrupted: boolean;
}

export function renderSummary(s: ExploreSummary): string {
  const lines: string[] = [];
  const seeds = s.seeds
    ? s.seeds.first === s.seeds.last
      ? `seed ${s.seeds.first}`
      : `seeds ${s.seeds.first}–${s.seeds.last}`
    : 'no seeds';
  lines.push(
    `kiln explore — ${s.worlds} world${s.worlds === 1 ? '' : 's'}, ${seeds}, ${s.workers} worker${s.workers === 1 ? '' : 's'}${s.interrupted ? ' (interrupted)' : ''}`,
  );
  lines.push(
    `  wall time             ${s.wallSeconds.toFixed(1)} s (exploring ${s.exploreSeconds.toFixed(1)} s, shrinking ${s.shrinkSeconds.toFixed(1)} s)`,
  );
  lines.push(
    `  mean per world        ${s.meanSecondsPerWorld.toFixed(2)} s${s.slowest ? ` (slowest: seed ${s.slowest.seed}, ${s.slowest.seconds.toFixed(1)} s)` : ''}`,
  );
  lines.push(
    `  outcomes              ${
      Object.entries(s.outcomes)
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(', ') || '—'
    }`,
  );
  const kinds = Object.entries(s.violations) as [FindingKind, { worlds: number; seeds: number[] }][];
  if (kinds.length === 0) lines.push('  violations            none: every invariant held in every world');
  else {
    lines.push('  violations by invariant');
    for (const [kind, { worlds, seeds: list }] of kinds)
      lines.push(
        `    ${kind.padEnd(6)} ${String(worlds).padStart(4)} world${worlds === 1 ? ' ' : 's'}  seeds ${abbreviate(list)}`,
      );
  }
  if (s.findings.length > 0) {
    lines.push('  findings');
    // Each kind once (and every finding that was shrunk); the others are counted.
    const listed = (f: ExploreFinding) => f.sameKindAs === undefined || f.shrink.state !== 'skipped';
    const shown = s.findings.filter(listed);
    for (const f of shown) {
      const what =
        f.kind === 'crash' || f.kind === 'hang'
          ? (f.crash ?? f.kind)
          : f.kind === 'bound'
            ? BOUND_FINDING
            : f.violations.map((v) => `${v.subject}: ${v.detail}`).join(' | ');
      lines.push(`    seed ${f.seed} ${f.kind}  ${what}`);
      const how =
        f.shrink.state === 'shrunk'
          ? `shrunk in ${f.shrink.runs} runs, ${f.shrink.seconds.toFixed(0)} s${f.shrink.interrupted ? ', stopped by the time limit' : ''}`
          : f.shrink.state === 'not-reproduced'
            ? 'NOT REPRODUCED when replayed for shrinking (the world is written as explored)'
            : `not shrunk: ${f.shrink.reason}`;
      lines.push(`      → ${f.file}${how ? `  (${how})` : ''}`);
    }
    const same = s.findings.filter((f) => !listed(f));
    if (same.length > 0)
      lines.push(
        `    … and ${same.length} more finding${same.length === 1 ? '' : 's'} of the same kinds as above (seeds ${abbreviate(same.map((f) => f.seed))}), each in its file as explored`,
      );
  }
  lines.push(`  files written         ${s.files.length}`);
  return `${lines.join('\n')}\n`;
}

function abbreviate(seeds: number[]): string {
  return seeds.length <= 12
    ? seeds.join(', ')
    : `${seeds.slice(0, 10).join(', ')}, … ${seeds.length - 10} more`;
}
