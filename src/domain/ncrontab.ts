/**
 * NCRONTAB (six fields: second minute hour day month weekday, UTC), the schedule format of Azure
 * Functions timers: parsing and "next occurrence after t". Used by the simulator to fire the app's
 * timers on the virtual clock and by the CLI to show when runs will happen.
 */
const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'weekday', min: 0, max: 6 },
] as const;

const NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};

export interface Schedule {
  expression: string;
  sets: Set<number>[];
}

export function parseNcrontab(expression: string): Schedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new RangeError(`"${expression}" must have six fields (second minute hour day month weekday)`);
  const sets = parts.map((part, index) => parseField(part, FIELDS[index]!, expression));
  return { expression, sets };
}

function parseField(part: string, field: (typeof FIELDS)[number], expression: string): Set<number> {
  const values = new Set<number>();
  for (const item of part.split(',')) {
    const [range, stepText] = item.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new RangeError(`bad step "${item}" in the ${field.name} field of "${expression}"`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      from = value(a, field, expression);
      to = value(b, field, expression);
    } else {
      from = value(range, field, expression);
      to = stepText === undefined ? from : field.max;
    }
    if (from > to)
      throw new RangeError(`empty range "${item}" in the ${field.name} field of "${expression}"`);
    for (let v = from; v <= to; v += step) values.add(field.name === 'weekday' && v === 7 ? 0 : v);
  }
  return values;
}

function value(text: string, field: (typeof FIELDS)[number], expression: string): number {
  const v = NAMES[text.toLowerCase()] ?? Number(text);
  const max = field.name === 'weekday' ? 7 : field.max;
  if (!Number.isInteger(v) || v < field.min || v > max) {
    throw new RangeError(
      `"${text}" is out of range ${field.min}-${max} in the ${field.name} field of "${expression}"`,
    );
  }
  return v;
}

/** The first occurrence strictly after `afterMs`, or undefined if none within ~5 years. */
export function nextOccurrence(schedule: Schedule, afterMs: number): number | undefined {
  const [seconds, minutes, hours, days, months, weekdays] = schedule.sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const t = new Date(Math.floor(afterMs / 1000) * 1000 + 1000);
  const limit = afterMs + 5 * 366 * 24 * 3600_000;
  while (t.getTime() <= limit) {
    if (!months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0);
      continue;
    }
    if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0);
      continue;
    }
    if (!hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0);
      continue;
    }
    if (!minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0);
      continue;
    }
    if (!seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1);
      continue;
    }
    return t.getTime();
  }
  return undefined;
}
