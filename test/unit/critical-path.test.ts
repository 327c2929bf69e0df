/**
 * The critical path's arithmetic (src/local/simulate/critical-path.ts) on hand-made runs: each phase
 * a rebuild reached counts once, replication to the other regions hides behind the canary, regions
 * roll one after another, a job running at a scale set's start holds it, and what others change
 * bounds nothing.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import {
  criticalPath,
  type CriticalPathInput,
  type RebuildRun,
} from '../../src/local/simulate/critical-path.js';
import type { RebuildOutput } from '../../src/orchestrations/rebuild.js';

// Latencies: replication 30, reimage 6, register 2 (a wave takes 8); Linux builds in 60 minutes.
const scenario = (extra: Record<string, unknown> = {}) =>
  parseScenario(
    JSON.stringify({
      name: 'bound',
      gallery: { regions: ['westeurope', 'northeurope'], existingVersions: { linux: ['2026.10.1'] } },
      latency: { replication: 30, reimage: 6, register: 2 },
      scaleSets: [
        { name: 'canary', image: 'linux', region: 'westeurope', capacity: 5, canary: true },
        { name: 'weu', image: 'linux', region: 'westeurope', capacity: 5 },
        { name: 'neu', image: 'linux', region: 'northeurope', capacity: 10 },
      ],
      ...extra,
    }),
    'inline',
  );

const at = (minutes: number) => new Date(Date.parse('2026-12-01T02:55:00Z') + minutes * 60_000).toISOString();
const updated = (n: number) => ({ state: 'updated', instancesUpdated: n, instancesPending: 0 });

/** A rebuild that began at minute 5 and reached every phase up to `upTo`. */
function rebuild(upTo: 'built' | 'published' | 'canary' | 'promoted'): RebuildRun {
  const phases = ['built', 'published', 'canary', 'promoted'];
  const reached = (p: string) => phases.indexOf(p) <= phases.indexOf(upTo);
  const output = {
    image: 'linux',
    version: '2026.12.1',
    canary: 'canary',
    state: upTo === 'promoted' ? 'promoted' : 'failed',
    timings: {
      startedAt: at(5),
      ...(reached('built') ? { builtAt: at(66) } : {}),
      ...(reached('published') ? { publishedAt: at(96) } : {}),
      ...(reached('canary') ? { canaryPassedAt: at(140) } : {}),
      ...(reached('promoted') ? { replicatedAt: at(140), promotedAt: at(200) } : {}),
    },
    ...(upTo === 'promoted'
      ? { rollout: { state: 'succeeded', scaleSets: { weu: updated(5), neu: updated(10) } } }
      : {}),
  } as unknown as RebuildOutput;
  return { image: 'linux', at: 5, output };
}

function bound(run: RebuildRun, extra: Partial<CriticalPathInput> = {}, world = scenario()) {
  return criticalPath({
    scenario: world,
    rebuilds: [run],
    rollouts: [],
    jobs: [],
    canarySoakMinutes: 30,
    regionOrder: ['westeurope', 'northeurope'],
    ...extra,
  });
}

describe('criticalPath', () => {
  it('counts only the phases a rebuild reached', () => {
    expect(bound({ image: 'linux', at: 5 }).minutes).toBe(5);
    expect(bound(rebuild('built')).minutes).toBe(65);
    expect(bound(rebuild('published')).minutes).toBe(95);
    // The canary of 5 (batch 1): 5 waves of 8, then the 30-minute soak.
    expect(bound(rebuild('canary')).minutes).toBe(95 + 40 + 30);
  });

  it('rolls the regions one after another, the scale sets of a region together, replication hidden by the canary', () => {
    // westeurope: weu (5 waves of 8); then northeurope: neu (10 of batch 2: 5 waves of 8).
    const path = bound(rebuild('promoted'));
    expect(path.minutes).toBe(165 + 40 + 40);
    expect(path.images.linux).toEqual({
      endMinutes: 245,
      // The last instance runs the version once reimaged, before it registers.
      fleetUpdatedMinutes: 243,
      // From the build's real end (minute 66) rather than the least one (65).
      minutesToFleetUpdated: 243 - 65,
    });
  });

  it('waits for a job that runs when a scale set starts, not for one that starts later', () => {
    const running = { instance: 'neu_3', startedAt: 100, endedAt: 300 };
    const later = { instance: 'neu_4', startedAt: 210, endedAt: 500 };
    expect(bound(rebuild('promoted'), { jobs: [running] }).minutes).toBe(300 + 8);
    expect(bound(rebuild('promoted'), { jobs: [later] }).minutes).toBe(245);
    // A job past the 6-hour busy wait holds it only until the rollout (begun at 165) gives up on the instance.
    const endless = { instance: 'neu_3', startedAt: 100, endedAt: 5000 };
    expect(bound(rebuild('promoted'), { jobs: [endless] }).minutes).toBe(165 + 6 * 60);
  });

  it("rolls an operator's rollout lead alone, then the rest", () => {
    const result = (name: string, state = 'updated', n = 5) => ({
      scaleSet: name,
      state,
      instancesUpdated: n,
      instancesPending: 0,
    });
    const rollout = (scaleSets: ReturnType<typeof result>[]) => ({
      at: 10,
      output: { scaleSets: Object.fromEntries(scaleSets.map((r) => [r.scaleSet, r])) } as never,
    });
    const none = { image: 'linux' as const, at: 0 };
    // The lead (5 waves of 8) from minute 10, then neu (5 waves of 8).
    const led = rollout([result('canary'), result('neu', 'updated', 10), result('weu')]);
    expect(bound(none, { rollouts: [led] }).minutes).toBe(10 + 40 + 40);
    // A lead that moved nothing holds nobody back.
    const unled = rollout([result('canary', 'untouched', 0), result('neu', 'updated', 10)]);
    expect(bound(none, { rollouts: [unled] }).minutes).toBe(10 + 40);
  });

  it('bounds nothing for a scale set others change during the run, or one its rollout did not finish', () => {
    const changed = scenario({ changes: [{ at: 150, action: 'scaleIn', scaleSet: 'neu', count: 8 }] });
    expect(bound(rebuild('promoted'), {}, changed).minutes).toBe(205);
    const run = rebuild('promoted');
    run.output!.rollout!.scaleSets.neu = { state: 'pending', instancesUpdated: 9, instancesPending: 1 };
    expect(bound(run).minutes).toBe(205);
  });
});
