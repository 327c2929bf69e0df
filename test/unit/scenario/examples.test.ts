/**
 * The scenarios users actually run: the shared examples, the format document's full example (docs/scenarios.md), the minimal
 * `{ "name": "x" }` and the built-in demo, each with the defaults the format document promises.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_DEMO_SCENARIO,
  builtInDemoScenario,
  loadScenarioFile,
  parseScenario,
} from '../../../src/local/scenario/parse-scenario.js';
import type { Scenario } from '../../../src/local/scenario/types.js';
import { exampleScenarios } from './paths.js';

const imagesDefault: Scenario['images'] = {
  linux: { buildMinutes: 60, buildFails: false, unhealthy: false },
  windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
};
const latencyDefault = { replication: 30, reimage: 6, register: 2, provision: 6 };

describe('the minimal scenario', () => {
  const expected: Scenario = {
    version: 1,
    name: 'x',
    seed: 1,
    start: '2026-12-01T02:55:00Z',
    until: '2026-12-03T02:55:00Z',
    timers: true,
    trigger: [],
    dryRun: false,
    gallery: { regions: ['westeurope'], existingVersions: { linux: ['2026.10.1'], windows: ['2026.10.1'] } },
    images: imagesDefault,
    scaleSets: [
      {
        name: 'vmss-gh-linux',
        image: 'linux',
        region: 'westeurope',
        capacity: 3,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
      {
        name: 'vmss-ado-win',
        image: 'windows',
        region: 'westeurope',
        capacity: 3,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
    ],
    jobs: [],
    ghosts: { github: 0, ado: 0 },
    foreign: { github: 0, ado: 0 },
    latency: latencyDefault,
    registration: { github: 'jit', ado: 'broker' },
    faults: [],
    settings: {},
    changes: [],
    expect: { outcome: ['succeeded'] },
  };

  it('{ "name": "x" } is one Linux and one Windows scale set of 3 in one region, nothing busy, no faults', () => {
    const scenario = parseScenario('{ "name": "x" }', 'minimal.json');
    expect(scenario).toEqual(expected);
    expect(scenario).not.toHaveProperty('eventgrid');
  });

  it('reads the same from YAML', () => {
    expect(parseScenario('name: x\n', 'minimal.yaml')).toEqual(expected);
  });

  it('hands out fresh objects: changing one parse result does not change the next', () => {
    const first = parseScenario('name: x', 'a.yaml');
    first.gallery.regions.push('northeurope');
    first.images.linux.buildMinutes = 1;
    first.scaleSets.pop();
    first.gallery.existingVersions.linux.push('2026.11.1');
    expect(parseScenario('name: x', 'b.yaml')).toEqual(expected);
  });
});

describe('the example scenarios', () => {
  const files = readdirSync(exampleScenarios).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('are there to test', () => {
    expect(files).toEqual(
      expect.arrayContaining(['bad-image.yaml', 'busy-and-ghosts.yaml', 'monthly-small.yaml']),
    );
  });

  it.each(files)('%s parses', (file) => {
    const scenario = loadScenarioFile(join(exampleScenarios, file));
    expect(scenario.version).toBe(1);
    expect(scenario.name).toBe(file.replace(/\.(ya?ml|json)$/, ''));
  });

  it('monthly-small: timers, defaults for everything it leaves out', () => {
    const s = loadScenarioFile(join(exampleScenarios, 'monthly-small.yaml'));
    expect(s).toMatchObject({
      start: '2026-12-01T02:55:00Z',
      until: '2026-12-03T02:55:00Z',
      timers: true,
      trigger: [],
      dryRun: false,
      images: imagesDefault,
      jobs: [],
      ghosts: { github: 0, ado: 0 },
      foreign: { github: 0, ado: 0 },
      latency: latencyDefault,
      faults: [],
      changes: [],
      expect: { outcome: ['succeeded'] },
    });
    expect(s.scaleSets).toEqual([
      {
        name: 'vmss-gh-linux-weu',
        image: 'linux',
        region: 'westeurope',
        capacity: 3,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
      {
        name: 'vmss-ado-win-weu',
        image: 'windows',
        region: 'westeurope',
        capacity: 2,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
    ]);
  });

  it('busy-and-ghosts: newest existing version, explicit canary only, job and fault defaults', () => {
    const s = loadScenarioFile(join(exampleScenarios, 'busy-and-ghosts.yaml'));
    expect(s.gallery.regions).toEqual(['westeurope', 'northeurope']);
    expect(s.scaleSets.map((x) => [x.name, x.region, x.capacity, x.version, x.canary])).toEqual([
      ['vmss-gh-linux-weu', 'westeurope', 4, '2026.10.1', true],
      ['vmss-gh-linux-neu', 'northeurope', 4, '2026.10.1', false],
      ['vmss-ado-win-weu', 'westeurope', 2, '2026.10.1', true],
    ]);
    expect(s.jobs).toEqual([
      { instance: 'vmss-gh-linux-neu_1', minutes: 300, startAfterMinutes: 0 },
      { instance: 'vmss-ado-win-weu_0', minutes: 45, startAfterMinutes: 200 },
    ]);
    expect(s.ghosts).toEqual({ github: 12, ado: 2 });
    expect(s.foreign).toEqual({ github: 3, ado: 0 });
    expect(s.faults).toEqual([
      {
        service: 'github',
        operation: 'deleteRunner',
        status: 500,
        times: 2,
        persistent: false,
        afterMinutes: 0,
      },
    ]);
  });

  it('bad-image: image settings merge with their defaults', () => {
    const s = loadScenarioFile(join(exampleScenarios, 'bad-image.yaml'));
    expect(s.images).toEqual({
      linux: { buildMinutes: 60, buildFails: false, unhealthy: true },
      windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
    });
    expect(s.scaleSets.map((x) => [x.name, x.canary])).toEqual([
      ['vmss-gh-linux-weu', true],
      ['vmss-gh-linux-weu-2', false],
      ['vmss-ado-win-weu', true],
    ]);
  });
});

describe("the format document's full example", () => {
  const readme = readFileSync(join(exampleScenarios, '..', 'docs', 'scenarios.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];

  it('parses as written, with every field as the format document says', () => {
    expect(block).toBeDefined();
    const s = parseScenario(block!, 'scenarios.md');
    expect(s).toMatchObject({
      version: 1,
      name: 'monthly-rebuild-two-regions',
      start: '2026-12-01T02:55:00Z',
      until: '2026-12-02T00:00:00Z',
      timers: true,
      trigger: [],
      dryRun: false,
      gallery: {
        regions: ['westeurope', 'northeurope'],
        existingVersions: { linux: ['2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
        versionTags: {
          linux: { '2026.10.1': { 'kiln-runner-version': '2.329.0' } },
          windows: { '2026.10.1': { 'kiln-agent-version': '4.269.0' } },
        },
      },
      images: imagesDefault,
      ghosts: { github: 40, ado: 3 },
      foreign: { github: 5, ado: 1 },
      latency: { ...latencyDefault, provision: 4 },
      eventgrid: {
        version: { image: 'linux', version: '2026.12.5' },
        duplicates: 3,
        lateOlderEvent: { version: '2026.10.1', afterMinutes: 240 },
      },
      settings: { PRUNE_KEEP: '5', OFFLINE_GRACE_MINUTES: '45' },
      workload: {
        seed: 7,
        streams: [
          {
            fleet: 'github',
            labels: ['self-hosted', 'linux'],
            arrivals: [
              { from: '2026-12-01T07:00:00Z', to: '2026-12-01T19:00:00Z', perHour: 120 },
              { from: '2026-12-01T19:00:00Z', to: '2026-12-02T00:00:00Z', perHour: 6 },
            ],
            minutes: { min: 3, max: 40 },
          },
        ],
      },
      expect: { outcome: ['succeeded', 'partial'] },
    });
    expect(s.scaleSets[0]).toEqual({
      name: 'vmss-gh-linux-weu',
      image: 'linux',
      region: 'westeurope',
      capacity: 6,
      version: '2026.10.1',
      canary: true,
      managed: true,
      autoscale: { min: 0, max: 20, warm: 2, idleMinutes: 10 },
    });
    expect(s.jobs).toEqual([
      { instance: 'vmss-gh-linux-weu_2', minutes: 240, startAfterMinutes: 0 },
      { instance: 'vmss-ado-win-weu_0', minutes: 30, startAfterMinutes: 90 },
      {
        instance: 'vmss-gh-linux-weu_3',
        minutes: 60,
        startAfterMinutes: 30,
        race: { service: 'github', operation: 'deleteRunner' },
      },
    ]);
    expect(s.faults).toEqual([
      {
        service: 'arm',
        operation: 'galleryImageVersions.createOrUpdate',
        status: 429,
        times: 3,
        retryAfterSeconds: 10,
        persistent: false,
        afterMinutes: 0,
      },
      {
        service: 'github',
        operation: 'deleteRunner',
        status: 500,
        times: 2,
        persistent: false,
        afterMinutes: 0,
      },
      {
        service: 'arm',
        operation: 'replication',
        region: 'northeurope',
        fail: true,
        times: 1,
        persistent: false,
        afterMinutes: 0,
      },
      { service: 'ado', operation: 'listAgents', status: 404, times: 1, persistent: true, afterMinutes: 0 },
      {
        service: 'identity',
        operation: 'getToken',
        status: 500,
        times: 1,
        persistent: true,
        afterMinutes: 30,
        forMinutes: 15,
      },
    ]);
    expect(s.changes).toEqual([
      {
        atMinutes: 0,
        action: 'publish',
        image: 'linux',
        version: '2026.12.5',
        excludeFromLatest: false,
        unhealthy: true,
      },
      { atMinutes: 31, action: 'event', image: 'linux', version: '2026.12.5' },
      {
        atMinutes: 45,
        action: 'setModel',
        scaleSet: 'vmss-gh-linux-weu',
        version: '2026.10.1',
        upgradeInstances: true,
      },
    ]);
  });
});

describe('the built-in demo', () => {
  it('is a validated scenario that shows hygiene at work', () => {
    const s = builtInDemoScenario();
    expect(typeof BUILT_IN_DEMO_SCENARIO).toBe('string');
    expect(s.gallery.regions).toHaveLength(2);
    expect(new Set(s.scaleSets.map((x) => x.image))).toEqual(new Set(['linux', 'windows']));
    expect(s.scaleSets.some((x) => !x.managed)).toBe(true);
    expect(s.jobs.length).toBeGreaterThan(0);
    expect(s.ghosts.github).toBeGreaterThan(0);
    expect(s.foreign.github).toBeGreaterThan(0);
    expect(s.faults).toContainEqual({
      service: 'github',
      operation: 'deleteRunner',
      status: 500,
      times: 1,
      persistent: false,
      afterMinutes: 0,
    });
    expect(s.timers).toBe(true);
    // Every managed scale set of each image has one canary, and no unmanaged one.
    for (const image of ['linux', 'windows'] as const) {
      expect(s.scaleSets.filter((x) => x.image === image && x.canary && x.managed)).toHaveLength(1);
    }
  });

  it('is built afresh each time', () => {
    const a = builtInDemoScenario();
    a.jobs.length = 0;
    expect(builtInDemoScenario().jobs.length).toBeGreaterThan(0);
  });
});
