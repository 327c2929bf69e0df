import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { Orchestrations } from '../../src/names.js';

// Scale sets after the lead roll in parallel and finish at different times (busy jobs): each child
// sub-orchestration is started exactly once (a Task.any over the children still running would send
// their actions again, azure-functions-durable-js #574) and all of them start together.
describe('rollout: children that finish at different times', () => {
  it('starts every child once, all at the same time, and reads each result', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'rollout-children',
        timers: false,
        trigger: ['http-rollout'],
        gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.10.1', '2026.11.1'] } },
        scaleSets: [0, 1, 2, 3].map((i) => ({
          name: `vmss-gh-${i}`,
          image: 'linux',
          region: 'westeurope',
          capacity: 2,
          version: '2026.10.1',
        })),
        jobs: [
          { instance: 'vmss-gh-2_0', minutes: 60 },
          { instance: 'vmss-gh-3_1', minutes: 120 },
        ],
      }),
      'inline',
    );
    const result = await runSimulation(scenario, { keepRunning: true });
    await result.close();
    const { report, host } = result;
    expect(report.outcome).toBe('succeeded');
    expect(report.jobsInterrupted).toBe(0);
    for (const name of ['vmss-gh-0', 'vmss-gh-1', 'vmss-gh-2', 'vmss-gh-3'])
      expect(report.scaleSets[name]).toMatchObject({ state: 'updated', version: '2026.11.1' });
    const children = host.runner
      .listInstances()
      .filter((i) => i.name === Orchestrations.rolloutScaleSet && !i.instanceId.endsWith(':vmss-gh-0'));
    expect(children.map((c) => c.instanceId).sort()).toEqual(
      ['vmss-gh-1', 'vmss-gh-2', 'vmss-gh-3'].map((s) => `rollout-linux-agent-2026.11.1:${s}`),
    );
    expect(new Set(children.map((c) => c.createdTime)).size).toBe(1);
    expect(new Set(children.map((c) => c.lastUpdatedTime)).size).toBe(3);
  });
});
