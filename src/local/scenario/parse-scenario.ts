/**
 * Reads a simulation scenario (format version 1, scenarios/README.md) from JSON or YAML,
 * validates it and applies every default, so the fake cloud and `kiln simulate` only ever see a
 * complete `Scenario`. Like the settings loader it collects every problem and throws them together
 * in one ScenarioError, each naming the field path (`scaleSets[1].capacity`), where it is in the file
 * and what is wrong: a scenario author fixes the file in one pass, and `kiln simulate` exits 2.
 *
 * Each top-level field and each list item is validated on its own, so one broken scale set neither
 * hides the problems of the others nor the cross-field checks (regions, versions, job instances)
 * that only need the parts that are valid.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type {
  ExpectedOutcome,
  ImageKind,
  Scenario,
  ScenarioChange,
  ScenarioChangeAction,
  ScenarioFault,
  ScenarioJob,
  ScenarioScaleSet,
  TriggerName,
} from './types.js';
import { compareVersions, galleryVersionProblem, newestVersion } from '../../domain/versions.js';
import { FAULT_OPERATIONS, LONG_RUNNING_FAULT_OPERATIONS } from '../fake-cloud/faults.js';

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    /** The file (or other source name) the scenario came from. */
    readonly source: string,
    readonly problems: ScenarioProblem[],
    summary = 'invalid scenario',
  ) {
    super(
      `${source}: ${summary} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join('\n'),
    );
  }
}

export interface ScenarioProblem {
  /** Field path such as `scaleSets[1].capacity`; empty for the file as a whole. */
  path: string;
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

function formatProblem(p: ScenarioProblem): string {
  const where = p.line === undefined ? '' : `line ${p.line}, column ${p.column ?? 1}`;
  if (p.path === '') return where ? `${where}: ${p.message}` : p.message;
  return `${p.path}${where ? ` (${where})` : ''}: ${p.message}`;
}

// ---------------------------------------------------------------------------------------------------
// Defaults (README, format version 1)

export const SCENARIO_DEFAULTS = {
  version: 1,
  start: '2026-12-01T02:55:00Z',
  /** `until` defaults to start + this many hours. */
  untilHours: 48,
  timers: true,
  dryRun: false,
  galleryRegions: ['westeurope'],
  /**
   * The version each image has in the gallery when `gallery.existingVersions.<image>` is absent:
   * the October build, so a run starting at the default December start builds one newer version.
   */
  existingVersion: '2026.10.1',
  images: {
    linux: { buildMinutes: 60, buildFails: false, unhealthy: false },
    windows: { buildMinutes: 120, buildFails: false, unhealthy: false },
  },
  /** Scale sets when `scaleSets` is absent: one per image, in the build region (first gallery region). */
  scaleSets: [
    { name: 'vmss-gh-linux', image: 'linux' },
    { name: 'vmss-ado-win', image: 'windows' },
  ],
  capacity: 3,
  managed: true,
  startAfterMinutes: 0,
  latency: { replication: 30, reimage: 6, register: 2 },
  faultTimes: 1,
  faultPersistent: false,
  faultAfterMinutes: 0,
  eventgridDuplicates: 1,
  upgradeInstances: false,
  excludeFromLatest: false,
  /** `expect.outcome` when the file has none: what a run of the scenario should end as. */
  expectedOutcome: { dryRun: ['planned'], otherwise: ['succeeded'] },
} as const;

const IMAGE_KINDS = ['linux', 'windows'] as const satisfies readonly ImageKind[];
const TRIGGERS = [
  'http-rebuild',
  'http-rollout',
  'eventgrid',
  'cleanup',
] as const satisfies readonly TriggerName[];
const SERVICES = [
  'arm',
  'github',
  'ado',
  'keyvault',
  'identity',
] as const satisfies readonly ScenarioFault['service'][];
const RACE_SERVICES = ['arm', 'github', 'ado'] as const satisfies readonly NonNullable<
  ScenarioJob['race']
>['service'][];
const OUTCOMES = [
  'succeeded',
  'partial',
  'rolledBack',
  'failed',
  'planned',
] as const satisfies readonly ExpectedOutcome[];
/** Azure allows at most 1000 instances in a scale set. */
const MAX_CAPACITY = 1000;
/** Registrations the fake services create up front; a bound keeps a typo from exhausting memory. */
const MAX_REGISTRATIONS = 10_000;

// Bounds that keep a typo from hanging the simulator or exhausting its memory: the virtual clock
// runs every minute up to `until`, and each list item becomes work for the fake cloud.
/** The longest run (until - start): a month of virtual time is plenty for any rollout. */
const MAX_RUN_DAYS = 31;
const MAX_RUN_MINUTES = MAX_RUN_DAYS * 24 * 60;
const START_YEARS = { min: 2000, max: 2100 } as const;
const MAX_SCALE_SETS = 50;
const MAX_JOBS = 5000;
const MAX_FAULTS = 200;
const MAX_CHANGES = 1000;
const MAX_EVENTGRID_DUPLICATES = 100;
/** A latency of more than a day is a typo (a day is 1440 minutes). */
const MAX_LATENCY_MINUTES = 24 * 60;

// ---------------------------------------------------------------------------------------------------
// Field schemas. Scalars with a format of their own are checked by hand so the message can say what
// a valid value looks like; `null` (a YAML key with nothing after it) counts as absent.

type Check<T> = (value: unknown) => { value: T } | { problem: string };

function checked<T>(check: Check<T>) {
  return z.unknown().transform((value, ctx): T => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is required' });
      return z.NEVER;
    }
    const result = check(value);
    if ('problem' in result) {
      ctx.addIssue({ code: 'custom', message: result.problem });
      return z.NEVER;
    }
    return result.value;
  });
}

function optional<S extends z.ZodTypeAny>(schema: S) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

const GOT_NUMBER_HINT = ' (YAML reads an unquoted x.y as a number: write the version in quotes)';

const versionName = checked<string>((value) => {
  if (typeof value !== 'string') {
    return {
      problem: `expected a version such as 2026.10.1, got ${describe(value)}${typeof value === 'number' ? GOT_NUMBER_HINT : ''}`,
    };
  }
  const problem = galleryVersionProblem(value);
  return problem ? { problem } : { value };
});

// RFC 3339 allows a lower-case t and z.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Formats an instant as 2026-12-01T02:55:00Z (milliseconds only when there are some). */
function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A count of minutes or days for a message: at most two decimals, none when whole. */
function formatNumber(n: number): string {
  return String(Math.round(n * 100) / 100);
}

const timestamp = checked<string>((value) => {
  // A `%YAML 1.1` document turns timestamps into Dates.
  if (value instanceof Date && !Number.isNaN(value.getTime()))
    return { value: formatInstant(value.getTime()) };
  const expected = 'expected an ISO 8601 UTC timestamp with a time zone such as 2026-12-01T02:55:00Z';
  if (typeof value !== 'string') return { problem: `${expected}, got ${describe(value)}` };
  const m = ISO_TIMESTAMP.exec(value);
  if (!m) return { problem: `${expected}, got ${describe(value)}` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const local = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second));
  const valid =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month! - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  const ms = Date.parse(value.toUpperCase());
  if (!valid || Number.isNaN(ms)) return { problem: `${describe(value)} is not a real date and time` };
  return { value: formatInstant(ms) };
});

const AZURE_REGION = /^[a-z][a-z0-9]*$/;
const region = checked<string>((value) =>
  typeof value === 'string' && AZURE_REGION.test(value)
    ? { value }
    : {
        problem: `expected an Azure region name such as westeurope (lower case, no spaces), got ${describe(value)}`,
      },
);

// Azure: 1-64 characters, letters, digits, '_', '.', '-'; starts with a letter or digit, does not
// end with '.' or '-'.
const SCALE_SET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$/;
const scaleSetName = checked<string>((value) =>
  typeof value === 'string' && SCALE_SET_NAME.test(value)
    ? { value }
    : {
        problem: `expected a scale set name (1-64 letters, digits, '_', '.', '-'; starting with a letter or digit, not ending with '.' or '-'), got ${describe(value)}`,
      },
);

const INSTANCE = /^(.+)_(0|[1-9]\d*)$/;
const instanceName = checked<string>((value) =>
  typeof value === 'string' && INSTANCE.test(value)
    ? { value }
    : { problem: `expected <scaleSet>_<instanceId> such as vmss-gh-linux-weu_2, got ${describe(value)}` },
);

const httpStatus = checked<number>((value) =>
  typeof value === 'number' && Number.isInteger(value) && (value === 0 || (value >= 100 && value <= 599))
    ? { value }
    : { problem: `expected an HTTP status (100-599) or 0 for a connection reset, got ${describe(value)}` },
);

/** A maximum's message starting with this is a note for the reader, e.g. `must be at most 1440 (a day)`. */
const LIMIT_NOTE = 'note: ';

const integer = (min: number, max?: number, note?: string) => {
  const base = z.number().int().min(min);
  if (max === undefined) return base;
  return note === undefined ? base.max(max) : base.max(max, LIMIT_NOTE + note);
};
const minutes = integer(0);
const latency = integer(0, MAX_LATENCY_MINUTES, 'a day');
/** A duration that may outlast the run, bounded so a typo cannot keep the simulator busy. */
const longMinutes = integer(1, MAX_RUN_MINUTES, `${MAX_RUN_DAYS} days`);
const list = (max: number) => z.array(z.unknown()).max(max);
const imageKind = z.enum(IMAGE_KINDS);

const imageSchema = z
  .object({
    buildMinutes: optional(integer(1)),
    buildFails: optional(z.boolean()),
    unhealthy: optional(z.boolean()),
  })
  .strict();

const countsSchema = z
  .object({ github: optional(integer(0, MAX_REGISTRATIONS)), ado: optional(integer(0, MAX_REGISTRATIONS)) })
  .strict();

const scaleSetSchema = z
  .object({
    name: scaleSetName,
    image: imageKind,
    region: optional(region),
    capacity: optional(integer(0, MAX_CAPACITY)),
    version: optional(versionName),
    canary: optional(z.boolean()),
    managed: optional(z.boolean()),
  })
  .strict();

const jobSchema = z
  .object({
    instance: instanceName,
    minutes: longMinutes,
    startAfterMinutes: optional(minutes),
    race: optional(z.object({ service: z.enum(RACE_SERVICES), operation: z.string().min(1) }).strict()),
  })
  .strict();

const faultSchema = z
  .object({
    service: z.enum(SERVICES),
    operation: z.string().min(1),
    status: optional(httpStatus),
    retryAfterSeconds: optional(integer(0)),
    fail: optional(z.boolean()),
    region: optional(region),
    times: optional(integer(1)),
    persistent: optional(z.boolean()),
    afterMinutes: optional(minutes),
    forMinutes: optional(longMinutes),
  })
  .strict();

/**
 * One outside change per action, each with exactly the keys of its ScenarioChange (`at` in the
 * file, minutes after start, is `atMinutes` once parsed).
 */
const changeSchema = <A extends ScenarioChangeAction, S extends z.ZodRawShape>(action: A, shape: S) =>
  z.object({ at: minutes, action: z.literal(action), ...shape }).strict();
const scaleCount = integer(1, MAX_CAPACITY);
const imageVersion = { image: imageKind, version: versionName };
const CHANGE_SCHEMAS = {
  scaleOut: changeSchema('scaleOut', { scaleSet: scaleSetName, count: scaleCount }),
  scaleIn: changeSchema('scaleIn', { scaleSet: scaleSetName, count: scaleCount }),
  deleteInstance: changeSchema('deleteInstance', { instance: instanceName }),
  setModel: changeSchema('setModel', {
    scaleSet: scaleSetName,
    version: versionName,
    upgradeInstances: optional(z.boolean()),
  }),
  deleteScaleSet: changeSchema('deleteScaleSet', { scaleSet: scaleSetName }),
  deleteVersion: changeSchema('deleteVersion', imageVersion),
  publish: changeSchema('publish', {
    ...imageVersion,
    excludeFromLatest: optional(z.boolean()),
    unhealthy: optional(z.boolean()),
  }),
  promote: changeSchema('promote', imageVersion),
  event: changeSchema('event', imageVersion),
} satisfies Record<ScenarioChangeAction, z.AnyZodObject>;
const CHANGE_ACTIONS = Object.keys(CHANGE_SCHEMAS) as ScenarioChangeAction[];

/** A change as the file has it: the fields of every action, each present only on its actions. */
interface ChangeInput {
  at: number;
  action: ScenarioChangeAction;
  scaleSet?: string;
  count?: number;
  instance?: string;
  version?: string;
  image?: ImageKind;
  upgradeInstances?: boolean;
  excludeFromLatest?: boolean;
  unhealthy?: boolean;
}

/** `expect.outcome`: one outcome or a list of them, read as a list. */
const expectedOutcomes = z.unknown().transform((value, ctx): ExpectedOutcome[] => {
  const expected = `one of ${OUTCOMES.join(', ')}, or a list of them`;
  if (value === undefined || value === null) {
    ctx.addIssue({ code: 'custom', message: `is required: ${expected}` });
    return z.NEVER;
  }
  const given = Array.isArray(value) ? (value as unknown[]) : [value];
  if (given.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `must list at least 1 outcome (with none, no run could pass): ${expected}`,
    });
    return z.NEVER;
  }
  given.forEach((outcome, index) => {
    const path = Array.isArray(value) ? [index] : [];
    if (!(OUTCOMES as readonly unknown[]).includes(outcome)) {
      const suggestion = typeof outcome === 'string' ? closest(outcome, OUTCOMES) : undefined;
      ctx.addIssue({
        code: 'custom',
        path,
        message: `expected one of ${OUTCOMES.join(', ')}, got ${describe(outcome)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
      });
    } else {
      const first = given.indexOf(outcome);
      if (first < index)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `"${String(outcome)}" is listed twice (first at index ${first})`,
        });
    }
  });
  return given as ExpectedOutcome[];
});

