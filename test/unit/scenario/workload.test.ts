/**
 * The scenario's `workload` (issue 19) and `latency.provision`: defaults, and a bad value refused
 * with one problem naming its field, as errors.test.ts does for the rest of the format.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/local/scenario/parse-scenario.js';

// Cases reach into parsed JSON of any shape to break one field: loose on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRecord = Record<string, any>;

/** A valid scenario with a workload of both fleets; each case breaks one thing in a copy. */
const BASE = {
  name: 'workload',
  seed: 3,
  start: '2026-12-02T00:00:00Z',
  until: '2026-12-03T00:00:00Z',
  scaleSets: [
    { name: 'lin', image: 'linux', capacity: 2 },
    { name: 'win', image: 'windows', capacity: 1 },
  ],
  latency: { provision: 4, register: 2 },
  workload: {
    seed: 7,
    streams: [
      {
        fleet: 'github',
        labels: ['self-hosted', 'linux'],
        arrivals: [
          { from: '2026-12-02T07:00:00Z', to: '2026-12-02T19:00:00Z', perHour: 120 },
          { from: '2026-12-02T19:00:00Z', to: '2026-12-03T00:00:00Z', perHour: 6 },
        ],
        minutes: { min: 3, max: 40 },
      },
      {
        fleet: 'ado',
        pool: 'kiln-windows',
        arrivals: [{ from: '2026-12-02T08:00:00Z', to: '2026-12-02T09:00:00Z', perHour: 0 }],
        minutes: { min: 5, max: 5 },
      },
    ],
  },
};

function parse(change: (s: AnyRecord) => void = () => undefined) {
  const copy = structuredClone(BASE) as AnyRecord;
  change(copy);
  return parseScenario(JSON.stringify(copy, null, 2), 'bad.json');
}

function errorOf(change: (s: AnyRecord) => void): ScenarioError {
  try {
    parse(change);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return error as ScenarioError;
  }
  throw new Error('expected a ScenarioError');
}

describe('workload defaults', () => {
  it('keeps every stream as given, the seed its own', () => {
    const s = parse();
    expect(s.workload).toEqual(BASE.workload);
    expect(s.latency).toEqual({ replication: 30, reimage: 6, register: 2, provision: 4 });
  });

  it("takes the scenario's seed when it has none; absent, no workload", () => {
    expect(parse((s) => delete s.workload.seed).workload!.seed).toBe(3);
    expect(parse((s) => delete s.workload).workload).toBeUndefined();
  });

  it('webhooks: absent, none are delivered; given, lose defaults to none lost', () => {
    expect(parse().workload!.webhooks).toBeUndefined();
    expect(parse((s) => (s.workload.webhooks = {})).workload!.webhooks).toEqual({ lose: 0 });
    expect(parse((s) => (s.workload.webhooks = { lose: 0.25 })).workload!.webhooks).toEqual({ lose: 0.25 });
  });

  it('provision follows reimage unless given', () => {
    expect(parse((s) => (s.latency = { reimage: 9 })).latency.provision).toBe(9);
    expect(parse((s) => delete s.latency).latency.provision).toBe(6);
  });
});

