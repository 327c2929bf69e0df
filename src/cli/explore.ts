/**
 * `kiln explore`: a randomised hunt for safety-invariant violations in the manner of deterministic
 * simulation testing. Each seed is a small random world (src/local/explore/generate-world.ts) run
 * through the simulator; each violation found is shrunk to a small world and written as a scenario
 * file that `kiln simulate --scenario` runs as is. Progress goes to standard error; the summary to
 * standard output (with --json, only the summary, as JSON).
 */
import { availableParallelism } from 'node:os';
import { EXPLORE_DEFAULTS, ExploreError, explore } from '../local/explore/run-explore.js';
import { renderSummary } from '../local/explore/summary.js';
import { parseCommandArguments } from './arguments.js';
import { runTrustingFakeCa } from './trust.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';

const HELP = `kiln explore — hunt for safety-invariant violations in random worlds

Usage:
  kiln explore [--seeds N] [--seed S] [--minutes M] [--workers W] [--out DIR]
               [--shrink-minutes M] [--shrink-per-kind K] [--json]

Each seed gives one small random world (scale sets, busy jobs, faults, versions published outside
kiln and their Event Grid deliveries, outside changes, triggers) that runs through the simulator
(as \`kiln simulate\` runs a scenario) and is judged on the safety invariants only: any outcome of a
run is acceptable, a violation is not. A run shorter than its critical path (the simulator's lower
bound, wrong there) is a finding too, of kind bound. The same seed always gives the same world.

Options:
  --seeds N             How many seeds to explore (default ${EXPLORE_DEFAULTS.seeds}): S, S+1, … S+N-1.
  --seed S              The first seed (default ${EXPLORE_DEFAULTS.firstSeed}).
  --minutes M           Explore as many seeds as fit in M minutes of wall time (with --seeds: at
                        most N). Shrinking comes after, within its own limit.
  --workers W           Worlds run at the same time, one per process (default: the number of CPUs).
  --out DIR             Where finding files go (default ${EXPLORE_DEFAULTS.outDir}/).
  --shrink-minutes M    Time limit of one finding's shrinking (default ${EXPLORE_DEFAULTS.shrinkMinutes}); 0: no shrinking.
  --shrink-per-kind K   Shrink the first K seeds of each kind of finding (invariant and what
                        happened; default ${EXPLORE_DEFAULTS.shrinkPerKind}); the others are written as explored.
  --json                The summary as JSON on standard output (progress stays on standard error).

Each finding is written to DIR/seed-<seed>-<invariant>.yaml: the smallest world found that still
breaks the invariant (or crashes the simulator), with a header naming the seed, the violations and
the command that shows it again:  CLIENT_RETRY_BASE_MS=1 kiln simulate --scenario FILE

Examples:
  kiln explore
  kiln explore --seeds 2000 --out /tmp/findings
  kiln explore --minutes 30 --seed 5000
  kiln explore --seeds 1 --seed 42 --workers 1      (one seed's world again)
  npm run explore -- --seeds 500

${exitCodesHelp('explore')}`;

export async function exploreCommand(argv: string[]): Promise<number> {
  const parsed = parseCommandArguments(
    'explore',
    argv,
    {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      minutes: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string' },
      'shrink-minutes': { type: 'string' },
      'shrink-per-kind': { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
  );
  if (parsed.exit !== undefined) return parsed.exit;
  const { values } = parsed;
  const problems: string[] = [];
  const number = (
    option: string,
    value: string | undefined,
    check: { integer?: boolean; min: number; max?: number; what: string },
  ): number | undefined => {
    if (value === undefined) return undefined;
    const n = value.trim() === '' ? NaN : Number(value);
    if (
      !Number.isFinite(n) ||
      (check.integer && !Number.isInteger(n)) ||
      n < check.min ||
      (check.max !== undefined && n > check.max)
    ) {
      problems.push(`--${option} must be ${check.what}, not "${value}"`);
      return undefined;
    }
    return n;
  };
  const seeds = number('seeds', values.seeds, {
    integer: true,
    min: 1,
    max: 1_000_000,
    what: 'a whole number from 1 to 1000000',
  });
  const firstSeed =
    number('seed', values.seed, {
      integer: true,
      min: 0,
      max: 2 ** 31 - 1,
      what: 'a whole number from 0 to 2147483647',
    }) ?? EXPLORE_DEFAULTS.firstSeed;
  const minutes = number('minutes', values.minutes, {
    min: Number.MIN_VALUE,
    what: 'a number of minutes above 0',
  });
  const workers =
    number('workers', values.workers, {
      integer: true,
      min: 1,
      max: 64,
      what: 'a whole number from 1 to 64',
    }) ?? availableParallelism();
  const shrinkMinutes =
    number('shrink-minutes', values['shrink-minutes'], { min: 0, what: 'a number of minutes, 0 or more' }) ??
    EXPLORE_DEFAULTS.shrinkMinutes;
  const shrinkPerKind =
    number('shrink-per-kind', values['shrink-per-kind'], {
      integer: true,
      min: 0,
      what: 'a whole number, 0 or more',
    }) ?? EXPLORE_DEFAULTS.shrinkPerKind;
  if (values.out !== undefined && values.out.trim() === '') problems.push('--out must name a directory');
  const count = seeds ?? (minutes === undefined ? EXPLORE_DEFAULTS.seeds : undefined);
  if (count !== undefined && firstSeed + count - 1 > 2 ** 31 - 1)
    problems.push(`--seed ${firstSeed} with --seeds ${count} goes past the last seed, 2147483647`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.map((p) => `kiln explore: ${p}`).join('\n')}\n\n${HELP}`);
    return EXIT.usage;
  }

  // The fake cloud serves HTTPS with its own CA; Node trusts extra CAs only from start-up. The
  // workers inherit the environment of the re-run.
  const respawned = runTrustingFakeCa();
  if (respawned) return respawned;

  try {
    const summary = await explore({
      firstSeed,
      seeds: count,
      minutes,
      workers,
      outDir: values.out ?? EXPLORE_DEFAULTS.outDir,
      shrinkMinutes,
      shrinkPerKind,
      worldTimeoutMs: EXPLORE_DEFAULTS.worldTimeoutMs,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary));
    if (summary.interrupted) return EXIT.interrupted;
    return summary.findings.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof ExploreError) {
      process.stderr.write(`kiln explore: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}
