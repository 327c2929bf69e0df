/**
 * Capacity on job demand (issue 19), the pure rules only: read a scale set's capacity tags, say how
 * many idle machines to keep warm at `now`, how many instances the scale set should have, and which
 * idle instances may go when it has too many. No I/O and no clock: `now` is always passed in (S7).
 * Not wired into any flow yet.
 *
 * Tags (names case-insensitive, like Azure tags; all optional):
 * - `kiln-min`, `kiln-max`: the capacity bounds (whole numbers, 0 ≤ min ≤ max ≤ 1000, the Uniform
 *   scale set limit). Defaults: min 0, max 1000.
 * - `kiln-warm`: idle machines kept ready (≤ max). Default 0.
 * - `kiln-warm-schedule`: `;`-separated `Days HH:MM-HH:MM TimeZone:count` entries that replace
 *   kiln-warm while the local time in their zone is inside their window.
 * - `kiln-idle-minutes`: how long a machine must have been idle before it may go. Default 10.
 *
 * A scale set is autoscaled only if it carries at least one of kiln-min, kiln-max, kiln-warm or
 * kiln-warm-schedule: a scale set without capacity tags is never autoscaled (its capacity is left
 * alone), and kiln-idle-minutes on its own does not opt a scale set in.
 */

/** The Uniform scale set limit on instance count. */
export const MAX_CAPACITY = 1000;
export const DEFAULT_IDLE_MINUTES = 10;
/** kiln-idle-minutes at most one day. */
export const MAX_IDLE_MINUTES = 1440;

export interface WarmWindow {
  /** The entry as written, for reasons. */
  text: string;
  /** Weekdays the window starts on, 0 = Sunday … 6 = Saturday. */
  days: number[];
  /** Minutes after local midnight; end may be 1440 (`24:00`). */
  start: number;
  end: number;
  timeZone: string;
  count: number;
}

export interface CapacityPolicy {
  min: number;
  max: number;
  warm: number;
  warmSchedule: WarmWindow[];
  idleMinutes: number;
}

export type CapacityTagsResult =
  | {
      ok: true;
      /** undefined: the scale set carries no capacity tag and is not autoscaled. */ policy?: CapacityPolicy;
    }
  | { ok: false; problems: string[] };

const ENABLING = ['kiln-min', 'kiln-max', 'kiln-warm', 'kiln-warm-schedule'];
const WARM_EXAMPLE = 'kiln-warm-schedule=Mon-Fri 07:00-19:00 Europe/Berlin:4';
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function parseCapacityTags(tags: Record<string, string>): CapacityTagsResult {
  const lower: Record<string, string> = {};
  const clashes: string[] = [];
  for (const [name, value] of Object.entries(tags)) {
    const key = name.toLowerCase();
    if (key.startsWith('kiln-') && lower[key] !== undefined && lower[key] !== value)
      clashes.push(
        `${key} is given twice with different values ("${lower[key]}", "${value}"): keep one, e.g. ${key}=${lower[key]}`,
      );
    lower[key] = value;
  }
  if (!ENABLING.some((name) => lower[name] !== undefined)) return { ok: true };

  const problems: string[] = [...clashes];
  const whole = (name: string, fallback: number, limit: number, example: string): number | undefined => {
    const value = lower[name];
    if (value === undefined) return fallback;
    const text = value.trim();
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n > limit) {
      problems.push(`${name}="${value}" must be a whole number from 0 to ${limit}, e.g. ${name}=${example}`);
      return undefined;
    }
    return n;
  };
  const min = whole('kiln-min', 0, MAX_CAPACITY, '2');
  const max = whole('kiln-max', MAX_CAPACITY, MAX_CAPACITY, '20');
  const warm = whole('kiln-warm', 0, MAX_CAPACITY, '2');
  const idleMinutes = whole('kiln-idle-minutes', DEFAULT_IDLE_MINUTES, MAX_IDLE_MINUTES, '10');

  if (min !== undefined && max !== undefined && min > max)
    problems.push(
      `kiln-min="${lower['kiln-min']}" is above kiln-max="${max}": min must not exceed max, e.g. kiln-min=2 with kiln-max=20`,
    );
  if (warm !== undefined && max !== undefined && warm > max)
    problems.push(
      `kiln-warm="${lower['kiln-warm']}" is above kiln-max="${max}": warm machines must fit within max, e.g. kiln-warm=${max}`,
    );

  const warmSchedule: WarmWindow[] = [];
  const scheduleText = lower['kiln-warm-schedule'];
  if (scheduleText !== undefined) {
    const entries = scheduleText.split(';').map((e) => e.trim());
    if (entries.every((e) => e === ''))
      problems.push(`kiln-warm-schedule="${scheduleText}" has no entry, e.g. ${WARM_EXAMPLE}`);
    for (const entry of entries) {
      if (entry === '') continue;
      const parsed = parseWarmEntry(entry);
      if (typeof parsed === 'string') {
        problems.push(`kiln-warm-schedule entry "${entry}" ${parsed}, e.g. ${WARM_EXAMPLE}`);
        continue;
      }
      if (max !== undefined && parsed.count > max) {
        problems.push(
          `kiln-warm-schedule entry "${entry}" keeps ${parsed.count} warm, above kiln-max=${max}, e.g. ${WARM_EXAMPLE.replace(':4', `:${max}`)}`,
        );
        continue;
      }
      warmSchedule.push(parsed);
    }
  }

  if (
    problems.length > 0 ||
    min === undefined ||
    max === undefined ||
    warm === undefined ||
    idleMinutes === undefined
  )
    return { ok: false, problems };
  return { ok: true, policy: { min, max, warm, warmSchedule, idleMinutes } };
}

