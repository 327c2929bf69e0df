import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import { runSimulation } from '../../src/local/simulate/run-simulation.js';
import { Orchestrations } from '../../src/names.js';
import {
  WAVE_LOG_LIMIT,
  withWave,
  type ScaleSetRolloutStatus,
  type WaveRecord,
} from '../../src/orchestrations/rollout-progress.js';

// The waves a scale set rollout keeps in its custom status (the dashboard's waves over time): when
// each started, how many instances it moved, how many came back healthy, and the running total.
describe('a scale set rollout records its waves', () => {
  it('keeps one record per wave with its start, size, healthy count and the total moved so far', async () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'wave-log',
        timers: false,
        trigger: ['http-rollout'],
        gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.10.1', '2026.11.1'] } },
        // 5 instances at the default 20 % batch: one instance a wave, five waves.
        scaleSets: [{ name: 'vmss-gh', image: 'linux', capacity: 5, version: '2026.10.1' }],
      }),
      'inline',
    );
    const result = await runSimulation(scenario, { keepRunning: true });
    await result.close();
    expect(result.report.outcome).toBe('succeeded');
    const child = result.host.runner
      .listInstances()
      .find((i) => i.name === Orchestrations.rolloutScaleSet && i.instanceId.endsWith(':vmss-gh'))!;
    const status = child.customStatus as ScaleSetRolloutStatus;
    expect(status.waves.map((w) => [w.wave, w.instances, w.healthy, w.unhealthy, w.onNewVersion])).toEqual([
      [1, 1, 1, 0, 1],
      [2, 1, 1, 0, 2],
      [3, 1, 1, 0, 3],
      [4, 1, 1, 0, 4],
      [5, 1, 1, 0, 5],
    ]);
    expect(status.firstWaveAt).toBe(status.waves[0]!.startedAt);
    // Virtual time moves on from wave to wave; each wave is judged after it started.
    for (const [i, w] of status.waves.entries()) {
      expect(Date.parse(w.judgedAt!)).toBeGreaterThan(Date.parse(w.startedAt));
      if (i > 0)
        expect(Date.parse(w.startedAt)).toBeGreaterThanOrEqual(Date.parse(status.waves[i - 1]!.judgedAt!));
    }
    expect(Date.parse(status.firstWaveAt!)).toBeGreaterThanOrEqual(Date.parse(scenario.start));
  });
});

describe('withWave', () => {
  const wave = (n: number, fields: Partial<WaveRecord> = {}): WaveRecord => ({
    wave: n,
    startedAt: `2026-12-01T03:${String(n).padStart(2, '0')}:00.000Z`,
    instances: 2,
    ...fields,
  });

  it('adds a wave, and replaces the record of a wave once it is judged', () => {
    const started = withWave(withWave(undefined, wave(1)), wave(2));
    expect(started.map((w) => w.wave)).toEqual([1, 2]);
    const judged = withWave(started, wave(2, { healthy: 2, unhealthy: 0, onNewVersion: 4 }));
    expect(judged).toEqual([wave(1), wave(2, { healthy: 2, unhealthy: 0, onNewVersion: 4 })]);
  });

  it(`keeps only the last ${WAVE_LOG_LIMIT} waves, oldest first`, () => {
    let log: WaveRecord[] = [];
    for (let n = 1; n <= WAVE_LOG_LIMIT + 5; n++) log = withWave(log, wave(n));
    expect(log).toHaveLength(WAVE_LOG_LIMIT);
    expect(log[0]!.wave).toBe(6);
    expect(log.at(-1)!.wave).toBe(WAVE_LOG_LIMIT + 5);
  });
});
