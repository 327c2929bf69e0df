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
  jobs: [{ instance: 'lin_1', minutes: 30, race: { service: 'github', operation: 'listRunners' } }],
  ghosts: { github: 2 },
  foreign: { ado: 1 },
  latency: { reimage: 5 },
  faults: [{ service: 'github', operation: 'deleteRunner', status: 500 }],
  eventgrid: { version: { image: 'linux', version: '2026.12.5' } },
  // The run is 48 hours (2880 minutes); lin_5 exists once the scale-out at minute 30 added lin_4 and lin_5.
  changes: [
    { at: 30, action: 'scaleOut', scaleSet: 'lin', count: 2 },
    { at: 60, action: 'deleteInstance', instance: 'lin_5' },
    { at: 60, action: 'setModel', scaleSet: 'lin', version: '2026.9.1' },
    { at: 90, action: 'publish', image: 'windows', version: '2026.12.5' },
  ],
  expect: { outcome: ['succeeded', 'partial'] },
};
/** `count` list items, each made by `item`. */
const many = (count: number, item: (i: number) => unknown) =>
  Array.from({ length: count }, (_, i) => item(i));
const LONG_RUNNING_LIST =
  'virtualMachineScaleSets.reimage, virtualMachineScaleSets.updateInstances, virtualMachineScaleSets.deleteInstances, galleryImageVersions.createOrUpdate, jobs.start, replication';