/** An entry, or what is wrong with it. */
function parseWarmEntry(entry: string): WarmWindow | string {
  const parts = entry.split(/\s+/);
  if (parts.length !== 3) return 'must be "Days HH:MM-HH:MM TimeZone:count"';
  const [daysText, timesText, zoneCount] = parts as [string, string, string];

  const days = parseDays(daysText);
  if (days === undefined)
    return `has days "${daysText}": use Daily, a range like Mon-Fri or a list like Sat,Sun`;

  const times = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(timesText);
  if (!times) return `has times "${timesText}": use HH:MM-HH:MM (24-hour)`;
  const [sh, sm, eh, em] = times.slice(1).map(Number) as [number, number, number, number];
  if (sh > 23 || sm > 59 || eh > 24 || em > 59 || (eh === 24 && em !== 0))
    return `has times "${timesText}": hours 00-23 (24:00 only as an end), minutes 00-59`;
  const start = sh * 60 + sm;
  const end = eh * 60 + em;
  if (start === end) return `has times "${timesText}": the window is empty (end equals start)`;

  const colon = zoneCount.lastIndexOf(':');
  if (colon <= 0) return `has "${zoneCount}": end with TimeZone:count`;
  const timeZone = zoneCount.slice(0, colon);
  const countText = zoneCount.slice(colon + 1);
  if (!validTimeZone(timeZone))
    return `has time zone "${timeZone}": use an IANA zone like Europe/Berlin or UTC`;
  if (!/^\d+$/.test(countText) || Number(countText) > MAX_CAPACITY)
    return `has count "${countText}": use a whole number from 0 to ${MAX_CAPACITY}`;
  return { text: entry, days, start, end, timeZone, count: Number(countText) };
}