/** Top-level fields, each validated on its own; list items are validated one by one (ITEM_SCHEMAS). */
const FIELD_SCHEMAS = {
  version: optional(
    checked<1>((value) =>
      value === 1
        ? { value: 1 }
        : { problem: `unsupported scenario format version ${describe(value)}: this kiln reads version 1` },
    ),
  ),
  name: z.string().refine((name) => name.trim() !== '', 'must not be empty'),
  start: optional(timestamp),
  until: optional(timestamp),
  timers: optional(z.boolean()),
  trigger: optional(z.array(z.enum(TRIGGERS))),
  dryRun: optional(z.boolean()),
  gallery: optional(
    z
      .object({
        regions: optional(z.array(region).min(1)),
        existingVersions: optional(
          z
            .object({ linux: optional(z.array(versionName)), windows: optional(z.array(versionName)) })
            .strict(),
        ),
      })
      .strict(),
  ),
  images: optional(z.object({ linux: optional(imageSchema), windows: optional(imageSchema) }).strict()),
  scaleSets: optional(list(MAX_SCALE_SETS)),
  jobs: optional(list(MAX_JOBS)),
  ghosts: optional(countsSchema),
  foreign: optional(countsSchema),
  latency: optional(
    z
      .object({ replication: optional(latency), reimage: optional(latency), register: optional(latency) })
      .strict(),
  ),
  faults: optional(list(MAX_FAULTS)),
  eventgrid: optional(
    z
      .object({
        version: z.object({ image: imageKind, version: versionName }).strict(),
        duplicates: optional(integer(1, MAX_EVENTGRID_DUPLICATES)),
      })
      .strict(),
  ),
  changes: optional(list(MAX_CHANGES)),
  expect: optional(z.object({ outcome: expectedOutcomes }).strict()),
};

