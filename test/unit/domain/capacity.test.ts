import { describe, expect, it } from 'vitest';
import {
  chooseScaleIn,
  desiredCapacity,
  parseCapacityTags,
  warmAt,
  type CapacityInstance,
  type CapacityPolicy,
} from '../../../src/domain/capacity.js';

function policyOf(tags: Record<string, string>): CapacityPolicy {
  const result = parseCapacityTags(tags);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  if (!result.policy) throw new Error('not autoscaled');
  return result.policy;
}

function problemsOf(tags: Record<string, string>): string[] {
  const result = parseCapacityTags(tags);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

const at = (iso: string) => new Date(iso);

describe('parseCapacityTags', () => {
  it('leaves a scale set without capacity tags alone: not autoscaled', () => {
    expect(parseCapacityTags({})).toEqual({ ok: true });
    expect(parseCapacityTags({ 'kiln-managed': 'true', 'kiln-recycle': 'true' })).toEqual({ ok: true });
  });

  it('does not opt a scale set in by kiln-idle-minutes alone', () => {
    expect(parseCapacityTags({ 'kiln-idle-minutes': '30' })).toEqual({ ok: true });
  });

  it('fills in the defaults once one capacity tag is there', () => {
    expect(policyOf({ 'kiln-warm': '2' })).toEqual({
      min: 0,
      max: 1000,
      warm: 2,
      warmSchedule: [],
      idleMinutes: 10,
    });
    expect(policyOf({ 'kiln-max': '20' })).toEqual({
      min: 0,
      max: 20,
      warm: 0,
      warmSchedule: [],
      idleMinutes: 10,
    });
    expect(policyOf({ 'kiln-min': '0' }).max).toBe(1000);
  });

  it('reads tag names case-insensitively, like Azure', () => {
    expect(
      policyOf({ 'Kiln-Min': '1', 'KILN-MAX': '8', 'kiln-WARM': '3', 'Kiln-Idle-Minutes': '25' }),
    ).toEqual({
      min: 1,
      max: 8,
      warm: 3,
      warmSchedule: [],
      idleMinutes: 25,
    });
  });

  it('rejects a tag given twice in different cases with different values', () => {
    expect(problemsOf({ 'kiln-max': '5', 'KILN-MAX': '7' })).toEqual([
      'kiln-max is given twice with different values ("5", "7"): keep one, e.g. kiln-max=5',
    ]);
  });

  it('accepts the bounds themselves: 0 ≤ min ≤ max ≤ 1000, warm ≤ max', () => {
    expect(policyOf({ 'kiln-min': '1000', 'kiln-max': '1000', 'kiln-warm': '1000' }).min).toBe(1000);
    expect(policyOf({ 'kiln-min': '0', 'kiln-max': '0' }).max).toBe(0);
  });

  it.each([
    ['kiln-min', 'abc', 'kiln-min="abc" must be a whole number from 0 to 1000, e.g. kiln-min=2'],
    ['kiln-min', '-1', 'kiln-min="-1" must be a whole number from 0 to 1000, e.g. kiln-min=2'],
    ['kiln-max', '1001', 'kiln-max="1001" must be a whole number from 0 to 1000, e.g. kiln-max=20'],
    ['kiln-max', '', 'kiln-max="" must be a whole number from 0 to 1000, e.g. kiln-max=20'],
    ['kiln-warm', '1.5', 'kiln-warm="1.5" must be a whole number from 0 to 1000, e.g. kiln-warm=2'],
    [
      'kiln-idle-minutes',
      'ten',
      'kiln-idle-minutes="ten" must be a whole number from 0 to 1440, e.g. kiln-idle-minutes=10',
    ],
  ])('rejects %s=%s with the tag, the value and an example', (name, value, message) => {
    expect(problemsOf({ 'kiln-warm': '0', [name]: value })).toEqual([message]);
  });

  it('rejects min above max and warm above max', () => {
    expect(problemsOf({ 'kiln-min': '5', 'kiln-max': '3' })).toEqual([
      'kiln-min="5" is above kiln-max="3": min must not exceed max, e.g. kiln-min=2 with kiln-max=20',
    ]);
    expect(problemsOf({ 'kiln-warm': '5', 'kiln-max': '3' })).toEqual([
      'kiln-warm="5" is above kiln-max="3": warm machines must fit within max, e.g. kiln-warm=3',
    ]);
  });

  it.each([
    ['Mon-Fri 07:00-19:00', 'must be "Days HH:MM-HH:MM TimeZone:count"'],
    [
      'Weekdays 07:00-19:00 UTC:2',
      'has days "Weekdays": use Daily, a range like Mon-Fri or a list like Sat,Sun',
    ],
    ['Mon-Fri-Sat 07:00-19:00 UTC:2', 'has days "Mon-Fri-Sat"'],
    ['Mon-Fri 7:00-19:00 UTC:2', 'has times "7:00-19:00": use HH:MM-HH:MM (24-hour)'],
    [
      'Mon-Fri 07:00-25:00 UTC:2',
      'has times "07:00-25:00": hours 00-23 (24:00 only as an end), minutes 00-59',
    ],
    ['Mon-Fri 07:60-19:00 UTC:2', 'has times "07:60-19:00"'],
    ['Mon-Fri 07:00-07:00 UTC:2', 'has times "07:00-07:00": the window is empty (end equals start)'],
    ['Mon-Fri 07:00-19:00 Europe/Atlantis:2', 'has time zone "Europe/Atlantis": use an IANA zone'],
    ['Mon-Fri 07:00-19:00 Europe/Berlin', 'has "Europe/Berlin": end with TimeZone:count'],
    ['Mon-Fri 07:00-19:00 Europe/Berlin:x', 'has count "x": use a whole number from 0 to 1000'],
  ])('rejects the warm schedule entry "%s"', (entry, message) => {
    const problems = problemsOf({ 'kiln-warm-schedule': entry });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`kiln-warm-schedule entry "${entry}" ${message}`);
    expect(problems[0]).toContain('e.g. kiln-warm-schedule=Mon-Fri 07:00-19:00 Europe/Berlin:4');
  });

  it('rejects a scheduled warm count above max and an empty schedule', () => {
    expect(problemsOf({ 'kiln-max': '3', 'kiln-warm-schedule': 'Daily 07:00-19:00 UTC:4' })).toEqual([
      'kiln-warm-schedule entry "Daily 07:00-19:00 UTC:4" keeps 4 warm, above kiln-max=3, e.g. kiln-warm-schedule=Mon-Fri 07:00-19:00 Europe/Berlin:3',
    ]);
    expect(problemsOf({ 'kiln-warm-schedule': ' ; ' })[0]).toContain('has no entry');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      'kiln-min': 'x',
      'kiln-max': '2',
      'kiln-warm': '3',
      'kiln-idle-minutes': '-5',
      'kiln-warm-schedule': 'Mon-Fri 07:00-19:00 UTC:9; Sun 01:00-02:00 Mars/Olympus:1',
    });
    expect(problems).toHaveLength(5);
    expect(problems.map((p) => p.split(/[=" ]/)[0])).toEqual([
      'kiln-min',
      'kiln-idle-minutes',
      'kiln-warm',
      'kiln-warm-schedule',
      'kiln-warm-schedule',
    ]);
  });

  it('parses several schedule entries, day lists and ranges that wrap the week', () => {
    const policy = policyOf({
      'kiln-warm-schedule':
        'Mon-Fri 07:00-19:00 Europe/Berlin:4; Sat,Sun 10:00-14:00 UTC:1;Fri-Mon 22:00-06:00 UTC:2',
    });
    expect(policy.warmSchedule.map((w) => [w.days, w.start, w.end, w.timeZone, w.count])).toEqual([
      [[1, 2, 3, 4, 5], 420, 1140, 'Europe/Berlin', 4],
      [[0, 6], 600, 840, 'UTC', 1],
      [[0, 1, 5, 6], 1320, 360, 'UTC', 2],
    ]);
  });
});

