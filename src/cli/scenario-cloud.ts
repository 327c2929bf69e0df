/**
 * `--scenario FILE` as the commands that work on the embedded fake cloud take it: simulate and serve
 * run the app over it, plan and doctor look at it. A bad file exits 2 naming the field. For plan and
 * doctor, the fake cloud is started as simulate starts it, and its settings (endpoints, identities,
 * names) point the real clients at it: the same settings that point them at a sovereign cloud or
 * GitHub Enterprise Server.
 */
import { VirtualClock } from '../local/clock.js';
import { startFakeCloud } from '../local/fake-cloud/index.js';
import { ScenarioError, builtInDemoScenario, loadScenarioFile } from '../local/scenario/parse-scenario.js';
import type { Scenario } from '../local/scenario/types.js';
import { EXIT } from './exit-codes.js';
import { runTrustingFakeCa } from './trust.js';

/** The scenario FILE names (the built-in demo without one), or exit 2 with the problems on stderr. */
export function scenarioArgument(
  command: string,
  file: string | undefined,
): { scenario: Scenario; exit?: undefined } | { exit: number } {
  try {
    return { scenario: file !== undefined ? loadScenarioFile(file) : builtInDemoScenario() };
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    process.stderr.write(`kiln ${command}: ${error.message}\n`);
    return { exit: EXIT.usage };
  }
}

export interface ScenarioWorld {
  scenario: Scenario;
  /** The fake world's clock, at the scenario's start: it does not move (nothing waits). */
  clock: VirtualClock;
  /** App settings that point kiln at the fake cloud. */
  settings: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The fake cloud of scenario FILE as it is at the scenario's start (its faults included; its
 * triggers, timers and later changes are for simulate). Returns the exit code instead when the file
 * is bad (2), or when this process re-ran itself to trust the fake cloud's CA (the re-run's code).
 */
export async function startScenarioWorld(
  command: string,
  file: string,
): Promise<{ world: ScenarioWorld; exit?: undefined } | { exit: number }> {
  const loaded = scenarioArgument(command, file);
  if (loaded.exit !== undefined) return loaded;
  const { scenario } = loaded;
  // The fake cloud serves HTTPS with its own CA; Node trusts extra CAs only from start-up.
  const respawned = runTrustingFakeCa();
  if (respawned) return { exit: await respawned };
  const clock = new VirtualClock(scenario.start);
  const cloud = await startFakeCloud({ scenario, clock });
  process.stderr.write(
    `kiln ${command}: the embedded fake cloud of scenario "${scenario.name}", as it is at ${scenario.start}; nothing leaves this machine\n`,
  );
  return { world: { scenario, clock, settings: cloud.env, close: () => cloud.close() } };
}