const ITEM_SCHEMAS = { scaleSets: scaleSetSchema, jobs: jobSchema, faults: faultSchema };

type Fields = { [K in keyof typeof FIELD_SCHEMAS]?: z.output<(typeof FIELD_SCHEMAS)[K]> };
type ScaleSetInput = z.output<typeof scaleSetSchema>;

// ---------------------------------------------------------------------------------------------------
// Public API

/**
 * Parses a scenario from JSON or YAML text (JSON is read by the YAML parser, which accepts it and
 * reports positions the same way). `sourceName` names the file in error messages.
 */
export function parseScenario(text: string, sourceName: string): Scenario {
  const lineCounter = new LineCounter();
  // `merge: true` lets authors share scale set settings with YAML merge keys (<<: *base).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      sourceName,
      doc.errors.map((error) => {
        const pos = error.pos ? lineCounter.linePos(error.pos[0]) : undefined;
        return { path: '', message: error.message, line: pos?.line, column: pos?.col };
      }),
      'not valid YAML or JSON',
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ScenarioError(
      sourceName,
      [{ path: '', message: (error as Error).message }],
      'not valid YAML or JSON',
    );
  }
  const collector = new Collector(doc, lineCounter);
  const scenario = validate(raw, collector);
  if (collector.problems.length > 0 || scenario === undefined) {
    throw new ScenarioError(sourceName, collector.sorted());
  }
  return scenario;
}

/** Reads and parses a scenario file; an unreadable file is a ScenarioError naming the path. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a scenario file'
          : (error as Error).message;
    throw new ScenarioError(path, [{ path: '', message }], 'cannot read the scenario file');
  }
  return parseScenario(text, path);
}

/**
 * The scenario `kiln simulate` runs without `--scenario`: the monthly rebuild timer fires at 03:00 on
 * the first of the month, both images are built, replicated to two regions and rolled out canary
 * first, while hygiene clears ghosts, leaves foreign registrations and the unmanaged scale set alone,
 * waits for a busy runner, rides out a GitHub 500 and keeps the version the unmanaged set still uses.
 */