describe('warmAt', () => {
  const berlin = policyOf({ 'kiln-warm': '1', 'kiln-warm-schedule': 'Mon-Fri 07:00-19:00 Europe/Berlin:4' });

  it('uses kiln-warm outside every window and the entry inside it (winter: Berlin is UTC+1)', () => {
    // Thursday 15 January 2026
    expect(warmAt(berlin, at('2026-01-15T05:59:00Z'))).toBe(1);
    expect(warmAt(berlin, at('2026-01-15T06:00:00Z'))).toBe(4);
    expect(warmAt(berlin, at('2026-01-15T17:59:00Z'))).toBe(4);
    expect(warmAt(berlin, at('2026-01-15T18:00:00Z'))).toBe(1);
    // Saturday 17 January: not a window day
    expect(warmAt(berlin, at('2026-01-17T10:00:00Z'))).toBe(1);
  });

  it('follows summer time (Berlin is UTC+2)', () => {
    // Wednesday 15 July 2026
    expect(warmAt(berlin, at('2026-07-15T04:59:00Z'))).toBe(1);
    expect(warmAt(berlin, at('2026-07-15T05:00:00Z'))).toBe(4);
    expect(warmAt(berlin, at('2026-07-15T16:59:00Z'))).toBe(4);
    expect(warmAt(berlin, at('2026-07-15T17:00:00Z'))).toBe(1);
  });

  it('counts the weekday in the zone, not in UTC', () => {
    // 23:30 UTC on Friday 16 January is 00:30 on Saturday in Berlin
    const late = policyOf({ 'kiln-warm-schedule': 'Sat 00:00-01:00 Europe/Berlin:2' });
    expect(warmAt(late, at('2026-01-16T23:30:00Z'))).toBe(2);
    expect(warmAt(late, at('2026-01-17T00:30:00Z'))).toBe(0);
    // 15:00 UTC on Sunday 4 January is 00:00 on Monday in Tokyo
    const tokyo = policyOf({ 'kiln-warm-schedule': 'Mon 00:00-08:00 Asia/Tokyo:3' });
    expect(warmAt(tokyo, at('2026-01-04T14:59:00Z'))).toBe(0);
    expect(warmAt(tokyo, at('2026-01-04T15:00:00Z'))).toBe(3);
    // New York, Monday 5 January: 09:00 EST is 14:00 UTC
    const ny = policyOf({ 'kiln-warm-schedule': 'Mon-Fri 09:00-17:00 America/New_York:5' });
    expect(warmAt(ny, at('2026-01-05T13:59:00Z'))).toBe(0);
    expect(warmAt(ny, at('2026-01-05T14:00:00Z'))).toBe(5);
    expect(warmAt(ny, at('2026-01-05T21:59:00Z'))).toBe(5);
    expect(warmAt(ny, at('2026-01-05T22:00:00Z'))).toBe(0);
  });

  it('on the spring-forward Sunday (29 March 2026) a window in the missing hour begins at 03:00', () => {
    const spring = policyOf({
      'kiln-warm-schedule': 'Sun 02:30-04:00 Europe/Berlin:3; Daily 07:00-19:00 Europe/Berlin:2',
    });
    expect(warmAt(spring, at('2026-03-29T00:59:00Z'))).toBe(0); // 01:59 CET
    expect(warmAt(spring, at('2026-03-29T01:00:00Z'))).toBe(3); // 03:00 CEST
    expect(warmAt(spring, at('2026-03-29T01:59:00Z'))).toBe(3); // 03:59 CEST
    expect(warmAt(spring, at('2026-03-29T02:00:00Z'))).toBe(0); // 04:00 CEST
    // 07:00 local: 06:00 UTC the day before, 05:00 UTC from that Sunday on
    expect(warmAt(spring, at('2026-03-28T05:59:00Z'))).toBe(0);
    expect(warmAt(spring, at('2026-03-28T06:00:00Z'))).toBe(2);
    expect(warmAt(spring, at('2026-03-29T04:59:00Z'))).toBe(0);
    expect(warmAt(spring, at('2026-03-29T05:00:00Z'))).toBe(2);
  });

  it('on the fall-back Sunday (25 October 2026) the repeated hour is in the window both times', () => {
    const autumn = policyOf({
      'kiln-warm-schedule': 'Sun 02:00-03:00 Europe/Berlin:3; Daily 07:00-19:00 Europe/Berlin:2',
    });
    expect(warmAt(autumn, at('2026-10-24T23:59:00Z'))).toBe(0); // 01:59 CEST
    expect(warmAt(autumn, at('2026-10-25T00:00:00Z'))).toBe(3); // 02:00 CEST
    expect(warmAt(autumn, at('2026-10-25T00:59:00Z'))).toBe(3); // 02:59 CEST
    expect(warmAt(autumn, at('2026-10-25T01:00:00Z'))).toBe(3); // 02:00 CET
    expect(warmAt(autumn, at('2026-10-25T01:59:00Z'))).toBe(3); // 02:59 CET
    expect(warmAt(autumn, at('2026-10-25T02:00:00Z'))).toBe(0); // 03:00 CET
    // 07:00 local: 05:00 UTC the day before, 06:00 UTC from that Sunday on
    expect(warmAt(autumn, at('2026-10-24T05:00:00Z'))).toBe(2);
    expect(warmAt(autumn, at('2026-10-25T05:59:00Z'))).toBe(0);
    expect(warmAt(autumn, at('2026-10-25T06:00:00Z'))).toBe(2);
  });

  it('runs an overnight window from its start day into the next morning', () => {
    const night = policyOf({ 'kiln-warm-schedule': 'Fri 22:00-06:00 UTC:5' });
    expect(warmAt(night, at('2026-01-09T21:59:00Z'))).toBe(0); // Friday
    expect(warmAt(night, at('2026-01-09T22:00:00Z'))).toBe(5);
    expect(warmAt(night, at('2026-01-10T05:59:00Z'))).toBe(5); // Saturday morning
    expect(warmAt(night, at('2026-01-10T06:00:00Z'))).toBe(0);
    expect(warmAt(night, at('2026-01-10T23:00:00Z'))).toBe(0); // Saturday night: not a start day
    expect(warmAt(night, at('2026-01-09T05:00:00Z'))).toBe(0); // Friday morning: Thursday is not a start day
  });

  it('takes the highest count where windows overlap, and a window to 24:00 ends at midnight', () => {
    const overlap = policyOf({ 'kiln-warm-schedule': 'Daily 00:00-24:00 UTC:1; Mon-Fri 08:00-18:00 UTC:6' });
    expect(warmAt(overlap, at('2026-01-05T23:59:00Z'))).toBe(1);
    expect(warmAt(overlap, at('2026-01-05T12:00:00Z'))).toBe(6);
    expect(warmAt(overlap, at('2026-01-10T12:00:00Z'))).toBe(1);
  });
});