// Cases reach into parsed JSON of any shape to break one field: loose on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
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
    ['seed a fraction', (s) => (s.seed = 1.5), 'seed', /expected a whole number, got 1.5/],
    ['seed negative', (s) => (s.seed = -1), 'seed', /must be at least 0, got -1/],
    ['seed past 32 bits', (s) => (s.seed = 2 ** 32), 'seed', /must be at most 4294967295, got 4294967296/],
    ['seed as text', (s) => (s.seed = 'seven'), 'seed', /expected a number, got "seven"/],
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
      'tags of a version not in the gallery',
      (s) => (s.gallery.versionTags = { linux: { '2026.11.1': { 'kiln-runner-version': '2.330.0' } } }),
      'gallery.versionTags.linux["2026.11.1"]',
      /version 2026\.11\.1 is not in gallery\.existingVersions\.linux \(2026\.9\.1, 2026\.10\.1\): only an existing version has tags/,
    ],
    [
      'a tag value that is not text',
      (s) => (s.gallery.versionTags = { windows: { '2026.10.1': { 'kiln-agent-version': 4.269 } } }),
      'gallery.versionTags.windows["2026.10.1"].kiln-agent-version',
      /expected text, got 4.269/,
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
      'a tool change without to',
      (s) => (s.images.linux.changes = [{ tool: 'git' }]),
      'images.linux.changes[0].to',
      /^is required: a version such as "3\.0\.1" \(in quotes\), or null \(the tool is removed\)$/,
    ],
    [
      'a tool version as a YAML number',
      (s) => (s.images.linux.changes = [{ tool: 'git', to: 3.1 }]),
      'images.linux.changes[0].to',
      /got 3\.1 \(YAML reads an unquoted x\.y as a number: write the version in quotes\)/,
    ],
    [
      'a tool name in capitals',
      (s) => (s.images.windows.changes = [{ tool: 'Git', to: '3.0.0' }]),
      'images.windows.changes[0].tool',
      /expected a tool name as software reports write it .* such as git, node or azure-cli; got "Git"/,
    ],
    [
      'a tool change with another key',
      (s) => (s.images.linux.changes = [{ tool: 'git', version: '3.0.0', to: '3.0.0' }]),
      'images.linux.changes[0].version',
      /unknown key/,
    ],
    [
      'removing a tool the image does not have',
      (s) => (s.images.linux.changes = [{ tool: 'gitt', to: null }]),
      'images.linux.changes[0].tool',
      /^gitt is not in the linux image \(its tools: .*git.*\), so it cannot be removed \(did you mean "git"\?\)$/,
    ],
    [
      'a change to the version the image holds already',
      (s) => (s.images.windows.changes = [{ tool: 'git', to: '2.52.0.windows.1' }]),
      'images.windows.changes[0].to',
      /^git is 2\.52\.0\.windows\.1 in the windows image already, so nothing would change/,
    ],
    [
      'a tool changed twice',
      (s) =>
        (s.images.linux.changes = [
          { tool: 'git', to: '3.0.0' },
          { tool: 'git', to: null },
        ]),
      'images.linux.changes[1].tool',
      /^git is listed twice \(first at index 0\): give one change per tool$/,
    ],
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
      'unmanaged recycle',
      (s) => Object.assign(s.scaleSets[0], { recycle: true, managed: false }),
      'scaleSets[0].recycle',
      /unmanaged scale set .* cannot recycle its instances/,
    ],
    [
      'recycle as text',
      (s) => (s.scaleSets[0].recycle = 'yes'),
      'scaleSets[0].recycle',
      /true or false, got "yes"/,
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
      /expected one of arm, github, ado, keyvault, identity, tables/,
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

    // Bounds that keep a typo from hanging the simulator
    [
      'eventgrid duplicates 5000000',
      (s) => ((s.eventgrid as AnyRecord).duplicates = 5_000_000),
      'eventgrid.duplicates',
      /^must be at most 100, got 5000000$/,
    ],
    [
      'until in the year 9999',
      (s) => (s.until = '9999-01-01T00:00:00Z'),
      'until',
      /^must be at most 31 days \(44640 minutes\) after start, the longest run the simulator takes; got 2911743\.88 days \(4192911185 minutes\) after start \(2026-12-01T02:55:00Z\)$/,
    ],
    [
      'a run of 31 days and a minute',
      (s) => (s.until = '2027-01-01T02:56:00Z'),
      'until',
      /got 31 days \(44641 minutes\) after start/,
    ],
    [
      'start before 2000',
      (s) => (s.start = '1999-12-31T23:00:00Z'),
      'start',
      /^must be in a year from 2000 to 2100, got 1999-12-31T23:00:00Z \(year 1999\)$/,
    ],
    ['start after 2100', (s) => (s.start = '2101-01-01T00:00:00Z'), 'start', /\(year 2101\)/],
    [
      'more than 50 scale sets',
      (s) => (s.scaleSets = many(51, (i) => ({ name: `s${i}`, image: 'linux', capacity: 0 }))),
      'scaleSets',
      /^must list at most 50 items, got 51$/,
    ],
    [
      'more than 5000 jobs',
      (s) => (s.jobs = many(5001, () => ({ instance: 'lin_1', minutes: 1 }))),
      'jobs',
      /^must list at most 5000 items, got 5001$/,
    ],
    [
      'more than 200 faults',
      (s) => (s.faults = many(201, () => s.faults[0])),
      'faults',
      /^must list at most 200 items, got 201$/,
    ],
    [
      'more than 1000 changes',
      (s) => (s.changes = many(1001, () => s.changes[3])),
      'changes',
      /^must list at most 1000 items, got 1001$/,
    ],
    [
      'a job longer than 31 days',
      (s) => (s.jobs[0].minutes = 44_641),
      'jobs[0].minutes',
      /^must be at most 44640 \(31 days\), got 44641$/,
    ],
    [
      'a job starting after the run',
      (s) => (s.jobs[0].startAfterMinutes = 2881),
      'jobs[0].startAfterMinutes',
      /^minute 2881 is after the run ends \(until is 2880 minutes after start\), so the job would never start: give at most 2880, or a later until$/,
    ],
    [
      'a latency of more than a day',
      (s) => (s.latency.replication = 1441),
      'latency.replication',
      /^must be at most 1440 \(a day\), got 1441$/,
    ],

    // Faults that could never fire or take effect
    [
      'fail: true on an HTTP operation (github deleteRunner)',
      (s) => (s.faults[0] = { service: 'github', operation: 'deleteRunner', fail: true }),
      'faults[0].fail',
      /^fail: true only applies to a long-running ARM operation \(virtualMachineScaleSets.reimage, .*, replication\); github deleteRunner answers at once, so the fault would never fire: give status \(the HTTP status to answer with\) instead$/,
    ],
    [
      'fail: true on an ARM read',
      (s) => (s.faults[0] = { service: 'arm', operation: 'virtualMachineScaleSets.get', fail: true }),
      'faults[0].fail',
      /arm virtualMachineScaleSets.get answers at once/,
    ],
    [
      'fail: true on identity',
      (s) => (s.faults[0] = { service: 'identity', operation: 'getToken', fail: true }),
      'faults[0].fail',
      /identity getToken answers at once/,
    ],
    [
      'status and fail: true on an HTTP operation',
      (s) => (s.faults[0].fail = true),
      'faults[0].status',
      /not both; github deleteRunner is not a long-running operation, so keep status and drop fail$/,
    ],
    [
      'status and fail: true on replication',
      (s) => (s.faults[0] = { service: 'arm', operation: 'replication', fail: true, status: 500 }),
      'faults[0].status',
      /not both; arm replication is no HTTP request, so keep fail: true and drop status$/,
    ],
    [
      'a status on replication',
      (s) => (s.faults[0] = { service: 'arm', operation: 'replication', status: 500 }),
      'faults[0].status',
      /^cannot apply to arm replication, which is no HTTP request: give fail: true instead/,
    ],
    [
      'replication without fail: true',
      (s) => (s.faults[0] = { service: 'arm', operation: 'replication', fail: false }),
      'faults[0].fail',
      /^is required: arm replication is no HTTP request, so its fault is fail: true/,
    ],
    [
      'region on a github fault',
      (s) => (s.faults[0].region = 'westeurope'),
      'faults[0].region',
      /^only applies to arm replication \(the region whose replication ends Failed\); github deleteRunner is not done per region, so region would be ignored: remove it$/,
    ],
    [
      'region on an arm fault other than replication',
      (s) =>
        (s.faults[0] = {
          service: 'arm',
          operation: 'virtualMachineScaleSets.reimage',
          fail: true,
          region: 'westeurope',
        }),
      'faults[0].region',
      /arm virtualMachineScaleSets.reimage is not done per region/,
    ],
    [
      'region outside the gallery on a fault it does not apply to',
      (s) => (s.faults[0] = { service: 'keyvault', operation: 'getSecret', status: 503, region: 'eastus' }),
      'faults[0].region',
      /keyvault getSecret is not done per region/,
    ],
    [
      'times and persistent: true',
      (s) => Object.assign(s.faults[0], { times: 3, persistent: true }),
      'faults[0].times',
      /^give either times or persistent: true, not both: keep times for a fault that fires that many times and goes away, or persistent: true for one that fires on every matching request while it is active$/,
    ],
    [
      'persistent as text',
      (s) => (s.faults[0].persistent = 'always'),
      'faults[0].persistent',
      /expected true or false, got "always"/,
    ],
    ['negative afterMinutes', (s) => (s.faults[0].afterMinutes = -1), 'faults[0].afterMinutes', /at least 0/],
    [
      'fractional afterMinutes',
      (s) => (s.faults[0].afterMinutes = 1.5),
      'faults[0].afterMinutes',
      /whole number, got 1.5/,
    ],
    ['forMinutes 0', (s) => (s.faults[0].forMinutes = 0), 'faults[0].forMinutes', /at least 1, got 0/],
    [
      'forMinutes longer than 31 days',
      (s) => (s.faults[0].forMinutes = 50_000),
      'faults[0].forMinutes',
      /^must be at most 44640 \(31 days\), got 50000$/,
    ],
    [
      'a fault active only after the run',
      (s) => (s.faults[0].afterMinutes = 2881),
      'faults[0].afterMinutes',
      /^minute 2881 is after the run ends \(until is 2880 minutes after start\), so the fault could never fire: give at most 2880, or a later until$/,
    ],
    [
      'a fault window after the run',
      (s) => Object.assign(s.faults[0], { afterMinutes: 3000, forMinutes: 60 }),
      'faults[0].afterMinutes',
      /so the fault \(active minutes 3000 to 3060\) could never fire/,
    ],

    // Races
    [
      'race with a service that has none',
      (s) => (s.jobs[0].race.service = 'keyvault'),
      'jobs[0].race.service',
      /expected one of arm, github, ado, got "keyvault"/,
    ],
    [
      'race on a misspelt operation',
      (s) => (s.jobs[0].race.operation = 'listRunner'),
      'jobs[0].race.operation',
      /^unknown github operation "listRunner"; one of: .*listRunners/,
    ],
    [
      'race on an operation of another service',
      (s) => (s.jobs[0].race.service = 'ado'),
      'jobs[0].race.operation',
      /unknown ado operation "listRunners"; one of: getPools, listAgents, getAgent, updateAgent, deleteAgent, listJobRequests$/,
    ],
    [
      'race on replication',
      (s) => (s.jobs[0].race = { service: 'arm', operation: 'replication' }),
      'jobs[0].race.operation',
      /^replication is no request of kiln's, so no job can be assigned right before it; one of: subscriptions.get,/,
    ],
    [
      'race without operation',
      (s) => delete s.jobs[0].race.operation,
      'jobs[0].race.operation',
      /is required/,
    ],
    ['race not a mapping', (s) => (s.jobs[0].race = 'listRunners'), 'jobs[0].race', /expected a mapping/],

    // Outside changes
    ['changes not a list', (s) => (s.changes = { at: 1 }), 'changes', /expected a list, got a mapping/],
    [
      'a change that is not a mapping',
      (s) => (s.changes[3] = 'publish'),
      'changes[3]',
      /^expected a mapping such as \{ at: 30, action: scaleOut, scaleSet: <name>, count: 2 \}, got "publish"$/,
    ],
    [
      'a change after the run',
      (s) => (s.changes[3].at = 2881),
      'changes[3].at',
      /^minute 2881 is after the run ends \(until is 2880 minutes after start\), so the change would never happen: give at most 2880, or a later until$/,
    ],
    ['a change before start', (s) => (s.changes[3].at = -1), 'changes[3].at', /at least 0, got -1/],
    ['a change without at', (s) => delete s.changes[3].at, 'changes[3].at', /is required/],
    ['at as text', (s) => (s.changes[3].at = '90m'), 'changes[3].at', /expected a number, got "90m"/],
    [
      'a change without action',
      (s) => delete s.changes[3].action,
      'changes[3].action',
      /^is required: one of scaleOut, scaleIn, deleteInstance, setModel, deleteScaleSet, deleteVersion, publish, promote, event$/,
    ],
    [
      'an unknown action',
      (s) => (s.changes[0].action = 'resize'),
      'changes[0].action',
      /^expected one of scaleOut, .*, event, got "resize"$/,
    ],
    [
      'an action in the wrong case',
      (s) => (s.changes[0].action = 'scaleout'),
      'changes[0].action',
      /got "scaleout" \(did you mean "scaleOut"\?\)/,
    ],
    [
      'a key of another action',
      (s) => (s.changes[3].scaleSet = 'lin'),
      'changes[3].scaleSet',
      /^unknown key; known keys for action publish: at, action, image, version, excludeFromLatest, unhealthy$/,
    ],
    [
      'a misspelt key',
      (s) => (s.changes[2].upgradeInstance = true),
      'changes[2].upgradeInstance',
      /^unknown key \(did you mean "upgradeInstances"\?\); known keys for action setModel: at, action, scaleSet, version, upgradeInstances$/,
    ],
    [
      'scale out of a scale set the scenario does not have',
      (s) => (s.changes[2].scaleSet = 'nope'),
      'changes[2].scaleSet',
      /^"nope" names no scale set of this scenario \(scale sets: lin, win\)$/,
    ],
    [
      'scaleIn without count',
      (s) => (s.changes[3] = { at: 90, action: 'scaleIn', scaleSet: 'win' }),
      'changes[3].count',
      /is required/,
    ],
    ['scale out by 0', (s) => (s.changes[0].count = 0), 'changes[0].count', /at least 1, got 0/],
    ['scale out by 1001', (s) => (s.changes[0].count = 1001), 'changes[0].count', /at most 1000, got 1001/],
    [
      'scale set name not a name',
      (s) => (s.changes[2].scaleSet = 'my vmss'),
      'changes[2].scaleSet',
      /expected a scale set name/,
    ],
    [
      'deleteInstance beyond capacity and scale-outs',
      (s) => (s.changes[1].instance = 'lin_6'),
      'changes[1].instance',
      /^instance id 6 does not exist by minute 60: scaleSets\[0\] \(lin\) has capacity 4 and the scaleOut changes of it before add 2, ids 0..5$/,
    ],
    [
      'deleteInstance before the scale-out that adds the instance',
      (s) => (s.changes[1].at = 20),
      'changes[1].instance',
      /^instance id 5 does not exist by minute 20: scaleSets\[0\] \(lin\) has capacity 4 and no scaleOut change of it comes earlier, ids 0..3$/,
    ],
    [
      'deleteInstance listed before a scale-out at the same minute',
      (s) => (s.changes = [{ ...s.changes[1], at: 30 }, s.changes[0]]),
      'changes[0].instance',
      /does not exist by minute 30/,
    ],
    [
      'deleteInstance of another scale set',
      (s) => (s.changes[1].instance = 'win_2'),
      'changes[1].instance',
      /^instance id 2 does not exist by minute 60: scaleSets\[1\] \(win\) has capacity 2 and no scaleOut change of it comes earlier, ids 0..1$/,
    ],
    [
      'deleteInstance on a scale set the scenario does not have',
      (s) => (s.changes[1].instance = 'nope_0'),
      'changes[1].instance',
      /"nope_0" names no scale set of this scenario/,
    ],
    [
      'deleteInstance without an id',
      (s) => (s.changes[1].instance = 'lin'),
      'changes[1].instance',
      /<scaleSet>_<instanceId>/,
    ],
    [
      'setModel to a two-part version',
      (s) => (s.changes[2].version = '2026.9'),
      'changes[2].version',
      /three dot-separated integers/,
    ],
    [
      'setModel upgradeInstances as text',
      (s) => (s.changes[2].upgradeInstances = 'yes'),
      'changes[2].upgradeInstances',
      /true or false/,
    ],
    [
      'publish of an unknown image',
      (s) => (s.changes[3].image = 'macos'),
      'changes[3].image',
      /expected one of linux, windows, got "macos"/,
    ],
    [
      'publish unhealthy as text',
      (s) => (s.changes[3].unhealthy = 'no'),
      'changes[3].unhealthy',
      /true or false/,
    ],
    [
      'event without version',
      (s) => (s.changes[3] = { at: 90, action: 'event', image: 'linux' }),
      'changes[3].version',
      /is required/,
    ],

    // Expected outcomes
    [
      'an unknown outcome',
      (s) => (s.expect.outcome = 'success'),
      'expect.outcome',
      /^expected one of succeeded, partial, rolledBack, failed, planned, got "success"$/,
    ],
    [
      'an outcome in the wrong case',
      (s) => (s.expect.outcome = ['succeeded', 'rolledback']),
      'expect.outcome[1]',
      /got "rolledback" \(did you mean "rolledBack"\?\)/,
    ],
    [
      'an outcome twice',
      (s) => s.expect.outcome.push('succeeded'),
      'expect.outcome[2]',
      /^"succeeded" is listed twice \(first at index 0\)$/,
    ],
    [
      'no outcome at all',
      (s) => (s.expect.outcome = []),
      'expect.outcome',
      /must list at least 1 outcome \(with none, no run could pass\)/,
    ],
    [
      'a late older event for a version not in the gallery',
      (s) => (s.eventgrid.lateOlderEvent = { version: '2026.8.1' }),
      'eventgrid.lateOlderEvent.version',
      /^version 2026\.8\.1 is not in gallery\.existingVersions\.linux \(2026\.9\.1, 2026\.10\.1\)/,
    ],
    [
      'a late "older" event for a newer version',
      (s) => {
        s.eventgrid.version.version = '2026.9.5';
        s.eventgrid.lateOlderEvent = { version: '2026.10.1' };
      },
      'eventgrid.lateOlderEvent.version',
      /^version 2026\.10\.1 is not older than eventgrid\.version\.version \(2026\.9\.5\)$/,
    ],
    [
      'a late older event after the run',
      (s) => (s.eventgrid.lateOlderEvent = { version: '2026.9.1', afterMinutes: 3000 }),
      'eventgrid.lateOlderEvent.afterMinutes',
      /^minute 3000 is after the run ends .* so the late event would never be delivered/,
    ],
    [
      'a late older event asked for with no version before the newest',
      (s) => {
        s.gallery.existingVersions.linux = ['2026.10.1'];
        s.eventgrid.lateOlderEvent = true;
      },
      'eventgrid.lateOlderEvent',
      /^gallery\.existingVersions\.linux \(2026\.10\.1\) has no version before its newest/,
    ],
    [
      'a late older event as text',
      (s) => (s.eventgrid.lateOlderEvent = 'yes'),
      'eventgrid.lateOlderEvent',
      /^expected true, false or \{ version: 2026\.9\.1, afterMinutes: 120 \}, got "yes"$/,
    ],
    [
      'a late older event with a misspelt key',
      (s) => (s.eventgrid.lateOlderEvent = { version: '2026.9.1', afterMinute: 5 }),
      'eventgrid.lateOlderEvent.afterMinute',
      /^unknown key \(did you mean "afterMinutes"\?\); known keys here: version, afterMinutes$/,
    ],
    [
      'a setting with a value the app refuses',
      (s) => (s.settings = { PRUNE_KEEP: 'banana' }),
      'settings.PRUNE_KEEP',
      /^.* \(got "banana"\) \(example: 3\)$/,
    ],
    [
      'a schedule setting that is no NCRONTAB',
      (s) => (s.settings = { CLEANUP_SCHEDULE: 'hourly' }),
      'settings.CLEANUP_SCHEDULE',
      /^must be an NCRONTAB expression with six fields \(got "hourly"\)/,
    ],
    [
      'a setting kiln does not have',
      (s) => (s.settings = { PRUNE_KEPE: 3 }),
      'settings.PRUNE_KEPE',
      /^unknown key \(did you mean "PRUNE_KEEP"\?\); known keys among the app settings a scenario may set: /,
    ],
    [
      'a setting the fake cloud sets',
      (s) => (s.settings = { ARM_ENDPOINT: 'https://management.azure.com' }),
      'settings.ARM_ENDPOINT',
      /^is set by the fake cloud, which points kiln at its own endpoints/,
    ],
    [
      'DRY_RUN as a setting',
      (s) => (s.settings = { DRY_RUN: true }),
      'settings.DRY_RUN',
      /write dryRun: true instead/,
    ],
    [
      'a setting that is a list',
      (s) => (s.settings = { GITHUB_RUNNER_LABELS: ['a', 'b'] }),
      'settings.GITHUB_RUNNER_LABELS',
      /^expected a setting value \(text, a number or true\/false\) such as self-hosted,linux,x64, got /,
    ],
    ['settings not a mapping', (s) => (s.settings = ['PRUNE_KEEP=5']), 'settings', /^expected a mapping/],
    ['expect without outcome', (s) => (s.expect = {}), 'expect.outcome', /^is required: one of succeeded,/],
    [
      'expect not a mapping',
      (s) => (s.expect = 'succeeded'),
      'expect',
      /expected a mapping, got "succeeded"/,
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

describe('refusals that keep the simulator from hanging or a fault from never firing, word for word', () => {
  it.each([
    [
      'eventgrid duplicates 5000000',
      'trigger: [eventgrid]\neventgrid: { version: { image: linux, version: 2026.12.5 }, duplicates: 5000000 }',
      '  - eventgrid.duplicates (line 3, column 73): must be at most 100, got 5000000',
    ],
    [
      'until in the year 9999',
      'until: 9999-01-01T00:00:00Z',
      '  - until (line 2, column 8): must be at most 31 days (44640 minutes) after start, the longest run the simulator takes; got 2911743.88 days (4192911185 minutes) after start (2026-12-01T02:55:00Z)',
    ],
    [
      'fail: true on github deleteRunner',
      'faults:\n  - { service: github, operation: deleteRunner, fail: true }',
      `  - faults[0].fail (line 3, column 55): fail: true only applies to a long-running ARM operation (${LONG_RUNNING_LIST}); github deleteRunner answers at once, so the fault would never fire: give status (the HTTP status to answer with) instead`,
    ],
    [
      'region on a github fault',
      'faults:\n  - { service: github, operation: listRunners, status: 502, region: westeurope }',
      '  - faults[0].region (line 3, column 69): only applies to arm replication (the region whose replication ends Failed); github listRunners is not done per region, so region would be ignored: remove it',
    ],
    [
      'region on an arm fault other than replication',
      'faults:\n  - { service: arm, operation: galleryImageVersions.createOrUpdate, fail: true, region: westeurope }',
      '  - faults[0].region (line 3, column 89): only applies to arm replication (the region whose replication ends Failed); arm galleryImageVersions.createOrUpdate is not done per region, so region would be ignored: remove it',
    ],
  ])('%s', (_, yaml, line) => {
    const error = errorOf(`name: x\n${yaml}\n`, 'scenario.yaml');
    expect(error.message).toBe(`scenario.yaml: invalid scenario (1 problem):\n${line}`);
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
    ['jobs[0].race', (s) => s.jobs[0].race],
    ['expect', (s) => s.expect],
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
          'unknown key (did you mean "capacity"?); known keys here: name, image, region, capacity, version, canary, managed, recycle, autoscale',
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

  it('in a change name its action, and `atMinutes` (the parsed name) points to `at`', () => {
    const error = errorOf(
      'name: x\nchanges:\n  - { atMinutes: 5, action: deleteScaleSet, scaleSet: vmss-gh-linux, colour: red }\n',
      'change.yaml',
    );
    expect(error.problems).toEqual([
      { path: 'changes[0].at', line: 3, column: 5, message: 'is required' },
      {
        path: 'changes[0].atMinutes',
        line: 3,
        column: 7,
        message:
          'unknown key (did you mean "at"?); known keys for action deleteScaleSet: at, action, scaleSet',
      },
      {
        path: 'changes[0].colour',
        line: 3,
        column: 70,
        message: 'unknown key; known keys for action deleteScaleSet: at, action, scaleSet',
      },
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
