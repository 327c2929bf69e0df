/**
 * The critical path is a lower bound (issue 20): no run takes fewer virtual minutes than it says,
 * on every scenario kiln ships (here those of scenarios/, where the adversarial and found worlds run)
 * and on random worlds of `kiln explore` (whose 250 seeds in CI check the same, as the finding kind
 * `bound`). And a bound that fails is seen: a run shorter than its
 * critical path is an explore finding.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { worldOfSeed } from '../../src/local/explore/generate-world.js';
import { kindsOfVerdict, runWorld, verdictOf } from '../../src/local/explore/run-world.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';

// scenarios/adversarial and scenarios/found check the same where they run (adversity.test.ts, found.test.ts).
const ROOT = resolve(import.meta.dirname, '..', '..', 'scenarios');
const shipped = readdirSync(ROOT).filter((f) => f.endsWith('.yaml'));

describe('the critical path is a lower bound', () => {
  it.each(shipped)('%s: virtual minutes ≥ critical path', async (file) => {
    const result = await runSimulation(loadScenarioFile(resolve(ROOT, file)), {
      keepRunning: false,
      settings: { CLIENT_RETRY_BASE_MS: '1' },
    });
    expect(result.report.virtualMinutes).toBeGreaterThanOrEqual(result.report.criticalPathMinutes);
  });

  // Seeds whose worlds rebuild and promote (the bound has most to say there) and a spread of others.
  const seeds = Array.from({ length: 30 }, (_, i) => 301 + i);
  it.each(seeds)('random world of seed %i: virtual minutes ≥ critical path', async (seed) => {
    const run = await runWorld(worldOfSeed(seed));
    expect(run.crash).toBeUndefined();
    expect(run.report!.virtualMinutes).toBeGreaterThanOrEqual(run.report!.criticalPathMinutes);
  });

  it('a run shorter than its critical path is a finding of kind bound', async () => {
    const run = await runWorld(worldOfSeed(306));
    const report = { ...run.report!, criticalPathMinutes: run.report!.virtualMinutes + 1 };
    expect(kindsOfVerdict(verdictOf({ report, seconds: 0 }))).toContain('bound');
    expect(kindsOfVerdict(verdictOf({ report: run.report!, seconds: 0 }))).not.toContain('bound');
  });
});