describe('desiredCapacity', () => {
  const now = at('2026-01-15T12:00:00Z');

  it('is busy + queued + warm when that is within bounds', () => {
    const policy = policyOf({ 'kiln-min': '1', 'kiln-max': '60', 'kiln-warm': '2' });
    const d = desiredCapacity({ policy, now, busy: 5, queued: 3, idleInstances: 1, total: 6 });
    expect(d).toMatchObject({ desired: 10, wanted: 10, warm: 2, decidedBy: 'demand' });
    expect(d.reason).toBe('demand: 10 wanted (busy 5 + queued 3 + warm 2 from kiln-warm); has 6 (1 idle)');
  });

  it('is clamped by max', () => {
    const policy = policyOf({ 'kiln-max': '60', 'kiln-warm': '5' });
    const d = desiredCapacity({ policy, now, busy: 50, queued: 20, idleInstances: 0, total: 50 });
    expect(d).toMatchObject({ desired: 60, wanted: 75, decidedBy: 'max' });
    expect(d.reason).toMatch(/^max 60 holds it back: 75 wanted \(busy 50 \+ queued 20 \+ warm 5/);
  });

  it('is clamped by min', () => {
    const policy = policyOf({ 'kiln-min': '4', 'kiln-max': '10' });
    const d = desiredCapacity({ policy, now, busy: 1, queued: 0, idleInstances: 3, total: 4 });
    expect(d).toMatchObject({ desired: 4, wanted: 1, decidedBy: 'min' });
    expect(d.reason).toMatch(/^min 4 holds it up: only 1 wanted/);
  });

  it('names the schedule entry when it sets the warm count', () => {
    const policy = policyOf({
      'kiln-warm': '1',
      'kiln-warm-schedule': 'Mon-Fri 07:00-19:00 Europe/Berlin:4',
    });
    const d = desiredCapacity({ policy, now, busy: 0, queued: 0, idleInstances: 0, total: 0 });
    expect(d.desired).toBe(4);
    expect(d.reason).toContain('warm 4 from schedule "Mon-Fri 07:00-19:00 Europe/Berlin:4"');
  });
});

describe('chooseScaleIn', () => {
  const now = at('2026-01-15T12:00:00Z');
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
  const policy = policyOf({ 'kiln-max': '20', 'kiln-idle-minutes': '10' });
  const instance = (id: string, over: Partial<CapacityInstance> = {}): CapacityInstance => ({
    instanceId: id,
    computerName: `ghr-${id.padStart(6, '0')}`,
    runner: 'idle',
    idleSince: minutesAgo(30),
    oldModel: false,
    ...over,
  });
  const ids = (r: { instanceId: string }[]) => r.map((i) => i.instanceId);

  it('never picks a busy or unknown-state instance, even far above desired (S1)', () => {
    const instances = [
      instance('0', { runner: 'busy' }),
      instance('1', { runner: 'unknown', oldModel: true }),
      instance('2', { runner: 'offline' }),
    ];
    const result = chooseScaleIn({ instances, desired: 0, now, policy });
    expect(result.remove).toEqual([]);
    expect(result.kept.map((k) => [k.instanceId, k.reason])).toEqual([
      ['0', 'busy'],
      ['1', 'state-unknown'],
      ['2', 'not-online'],
    ]);
  });

  it('picks old-model instances first, then the longest idle', () => {
    const instances = [
      instance('0', { idleSince: minutesAgo(300) }),
      instance('1', { oldModel: true, idleSince: minutesAgo(15) }),
      instance('2', { idleSince: minutesAgo(60) }),
      instance('3', { oldModel: true, idleSince: minutesAgo(20) }),
      instance('4', { idleSince: minutesAgo(20) }),
    ];
    const result = chooseScaleIn({ instances, desired: 2, now, policy });
    expect(ids(result.remove)).toEqual(['3', '1', '0']);
    expect(result.remove.map((r) => r.oldModel)).toEqual([true, true, false]);
    expect(result.kept.map((k) => [k.instanceId, k.reason])).toEqual([
      ['2', 'needed'],
      ['4', 'needed'],
    ]);
  });

  it('respects the idle minutes: a machine idle too briefly, or since an unknown time, stays', () => {
    const instances = [
      instance('0', { idleSince: minutesAgo(9) }),
      instance('1', { idleSince: undefined }),
      instance('2', { idleSince: minutesAgo(10) }),
    ];
    const result = chooseScaleIn({ instances, desired: 0, now, policy });
    expect(ids(result.remove)).toEqual(['2']);
    expect(result.kept.map((k) => [k.instanceId, k.reason])).toEqual([
      ['0', 'idle-too-briefly'],
      ['1', 'idle-too-briefly'],
    ]);
  });

  it('never goes below desired, counting busy instances toward it', () => {
    const instances = [
      instance('0', { runner: 'busy' }),
      instance('1', { runner: 'busy' }),
      instance('2'),
      instance('3'),
      instance('4'),
    ];
    expect(ids(chooseScaleIn({ instances, desired: 3, now, policy }).remove)).toHaveLength(2);
    expect(chooseScaleIn({ instances, desired: 5, now, policy }).remove).toEqual([]);
    expect(chooseScaleIn({ instances, desired: 9, now, policy }).remove).toEqual([]);
  });

  it('never goes below min even if asked for less', () => {
    const withMin = policyOf({ 'kiln-min': '2', 'kiln-max': '20' });
    const instances = [instance('0'), instance('1'), instance('2')];
    expect(chooseScaleIn({ instances, desired: 0, now, policy: withMin }).remove).toHaveLength(1);
  });

  it('is deterministic: equal instances go by instance id', () => {
    const instances = [instance('10'), instance('2'), instance('1')];
    expect(ids(chooseScaleIn({ instances, desired: 1, now, policy }).remove)).toEqual(['1', '2']);
  });
});
