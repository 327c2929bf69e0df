/**
 * Validation of a scenario file: each top-level field and each list item on its own, so one broken
 * scale set neither hides the problems of the others nor the cross-field checks (regions, versions,
 * job instances, faults that could never fire, changes after the run) that only need the parts that
 * are valid. Every problem goes to the Collector; a valid file becomes the complete Scenario.
 */
import { z } from 'zod';
import { compareVersions, sortVersions } from '../../domain/versions.js';
import { FAULT_OPERATIONS, LONG_RUNNING_FAULT_OPERATIONS } from '../fake-cloud/faults.js';
import { baselineOf } from '../fake-cloud/software-reports.js';
import { completeScenario, SCENARIO_DEFAULTS } from './defaults.js';
import { checkSettings } from './settings.js';
import { closest, describe, isRecord, type Collector, type PathSegment } from './problems.js';
import {
  CHANGE_ACTIONS,
  CHANGE_SCHEMAS,
  FIELD_SCHEMAS,
  formatInstant,
  formatNumber,
  IMAGE_KINDS,
  INSTANCE,
  ITEM_SCHEMAS,
  MAX_RUN_DAYS,
  MAX_RUN_MINUTES,
  minutes,
  optional,
  region,
  START_YEARS,
  VERSION_TAGS,
  versionName,
  type ChangeInput,
  type Fields,
  type ScaleSetInput,
  type WorkloadInput,
  MAX_WORKLOAD_JOBS,
} from './schema.js';
import { DEFAULT_NAMES } from '../fake-cloud/world-types.js';
import type { ImageKind, Scenario, ScenarioChangeAction, ScenarioWorkload, WorkloadStream } from './types.js';

