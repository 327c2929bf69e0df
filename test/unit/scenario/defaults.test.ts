/** The defaults of format version 1 that depend on other fields: versions, canaries, regions, time. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadScenarioFile,
  parseScenario,
  SCENARIO_DEFAULTS,
  ScenarioError,
} from '../../../src/local/scenario/parse-scenario.js';
import { FAULT_OPERATIONS, LONG_RUNNING_FAULT_OPERATIONS } from '../../../src/local/fake-cloud/faults.js';

const parse = (text: string) => parseScenario(text, 'test.yaml');

describe('seed', () => {
  it(`defaults to ${SCENARIO_DEFAULTS.seed}, the same for every file without one`, () => {
    expect(parse('name: x').seed).toBe(SCENARIO_DEFAULTS.seed);
    expect(parse('name: y\nscaleSets: [{ name: a, image: linux }]').seed).toBe(SCENARIO_DEFAULTS.seed);
  });

  it("keeps the file's seed, up to 32 bits", () => {
    expect(parse('name: x\nseed: 73').seed).toBe(73);
    expect(parse('name: x\nseed: 0').seed).toBe(0);
    expect(parse('name: x\nseed: 4294967295').seed).toBe(4294967295);
  });
});

describe('scale set version', () => {
  it('defaults to the newest existing version of its image, compared numerically', () => {
    const s = parse(`
name: x
gallery:
  existingVersions: { linux: [2026.10.1, 2026.9.1, 2026.2.1], windows: [2026.9.3, 2026.9.10] }
`);
    expect(s.scaleSets.map((x) => [x.image, x.version])).toEqual([
      ['linux', '2026.10.1'],
      ['windows', '2026.9.10'],
    ]);
  });

  it('keeps an explicit existing version', () => {
    const s = parse(`
name: x
gallery: { existingVersions: { linux: [2026.9.1, 2026.10.1] } }
scaleSets: [{ name: a, image: linux, version: 2026.9.1 }]
`);
    expect(s.scaleSets[0]!.version).toBe('2026.9.1');
  });

  it(`defaults existing versions per image to ${SCENARIO_DEFAULTS.existingVersion}`, () => {
    const s = parse('name: x\ngallery: { existingVersions: { linux: [2026.11.1] } }');
    expect(s.gallery.existingVersions).toEqual({ linux: ['2026.11.1'], windows: ['2026.10.1'] });
    expect(s.scaleSets.map((x) => x.version)).toEqual(['2026.11.1', '2026.10.1']);
  });

  it('allows an image without versions when no scale set runs it', () => {
    const s = parse(`
name: x
gallery: { existingVersions: { windows: [] } }
scaleSets: [{ name: a, image: linux }]
`);
    expect(s.gallery.existingVersions.windows).toEqual([]);
  });
});

describe('canary', () => {
  const canaries = (yaml: string) => parse(yaml).scaleSets.map((x) => `${x.name}:${String(x.canary)}`);

  it('defaults to the first scale set of each image', () => {
    expect(
      canaries(`
name: x
scaleSets:
  - { name: l1, image: linux }
  - { name: w1, image: windows }
  - { name: l2, image: linux }
  - { name: w2, image: windows }
`),
    ).toEqual(['l1:true', 'w1:true', 'l2:false', 'w2:false']);
  });

  it('is not defaulted for an image where any scale set says canary itself', () => {
    expect(
      canaries(`
name: x
scaleSets:
  - { name: l1, image: linux }
  - { name: l2, image: linux, canary: true }
  - { name: w1, image: windows }
  - { name: w2, image: windows, canary: false }
`),
    ).toEqual(['l1:false', 'l2:true', 'w1:false', 'w2:false']);
  });

  it('skips unmanaged scale sets, which kiln never touches', () => {
    expect(
      canaries(`
name: x
scaleSets:
  - { name: l0, image: linux, managed: false }
  - { name: l1, image: linux }
  - { name: w1, image: windows, managed: false }
`),
    ).toEqual(['l0:false', 'l1:true', 'w1:false']);
  });
});

describe('recycle', () => {
  it('is set only on the scale sets that say recycle: true (the kiln-recycle tag)', () => {
    const s = parse(`
name: x
scaleSets:
  - { name: l1, image: linux, recycle: true }
  - { name: l2, image: linux, recycle: false }
  - { name: w1, image: windows }
`);
    expect(s.scaleSets.map((x) => [x.name, x.recycle])).toEqual([
      ['l1', true],
      ['l2', undefined],
      ['w1', undefined],
    ]);
    expect('recycle' in s.scaleSets[1]!).toBe(false);
  });
});

describe('regions, capacity and lists', () => {
  it('puts scale sets without a region in the build region (the first gallery region)', () => {
    const s = parse(`
name: x
gallery: { regions: [northeurope, westeurope] }
scaleSets: [{ name: a, image: linux }, { name: b, image: windows, region: westeurope, capacity: 0 }]
`);
    expect(s.scaleSets.map((x) => [x.region, x.capacity])).toEqual([
      ['northeurope', 3],
      ['westeurope', 0],
    ]);
  });

  it('places the default scale sets in the build region too', () => {
    const s = parse('name: x\ngallery: { regions: [swedencentral, westeurope] }');
    expect(s.scaleSets.map((x) => x.region)).toEqual(['swedencentral', 'swedencentral']);
  });

  it('shares scale set settings through YAML merge keys', () => {
    const s = parse(`
name: x
scaleSets:
  - &linux { name: a, image: linux, capacity: 5, region: westeurope }
  - { <<: *linux, name: b }
`);
    expect(s.scaleSets.map((x) => [x.name, x.capacity, x.canary])).toEqual([
      ['a', 5, true],
      ['b', 5, false],
    ]);
  });

  it('takes an explicit empty scale set list as none', () => {
    expect(parse('name: x\nscaleSets: []').scaleSets).toEqual([]);
  });

  it('reads a key with nothing after it (all items commented out) as absent', () => {
    const s = parse('name: x\njobs:\n  # - { instance: a_1, minutes: 3 }\nfaults:\nghosts:\n');
    expect(s.jobs).toEqual([]);
    expect(s.faults).toEqual([]);
    expect(s.ghosts).toEqual({ github: 0, ado: 0 });
  });

  it('keeps trigger order and fills job, fault and eventgrid defaults', () => {
    const s = parse(`
name: x
trigger: [cleanup, eventgrid, http-rebuild]
scaleSets: [{ name: my_vmss, image: linux }]
jobs: [{ instance: my_vmss_2, minutes: 5 }]
faults: [{ service: arm, operation: replication, fail: true }, { service: identity, operation: getToken, status: 0 }]
eventgrid: { version: { image: windows, version: 2026.12.5 } }
latency: { reimage: 0 }
`);
    expect(s.trigger).toEqual(['cleanup', 'eventgrid', 'http-rebuild']);
    expect(s.jobs).toEqual([{ instance: 'my_vmss_2', minutes: 5, startAfterMinutes: 0 }]);
    expect(s.faults).toEqual([
      { service: 'arm', operation: 'replication', fail: true, times: 1, persistent: false, afterMinutes: 0 },
      { service: 'identity', operation: 'getToken', status: 0, times: 1, persistent: false, afterMinutes: 0 },
    ]);
    expect(s.eventgrid).toEqual({ version: { image: 'windows', version: '2026.12.5' }, duplicates: 1 });
    expect(s.latency).toEqual({ replication: 30, reimage: 0, register: 2, provision: 0 });
  });
});

describe('time', () => {
  it('runs until start + 48h by default', () => {
    expect(parse('name: x\nstart: 2026-12-31T23:00:00Z')).toMatchObject({
      start: '2026-12-31T23:00:00Z',
      until: '2027-01-02T23:00:00Z',
    });
  });

  it('normalises timestamps to UTC', () => {
    expect(parse('name: x\nstart: 2026-12-01T03:55:00+01:00\nuntil: 2026-12-01T10:00:00.250Z')).toMatchObject(
      {
        start: '2026-12-01T02:55:00Z',
        until: '2026-12-01T10:00:00.250Z',
      },
    );
  });

  it('accepts timestamps without seconds and with a lower-case t and z (RFC 3339)', () => {
    expect(parse('name: x\nstart: 2026-12-01T02:55Z\nuntil: 2026-12-01t04:00:30z')).toMatchObject({
      start: '2026-12-01T02:55:00Z',
      until: '2026-12-01T04:00:30Z',
    });
  });

  it('accepts the timestamps a %YAML 1.1 document turns into dates', () => {
    expect(parse('%YAML 1.1\n---\nname: x\nstart: 2026-12-01T02:55:00Z\n')).toMatchObject({
      start: '2026-12-01T02:55:00Z',
      until: '2026-12-03T02:55:00Z',
    });
  });

  it('keeps other switches', () => {
    expect(parse('name: x\ntimers: false\ndryRun: true')).toMatchObject({ timers: false, dryRun: true });
  });
});

describe('JSON', () => {
  it('reads JSON, tab-indented or not', () => {
    const s = parseScenario(
      '{\n\t"name": "json",\n\t"scaleSets": [\n\t\t{ "name": "a", "image": "windows", "capacity": 5 }\n\t]\n}\n',
      'scenario.json',
    );
    expect(s.scaleSets).toEqual([
      {
        name: 'a',
        image: 'windows',
        region: 'westeurope',
        capacity: 5,
        version: '2026.10.1',
        canary: true,
        managed: true,
      },
    ]);
  });
});

describe('loadScenarioFile', () => {
  it('names a missing file', () => {
    const path = join(tmpdir(), 'kiln-no-such-scenario.yaml');
    expect(() => loadScenarioFile(path)).toThrow(ScenarioError);
    expect(() => loadScenarioFile(path)).toThrow(`${path}: cannot read the scenario file`);
    expect(() => loadScenarioFile(path)).toThrow(/no such file/);
  });

  it('refuses a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-scenario-'));
    expect(() => loadScenarioFile(dir)).toThrow(/is a directory/);
  });
});

describe('faults: persistent and windowed', () => {
  it('default to the next `times` requests from the start, with no window end', () => {
    const [fault] = parse(
      'name: x\nfaults: [{ service: github, operation: listRunners, status: 502 }]',
    ).faults;
    expect(fault).toEqual({
      service: 'github',
      operation: 'listRunners',
      status: 502,
      times: 1,
      persistent: false,
      afterMinutes: 0,
    });
    expect(fault).not.toHaveProperty('forMinutes');
  });

  it('keep persistent, afterMinutes and forMinutes as written', () => {
    const s = parse(`
name: x
faults:
  - { service: identity, operation: getToken, status: 500, persistent: true, afterMinutes: 30, forMinutes: 15 }
  - { service: arm, operation: jobs.start, fail: true, times: 2, persistent: false, afterMinutes: 0 }
`);
    expect(s.faults).toEqual([
      {
        service: 'identity',
        operation: 'getToken',
        status: 500,
        times: 1,
        persistent: true,
        afterMinutes: 30,
        forMinutes: 15,
      },
      { service: 'arm', operation: 'jobs.start', fail: true, times: 2, persistent: false, afterMinutes: 0 },
    ]);
  });

  it.each(LONG_RUNNING_FAULT_OPERATIONS)('accept fail: true on the long-running %s', (operation) => {
    const region = operation === 'replication' ? ', region: westeurope' : '';
    const s = parse(`name: x\nfaults: [{ service: arm, operation: ${operation}, fail: true${region} }]`);
    expect(s.faults[0]).toMatchObject({ operation, fail: true });
  });

  it('list only long-running operations the fake ARM knows', () => {
    expect(FAULT_OPERATIONS.arm).toEqual(expect.arrayContaining([...LONG_RUNNING_FAULT_OPERATIONS]));
  });

  it('accept a fault active from the last minute of the run (things due at until still happen)', () => {
    const s = parse(`
name: x
until: 2026-12-01T03:55:00Z
faults: [{ service: github, operation: deleteRunner, status: 500, afterMinutes: 60, forMinutes: 600 }]
`);
    expect(s.faults[0]).toMatchObject({ afterMinutes: 60, forMinutes: 600 });
  });
});

describe('jobs: races', () => {
  it('keep a race as written, and have none unless the file gives one', () => {
    const s = parse(`
name: x
jobs:
  - { instance: vmss-gh-linux_0, minutes: 30, race: { service: arm, operation: virtualMachineScaleSets.updateInstances } }
  - { instance: vmss-ado-win_1, minutes: 30, startAfterMinutes: 5, race: { service: ado, operation: listAgents } }
  - { instance: vmss-ado-win_2, minutes: 30 }
`);
    expect(s.jobs).toEqual([
      {
        instance: 'vmss-gh-linux_0',
        minutes: 30,
        startAfterMinutes: 0,
        race: { service: 'arm', operation: 'virtualMachineScaleSets.updateInstances' },
      },
      {
        instance: 'vmss-ado-win_1',
        minutes: 30,
        startAfterMinutes: 5,
        race: { service: 'ado', operation: 'listAgents' },
      },
      { instance: 'vmss-ado-win_2', minutes: 30, startAfterMinutes: 0 },
    ]);
    expect(s.jobs[2]).not.toHaveProperty('race');
  });

  it('may outlast the run, up to 31 days, and start at its last minute', () => {
    const s = parse(`
name: x
until: 2026-12-01T04:55:00Z
jobs: [{ instance: vmss-gh-linux_0, minutes: 44640, startAfterMinutes: 120 }]
`);
    expect(s.jobs[0]).toMatchObject({ minutes: 44_640, startAfterMinutes: 120 });
  });
});

describe('expected outcome', () => {
  it('defaults to succeeded', () => {
    expect(parse('name: x').expect).toEqual({ outcome: ['succeeded'] });
  });

  it('defaults to planned in a dry run', () => {
    expect(parse('name: x\ndryRun: true').expect).toEqual({ outcome: ['planned'] });
  });

  it('reads one outcome as a list of one', () => {
    expect(parse('name: x\nexpect: { outcome: rolledBack }').expect).toEqual({ outcome: ['rolledBack'] });
  });

  it('keeps a list in its order, also in a dry run', () => {
    expect(parse('name: x\ndryRun: true\nexpect: { outcome: [failed, partial] }').expect).toEqual({
      outcome: ['failed', 'partial'],
    });
  });

  it('reads an empty expect block as absent', () => {
    expect(parse('name: x\nexpect:\n').expect).toEqual({ outcome: ['succeeded'] });
  });

  it('hands out a fresh list each time', () => {
    parse('name: x').expect.outcome.push('failed');
    expect(parse('name: x').expect.outcome).toEqual(['succeeded']);
  });
});

describe('bounds, at their edge', () => {
  it('a run of exactly 31 days', () => {
    expect(parse('name: x\nuntil: 2027-01-01T02:55:00Z').until).toBe('2027-01-01T02:55:00Z');
  });

  it.each(['2000-01-01T00:00:00Z', '2100-12-31T23:59:00Z'])('start %s', (start) => {
    expect(parse(`name: x\nstart: ${start}`).start).toBe(start);
  });

  it('eventgrid duplicates 100, latencies of a day, 50 scale sets', () => {
    const names = Array.from({ length: 50 }, (_, i) => `{ name: s${i}, image: linux, capacity: 0 }`);
    const s = parse(`
name: x
trigger: [eventgrid]
eventgrid: { version: { image: linux, version: 2026.12.5 }, duplicates: 100 }
latency: { replication: 1440, reimage: 1440, register: 1440 }
scaleSets: [${names.join(', ')}]
`);
    expect(s.eventgrid!.duplicates).toBe(100);
    expect(s.latency).toEqual({ replication: 1440, reimage: 1440, register: 1440, provision: 1440 });
    expect(s.scaleSets).toHaveLength(50);
  });
});

describe('eventgrid.lateOlderEvent', () => {
  const withEvent = (late: string) =>
    parse(`
name: x
gallery: { existingVersions: { linux: [2026.10.1, 2026.8.1, 2026.9.1] } }
eventgrid: { version: { image: linux, version: 2026.12.5 }${late} }
`).eventgrid;

  it('unsaid, is for the version before the newest existing one, two minutes in', () => {
    expect(withEvent('')).toEqual({
      version: { image: 'linux', version: '2026.12.5' },
      duplicates: 1,
      lateOlderEvent: { version: '2026.9.1', afterMinutes: 2 },
    });
    // With a single version there is none before it: no late event.
    expect(
      parse('name: x\neventgrid: { version: { image: linux, version: 2026.12.5 } }').eventgrid,
    ).not.toHaveProperty('lateOlderEvent');
  });

  it('true asks for that one, false for none, a version and a minute for that', () => {
    expect(withEvent(', lateOlderEvent: true')!.lateOlderEvent).toEqual({
      version: '2026.9.1',
      afterMinutes: 2,
    });
    expect(withEvent(', lateOlderEvent: false')).not.toHaveProperty('lateOlderEvent');
    expect(withEvent(', lateOlderEvent: { version: 2026.10.1 }')!.lateOlderEvent).toEqual({
      version: '2026.10.1',
      afterMinutes: 2,
    });
    expect(withEvent(', lateOlderEvent: { version: 2026.8.1, afterMinutes: 240 }')!.lateOlderEvent).toEqual({
      version: '2026.8.1',
      afterMinutes: 240,
    });
  });
});

describe('settings', () => {
  it('default to none', () => {
    expect(parse('name: x').settings).toEqual({});
  });

  it('hold each value as an app setting holds it (text), leaving out the ones given as null', () => {
    expect(
      parse('name: x\nsettings: { PRUNE_KEEP: 5, GITHUB_AUTH: pat, CANARY_SOAK_MINUTES: "10", TAG_ENV: }')
        .settings,
    ).toEqual({ PRUNE_KEEP: '5', GITHUB_AUTH: 'pat', CANARY_SOAK_MINUTES: '10' });
  });
});