function parseDays(text: string): number[] | undefined {
  if (text.toLowerCase() === 'daily') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const item of text.split(',')) {
    const [from, to, extra] = item.toLowerCase().split('-');
    if (extra !== undefined) return undefined;
    const a = DAY_NAMES.indexOf(from ?? '');
    const b = to === undefined ? a : DAY_NAMES.indexOf(to);
    if (a < 0 || b < 0) return undefined;
    // A range may wrap the week: Fri-Mon is Fri, Sat, Sun, Mon.
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function validTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The weekday (0 = Sunday) and minute of the day on the wall clock of `timeZone` at `now`. */
export function localTime(now: Date, timeZone: string): { day: number; minute: number } {
  const parts = formatter(timeZone).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = DAY_NAMES.indexOf(part('weekday').toLowerCase().slice(0, 3));
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/**
 * Whether `now` is inside the window, by the wall clock of its zone (so a window follows summer
 * time: 07:00 Europe/Berlin is 06:00 UTC in winter, 05:00 UTC in summer; on the spring-forward
 * night a window starting 02:30 begins at 03:00, and on the fall-back night the repeated hour is in
 * the window both times). A window whose end is before its start runs overnight: `Mon-Fri
 * 22:00-06:00` starts on Mon … Fri evenings and ends the next morning.
 */
export function inWarmWindow(window: WarmWindow, now: Date): boolean {
  const { day, minute } = localTime(now, window.timeZone);
  if (window.start < window.end)
    return window.days.includes(day) && minute >= window.start && minute < window.end;
  const yesterday = (day + 6) % 7;
  return (
    (window.days.includes(day) && minute >= window.start) ||
    (window.days.includes(yesterday) && minute < window.end)
  );
}

/**
 * The warm count in force at `now`: the schedule's entries whose window holds `now` decide (the
 * highest of them, if several overlap), else kiln-warm.
 */
export function warmAt(policy: CapacityPolicy, now: Date): number {
  return warmRuleAt(policy, now).count;
}

function warmRuleAt(policy: CapacityPolicy, now: Date): { count: number; source: string } {
  let best: WarmWindow | undefined;
  for (const window of policy.warmSchedule)
    if (inWarmWindow(window, now) && (best === undefined || window.count > best.count)) best = window;
  return best
    ? { count: best.count, source: `schedule "${best.text}"` }
    : { count: policy.warm, source: 'kiln-warm' };
}

export interface DesiredInput {
  policy: CapacityPolicy;
  now: Date;
  /** Instances whose runner is busy, or whose state is unknown (S1: unknown counts as busy). */
  busy: number;
  /** Queued jobs that this scale set's runners match. */
  queued: number;
  idleInstances: number;
  total: number;
}

export interface Desired {
  desired: number;
  /** busy + queued + warm, before min and max. */
  wanted: number;
  warm: number;
  decidedBy: 'demand' | 'min' | 'max';
  reason: string;
}

/** busy + queued + warm, within [min, max], with a reason saying which term decided. */
export function desiredCapacity(input: DesiredInput): Desired {
  const { policy } = input;
  const busy = Math.max(0, input.busy);
  const queued = Math.max(0, input.queued);
  const warmRule = warmRuleAt(policy, input.now);
  const warm = warmRule.count;
  const wanted = busy + queued + warm;
  const terms = `busy ${busy} + queued ${queued} + warm ${warm} from ${warmRule.source}`;
  const have = `; has ${input.total} (${input.idleInstances} idle)`;
  if (wanted > policy.max)
    return {
      desired: policy.max,
      wanted,
      warm,
      decidedBy: 'max',
      reason: `max ${policy.max} holds it back: ${wanted} wanted (${terms})${have}`,
    };
  if (wanted < policy.min)
    return {
      desired: policy.min,
      wanted,
      warm,
      decidedBy: 'min',
      reason: `min ${policy.min} holds it up: only ${wanted} wanted (${terms})${have}`,
    };
  return {
    desired: wanted,
    wanted,
    warm,
    decidedBy: 'demand',
    reason: `demand: ${wanted} wanted (${terms})${have}`,
  };
}

export interface CapacityInstance {
  instanceId: string;
  computerName: string;
  /**
   * The instance's runner or agent as last read: `idle` registered online and not busy, `busy` running
   * a job, `offline` not registered or offline (booting, or hygiene's business), `unknown` the read
   * failed or was refused (counts as busy: S1).
   */
  runner: 'idle' | 'busy' | 'offline' | 'unknown';
  /** When the runner was last seen starting to be idle (ISO 8601); absent: unknown, so idle too briefly. */
  idleSince?: string;
  /** It runs an older model than the scale set's (an older image, or the model changed since): it goes first. */
  oldModel: boolean;
}

export interface ScaleInInput {
  instances: CapacityInstance[];
  desired: number;
  now: Date;
  policy: CapacityPolicy;
}

export interface ScaleInPick {
  instanceId: string;
  computerName: string;
  oldModel: boolean;
  idleMinutes: number;
}

export interface ScaleInKept {
  instanceId: string;
  computerName: string;
  reason: 'busy' | 'state-unknown' | 'not-online' | 'idle-too-briefly' | 'needed';
}

export interface ScaleIn {
  remove: ScaleInPick[];
  kept: ScaleInKept[];
}

/**
 * The instances to delete to come down to `desired`: only idle ones, idle for at least the policy's
 * idle minutes, old-model ones first (capacity changes move the fleet to the new image by attrition),
 * then the longest idle, then by instance id. Never a busy or unknown one (S1), never below desired
 * (nor below min). Every other instance is listed in `kept` with why.
 */
export function chooseScaleIn(input: ScaleInInput): ScaleIn {
  const { policy } = input;
  const now = input.now.getTime();
  const floor = Math.max(0, input.desired, policy.min);
  const kept: ScaleInKept[] = [];
  const eligible: ScaleInPick[] = [];
  for (const i of input.instances) {
    const id = { instanceId: i.instanceId, computerName: i.computerName };
    if (i.runner === 'busy') kept.push({ ...id, reason: 'busy' });
    else if (i.runner === 'unknown') kept.push({ ...id, reason: 'state-unknown' });
    else if (i.runner === 'offline') kept.push({ ...id, reason: 'not-online' });
    else {
      const since = i.idleSince === undefined ? NaN : Date.parse(i.idleSince);
      const idleMinutes = Number.isNaN(since) ? -1 : (now - since) / 60_000;
      if (idleMinutes < policy.idleMinutes) kept.push({ ...id, reason: 'idle-too-briefly' });
      else eligible.push({ ...id, oldModel: i.oldModel, idleMinutes });
    }
  }
  eligible.sort(
    (a, b) =>
      Number(b.oldModel) - Number(a.oldModel) ||
      b.idleMinutes - a.idleMinutes ||
      a.instanceId.localeCompare(b.instanceId, 'en', { numeric: true }),
  );
  const count = Math.min(eligible.length, Math.max(0, input.instances.length - floor));
  const remove = eligible.slice(0, count);
  for (const e of eligible.slice(count))
    kept.push({ instanceId: e.instanceId, computerName: e.computerName, reason: 'needed' });
  return { remove, kept };
}
