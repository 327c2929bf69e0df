/**
 * What a scenario author sees for a bad file: a ScenarioError that names the file, the field path
 * and what is wrong, for every problem at once.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/local/scenario/parse-scenario.js';

/** A valid scenario using every section; each case breaks one thing in a copy. */
const BASE = {
  version: 1,
  name: 'base',
  start: '2026-12-01T02:55:00Z',
  trigger: ['http-rebuild', 'eventgrid'],
  gallery: {
    regions: ['westeurope', 'northeurope'],
    existingVersions: { linux: ['2026.9.1', '2026.10.1'], windows: ['2026.10.1'] },
  },
  images: { linux: { buildMinutes: 60 }, windows: { buildFails: false } },
  scaleSets: [
    { name: 'lin', image: 'linux', region: 'westeurope', capacity: 4 },
    { name: 'win', image: 'windows', region: 'northeurope', capacity: 2 },
  ],
  jobs: [{ instance: 'lin_1', minutes: 30 }],
  ghosts: { github: 2 },
  foreign: { ado: 1 },
  latency: { reimage: 5 },
  faults: [{ service: 'github', operation: 'deleteRunner', status: 500 }],
  eventgrid: { version: { image: 'linux', version: '2026.12.5' } },
};
type AnyRecord = Record<string, any>;