export const BUILT_IN_DEMO_SCENARIO = `# kiln simulate's built-in demo (format version 1)
version: 1
name: demo-monthly-rebuild
start: 2026-12-01T02:55:00Z     # five minutes before the monthly rebuild timer
until: 2026-12-02T02:55:00Z
gallery:
  regions: [westeurope, northeurope]
  existingVersions:
    linux: [2026.9.1, 2026.10.1]
    windows: [2026.10.1]
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 4, canary: true }
  - { name: vmss-gh-linux-neu, image: linux, region: northeurope, capacity: 3 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 2, canary: true }
  # another team's fleet: still on 2026.9.1, outside kiln's scope
  - { name: vmss-gh-legacy-weu, image: linux, region: westeurope, capacity: 2, version: 2026.9.1, managed: false }
jobs:
  - { instance: vmss-gh-linux-neu_1, minutes: 150 }                          # keeps one runner busy
  - { instance: vmss-ado-win-weu_0, minutes: 40, startAfterMinutes: 120 }    # starts mid-run
ghosts: { github: 6, ado: 2 }
foreign: { github: 3, ado: 1 }
faults:
  - { service: github, operation: deleteRunner, status: 500, times: 1 }
`;

export function builtInDemoScenario(): Scenario {
  return parseScenario(BUILT_IN_DEMO_SCENARIO, 'built-in demo scenario');
}

// ---------------------------------------------------------------------------------------------------
// Validation

type PathSegment = string | number;