export function validate(raw: unknown, c: Collector): Scenario | undefined {
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
  const versionTags = isRecord(gallery) ? part(optional(VERSION_TAGS), gallery.versionTags) : undefined;
  for (const image of IMAGE_KINDS) {
    const versions = existing[image];
    for (const version of Object.keys(versionTags?.[image] ?? {})) {
      if (versions && !versions.some((v) => v === version))
        c.add(
          ['gallery', 'versionTags', image, version],
          `version ${version} is not in gallery.existingVersions.${image} (${versions.join(', ') || 'empty'}): only an existing version has tags`,
        );
    }
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
    if (s.recycle === true && s.managed === false) {
      c.add(
        [...path, 'recycle'],
        'an unmanaged scale set (managed: false) is never touched, so kiln cannot recycle its instances',
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

  // What the builds hold: each change must change something of the image's baseline.
  for (const image of IMAGE_KINDS) {
    const changes = fields.images?.[image]?.changes ?? [];
    const baseline = new Map(baselineOf(image).tools.map((t) => [t.name, t.version]));
    const seen = new Map<string, number>();
    changes.forEach((change, index) => {
      const path = ['images', image, 'changes', index];
      const first = seen.get(change.tool);
      if (first !== undefined) {
        c.add(
          [...path, 'tool'],
          `${change.tool} is listed twice (first at index ${first}): give one change per tool`,
        );
        return;
      }
      seen.set(change.tool, index);
      const was = baseline.get(change.tool);
      const known = [...baseline.keys()].sort();
      if (change.to === null && was === undefined) {
        const suggestion = closest(change.tool, known);
        c.add(
          [...path, 'tool'],
          `${change.tool} is not in the ${image} image (its tools: ${known.join(', ')}), so it cannot be removed${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
        );
      } else if (change.to !== null && change.to === was) {
        c.add(
          [...path, 'to'],
          `${change.tool} is ${was} in the ${image} image already, so nothing would change: give another version, or null to remove it`,
        );
      }
    });
  }

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

  const lateOlderEvent = resolveLateOlderEvent(fields.eventgrid, existing, afterRun, c);
  const workload = checkWorkload(fields.workload, {
    seed: fields.seed ?? SCENARIO_DEFAULTS.seed,
    start: startKnown ? start : undefined,
    until: runMinutes !== undefined ? until : undefined,
    adoScaleSets: invalid.has('scaleSets')
      ? undefined
      : scaleSetInputs.every((s) => s.ok.has('image'))
        ? scaleSetInputs.filter((s) => s.part.image === 'windows').length
        : undefined,
    c,
  });
  const settings = checkSettings(fields.settings ?? {}, c);

  if (c.problems.length > 0) return undefined;
  return completeScenario({
    settings,
    lateOlderEvent,
    ...(workload ? { workload } : {}),
    fields,
    start,
    until,
    regions,
    existing: { linux: existing.linux!, windows: existing.windows! },
    ...(versionTags ? { versionTags } : {}),
    scaleSets: scaleSetInputs.map((s) => s.whole!),
    jobs: jobItems.map((j) => j.whole!),
    faults: faultItems.map((f) => f.whole!),
    changes: changeOrder.map(({ item }) => item.whole!),
  });
}

/**
 * When and for which version the late Event Grid delivery for an older version comes, if at all.
 * Unsaid, it is for the version before the image's newest existing one, two minutes in, when there is
 * one; `true` asks for that one and refuses a scenario without it; an explicit version must exist and
 * be older than the event's.
 */
function resolveLateOlderEvent(
  eventgrid: Fields['eventgrid'],
  existing: Record<ImageKind, string[] | undefined>,
  afterRun: (path: PathSegment[], at: number | undefined, what: string) => void,
  c: Collector,
): { version: string; afterMinutes: number } | undefined {
  const asked = eventgrid?.lateOlderEvent;
  const versions = eventgrid && existing[eventgrid.version.image];
  if (!eventgrid || !versions || asked === false) return undefined;
  const { image, version: newer } = eventgrid.version;
  const path = ['eventgrid', 'lateOlderEvent'];
  const beforeNewest = sortVersions(versions).reverse()[1];
  if (asked === undefined)
    return beforeNewest
      ? { version: beforeNewest, afterMinutes: SCENARIO_DEFAULTS.lateOlderEventMinutes }
      : undefined;
  const version = asked === true ? beforeNewest : asked.version;
  const afterMinutes =
    asked === true
      ? SCENARIO_DEFAULTS.lateOlderEventMinutes
      : (asked.afterMinutes ?? SCENARIO_DEFAULTS.lateOlderEventMinutes);
  if (version === undefined) {
    c.add(
      path,
      `gallery.existingVersions.${image} (${versions.join(', ') || 'empty'}) has no version before its newest to send the late event for: add one, or give lateOlderEvent.version`,
    );
    return undefined;
  }
  const versionPath = asked === true ? path : [...path, 'version'];
  if (!versions.some((v) => compareVersions(v, version) === 0)) {
    c.add(
      versionPath,
      `version ${version} is not in gallery.existingVersions.${image} (${versions.join(', ') || 'empty'}): the late event is for a version in the gallery`,
    );
    return undefined;
  }
  if (compareVersions(version, newer) >= 0) {
    c.add(versionPath, `version ${version} is not older than eventgrid.version.version (${newer})`);
    return undefined;
  }
  afterRun(
    asked === true ? path : [...path, 'afterMinutes'],
    afterMinutes,
    'the late event would never be delivered',
  );
  return { version, afterMinutes };
}

/**
 * The workload's cross-field checks: labels for a GitHub stream, a pool for an Azure DevOps one (the
 * pool the scenario's Azure DevOps scale sets register their agents in), windows that lie inside the
 * run, start before they end and do not overlap within a stream, durations with min <= max, and a
 * bounded number of jobs. `start`/`until` undefined: invalid (and reported), so windows go unchecked.
 */
function checkWorkload(
  workload: WorkloadInput | undefined,
  ctx: {
    seed: number;
    start: string | undefined;
    until: string | undefined;
    /** How many scale sets run Azure DevOps agents (undefined: unknown, some are invalid). */
    adoScaleSets: number | undefined;
    c: Collector;
  },
): ScenarioWorkload | undefined {
  if (!workload) return undefined;
  const { c } = ctx;
  const pool = DEFAULT_NAMES.adoPoolName;
  let expectedJobs = 0;
  const streams = workload.streams.map((stream, index): WorkloadStream => {
    const path = ['workload', 'streams', index];
    if (stream.fleet === 'github') {
      if (stream.labels === undefined)
        c.add(
          [...path, 'labels'],
          'is required for a github stream: the labels its jobs ask for, such as [self-hosted, linux]',
        );
      if (stream.pool !== undefined)
        c.add(
          [...path, 'pool'],
          'only applies to an ado stream (the Azure DevOps pool its jobs are queued to); a github stream names labels',
        );
    } else {
      if (stream.labels !== undefined)
        c.add(
          [...path, 'labels'],
          `only applies to a github stream; an ado stream names its pool (pool: ${pool})`,
        );
      if (stream.pool === undefined)
        c.add([...path, 'pool'], `is required for an ado stream: the pool its jobs are queued to (${pool})`);
      else if (ctx.adoScaleSets === 0)
        c.add(
          [...path, 'pool'],
          `no scale set of this scenario runs Azure DevOps agents (image: windows), so no pool serves pool "${stream.pool}"`,
        );
      else if (ctx.adoScaleSets !== undefined && stream.pool !== pool)
        c.add(
          [...path, 'pool'],
          `"${stream.pool}" is not the pool of this scenario's Azure DevOps scale sets: their agents register in ${pool}`,
        );
    }
    if (stream.minutes.min > stream.minutes.max)
      c.add(
        [...path, 'minutes', 'min'],
        `must be at most minutes.max (${stream.minutes.max}), got ${stream.minutes.min}`,
      );
    const windows = stream.arrivals.map((w, i) => ({
      ...w,
      i,
      fromMs: Date.parse(w.from),
      toMs: Date.parse(w.to),
    }));
    for (const w of windows) {
      const wpath = [...path, 'arrivals', w.i];
      if (w.fromMs >= w.toMs) {
        c.add([...wpath, 'to'], `must be after from (${w.from}), got ${w.to}`);
        continue;
      }
      if (ctx.start !== undefined && w.fromMs < Date.parse(ctx.start))
        c.add([...wpath, 'from'], `must not be before the run starts (start is ${ctx.start}), got ${w.from}`);
      if (ctx.until !== undefined && w.toMs > Date.parse(ctx.until))
        c.add(
          [...wpath, 'to'],
          `must not be after the run ends (until is ${ctx.until}), got ${w.to}: no job could arrive then`,
        );
      expectedJobs += (w.perHour * (w.toMs - w.fromMs)) / 3_600_000;
    }
    const ordered = windows.filter((w) => w.fromMs < w.toMs).sort((a, b) => a.fromMs - b.fromMs || a.i - b.i);
    ordered.forEach((w, k) => {
      const before = ordered[k - 1];
      if (before && w.fromMs < before.toMs)
        c.add(
          [...path, 'arrivals', w.i, 'from'],
          `overlaps arrivals[${before.i}] (${before.from} to ${before.to}): a stream's rate is one value at a time, so give windows that follow one another`,
        );
    });
    const arrivals = stream.arrivals.map((w) => ({ from: w.from, to: w.to, perHour: w.perHour }));
    const minutes = { min: stream.minutes.min, max: stream.minutes.max };
    return stream.fleet === 'github'
      ? { fleet: 'github', labels: [...(stream.labels ?? [])], arrivals, minutes }
      : { fleet: 'ado', pool: stream.pool ?? pool, arrivals, minutes };
  });
  if (expectedJobs > MAX_WORKLOAD_JOBS)
    c.add(
      ['workload', 'streams'],
      `expect about ${Math.round(expectedJobs)} jobs over their windows, more than the ${MAX_WORKLOAD_JOBS} the simulator takes: lower perHour or shorten the windows`,
    );
  return {
    seed: workload.seed ?? ctx.seed,
    streams,
    ...(workload.webhooks ? { webhooks: { lose: workload.webhooks.lose ?? 0 } } : {}),
  };
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
