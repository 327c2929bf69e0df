/**
 * `kiln explore`'s worlds: every one a valid scenario file (through the scenario parser, and through
 * the YAML a finding is written as), within the bounds that keep worlds small and short, covering
 * every kind of change, fault and race, and the same world for the same seed — also as the first
 * world of the fast-check run that shrinks a finding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LONG_RUNNING_FAULT_OPERATIONS } from '../../src/local/fake-cloud/faults.js';
import { toYaml } from '../../src/local/explore/findings.js';
import {
  ANY_OUTCOME,
  FAULT_STATUSES,
  RACE_OPERATIONS,
  WORLD_PARAMETERS,
  WORLD_START,
  nameWorld,
  scenarioOf,
  worldArbitrary,
  worldOfSeed,
  type RawScenario,
} from '../../src/local/explore/generate-world.js';
import { parseScenario } from '../../src/local/scenario/parse-scenario.js';
import type { ScenarioChangeAction } from '../../src/local/scenario/types.js';

const SEEDS = Array.from({ length: 300 }, (_, i) => i + 1);
const worlds: [number, RawScenario][] = SEEDS.map((seed) => [seed, worldOfSeed(seed)]);
const hours = (raw: RawScenario) => (Date.parse(raw.until) - Date.parse(WORLD_START)) / 3_600_000;

describe('explore worlds', () => {
  it('are valid scenarios, as objects and as the YAML a finding is written in', () => {
    for (const [seed, raw] of worlds) {
      const scenario = scenarioOf(raw);
      expect(scenario.name).toBe(`explore-seed-${seed}`);
      expect(parseScenario(toYaml(raw), `seed-${seed}.yaml`)).toEqual(scenario);
    }
  });

  it('stay small and short, and accept any outcome', () => {
    for (const [, raw] of worlds) {
      const scenario = scenarioOf(raw);
      expect(scenario.expect.outcome).toEqual(ANY_OUTCOME);
      expect(hours(raw)).toBeGreaterThanOrEqual(4);
      expect(hours(raw)).toBeLessThanOrEqual(raw.timers ? 8 : 30);
      expect(scenario.scaleSets.length).toBeGreaterThanOrEqual(1);
      expect(scenario.scaleSets.length).toBeLessThanOrEqual(4);
      for (const s of scenario.scaleSets) expect(s.capacity).toBeLessThanOrEqual(5);
      expect(scenario.gallery.regions[0]).toBe('westeurope');
      for (const image of ['linux', 'windows'] as const) {
        expect(scenario.gallery.existingVersions[image].length).toBeGreaterThanOrEqual(1);
        expect(scenario.gallery.existingVersions[image].length).toBeLessThanOrEqual(3);
      }
      expect(scenario.ghosts.github + scenario.ghosts.ado).toBeLessThanOrEqual(5);
      expect(scenario.foreign.github + scenario.foreign.ado).toBeLessThanOrEqual(3);
      for (const f of scenario.faults) {
        if (f.retryAfterSeconds !== undefined) expect([0, 1]).toContain(f.retryAfterSeconds);
        if (f.fail) expect(LONG_RUNNING_FAULT_OPERATIONS).toContain(f.operation);
        else expect(FAULT_STATUSES).toContain(f.status);
      }
    }
  });

  it('cover every kind of change, fault, race, trigger and fleet', () => {
    const seen = new Set<string>();
    const see = (what: string) => seen.add(what);
    for (const [, raw] of worlds) {
      const s = scenarioOf(raw);
      see(s.timers ? 'timers on' : 'timers off');
      see(s.trigger.length === 0 ? 'trigger none' : `trigger ${s.trigger.join('+')}`);
      if (s.dryRun) see('dry run');
      see(`${s.gallery.regions.length} regions`);
      if (s.images.linux.buildFails || s.images.windows.buildFails) see('build fails');
      if (s.images.linux.unhealthy || s.images.windows.unhealthy) see('unhealthy image');
      for (const image of [s.images.linux, s.images.windows]) {
        if (image.changes?.length) see('tool removed');
        if (image.approval) see(`approval ${image.approval.decision}`);
      }
      for (const set of s.scaleSets) {
        see(`scale set ${set.image}`);
        see(`capacity ${set.capacity}`);
        if (!set.managed) see('unmanaged scale set');
        if (set.region !== s.gallery.regions[0]) see('scale set outside the build region');
        const explicit = raw.scaleSets.find((r) => r.name === set.name)!;
        if (explicit.canary !== undefined) see(`canary ${explicit.canary}`);
      }
      for (const job of s.jobs) {
        if (job.minutes > 360) see('job longer than the busy wait');
        if (job.startAfterMinutes > 0) see('job starting later');
        if (job.race) see(`race ${job.race.service} ${job.race.operation}`);
      }
      if (s.ghosts.github + s.ghosts.ado > 0) see('ghosts');
      if (s.foreign.github + s.foreign.ado > 0) see('foreign');
      for (const f of s.faults) {
        see(`fault ${f.service}`);
        see(f.fail ? `fail ${f.operation}` : `status ${f.status}`);
        if (f.persistent) see(f.forMinutes === undefined ? 'persistent' : 'window');
        else see(`times ${f.times}`);
        if (f.retryAfterSeconds !== undefined) see(`retry after ${f.retryAfterSeconds}`);
      }
      const published = new Map<string, number>();
      for (const c of s.changes) {
        see(`change ${c.action}`);
        if (c.action === 'setModel') see(`setModel upgradeInstances ${c.upgradeInstances}`);
        if (c.action === 'publish') {
          see(c.unhealthy ? 'publish unhealthy' : 'publish healthy');
          if (c.excludeFromLatest) see('publish excluded from latest');
          published.set(`${c.image} ${c.version}`, 0);
        }
        if (c.action === 'event') {
          const key = `${c.image} ${c.version}`;
          if (published.has(key)) {
            published.set(key, published.get(key)! + 1);
            if (published.get(key)! > 1) see('duplicate event');
          } else if (s.gallery.existingVersions[c.image].includes(c.version))
            see('late event for an older version');
        }
      }
    }
    const actions: ScenarioChangeAction[] = [
      'scaleOut',
      'scaleIn',
      'deleteInstance',
      'setModel',
      'deleteScaleSet',
      'deleteVersion',
      'publish',
      'promote',
      'event',
    ];
    const expected = [
      'timers on',
      'timers off',
      'trigger none',
      'trigger http-rebuild',
      'trigger cleanup',
      'trigger http-rebuild+cleanup',
      'dry run',
      '1 regions',
      '2 regions',
      'build fails',
      'unhealthy image',
      'tool removed',
      'approval approve',
      'approval reject',
      'scale set linux',
      'scale set windows',
      ...[0, 1, 2, 3, 4, 5].map((n) => `capacity ${n}`),
      'unmanaged scale set',
      'scale set outside the build region',
      'canary true',
      'canary false',
      'job longer than the busy wait',
      'job starting later',
      ...RACE_OPERATIONS.map((r) => `race ${r.service} ${r.operation}`),
      'ghosts',
      'foreign',
      ...['arm', 'github', 'ado', 'identity', 'keyvault'].map((service) => `fault ${service}`),
      ...FAULT_STATUSES.map((status) => `status ${status}`),
      ...LONG_RUNNING_FAULT_OPERATIONS.map((op) => `fail ${op}`),
      'persistent',
      'window',
      'times 1',
      'times 3',
      'retry after 0',
      'retry after 1',
      ...actions.map((action) => `change ${action}`),
      'setModel upgradeInstances true',
      'setModel upgradeInstances false',
      'publish healthy',
      'publish unhealthy',
      'publish excluded from latest',
      'duplicate event',
      'late event for an older version',
    ];
    expect(expected.filter((what) => !seen.has(what))).toEqual([]);
  });

  it('are the same for the same seed, and differ from seed to seed', () => {
    for (const seed of [1, 2, 77, 300]) expect(worldOfSeed(seed)).toEqual(worldOfSeed(seed));
    expect(new Set(worlds.map(([, raw]) => JSON.stringify({ ...raw, name: '' }))).size).toBeGreaterThan(295);
  });

  it("are the first world of the fast-check run that shrinks the seed's findings", async () => {
    for (const seed of [1, 5, 42, 299]) {
      let first: RawScenario | undefined;
      await fc.check(
        fc.asyncProperty(worldArbitrary, async (raw) => {
          first ??= raw;
          return true;
        }),
        { ...WORLD_PARAMETERS, seed, numRuns: 1 },
      );
      expect(nameWorld(first!, seed)).toEqual(worldOfSeed(seed));
    }
  });
});