function validate(raw: unknown, c: Collector): Scenario | undefined {
  if (raw === null || raw === undefined) {
    c.add([], 'the file is empty: a scenario needs at least a name, e.g. { "name": "x" }');
    return undefined;
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    c.add([], `expected a mapping of scenario fields, got ${describe(raw)}`);
    return undefined;
  }
  const input = raw as Record<string, unknown>;
  const fields: Fields = {};
  const invalid = new Set<string>();
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(FIELD_SCHEMAS, key)) c.unknownKey([], key, Object.keys(FIELD_SCHEMAS));
  }
  for (const [key, schema] of Object.entries(FIELD_SCHEMAS)) {
    const result = (schema as z.ZodTypeAny).safeParse(input[key]);
    if (result.success) (fields as Record<string, unknown>)[key] = result.data;
    else {
      invalid.add(key);
      c.zod(result.error, [key], schema as z.ZodTypeAny, input[key]);
    }
  }
  // A list item that is invalid still has its valid fields checked against the rest (`part`, with
  // `ok` naming the fields that are valid or absent), so one capacity typo does not hide a
  // duplicate name in the same scale set.
  const items = <K extends keyof typeof ITEM_SCHEMAS>(key: K): Item<z.output<(typeof ITEM_SCHEMAS)[K]>>[] =>
    ((fields[key] as unknown[] | undefined) ?? []).map((raw, index) => {
      const schema = ITEM_SCHEMAS[key];
      const result = schema.safeParse(raw);
      if (result.success) return whole(result.data as z.output<(typeof ITEM_SCHEMAS)[K]>);
      c.zod(result.error, [key, index], schema, raw);
      return salvage(schema, raw);
    });
  const scaleSetItems = items('scaleSets');
  const jobItems = items('jobs');
  const faultItems = items('faults');
  const changeItems = changeItemsOf(fields.changes ?? [], c);

  // Cross-field checks, each only on parts that are valid on their own.
  const start = fields.start ?? SCENARIO_DEFAULTS.start;
  let startKnown = !invalid.has('start');
  const startYear = new Date(start).getUTCFullYear();
  if (startYear < START_YEARS.min || startYear > START_YEARS.max) {
    c.add(
      ['start'],
      `must be in a year from ${START_YEARS.min} to ${START_YEARS.max}, got ${start} (year ${startYear})`,
    );
    startKnown = false;
  }
  if (fields.until !== undefined && startKnown && Date.parse(fields.until) <= Date.parse(start)) {
    c.add(['until'], `must be after start (${start}), got ${fields.until}`);
  }
  const until = fields.until ?? formatInstant(Date.parse(start) + SCENARIO_DEFAULTS.untilHours * 3_600_000);
  /** Minutes from start to until, when both are valid (each time in the run is at most this). */
  const runMs = Date.parse(until) - Date.parse(start);
  const runMinutes = startKnown && !invalid.has('until') && runMs > 0 ? runMs / 60_000 : undefined;
  if (runMinutes !== undefined && runMinutes > MAX_RUN_MINUTES) {
    c.add(
      ['until'],
      `must be at most ${MAX_RUN_DAYS} days (${MAX_RUN_MINUTES} minutes) after start, the longest run the simulator takes; got ${formatNumber(runMs / 86_400_000)} days (${formatNumber(runMinutes)} minutes) after start (${start})`,
    );
  }
  /** A time in the run (minutes after start) later than until: what happens then never does. */
  const afterRun = (path: PathSegment[], at: number | undefined, what: string) => {
    if (runMinutes === undefined || at === undefined || at <= runMinutes) return;
    c.add(
      path,
      `minute ${at} is after the run ends (until is ${formatNumber(runMinutes)} minutes after start), so ${what}: give at most ${Math.floor(runMinutes)}, or a later until`,
    );
  };

  checkDuplicates(
    c,
    ['trigger'],
    fields.trigger ?? [],
    (t) => t,
    'is listed twice: each entry point fires once',
  );
  // The gallery's parts are looked at one by one so that, say, a bad existing version does not stop
  // the region checks; `undefined` marks a part that is invalid (and already reported).
  const part = <T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown): T | undefined => {
    const result = schema.safeParse(value);
    return result.success ? result.data : undefined;
  };
  const absent = (value: unknown) => value === undefined || value === null;
  const gallery = absent(input.gallery) ? {} : input.gallery;
  const regionsGiven = isRecord(gallery)
    ? part(optional(z.array(region).min(1)), gallery.regions)
    : undefined;
  const regionsKnown = isRecord(gallery) && (absent(gallery.regions) || regionsGiven !== undefined);
  const regions = regionsGiven ?? [...SCENARIO_DEFAULTS.galleryRegions];
  if (regionsKnown) checkDuplicates(c, ['gallery', 'regions'], regions, (r) => r, 'is listed twice');
  const existingVersions = !isRecord(gallery)
    ? undefined
    : absent(gallery.existingVersions)
      ? {}
      : gallery.existingVersions;
  const existing = {} as Record<ImageKind, string[] | undefined>;
  for (const image of IMAGE_KINDS) {
    const given = isRecord(existingVersions) ? existingVersions[image] : undefined;
    const versions = isRecord(existingVersions) ? part(optional(z.array(versionName)), given) : undefined;
    existing[image] =
      absent(given) && isRecord(existingVersions) ? [SCENARIO_DEFAULTS.existingVersion] : versions;
    const list = existing[image];
    if (list)
      checkDuplicates(
        c,
        ['gallery', 'existingVersions', image],
        list,
        (v) => v,
        'is listed twice',
        compareVersions,
      );
  }
  const checkRegion = (path: PathSegment[], value: string | undefined) => {
    if (value !== undefined && regionsKnown && !regions.includes(value)) {
      c.add(path, `region "${value}" is not among gallery.regions (${regions.join(', ')})`);
    }
  };

  // Scale sets
  const scaleSetInputs: Item<ScaleSetInput>[] =
    fields.scaleSets === undefined && !invalid.has('scaleSets')
      ? SCENARIO_DEFAULTS.scaleSets.map((s) => whole<ScaleSetInput>({ ...s }))
      : scaleSetItems;
  const byName = new Map<string, { index: number; capacity?: number }>();
  const seenLower = new Map<string, number>();
  const allNamesKnown = !invalid.has('scaleSets') && scaleSetInputs.every((s) => s.ok.has('name'));
  scaleSetInputs.forEach(({ part: s, ok }, index) => {
    const path = ['scaleSets', index];
    if (s.name !== undefined) {
      // Azure resource names are case-insensitive.
      const first = seenLower.get(s.name.toLowerCase());
      if (first !== undefined) {
        c.add([...path, 'name'], `duplicate scale set name "${s.name}" (also scaleSets[${first}])`);
      } else {
        seenLower.set(s.name.toLowerCase(), index);
        const capacity = ok.has('capacity') ? (s.capacity ?? SCENARIO_DEFAULTS.capacity) : undefined;
        byName.set(s.name, { index, capacity });
      }
    }
    checkRegion([...path, 'region'], s.region);
    const versions = s.image === undefined ? undefined : existing[s.image];
    if (ok.has('version') && versions) {
      if (s.version !== undefined && !versions.some((v) => compareVersions(v, s.version!) === 0)) {
        c.add(
          [...path, 'version'],
          `version ${s.version} is not in gallery.existingVersions.${s.image!} (${versions.join(', ') || 'empty'})`,
        );
      }
      if (s.version === undefined && versions.length === 0) {
        c.add(
          [...path, 'version'],
          `is required: gallery.existingVersions.${s.image!} is empty, so there is no version to default to`,
        );
      }
    }
    if (s.canary === true && s.managed === false) {
      c.add(
        [...path, 'canary'],
        'an unmanaged scale set (managed: false) is never touched, so it cannot take the canary',
      );
    }
  });

  /** Checks that `<scaleSet>_<id>` names a scale set of the scenario and an id it has (or gets: `added`). */
  const checkInstance = (path: PathSegment[], instance: string, added?: { count: number; by: string }) => {
    const [, scaleSet = '', id = '0'] = INSTANCE.exec(instance) ?? [];
    const target = byName.get(scaleSet);
    if (!target) {
      // It may name a scale set whose name is itself invalid (and reported).
      if (!allNamesKnown) return;
      const names = [...byName.keys()];
      c.add(
        path,
        `"${instance}" names no scale set of this scenario (scale sets: ${names.join(', ') || 'none'})`,
      );
      return;
    }
    if (target.capacity === undefined) return;
    const ids = target.capacity + (added?.count ?? 0);
    if (Number(id) < ids) return;
    const range = ids === 0 ? 'no instance' : `ids 0..${ids - 1}`;
    c.add(
      path,
      added === undefined
        ? `instance id ${id} does not exist: scaleSets[${target.index}] (${scaleSet}) has capacity ${target.capacity}, ${range}`
        : `instance id ${id} does not exist ${added.by}: scaleSets[${target.index}] (${scaleSet}) has capacity ${target.capacity} and ${added.count === 0 ? 'no scaleOut change of it comes earlier' : `the scaleOut changes of it before add ${added.count}`}, ${range}`,
    );
  };
  const checkScaleSet = (path: PathSegment[], name: string | undefined) => {
    if (name === undefined || byName.has(name) || !allNamesKnown) return;
    c.add(
      path,
      `"${name}" names no scale set of this scenario (scale sets: ${[...byName.keys()].join(', ') || 'none'})`,
    );
  };

  // Jobs
  jobItems.forEach(({ part: job, ok }, index) => {
    const path = ['jobs', index];
    if (job.instance !== undefined) checkInstance([...path, 'instance'], job.instance);
    afterRun([...path, 'startAfterMinutes'], job.startAfterMinutes, 'the job would never start');
    // A race on an operation kiln never sends would never start the job.
    if (ok.has('race') && job.race) {
      const { service, operation } = job.race;
      const known = FAULT_OPERATIONS[service].filter((op) => op !== 'replication');
      if (!known.includes(operation)) {
        c.add(
          [...path, 'race', 'operation'],
          service === 'arm' && operation === 'replication'
            ? `replication is no request of kiln's, so no job can be assigned right before it; one of: ${known.join(', ')}`
            : `unknown ${service} operation "${operation}"; one of: ${known.join(', ')}`,
        );
      }
    }
  });

  // Faults: each must be able to fire, or the run would pass a fault it never met.
  faultItems.forEach(({ part: fault, ok }, index) => {
    const path = ['faults', index];
    const service = ok.has('service') ? fault.service : undefined;
    const operation = service && ok.has('operation') ? fault.operation : undefined;
    const known = service && operation ? FAULT_OPERATIONS[service].includes(operation) : false;
    if (service && operation && !known) {
      const operations = FAULT_OPERATIONS[service];
      c.add(
        [...path, 'operation'],
        `unknown ${service} operation "${operation}"; one of: ${operations.join(', ')}`,
      );
    }
    /** `github deleteRunner`, or `a github operation` while the operation is unknown. */
    const what = known
      ? `${service!} ${operation!}`
      : `${/^[aeiou]/.test(service ?? '') ? 'an' : 'a'} ${service ?? ''} operation`;
    const replication = known && service === 'arm' && operation === 'replication';
    // Whether the operation is long-running (and fail: true applies); undefined: unknown.
    const longRunning =
      service === undefined
        ? undefined
        : service !== 'arm'
          ? false
          : known
            ? LONG_RUNNING_FAULT_OPERATIONS.includes(operation!)
            : undefined;
    // With status or fail itself invalid (and reported), which effect was meant is unclear.
    if (ok.has('status') && ok.has('fail')) {
      const fail = fault.fail === true;
      const status = fault.status !== undefined;
      if (fail && status) {
        const keep = replication
          ? `; ${what} is no HTTP request, so keep fail: true and drop status`
          : longRunning === false
            ? `; ${what} is not a long-running operation, so keep status and drop fail`
            : '';
        c.add(
          [...path, 'status'],
          `give either status (an HTTP answer) or fail: true (a long-running operation that ends Failed), not both${keep}`,
        );
      } else if (!fail && !status) {
        if (replication)
          c.add(
            [...path, 'fail'],
            `is required: ${what} is no HTTP request, so its fault is fail: true (the replication ends Failed)`,
          );
        else
          c.add(
            [...path, 'status'],
            'is required unless fail: true (a long-running operation that ends Failed)',
          );
      } else if (fail && longRunning === false) {
        c.add(
          [...path, 'fail'],
          `fail: true only applies to a long-running ARM operation (${LONG_RUNNING_FAULT_OPERATIONS.join(', ')}); ${what} answers at once, so the fault would never fire: give status (the HTTP status to answer with) instead`,
        );
      } else if (status && replication) {
        c.add(
          [...path, 'status'],
          `cannot apply to ${what}, which is no HTTP request: give fail: true instead (the replication ends Failed)`,
        );
      }
    }
    if (fault.retryAfterSeconds !== undefined && ok.has('status') && fault.status === undefined) {
      c.add([...path, 'retryAfterSeconds'], 'only applies to a fault that answers with an HTTP status');
    }
    if (fault.persistent === true && fault.times !== undefined) {
      c.add(
        [...path, 'times'],
        'give either times or persistent: true, not both: keep times for a fault that fires that many times and goes away, or persistent: true for one that fires on every matching request while it is active',
      );
    }
    // Only replication happens per region; any other fault would ignore its region.
    const regionApplies =
      service === undefined ? undefined : service !== 'arm' ? false : known ? replication : undefined;
    if (fault.region !== undefined && regionApplies === false) {
      c.add(
        [...path, 'region'],
        `only applies to arm replication (the region whose replication ends Failed); ${what} is not done per region, so region would be ignored: remove it`,
      );
    } else {
      checkRegion([...path, 'region'], fault.region);
    }
    afterRun(
      [...path, 'afterMinutes'],
      fault.afterMinutes,
      fault.forMinutes === undefined
        ? 'the fault could never fire'
        : `the fault (active minutes ${fault.afterMinutes} to ${(fault.afterMinutes ?? 0) + fault.forMinutes}) could never fire`,
    );
  });

  // Outside changes, in the order they happen (stable: file order within a minute).
  const changeOrder = changeItems
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (a.item.part.at ?? 0) - (b.item.part.at ?? 0));
  changeOrder.forEach(({ item: { part: change }, index }, position) => {
    const path = ['changes', index];
    afterRun([...path, 'at'], change.at, 'the change would never happen');
    checkScaleSet([...path, 'scaleSet'], change.scaleSet);
    if (change.action === 'deleteInstance' && change.instance !== undefined) {
      // An instance beyond the capacity exists once enough scaleOut changes of its scale set came
      // first (ids follow on). Any earlier change whose time or count is invalid makes that unknown.
      const scaleSet = INSTANCE.exec(change.instance)?.[1];
      const before = changeOrder.slice(0, position).map((o) => o.item);
      const scaleOuts = before.filter((o) => o.part.action === 'scaleOut' && o.part.scaleSet === scaleSet);
      const unclear =
        changeItems.some((o) => !o.ok.has('at') || !o.ok.has('action')) ||
        scaleOuts.some((o) => o.part.count === undefined);
      if (!unclear) {
        const count = scaleOuts.reduce((sum, o) => sum + o.part.count!, 0);
        checkInstance([...path, 'instance'], change.instance, { count, by: `by minute ${change.at}` });
      }
    }
  });

  // Event Grid
  if (
    (fields.trigger ?? []).includes('eventgrid') &&
    fields.eventgrid === undefined &&
    !invalid.has('eventgrid')
  ) {
    c.add(
      ['eventgrid'],
      'is required because trigger includes eventgrid (the event delivers eventgrid.version)',
    );
  }

  if (c.problems.length > 0) return undefined;

  // Everything is valid: assemble the complete scenario.
  const scaleSetValues = scaleSetInputs.map((s) => s.whole!);
  const scaleSets = scaleSetValues.map((s): ScenarioScaleSet => ({
    name: s.name,
    image: s.image,
    region: s.region ?? regions[0]!,
    capacity: s.capacity ?? SCENARIO_DEFAULTS.capacity,
    version: s.version ?? newestVersion(existing[s.image]!)!,
    canary: s.canary ?? false,
    managed: s.managed ?? SCENARIO_DEFAULTS.managed,
  }));
  // The canary defaults to the first managed scale set of each image, unless some scale set of that
  // image says canary: true or false itself (then the scenario chose, even if it chose none).
  for (const image of IMAGE_KINDS) {
    if (scaleSetValues.some((s) => s.image === image && s.canary !== undefined)) continue;
    const first = scaleSets.find((s) => s.image === image && s.managed);
    if (first) first.canary = true;
  }
  const images = {} as Scenario['images'];
  for (const image of IMAGE_KINDS) {
    const d = SCENARIO_DEFAULTS.images[image];
    const given = fields.images?.[image];
    images[image] = {
      buildMinutes: given?.buildMinutes ?? d.buildMinutes,
      buildFails: given?.buildFails ?? d.buildFails,
      unhealthy: given?.unhealthy ?? d.unhealthy,
    };
  }
  const dryRun = fields.dryRun ?? SCENARIO_DEFAULTS.dryRun;
  const scenario: Scenario = {
    version: 1,
    name: fields.name!,
    start,
    until,
    timers: fields.timers ?? SCENARIO_DEFAULTS.timers,
    trigger: [...(fields.trigger ?? [])],
    dryRun,
    gallery: {
      regions: [...regions],
      existingVersions: { linux: [...existing.linux!], windows: [...existing.windows!] },
    },
    images,
    scaleSets,
    jobs: jobItems
      .map((j) => j.whole!)
      .map((j): ScenarioJob => ({
        instance: j.instance,
        minutes: j.minutes,
        startAfterMinutes: j.startAfterMinutes ?? SCENARIO_DEFAULTS.startAfterMinutes,
        ...(j.race ? { race: { ...j.race } } : {}),
      })),
    ghosts: { github: fields.ghosts?.github ?? 0, ado: fields.ghosts?.ado ?? 0 },
    foreign: { github: fields.foreign?.github ?? 0, ado: fields.foreign?.ado ?? 0 },
    latency: {
      replication: fields.latency?.replication ?? SCENARIO_DEFAULTS.latency.replication,
      reimage: fields.latency?.reimage ?? SCENARIO_DEFAULTS.latency.reimage,
      register: fields.latency?.register ?? SCENARIO_DEFAULTS.latency.register,
    },
    faults: faultItems
      .map((f) => f.whole!)
      .map((f): ScenarioFault => {
        const fault: ScenarioFault = {
          service: f.service,
          operation: f.operation,
          times: f.times ?? SCENARIO_DEFAULTS.faultTimes,
          persistent: f.persistent ?? SCENARIO_DEFAULTS.faultPersistent,
          afterMinutes: f.afterMinutes ?? SCENARIO_DEFAULTS.faultAfterMinutes,
        };
        if (f.status !== undefined) fault.status = f.status;
        if (f.retryAfterSeconds !== undefined) fault.retryAfterSeconds = f.retryAfterSeconds;
        if (f.fail !== undefined) fault.fail = f.fail;
        if (f.region !== undefined) fault.region = f.region;
        if (f.forMinutes !== undefined) fault.forMinutes = f.forMinutes;
        return fault;
      }),
    changes: changeOrder.map(({ item }) => toChange(item.whole!, images)),
    expect: {
      outcome: [
        ...(fields.expect?.outcome ??
          (dryRun ? SCENARIO_DEFAULTS.expectedOutcome.dryRun : SCENARIO_DEFAULTS.expectedOutcome.otherwise)),
      ],
    },
  };
  if (fields.eventgrid) {
    scenario.eventgrid = {
      version: { ...fields.eventgrid.version },
      duplicates: fields.eventgrid.duplicates ?? SCENARIO_DEFAULTS.eventgridDuplicates,
    };
  }
  return scenario;
}