function errorOf(text: string, source = 'bad.json'): ScenarioError {
  try {
    parseScenario(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return error as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

function withChange(change: (s: AnyRecord) => void): string {
  const copy = structuredClone(BASE) as AnyRecord;
  change(copy);
  return JSON.stringify(copy, null, 2);
}

it('the base scenario of the matrix is valid', () => {
  expect(parseScenario(JSON.stringify(BASE), 'base.json').name).toBe('base');
});

describe('one wrong field → one problem naming its path', () => {
  const cases: [string, (s: AnyRecord) => void, string, RegExp][] = [
    ['format version 2', (s) => (s.version = 2), 'version', /this kiln reads version 1/],
    ['no name', (s) => delete s.name, 'name', /is required/],
    ['empty name', (s) => (s.name = ''), 'name', /must not be empty/],
    ['blank name', (s) => (s.name = '  '), 'name', /must not be empty/],
    ['name not text', (s) => (s.name = 5), 'name', /expected text, got 5/],
    ['start without a time', (s) => (s.start = '2026-12-01'), 'start', /ISO 8601/],
    ['start without a zone', (s) => (s.start = '2026-12-01T02:55:00'), 'start', /time zone/],
    ['start on 30 February', (s) => (s.start = '2026-02-30T00:00:00Z'), 'start', /not a real date/],
    ['start at 24:30', (s) => (s.start = '2026-12-01T24:30:00Z'), 'start', /not a real date/],
    ['until before start', (s) => (s.until = '2026-12-01T02:00:00Z'), 'until', /must be after start/],
    ['until equal to start', (s) => (s.until = s.start), 'until', /must be after start/],
    ['until not a timestamp', (s) => (s.until = 'tomorrow'), 'until', /got "tomorrow"/],
    ['timers as a word', (s) => (s.timers = 'yes'), 'timers', /expected true or false, got "yes"/],
    ['dryRun as a number', (s) => (s.dryRun = 1), 'dryRun', /expected true or false, got 1/],
    ['trigger not a list', (s) => (s.trigger = 'cleanup'), 'trigger', /expected a list/],
    [
      'unknown trigger',
      (s) => (s.trigger = ['deploy']),
      'trigger[0]',
      /expected one of http-rebuild, http-rollout, eventgrid, cleanup/,
    ],
    ['trigger twice', (s) => (s.trigger = ['cleanup', 'cleanup']), 'trigger[1]', /listed twice/],
    [
      'eventgrid trigger without a block',
      (s) => delete s.eventgrid,
      'eventgrid',
      /required because trigger includes eventgrid/,
    ],
    ['no gallery regions', (s) => (s.gallery.regions = []), 'gallery.regions', /at least 1 item/],
    [
      'region with spaces',
      (s) => (s.gallery.regions = ['West Europe']),
      'gallery.regions[0]',
      /Azure region name/,
    ],
    ['region twice', (s) => s.gallery.regions.push('westeurope'), 'gallery.regions[2]', /listed twice/],
    [
      'two-part version',
      (s) => (s.gallery.existingVersions.linux = ['2026.10']),
      'gallery.existingVersions.linux[0]',
      /three dot-separated integers/,
    ],
    [
      'version as a YAML number',
      (s) => (s.gallery.existingVersions.linux = [2026.1]),
      'gallery.existingVersions.linux[0]',
      /got 2026.1 \(YAML reads an unquoted x.y as a number: write the version in quotes\)/,
    ],
    [
      'version part too large',
      (s) => (s.gallery.existingVersions.windows = ['2147483648.1.1']),
      'gallery.existingVersions.windows[0]',
      /at most 2147483647/,
    ],
    [
      'version with leading zero',
      (s) => (s.gallery.existingVersions.windows = ['2026.01.1']),
      'gallery.existingVersions.windows[0]',
      /leading zeros/,
    ],
    [
      'same version twice',
      (s) => s.gallery.existingVersions.linux.push('2026.9.1'),
      'gallery.existingVersions.linux[2]',
      /listed twice/,
    ],
    [
      'gallery not a mapping',
      (s) => (s.gallery = ['westeurope']),
      'gallery',
      /expected a mapping, got a list/,
    ],
    [
      'existingVersions not a mapping',
      (s) => (s.gallery.existingVersions = ['2026.10.1']),
      'gallery.existingVersions',
      /expected a mapping, got a list/,
    ],
    [
      'build of 0 minutes',
      (s) => (s.images.linux.buildMinutes = 0),
      'images.linux.buildMinutes',
      /at least 1, got 0/,
    ],
    [
      'buildFails as a word',
      (s) => (s.images.windows.buildFails = 'no'),
      'images.windows.buildFails',
      /true or false/,
    ],
    ['unknown image', (s) => (s.images.macos = {}), 'images.macos', /unknown key/],
    [
      'scaleSets not a list',
      (s) => (s.scaleSets = { name: 'lin' }),
      'scaleSets',
      /expected a list, got a mapping/,
    ],
    ['scale set without name', (s) => delete s.scaleSets[0].name, 'scaleSets[0].name', /is required/],
    [
      'scale set name with spaces',
      (s) => (s.scaleSets[0].name = 'my vmss'),
      'scaleSets[0].name',
      /expected a scale set name/,
    ],
    [
      'scale set name ending in a hyphen',
      (s) => (s.scaleSets[0].name = 'vmss-'),
      'scaleSets[0].name',
      /not ending/,
    ],
    [
      'duplicate scale set',
      (s) => (s.scaleSets[1].name = 'lin'),
      'scaleSets[1].name',
      /duplicate scale set name "lin" \(also scaleSets\[0\]\)/,
    ],
    [
      'duplicate scale set in another case',
      (s) => (s.scaleSets[1].name = 'LIN'),
      'scaleSets[1].name',
      /duplicate/,
    ],
    [
      'scale set image',
      (s) => (s.scaleSets[0].image = 'macos'),
      'scaleSets[0].image',
      /expected one of linux, windows, got "macos"/,
    ],
    [
      'negative capacity',
      (s) => (s.scaleSets[1].capacity = -1),
      'scaleSets[1].capacity',
      /at least 0, got -1/,
    ],
    [
      'fractional capacity',
      (s) => (s.scaleSets[1].capacity = 2.5),
      'scaleSets[1].capacity',
      /whole number, got 2.5/,
    ],
    [
      'capacity beyond Azure',
      (s) => (s.scaleSets[1].capacity = 1001),
      'scaleSets[1].capacity',
      /at most 1000/,
    ],
    [
      'capacity as text',
      (s) => (s.scaleSets[1].capacity = '2'),
      'scaleSets[1].capacity',
      /expected a number, got "2"/,
    ],
    [
      'region outside the gallery',
      (s) => (s.scaleSets[1].region = 'eastus'),
      'scaleSets[1].region',
      /"eastus" is not among gallery.regions \(westeurope, northeurope\)/,
    ],
    [
      'version not in the gallery',
      (s) => (s.scaleSets[0].version = '2026.8.1'),
      'scaleSets[0].version',
      /not in gallery.existingVersions.linux \(2026.9.1, 2026.10.1\)/,
    ],
    [
      'version of the other image',
      (s) => (s.scaleSets[1].version = '2026.9.1'),
      'scaleSets[1].version',
      /not in gallery.existingVersions.windows/,
    ],
    [
      'no version to default to',
      (s) => (s.gallery.existingVersions.windows = []),
      'scaleSets[1].version',
      /gallery.existingVersions.windows is empty/,
    ],
    [
      'unmanaged canary',
      (s) => Object.assign(s.scaleSets[0], { canary: true, managed: false }),
      'scaleSets[0].canary',
      /unmanaged/,
    ],
    [
      'managed as text',
      (s) => (s.scaleSets[0].managed = 'false'),
      'scaleSets[0].managed',
      /true or false, got "false"/,
    ],
    ['scale set item empty', (s) => (s.scaleSets[1] = null), 'scaleSets[1]', /expected a mapping, got null/],
    [
      'job instance without id',
      (s) => (s.jobs[0].instance = 'lin'),
      'jobs[0].instance',
      /<scaleSet>_<instanceId>/,
    ],
    [
      'job instance id with leading zero',
      (s) => (s.jobs[0].instance = 'lin_01'),
      'jobs[0].instance',
      /<scaleSet>_<instanceId>/,
    ],
    [
      'job on a missing scale set',
      (s) => (s.jobs[0].instance = 'nope_1'),
      'jobs[0].instance',
      /names no scale set of this scenario \(scale sets: lin, win\)/,
    ],
    [
      'job instance beyond capacity',
      (s) => (s.jobs[0].instance = 'win_2'),
      'jobs[0].instance',
      /has capacity 2, ids 0..1/,
    ],
    ['job of 0 minutes', (s) => (s.jobs[0].minutes = 0), 'jobs[0].minutes', /at least 1/],
    ['job without minutes', (s) => delete s.jobs[0].minutes, 'jobs[0].minutes', /is required/],
    [
      'job starting in the past',
      (s) => (s.jobs[0].startAfterMinutes = -5),
      'jobs[0].startAfterMinutes',
      /at least 0/,
    ],
    ['negative ghosts', (s) => (s.ghosts.github = -1), 'ghosts.github', /at least 0/],
    ['absurd foreign count', (s) => (s.foreign.ado = 1e6), 'foreign.ado', /at most 10000/],
    [
      'latency as text',
      (s) => (s.latency.replication = '30m'),
      'latency.replication',
      /expected a number, got "30m"/,
    ],
    [
      'unknown fault service',
      (s) => (s.faults[0].service = 'aws'),
      'faults[0].service',
      /expected one of arm, github, ado, keyvault, identity/,
    ],
    [
      'status beyond HTTP',
      (s) => (s.faults[0].status = 600),
      'faults[0].status',
      /HTTP status \(100-599\) or 0/,
    ],
    ['status below HTTP', (s) => (s.faults[0].status = 99), 'faults[0].status', /HTTP status/],
    ['status as text', (s) => (s.faults[0].status = '500'), 'faults[0].status', /got "500"/],
    ['fault fires 0 times', (s) => (s.faults[0].times = 0), 'faults[0].times', /at least 1/],
    [
      'misspelt fault operation',
      (s) => (s.faults[0].operation = 'deleteRunners'),
      'faults[0].operation',
      /unknown github operation "deleteRunners"; one of: .*deleteRunner/,
    ],
    [
      'operation of another service',
      (s) => (s.faults[0].service = 'ado'),
      'faults[0].operation',
      /unknown ado operation "deleteRunner"/,
    ],
    [
      'fault without operation',
      (s) => (s.faults[0].operation = ''),
      'faults[0].operation',
      /must not be empty/,
    ],
    [
      'fault without an effect',
      (s) => delete s.faults[0].status,
      'faults[0].status',
      /is required unless fail: true/,
    ],
    ['fault with status and fail', (s) => (s.faults[0].fail = true), 'faults[0].status', /not both/],
    [
      'Retry-After on a failed operation',
      (s) => (s.faults[0] = { service: 'arm', operation: 'replication', fail: true, retryAfterSeconds: 5 }),
      'faults[0].retryAfterSeconds',
      /only applies/,
    ],
    [
      'fault in a region outside the gallery',
      (s) => (s.faults[0] = { service: 'arm', operation: 'replication', fail: true, region: 'eastus' }),
      'faults[0].region',
      /not among gallery.regions/,
    ],
    [
      'eventgrid image',
      (s) => (s.eventgrid.version.image = 'macos'),
      'eventgrid.version.image',
      /linux, windows/,
    ],
    [
      'eventgrid version',
      (s) => (s.eventgrid.version.version = '2026.12'),
      'eventgrid.version.version',
      /three dot-separated integers/,
    ],
    [
      'eventgrid without version',
      (s) => (s.eventgrid = { duplicates: 2 }),
      'eventgrid.version',
      /is required/,
    ],
    [
      'eventgrid duplicates 0',
      (s) => ((s.eventgrid as AnyRecord).duplicates = 0),
      'eventgrid.duplicates',
      /at least 1/,
    ],
  ];

  it('has a broad matrix', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('%s', (_, change, path, message) => {
    const error = errorOf(withChange(change));
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems;
    expect(problem!.path).toBe(path);
    expect(problem!.message).toMatch(message);
    expect(error.message).toMatch(/^bad\.json: invalid scenario \(1 problem\):\n {2}- /);
    expect(error.message).toContain(`${path} (line `);
    expect(error.name).toBe('ScenarioError');
  });
});

describe('unknown keys', () => {
  const places: [string, (s: AnyRecord) => AnyRecord][] = [
    ['', (s) => s],
    ['gallery', (s) => s.gallery],
    ['gallery.existingVersions', (s) => s.gallery.existingVersions],
    ['images', (s) => s.images],
    ['images.linux', (s) => s.images.linux],
    ['scaleSets[1]', (s) => s.scaleSets[1]],
    ['jobs[0]', (s) => s.jobs[0]],
    ['ghosts', (s) => s.ghosts],
    ['foreign', (s) => s.foreign],
    ['latency', (s) => s.latency],
    ['faults[0]', (s) => s.faults[0]],
    ['eventgrid', (s) => s.eventgrid],
    ['eventgrid.version', (s) => s.eventgrid.version],
  ];

  it.each(places)('are an error at %j', (place, at) => {
    const error = errorOf(withChange((s) => (at(s).colour = 'red')));
    const path = place === '' ? 'colour' : `${place}.colour`;
    expect(error.problems.map((p) => p.path)).toEqual([path]);
    expect(error.problems[0]!.message).toMatch(/^unknown key; known keys here: /);
    expect(error.message).toContain(`${path} (line `);
  });

  it('suggest the key that was probably meant and list the known ones', () => {
    const error = errorOf(
      'name: x\ndryrun: true\nscaleSets:\n  - { name: a, image: linux, capcity: 2 }\n',
      'typo.yaml',
    );
    expect(error.problems).toEqual([
      {
        path: 'dryrun',
        line: 2,
        column: 1,
        message: expect.stringMatching(
          /^unknown key \(did you mean "dryRun"\?\); known keys here: version, name,/,
        ),
      },
      {
        path: 'scaleSets[0].capcity',
        line: 4,
        column: 30,
        message:
          'unknown key (did you mean "capacity"?); known keys here: name, image, region, capacity, version, canary, managed',
      },
    ]);
  });

  it('include names an object inherits (constructor, __proto__, toString)', () => {
    const error = errorOf(
      'name: x\nconstructor: 1\nscaleSets: [{ name: a, image: linux, __proto__: { capacity: 5 }, toString: 2 }]\n',
    );
    expect(error.problems.map((p) => p.path)).toEqual([
      'constructor',
      'scaleSets[0].__proto__',
      'scaleSets[0].toString',
    ]);
  });

  it('quote keys that are not identifiers in the path', () => {
    const error = errorOf('name: x\nlatency: { "re image": 3 }\n');
    expect(error.problems.map((p) => p.path)).toEqual(['latency["re image"]']);
  });
});

describe('several problems', () => {
  const yaml = `version: 1
name: several
start: 2026-12-01T02:55:00Z
until: 2026-11-30T00:00:00Z
gallery:
  regions: [westeurope]
scaleSets:
  - { name: lin, image: linux, capacity: 3 }
  - { name: lin, image: linux, capacity: 1001, region: northeurope }
jobs:
  - { instance: lin_7, minutes: 5 }
faults:
  - { service: arm, operation: virtualMachineScaleSets.get, status: 42 }
eventgrid: { version: { image: linux, version: 1.2 } }
extra: true
`;

  it('are all reported at once, in file order, each with its line', () => {
    const error = errorOf(yaml, 'several.yaml');
    expect(error.problems.map((p) => [p.path, p.line])).toEqual([
      ['until', 4],
      ['scaleSets[1].name', 9],
      ['scaleSets[1].capacity', 9],
      ['scaleSets[1].region', 9],
      ['jobs[0].instance', 11],
      ['faults[0].status', 13],
      ['eventgrid.version.version', 14],
      ['extra', 15],
    ]);
    expect(error.message.split('\n')[0]).toBe('several.yaml: invalid scenario (8 problems):');
    expect(error.message).toContain(
      '  - scaleSets[1].capacity (line 9, column 42): must be at most 1000, got 1001',
    );
  });

  it('do not hide the cross-field checks of the parts that are valid', () => {
    // A broken scale set does not stop checking the job on a valid one, nor the other scale set's region.
    const error = errorOf(
      withChange((s) => {
        s.scaleSets[0].capacity = 'four';
        s.scaleSets[1].region = 'eastus';
        s.jobs.push({ instance: 'win_5', minutes: 1 });
        s.gallery.existingVersions.linux.push('x');
      }),
    );
    expect(error.problems.map((p) => p.path)).toEqual([
      'gallery.existingVersions.linux[2]',
      'scaleSets[0].capacity',
      'scaleSets[1].region',
      'jobs[1].instance',
    ]);
  });
});

describe('syntax errors', () => {
  it.each([
    ['YAML indentation', 'name: x\nscaleSets:\n  - name: a\n   image: linux\n', 'bad.yaml', 4, 1],
    // The library places these where it noticed: the line after the unclosed list or string.
    ['YAML unclosed flow list', 'name: x\ntrigger: [cleanup\ntimers: true\n', 'bad.yaml', 3, 1],
    ['YAML duplicate key', 'name: x\ntimers: true\nname: y\n', 'bad.yaml', 3, 1],
    ['JSON missing comma', '{\n  "name": "x"\n  "timers": true\n}\n', 'bad.json', 3, 3],
    ['JSON duplicate key', '{ "name": "x",\n  "name": "y" }', 'bad.json', 2, 3],
    ['JSON unterminated string', '{ "name": "x }\n', 'bad.json', 2, 1],
    ['two YAML documents', 'name: x\n---\nname: y\n', 'bad.yaml', 2, 1],
  ])('%s: line and column', (_, text, source, line, column) => {
    const error = errorOf(text, source);
    expect(error.message).toMatch(
      new RegExp(`^${source.replace('.', '\\.')}: not valid YAML or JSON \\(\\d+ problems?\\):`),
    );
    expect(error.problems[0]).toMatchObject({ path: '', line, column });
    expect(error.message).toContain(`  - line ${line}, column ${column}: `);
  });

  it.each([
    ['an empty file', '', /the file is empty/],
    ['only comments', '# nothing yet\n', /the file is empty/],
    ['a list', '- name: x\n', /expected a mapping of scenario fields, got a list/],
    ['a scalar', 'just text\n', /expected a mapping of scenario fields, got "just text"/],
  ])('%s is not a scenario', (_, text, message) => {
    const error = errorOf(text, 'odd.yaml');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.message).toMatch(message);
    expect(error.message).toMatch(/^odd\.yaml: /);
  });
});
