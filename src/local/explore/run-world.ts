/**
 * Runs one `kiln explore` world through the simulator and says which invariants it broke, and
 * shrinks a world that broke one to the smallest world fast-check finds that still breaks it.
 *
 * runSimulation changes process.env while it runs, so a process runs one world at a time: these
 * functions are called by the explore worker (worker.ts), one task after another.
 */
import fc from 'fast-check';
import type { Violation } from '../fake-cloud/world.js';
import type { Outcome, SimulationReport } from '../simulate/report.js';
import { runSimulation } from '../simulate/run-simulation.js';
import {
  nameWorld,
  scenarioOf,
  worldArbitrary,
  worldOfSeed,
  WORLD_PARAMETERS,
  type RawScenario,
} from './generate-world.js';

/** Settings every world runs with: the clients' own retries start at 1 ms, so faults cost no real seconds. */
export const WORLD_SETTINGS: Record<string, string> = { CLIENT_RETRY_BASE_MS: '1' };

/**
 * What a finding is about: an invariant kiln broke, a request refused for want of a role (the
 * Bicep's roles or a flow are short of something), an exchange that breaks an official API
 * description, a critical path longer than the run (the simulator's lower bound is wrong: `bound`),
 * or the simulator itself failing on the world.
 */
export type FindingKind = Violation['invariant'] | 'authorization' | 'contract' | 'bound' | 'crash' | 'hang';

/** What a finding of kind `bound` is, in the summary and in how findings are grouped. */
export const BOUND_FINDING = 'critical path longer than the run';

export interface WorldRun {
  report?: SimulationReport;
  /** The simulator threw (or the world is no valid scenario): the error and its stack. */
  crash?: string;
  seconds: number;
}

/** Runs one world as `kiln simulate --scenario` would run its file (with WORLD_SETTINGS). */
export async function runWorld(raw: RawScenario): Promise<WorldRun> {
  const started = performance.now();
  const env = { ...process.env };
  try {
    const { report } = await runSimulation(scenarioOf(raw), { keepRunning: false, settings: WORLD_SETTINGS });
    return { report, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    // A simulation that throws leaves its environment behind: put the process's back for the next world.
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
    const crash = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    return { crash, seconds: (performance.now() - started) / 1000 };
  }
}

/** The kinds of finding a run shows: each invariant it broke (once), refusals, contracts, or `crash`. */
export function findingKinds(run: Pick<WorldRun, 'report' | 'crash'>): FindingKind[] {
  if (run.crash !== undefined) return ['crash'];
  return kindsOfVerdict(verdictOf({ ...run, seconds: 0 }));
}

export function kindsOfVerdict(verdict: WorldVerdict): FindingKind[] {
  if (verdict.crash !== undefined) return [verdict.crash.startsWith('hang:') ? 'hang' : 'crash'];
  const kinds: FindingKind[] = [...new Set(verdict.violations.map((v) => v.invariant))].sort();
  if (verdict.authorizationFailures?.length) kinds.push('authorization');
  if (verdict.contractViolations?.length) kinds.push('contract');
  if (verdict.bound) kinds.push('bound');
  return kinds;
}

/** The outcome and violations of a run, the parts of a report explore prints and compares. */
export interface WorldVerdict {
  outcome?: Outcome;
  violations: Violation[];
  authorizationFailures?: SimulationReport['authorizationFailures'];
  contractViolations?: SimulationReport['contractViolations'];
  /** The critical path is longer than the run took: it is no lower bound there. */
  bound?: { virtualMinutes: number; criticalPathMinutes: number };
  crash?: string;
}

export function verdictOf(run: WorldRun): WorldVerdict {
  const report = run.report;
  return {
    ...(report ? { outcome: report.outcome } : {}),
    violations: report?.violations ?? [],
    ...(report?.authorizationFailures.length ? { authorizationFailures: report.authorizationFailures } : {}),
    ...(report?.contractViolations.length ? { contractViolations: report.contractViolations } : {}),
    ...(report && report.virtualMinutes < report.criticalPathMinutes
      ? { bound: { virtualMinutes: report.virtualMinutes, criticalPathMinutes: report.criticalPathMinutes } }
      : {}),
    ...(run.crash !== undefined ? { crash: run.crash } : {}),
  };
}

export interface ShrinkResult {
  /** The smallest world found that still shows the finding (the seed's own world when none smaller does). */
  raw: RawScenario;
  verdict: WorldVerdict;
  /** Whether the seed's world showed the finding again when shrinking started (false: not reproducible). */
  reproduced: boolean;
  /** Successful shrink steps, and worlds run while shrinking. */
  shrinks: number;
  runs: number;
  /** The time limit ended the shrinking before fast-check ran out of smaller worlds to try. */
  interrupted: boolean;
  seconds: number;
}

/**
 * Shrinks the world of `seed` for one finding: fast-check replays the seed (its first run is the
 * seed's world) and shrinks while the world still shows `kind`. `onSmaller` hears of each smaller
 * world that still shows it, so a caller that has to stop the shrinking keeps the best one so far.
 */
export async function shrinkWorld(
  seed: number,
  kind: FindingKind,
  options: { timeLimitMs: number; onSmaller?: (raw: RawScenario, verdict: WorldVerdict) => void },
): Promise<ShrinkResult> {
  const started = performance.now();
  let runs = 0;
  let best: { raw: RawScenario; verdict: WorldVerdict } | undefined;
  const property = fc.asyncProperty(worldArbitrary, async (generated) => {
    const raw = nameWorld(generated, seed);
    const run = await runWorld(raw);
    runs++;
    if (!findingKinds(run).includes(kind)) return true;
    best = { raw, verdict: verdictOf(run) };
    if (runs > 1) options.onSmaller?.(raw, best.verdict);
    return false;
  });
  const details = await fc.check<[RawScenario]>(property, {
    ...WORLD_PARAMETERS,
    seed,
    numRuns: 1,
    plugins: [fc.interruptAfterTimeLimit(options.timeLimitMs)],
  });
  const seconds = (performance.now() - started) / 1000;
  // fast-check goes on shrinking from each world that still fails, so the last one is its counterexample.
  if (!details.failed || !details.counterexample || !best) {
    return {
      raw: worldOfSeed(seed),
      verdict: { violations: [] },
      reproduced: false,
      shrinks: 0,
      runs,
      interrupted: details.interrupted,
      seconds,
    };
  }
  const smallest = nameWorld(details.counterexample[0], seed);
  if (JSON.stringify(smallest) !== JSON.stringify(best.raw))
    throw new Error(`shrinking seed ${seed}: fast-check's counterexample is not the last world that failed`);
  return {
    raw: best.raw,
    verdict: best.verdict,
    reproduced: true,
    shrinks: details.numShrinks,
    runs,
    interrupted: details.interrupted,
    seconds,
  };
}