/** The parsed change: `at` becomes `atMinutes`, each action with exactly its fields and their defaults. */
function toChange(change: ChangeInput, images: Scenario['images']): ScenarioChange {
  const atMinutes = change.at;
  switch (change.action) {
    case 'scaleOut':
    case 'scaleIn':
      return { atMinutes, action: change.action, scaleSet: change.scaleSet!, count: change.count! };
    case 'deleteInstance':
      return { atMinutes, action: change.action, instance: change.instance! };
    case 'setModel':
      return {
        atMinutes,
        action: change.action,
        scaleSet: change.scaleSet!,
        version: change.version!,
        upgradeInstances: change.upgradeInstances ?? SCENARIO_DEFAULTS.upgradeInstances,
      };
    case 'deleteScaleSet':
      return { atMinutes, action: change.action, scaleSet: change.scaleSet! };
    case 'publish':
      return {
        atMinutes,
        action: change.action,
        image: change.image!,
        version: change.version!,
        excludeFromLatest: change.excludeFromLatest ?? SCENARIO_DEFAULTS.excludeFromLatest,
        unhealthy: change.unhealthy ?? images[change.image!].unhealthy,
      };
    case 'deleteVersion':
    case 'promote':
    case 'event':
      return { atMinutes, action: change.action, image: change.image!, version: change.version! };
  }
}

