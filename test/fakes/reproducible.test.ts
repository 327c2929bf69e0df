/**
 * Reproducible simulations: the fake world draws every id and random choice from the scenario's
 * `seed`, and everything else follows the virtual clock, so the same scenario gives a byte-identical
 * JSON report (docs/scenarios.md, "Reproducible runs"); another seed draws other ids.
 *
 * The report has no wall-clock field (`virtualMinutes`, `criticalPathMinutes` and every `at` are
 * virtual time; the wall time of a run goes to the log only), so whole reports are compared.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FakeCloud } from '../../src/local/fake-cloud/index.js';
import { loadScenarioFile } from '../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../src/local/scenario/types.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { repoRoot } from './helpers.js';

const scenarioFile = (name: string) => loadScenarioFile(resolve(repoRoot, 'scenarios', name));

/** The report as `kiln simulate --report json` prints it. */
async function reportJson(scenario: Scenario): Promise<{ json: string; cloud: FakeCloud }> {
  const { report, cloud } = await runSimulation(scenario);
  return { json: JSON.stringify(report, null, 2), cloud };
}

const vmIds = (cloud: FakeCloud) =>
  [...cloud.world.scaleSets.values()].flatMap((s) => [...s.instances.values()].map((i) => i.vmId));
const executionNames = (cloud: FakeCloud) => [...cloud.world.executions.keys()];

describe('the same scenario twice', () => {
  it.each(['monthly-small.yaml', 'adversarial/late-event-stale-list.yaml'])(
    '%s gives a byte-identical report',
    async (file) => {
      const scenario = scenarioFile(file);
      const first = await reportJson(scenario);
      const second = await reportJson(scenario);
      expect(second.json).toBe(first.json);
      expect(vmIds(second.cloud)).toEqual(vmIds(first.cloud));
    },
    120_000,
  );
});

describe('another seed', () => {
  it('draws other ids: VM ids and Packer execution names, and the report events that name them', async () => {
    const scenario = scenarioFile('monthly-small.yaml');
    expect(scenario.seed).toBe(1);
    const one = await reportJson(scenario);
    const other = await reportJson({ ...scenario, seed: 2 });
    expect(executionNames(one.cloud).length).toBeGreaterThan(0);
    expect(executionNames(other.cloud)).toHaveLength(executionNames(one.cloud).length);
    for (const name of executionNames(other.cloud)) expect(executionNames(one.cloud)).not.toContain(name);
    for (const id of vmIds(other.cloud)) expect(vmIds(one.cloud)).not.toContain(id);
    expect(other.json).not.toBe(one.json);
    // Only the drawn ids differ: with each execution name put back, the reports are the same.
    const renamed = executionNames(other.cloud).reduce(
      (json, name, index) => json.replaceAll(name, executionNames(one.cloud)[index]!),
      other.json,
    );
    expect(renamed).toBe(one.json);
  }, 120_000);
});
