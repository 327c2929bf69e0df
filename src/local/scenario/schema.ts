/**
 * The schema of scenario format version 1: what each field may hold, with the bounds that keep a
 * typo from hanging the simulator. Scalars with a format of their own are checked by hand so the
 * message can say what a valid value looks like; `null` (a YAML key with nothing after it) counts as
 * absent. Defaults are applied after validation (defaults.ts).
 */
import { z } from 'zod';
import type {
  ExpectedOutcome,
  ImageKind,
  ScenarioChangeAction,
  ScenarioFault,
  ScenarioJob,
  TriggerName,
} from './types.js';
import { galleryVersionProblem } from '../../domain/versions.js';
import { closest, describe, LIMIT_NOTE } from './problems.js';

export const IMAGE_KINDS = ['linux', 'windows'] as const satisfies readonly ImageKind[];
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
  'tables',
  'blobs',
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
export const MAX_RUN_DAYS = 31;
export const MAX_RUN_MINUTES = MAX_RUN_DAYS * 24 * 60;
export const START_YEARS = { min: 2000, max: 2100 } as const;
const MAX_SCALE_SETS = 50;
const MAX_JOBS = 5000;
const MAX_FAULTS = 200;
const MAX_CHANGES = 1000;
const MAX_EVENTGRID_DUPLICATES = 100;
/** Seeds are 32-bit: the world's generator (src/local/random.ts) keeps 32 bits of state. */
const MAX_SEED = 2 ** 32 - 1;
/** A latency of more than a day is a typo (a day is 1440 minutes). */
const MAX_LATENCY_MINUTES = 24 * 60;
/** Workload streams: a handful per fleet is plenty; each arrival window is one piece of a rate. */
const MAX_WORKLOAD_STREAMS = 20;
const MAX_ARRIVAL_WINDOWS = 200;
const MAX_LABELS = 100;
/** A rate beyond this many jobs an hour is a typo (the simulator would queue millions of jobs). */
export const MAX_JOBS_PER_HOUR = 10_000;
/** The most jobs a workload may expect over its windows: each arrival is work for the fake cloud. */
export const MAX_WORKLOAD_JOBS = 50_000;

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

export function optional<S extends z.ZodTypeAny>(schema: S) {
  return z.preprocess((value) => (value === null ? undefined : value), schema.optional());
}

const GOT_NUMBER_HINT = ' (YAML reads an unquoted x.y as a number: write the version in quotes)';

export const versionName = checked<string>((value) => {
  if (typeof value !== 'string') {
    return {
      problem: `expected a version such as 2026.10.1, got ${describe(value)}${typeof value === 'number' ? GOT_NUMBER_HINT : ''}`,
    };
  }
  const problem = galleryVersionProblem(value);
  return problem ? { problem } : { value };
});

/**
 * Tags of existing versions, by version name (each an existing version, checked with the rest): what
 * kiln recorded when it published them (kiln-runner-version, kiln-agent-version), or anyone's.
 * Azure's limits: names of 1 to 512 characters, values of at most 256.
 */
const tagsOfVersions = z.record(
  z.string(),
  z
    .record(z.string().min(1).max(512), z.string().max(256))
    .refine((tags) => Object.keys(tags).length <= 50, 'at most 50 tags'),
);
export const VERSION_TAGS = z
  .object({ linux: optional(tagsOfVersions), windows: optional(tagsOfVersions) })
  .strict();