/** A list item: its valid fields (`part`, `ok`) and, when all of it is valid, the whole of it. */
interface Item<T> {
  whole?: T;
  part: Partial<T>;
  ok: { has(field: string): boolean };
}

const EVERY_FIELD = { has: () => true };

function whole<T extends object>(value: T): Item<T> {
  return { whole: value, part: value, ok: EVERY_FIELD };
}

function salvage<T>(schema: z.AnyZodObject, raw: unknown): Item<T> {
  const part: Record<string, unknown> = {};
  const ok = new Set<string>();
  if (isRecord(raw)) {
    for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodTypeAny>)) {
      const result = field.safeParse(raw[key]);
      if (!result.success) continue;
      ok.add(key);
      if (result.data !== undefined) part[key] = result.data;
    }
  }
  return { part: part as Partial<T>, ok };
}

/**
 * Validates the outside changes one by one: the action picks the keys the item may have. An item
 * with a bad action still has its `at` checked; an invalid item keeps its valid fields (`part`).
 */
function changeItemsOf(raws: readonly unknown[], c: Collector): Item<ChangeInput>[] {
  return raws.map((raw, index): Item<ChangeInput> => {
    const path = ['changes', index];
    if (!isRecord(raw)) {
      c.add(
        path,
        `expected a mapping such as { at: 30, action: scaleOut, scaleSet: <name>, count: 2 }, got ${describe(raw)}`,
      );
      return { part: {}, ok: new Set<string>() };
    }
    const action = z
      .enum(CHANGE_ACTIONS as [ScenarioChangeAction, ...ScenarioChangeAction[]])
      .safeParse(raw.action);
    if (!action.success) {
      const actions = CHANGE_ACTIONS.join(', ');
      if (raw.action === undefined || raw.action === null) {
        c.add([...path, 'action'], `is required: one of ${actions}`);
      } else {
        const suggestion = typeof raw.action === 'string' ? closest(raw.action, CHANGE_ACTIONS) : undefined;
        c.add(
          [...path, 'action'],
          `expected one of ${actions}, got ${describe(raw.action)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        );
      }
      const at = minutes.safeParse(raw.at);
      if (!at.success) c.zod(at.error, [...path, 'at'], minutes, raw.at);
      return { part: at.success ? { at: at.data } : {}, ok: new Set(at.success ? ['at'] : []) };
    }
    const schema: z.AnyZodObject = CHANGE_SCHEMAS[action.data];
    const result = schema.safeParse(raw);
    if (result.success) return whole(result.data as ChangeInput);
    c.zod(result.error, path, schema, raw, `for action ${action.data}`);
    return salvage<ChangeInput>(schema, raw);
  });
}

function checkDuplicates<T>(
  c: Collector,
  path: PathSegment[],
  values: readonly T[],
  label: (value: T) => string,
  message: string,
  equal: (a: T, b: T) => number = (a, b) => (a === b ? 0 : 1),
): void {
  values.forEach((value, index) => {
    const first = values.findIndex((other) => equal(other, value) === 0);
    if (first < index) c.add([...path, index], `"${label(value)}" ${message} (first at index ${first})`);
  });
}

// ---------------------------------------------------------------------------------------------------
// Problems: field paths, positions in the file and readable messages for zod's issues

class Collector {
  readonly problems: (ScenarioProblem & { offset: number })[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  add(path: PathSegment[], message: string, atKey = false): void {
    const offset = this.locate(path, atKey);
    const pos = offset === undefined ? undefined : this.lineCounter.linePos(offset);
    this.problems.push({
      path: formatPath(path),
      message,
      line: pos?.line,
      column: pos?.col,
      offset: offset ?? -1,
    });
  }

  /** `where` says whose keys `known` are, e.g. `for action scaleOut`. */
  unknownKey(path: PathSegment[], key: string, known: readonly string[], where = 'here'): void {
    const hint = KEY_HINTS.get(key);
    const suggestion = hint !== undefined && known.includes(hint) ? hint : closest(key, known);
    this.add(
      [...path, key],
      `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys ${where}: ${known.join(', ')}`,
      true,
    );
  }

  zod(error: z.ZodError, prefix: PathSegment[], schema: z.ZodTypeAny, value: unknown, where?: string): void {
    for (const issue of error.issues) {
      const path = [...prefix, ...issue.path];
      const received = valueAt(value, issue.path);
      switch (issue.code) {
        case 'unrecognized_keys':
          for (const key of issue.keys) this.unknownKey(path, key, knownKeys(schema, issue.path), where);
          break;
        case 'invalid_type':
          if (issue.received === 'undefined') this.add(path, 'is required');
          else if (issue.expected === 'integer')
            this.add(path, `expected a whole number, got ${describe(received)}`);
          else
            this.add(
              path,
              `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(received)}`,
            );
          break;
        case 'invalid_enum_value':
          this.add(path, `expected one of ${issue.options.join(', ')}, got ${describe(received)}`);
          break;
        case 'too_small':
          this.add(
            path,
            issue.type === 'array'
              ? `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`
              : issue.type === 'string'
                ? 'must not be empty'
                : `must be at least ${String(issue.minimum)}, got ${describe(received)}`,
          );
          break;
        case 'too_big': {
          const note = issue.message.startsWith(LIMIT_NOTE)
            ? ` (${issue.message.slice(LIMIT_NOTE.length)})`
            : '';
          this.add(
            path,
            issue.type === 'array'
              ? `must list at most ${String(issue.maximum)} items, got ${Array.isArray(received) ? received.length : describe(received)}`
              : `must be at most ${String(issue.maximum)}${note}, got ${describe(received)}`,
          );
          break;
        }
        default:
          this.add(path, issue.message);
      }
    }
  }

  /** Problems in file order (problems without a position first), each once. */
  sorted(): ScenarioProblem[] {
    const seen = new Set<string>();
    return [...this.problems]
      .sort((a, b) => a.offset - b.offset)
      .filter((p) => {
        const key = `${p.path}\u0000${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map(({ offset: _offset, ...p }) => p);
  }

  /**
   * Offset in the file of the node at `path` (of its key when `atKey`), falling back to the nearest
   * ancestor that exists, e.g. the scale set a required key is missing from.
   */
  private locate(path: PathSegment[], atKey: boolean): number | undefined {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const segment = path[i];
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment),
        );
        if (!pair) return offset;
        const last = i === path.length - 1;
        node = pair.value;
        offset =
          (last && atKey ? rangeStart(pair.key) : (rangeStart(pair.value) ?? rangeStart(pair.key))) ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        offset = rangeStart(node) ?? offset;
      } else {
        return offset;
      }
    }
    return offset;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function formatPath(path: PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function valueAt(value: unknown, path: PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

/** Keys allowed on the object `path` leads to inside `schema`. */
function knownKeys(schema: z.ZodTypeAny, path: PathSegment[]): string[] {
  let current: z.ZodTypeAny | undefined = schema;
  const unwrap = (s: z.ZodTypeAny | undefined): z.ZodTypeAny | undefined => {
    while (s) {
      if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodTypeAny;
      else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
      else return s;
    }
    return s;
  };
  for (const segment of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodTypeAny>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodTypeAny;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape as object) : [];
}

/** Keys too far from the one meant for `closest` to find it. */
const KEY_HINTS = new Map([['atMinutes', 'at']]);

/** The known key nearest to `key` (a typo or different case), if any is close enough. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
