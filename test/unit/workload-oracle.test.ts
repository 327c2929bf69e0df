/**
 * The workload's arrivals (drawn from its seed) and the oracle's plan for them (issue 19): pure
 * functions, no fake cloud.
 */
import { describe, expect, it } from 'vitest';
import { drawArrivals, labelsServe, type Arrival } from '../../src/local/fake-cloud/workload.js';
import { oracle, percentiles } from '../../src/local/simulate/oracle.js';
import type { ScenarioWorkload } from '../../src/local/scenario/types.js';

const DAY: ScenarioWorkload = {
  seed: 7,
  streams: [
    {
      fleet: 'github',
      labels: ['self-hosted', 'linux'],
      arrivals: [
        { from: '2026-12-01T07:00:00Z', to: '2026-12-01T19:00:00Z', perHour: 120 },
        { from: '2026-12-01T19:00:00Z', to: '2026-12-02T07:00:00Z', perHour: 6 },
      ],
      minutes: { min: 3, max: 40 },
    },
    {
      fleet: 'ado',
      pool: 'kiln-windows',
      arrivals: [{ from: '2026-12-01T08:00:00Z', to: '2026-12-01T10:00:00Z', perHour: 0 }],
      minutes: { min: 5, max: 5 },
    },
  ],
};

describe('arrivals', () => {
  it('are the same for the same seed, and others for another', () => {
    const first = drawArrivals(DAY);
    expect(drawArrivals(structuredClone(DAY))).toEqual(first);
    expect(drawArrivals({ ...DAY, seed: 8 })).not.toEqual(first);
  });

  it('follow the rates: inside their windows, in time order, none at rate 0, durations in min..max', () => {
    const arrivals = drawArrivals(DAY);
    const at = (iso: string) => Date.parse(iso);
    const day = arrivals.filter((a) => a.at < at('2026-12-01T19:00:00Z'));
    const night = arrivals.filter((a) => a.at >= at('2026-12-01T19:00:00Z'));
    // Poisson counts: 1440 expected by day (sd 38), 72 by night (sd 8.5).
    expect(day.length).toBeGreaterThan(1440 - 4 * 38);
    expect(day.length).toBeLessThan(1440 + 4 * 38);
    expect(night.length).toBeGreaterThan(72 - 4 * 9);
    expect(night.length).toBeLessThan(72 + 4 * 9);
    expect(arrivals.every((a) => a.stream === 0)).toBe(true);
    expect(arrivals[0]!.at).toBeGreaterThanOrEqual(at('2026-12-01T07:00:00Z'));
    expect(arrivals.at(-1)!.at).toBeLessThan(at('2026-12-02T07:00:00Z'));
    expect(arrivals.every((a, i) => i === 0 || arrivals[i - 1]!.at <= a.at)).toBe(true);
    expect(arrivals.every((a) => a.at % 1000 === 0)).toBe(true);
    const minutes = new Set(arrivals.map((a) => a.minutes));
    expect(Math.min(...minutes)).toBe(3);
    expect(Math.max(...minutes)).toBe(40);
    expect([...minutes].every(Number.isInteger)).toBe(true);
  });

  it('of one stream do not move when another stream is added', () => {
    const alone = drawArrivals({ ...DAY, streams: [DAY.streams[0]!] });
    const withAnother = drawArrivals({
      ...DAY,
      streams: [
        DAY.streams[0]!,
        { ...DAY.streams[1]!, arrivals: [{ ...DAY.streams[1]!.arrivals[0]!, perHour: 30 }] },
      ],
    });
    expect(withAnother.filter((a) => a.stream === 0)).toEqual(alone);
    expect(withAnother.some((a) => a.stream === 1)).toBe(true);
  });

  it('match GitHub labels as GitHub does: all of them, ignoring case', () => {
    expect(labelsServe(['self-hosted', 'X64', 'Linux', 'vmss-a'], ['self-hosted', 'linux'])).toBe(true);
    expect(labelsServe(['self-hosted', 'X64', 'Linux'], ['self-hosted', 'linux', 'gpu'])).toBe(false);
  });
});

describe('the oracle', () => {
  const start = Date.parse('2026-12-01T00:00:00Z');
  const min = (m: number) => start + m * 60_000;
  const plan = (arrivals: Arrival[], serving: string[][] = [['a']]) =>
    oracle({ startMs: start, arrivals, serving, latency: { provision: 4, register: 2 } });

  it('runs every job at its arrival: a fresh machine idles its registration, fewer minutes at the very start', () => {
    const result = plan([
      { at: min(1), stream: 0, minutes: 10 },
      { at: min(60), stream: 0, minutes: 10 },
    ]);
    expect(result.queueWaitSeconds).toEqual({ p50: 0, p95: 0, max: 0 });
    // 1 minute (the run began a minute before), then 2 (register).
    expect(result.idleInstanceMinutes).toBe(3);
  });

  it('reuses a machine whose job ended less than a registration before, idling only the gap', () => {
    const result = plan([
      { at: min(30), stream: 0, minutes: 10 },
      { at: min(40.5), stream: 0, minutes: 10 },
      // Overlaps the second: a machine of its own.
      { at: min(45), stream: 0, minutes: 10 },
    ]);
    expect(result.idleInstanceMinutes).toBe(2 + 0.5 + 2);
  });

  it('reuses only a machine of a scale set that serves the job, and leaves out jobs nothing serves', () => {
    const result = plan(
      [
        { at: min(30), stream: 0, minutes: 10 },
        { at: min(40.5), stream: 1, minutes: 10 },
        { at: min(50), stream: 2, minutes: 10 },
      ],
      [['a'], ['b'], []],
    );
    expect(result.idleInstanceMinutes).toBe(4);
  });

  it('never reuses a machine of a one-job scale set (an ephemeral runner), each job costs a registration', () => {
    const arrivals: Arrival[] = [
      { at: min(30), stream: 0, minutes: 10 },
      { at: min(40.5), stream: 0, minutes: 10 },
    ];
    const oneJob = oracle({
      startMs: start,
      arrivals,
      serving: [['a']],
      latency: { provision: 4, register: 2 },
      oneJob: new Set(['a']),
    });
    expect(oneJob.idleInstanceMinutes).toBe(2 + 2);
    // With a reusable scale set beside it, the oracle starts its machines there and reuses them.
    const mixed = oracle({
      startMs: start,
      arrivals,
      serving: [['a', 'b']],
      latency: { provision: 4, register: 2 },
      oneJob: new Set(['a']),
    });
    expect(mixed.idleInstanceMinutes).toBe(2 + 0.5);
  });

  it('takes percentiles by nearest rank', () => {
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, max: 0 });
    expect(percentiles(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ p50: 50, p95: 95, max: 100 });
    expect(percentiles([5])).toEqual({ p50: 5, p95: 5, max: 5 });
  });
});
