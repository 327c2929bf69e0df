import { describe, expect, it } from 'vitest';
import { after, onTick } from '../../../src/orchestrations/durable-time.js';
import { fakeOrchestration } from './fake-orchestration-context.js';

const contextAt = (now: string) => fakeOrchestration(now, () => undefined).context;

describe('after', () => {
  const context = contextAt('2026-12-01T03:00:00.000Z');

  it('adds days, hours, minutes and seconds to the orchestration clock', () => {
    expect(after(context, { minutes: 5 }).toISOString()).toBe('2026-12-01T03:05:00.000Z');
    expect(after(context, { seconds: 30 }).toISOString()).toBe('2026-12-01T03:00:30.000Z');
    expect(after(context, { hours: 12 }).toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect(after(context, { days: 31 }).toISOString()).toBe('2027-01-01T03:00:00.000Z');
    expect(after(context, { hours: 1, minutes: 2, seconds: 3 }).toISOString()).toBe(
      '2026-12-01T04:02:03.000Z',
    );
    expect(after(context, {}).toISOString()).toBe('2026-12-01T03:00:00.000Z');
  });

  it('takes fractions as they are', () => {
    expect(after(context, { minutes: 0.5 }).toISOString()).toBe('2026-12-01T03:00:30.000Z');
  });
});

describe('onTick', () => {
  it('rounds up to the next whole tick of UTC time, at least the minutes away', () => {
    const context = contextAt('2026-12-01T03:01:10.000Z');
    expect(onTick(context, 2).toISOString()).toBe('2026-12-01T03:04:00.000Z');
    expect(onTick(context, 5, 2).toISOString()).toBe('2026-12-01T03:08:00.000Z');
    expect(onTick(context, 10).toISOString()).toBe('2026-12-01T03:20:00.000Z');
  });

  it('stays on a tick it lands on exactly', () => {
    expect(onTick(contextAt('2026-12-01T03:02:00.000Z'), 2).toISOString()).toBe('2026-12-01T03:04:00.000Z');
  });
});