// RFC 3339 allows a lower-case t and z.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Formats an instant as 2026-12-01T02:55:00Z (milliseconds only when there are some). */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A count of minutes or days for a message: at most two decimals, none when whole. */
export function formatNumber(n: number): string {
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
export const region = checked<string>((value) =>
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

export const INSTANCE = /^(.+)_(0|[1-9]\d*)$/;
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

const integer = (min: number, max?: number, note?: string) => {
  const base = z.number().int().min(min);
  if (max === undefined) return base;
  return note === undefined ? base.max(max) : base.max(max, LIMIT_NOTE + note);
};
export const minutes = integer(0);
const latency = integer(0, MAX_LATENCY_MINUTES, 'a day');
/** A duration that may outlast the run, bounded so a typo cannot keep the simulator busy. */
const longMinutes = integer(1, MAX_RUN_MINUTES, `${MAX_RUN_DAYS} days`);
const list = (max: number) => z.array(z.unknown()).max(max);
const imageKind = z.enum(IMAGE_KINDS);

/** At most this many tool changes per image: a report lists a few dozen tools. */
const MAX_TOOL_CHANGES = 200;

/** A tool's name as software reports write it (docs/software-report.md): lower case, e.g. azure-cli. */
const toolName = checked<string>((value) =>
  typeof value === 'string' && /^[a-z0-9][a-z0-9._+-]*$/.test(value)
    ? { value }
    : {
        problem: `expected a tool name as software reports write it (lower case letters, digits, . _ + -), such as git, node or azure-cli; got ${describe(value)}`,
      },
);

/** `to`: the version the build holds, or null: the tool is removed. Required (null is not "absent" here). */
const toolVersionTo = z.unknown().transform((value, ctx): string | null => {
  const expected = 'a version such as "3.0.1" (in quotes), or null (the tool is removed)';
  if (value === null) return null;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  ctx.addIssue({
    code: 'custom',
    message:
      value === undefined
        ? `is required: ${expected}`
        : `expected ${expected}, got ${describe(value)}${typeof value === 'number' ? GOT_NUMBER_HINT : ''}`,
  });
  return z.NEVER;
});

const toolChangeSchema = z.object({ tool: toolName, to: toolVersionTo }).strict();

const imageSchema = z
  .object({
    buildMinutes: optional(integer(1)),
    buildFails: optional(z.boolean()),
    unhealthy: optional(z.boolean()),
    changes: optional(z.array(toolChangeSchema).max(MAX_TOOL_CHANGES)),
    /** How a person answers a rebuild PROMOTION_GATE holds: after how many minutes of the hold, and what. Left out: nobody answers. */
    approval: optional(
      z
        .object({
          decision: z.enum(['approve', 'reject']),
          afterMinutes: optional(integer(0)),
          reason: optional(z.string().max(500)),
        })
        .strict(),
    ),
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
    recycle: optional(z.boolean()),
    autoscale: optional(
      z
        .object({
          min: optional(integer(0, MAX_CAPACITY)),
          max: optional(integer(0, MAX_CAPACITY)),
          warm: optional(integer(0, MAX_CAPACITY)),
          warmSchedule: optional(z.string().min(1)),
          idleMinutes: optional(integer(0, 1440)),
          labels: optional(z.array(z.string().min(1)).min(1).max(100)),
        })
        .strict(),
    ),
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
export const CHANGE_SCHEMAS = {
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
export const CHANGE_ACTIONS = Object.keys(CHANGE_SCHEMAS) as ScenarioChangeAction[];

/** A change as the file has it: the fields of every action, each present only on its actions. */
export interface ChangeInput {
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

/**
 * `eventgrid.lateOlderEvent`: true (an event for the version before the newest existing one, two
 * minutes in), false (none), or which version and when.
 */
const lateOlderEventObject = z.object({ version: versionName, afterMinutes: optional(minutes) }).strict();
const lateOlderEvent = z
  .unknown()
  .transform((value, ctx): boolean | z.output<typeof lateOlderEventObject> => {
    if (typeof value === 'boolean') return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected true, false or { version: 2026.9.1, afterMinutes: 120 }, got ${describe(value)}`,
      });
      return z.NEVER;
    }
    const result = lateOlderEventObject.safeParse(value);
    if (result.success) return result.data;
    const known = Object.keys(lateOlderEventObject.shape);
    for (const issue of result.error.issues) {
      if (issue.code !== 'unrecognized_keys') ctx.addIssue(issue);
      // The collector finds known keys through plain objects only: said here the way it says them.
      else
        for (const key of issue.keys) {
          const suggestion = closest(key, known);
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known keys here: ${known.join(', ')}`,
          });
        }
    }
    return z.NEVER;
  });

/**
 * `workload`: job demand drawn from piecewise-constant Poisson rates (issue 19). The cross-field
 * checks (windows inside the run, from < to, min <= max, labels or pool by fleet, the pool the
 * scenario's Azure DevOps scale sets use) are validate.ts's.
 */
const arrivalWindowSchema = z
  .object({
    from: timestamp,
    to: timestamp,
    perHour: z.number().min(0).max(MAX_JOBS_PER_HOUR, `${LIMIT_NOTE}a typo would queue millions of jobs`),
  })
  .strict();
const jobMinutes = integer(1, MAX_RUN_MINUTES, `${MAX_RUN_DAYS} days`);
const workloadStreamSchema = z
  .object({
    fleet: z.enum(['github', 'ado']),
    labels: optional(z.array(z.string().trim().min(1)).min(1).max(MAX_LABELS)),
    pool: optional(z.string().trim().min(1)),
    arrivals: z.array(arrivalWindowSchema).min(1).max(MAX_ARRIVAL_WINDOWS),
    minutes: z.object({ min: jobMinutes, max: jobMinutes }).strict(),
  })
  .strict();
const workloadSchema = z
  .object({
    seed: optional(integer(0, MAX_SEED)),
    streams: z.array(workloadStreamSchema).min(1).max(MAX_WORKLOAD_STREAMS),
    webhooks: optional(z.object({ lose: optional(z.number().min(0).max(1)) }).strict()),
  })
  .strict();
export type WorkloadInput = z.output<typeof workloadSchema>;

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
export const FIELD_SCHEMAS = {
  version: optional(
    checked<1>((value) =>
      value === 1
        ? { value: 1 }
        : { problem: `unsupported scenario format version ${describe(value)}: this kiln reads version 1` },
    ),
  ),
  name: z.string().refine((name) => name.trim() !== '', 'must not be empty'),
  seed: optional(integer(0, MAX_SEED)),
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
        versionTags: optional(VERSION_TAGS),
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
      .object({
        replication: optional(latency),
        reimage: optional(latency),
        register: optional(latency),
        provision: optional(latency),
      })
      .strict(),
  ),
  registration: optional(
    z.object({ github: optional(z.enum(['jit', 'pat'])), ado: optional(z.enum(['broker', 'pat'])) }).strict(),
  ),
  faults: optional(list(MAX_FAULTS)),
  eventgrid: optional(
    z
      .object({
        version: z.object({ image: imageKind, version: versionName }).strict(),
        duplicates: optional(integer(1, MAX_EVENTGRID_DUPLICATES)),
        lateOlderEvent: optional(lateOlderEvent),
      })
      .strict(),
  ),
  changes: optional(list(MAX_CHANGES)),
  workload: optional(workloadSchema),
  /** App settings by name; each value is checked as the settings loader checks it (settings.ts). */
  settings: optional(z.record(z.unknown())),
  expect: optional(z.object({ outcome: expectedOutcomes }).strict()),
};

export const ITEM_SCHEMAS = { scaleSets: scaleSetSchema, jobs: jobSchema, faults: faultSchema };

export type Fields = { [K in keyof typeof FIELD_SCHEMAS]?: z.output<(typeof FIELD_SCHEMAS)[K]> };
export type ScaleSetInput = z.output<typeof scaleSetSchema>;
export type JobInput = z.output<typeof jobSchema>;
export type FaultInput = z.output<typeof faultSchema>;