describe('one wrong workload field → one problem naming its path', () => {
  const stream0 = 'workload.streams[0]';
  const cases: [string, (s: AnyRecord) => void, string, RegExp][] = [
    ['no streams', (s) => (s.workload.streams = []), 'workload.streams', /at least 1 item/],
    ['unknown key', (s) => (s.workload.rate = 5), 'workload.rate', /unknown key/],
    ['seed a fraction', (s) => (s.workload.seed = 1.5), 'workload.seed', /whole number/],
    [
      'webhooks lose above 1',
      (s) => (s.workload.webhooks = { lose: 1.5 }),
      'workload.webhooks.lose',
      /at most 1, got 1.5/,
    ],
    [
      'webhooks unknown key',
      (s) => (s.workload.webhooks = { drop: 0.1 }),
      'workload.webhooks.drop',
      /unknown key/,
    ],
    [
      'unknown fleet',
      (s) => (s.workload.streams[0].fleet = 'gitlab'),
      `${stream0}.fleet`,
      /one of github, ado/,
    ],
    [
      'negative rate',
      (s) => (s.workload.streams[0].arrivals[0].perHour = -1),
      `${stream0}.arrivals[0].perHour`,
      /at least 0/,
    ],
    [
      'rate past the bound',
      (s) => (s.workload.streams[0].arrivals[0].perHour = 1e6),
      `${stream0}.arrivals[0].perHour`,
      /at most 10000 \(a typo would queue millions of jobs\)/,
    ],
    [
      'from after to',
      (s) => (s.workload.streams[0].arrivals[0].from = '2026-12-02T20:00:00Z'),
      `${stream0}.arrivals[0].to`,
      /must be after from \(2026-12-02T20:00:00Z\)/,
    ],
    [
      'window before the run',
      (s) => (s.workload.streams[0].arrivals[0].from = '2026-12-01T23:00:00Z'),
      `${stream0}.arrivals[0].from`,
      /before the run starts/,
    ],
    [
      'window after the run',
      (s) => (s.workload.streams[0].arrivals[1].to = '2026-12-03T01:00:00Z'),
      `${stream0}.arrivals[1].to`,
      /after the run ends/,
    ],
    [
      'overlapping windows',
      (s) => (s.workload.streams[0].arrivals[1].from = '2026-12-02T18:00:00Z'),
      `${stream0}.arrivals[1].from`,
      /overlaps arrivals\[0\]/,
    ],
    [
      'from not a timestamp',
      (s) => (s.workload.streams[0].arrivals[0].from = 'morning'),
      `${stream0}.arrivals[0].from`,
      /ISO 8601/,
    ],
    [
      'min above max',
      (s) => (s.workload.streams[0].minutes.min = 41),
      `${stream0}.minutes.min`,
      /at most minutes.max \(40\)/,
    ],
    ['zero minutes', (s) => (s.workload.streams[0].minutes.min = 0), `${stream0}.minutes.min`, /at least 1/],
    [
      'no labels',
      (s) => delete s.workload.streams[0].labels,
      `${stream0}.labels`,
      /required for a github stream/,
    ],
    ['empty labels', (s) => (s.workload.streams[0].labels = []), `${stream0}.labels`, /at least 1 item/],
    [
      'blank label',
      (s) => (s.workload.streams[0].labels = [' ']),
      `${stream0}.labels[0]`,
      /must not be empty/,
    ],
    [
      'pool on github',
      (s) => (s.workload.streams[0].pool = 'kiln-windows'),
      `${stream0}.pool`,
      /only applies to an ado stream/,
    ],
    [
      'labels on ado',
      (s) => (s.workload.streams[1].labels = ['x']),
      'workload.streams[1].labels',
      /only applies to a github stream/,
    ],
    [
      'no pool',
      (s) => delete s.workload.streams[1].pool,
      'workload.streams[1].pool',
      /required for an ado stream/,
    ],
    [
      'a pool nobody uses',
      (s) => (s.workload.streams[1].pool = 'gpu-pool'),
      'workload.streams[1].pool',
      /"gpu-pool" is not the pool of this scenario's Azure DevOps scale sets: their agents register in kiln-windows/,
    ],
    [
      'an ado stream without Windows scale sets',
      (s) => (s.scaleSets = [{ name: 'lin', image: 'linux' }]),
      'workload.streams[1].pool',
      /no scale set of this scenario runs Azure DevOps agents/,
    ],
    [
      'too many jobs',
      (s) => (s.workload.streams[0].arrivals[0].perHour = 9000),
      'workload.streams',
      /expect about 108030 jobs over their windows, more than the 50000/,
    ],
    [
      'provision past a day',
      (s) => (s.latency.provision = 1441),
      'latency.provision',
      /at most 1440 \(a day\)/,
    ],
  ];

  it.each(cases)('%s', (_, change, path, message) => {
    const error = errorOf(change);
    expect(error.problems.map((p) => p.path)).toEqual([path]);
    expect(error.problems[0]!.message).toMatch(message);
    expect(error.message).toContain(`${path} (line `);
  });
});
