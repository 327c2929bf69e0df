import { describe, expect, it } from 'vitest';
import { nextOccurrence, parseNcrontab } from '../../../src/domain/ncrontab.js';

const next = (expr: string, after: string) =>
  new Date(nextOccurrence(parseNcrontab(expr), Date.parse(after))!).toISOString();

describe('NCRONTAB', () => {
  it('finds the next monthly rebuild (03:00 UTC on the 1st)', () => {
    expect(next('0 0 3 1 * *', '2026-11-28T10:00:00Z')).toBe('2026-12-01T03:00:00.000Z');
    expect(next('0 0 3 1 * *', '2026-12-01T03:00:00Z')).toBe('2027-01-01T03:00:00.000Z');
  });

  it('steps every 15 minutes', () => {
    expect(next('0 */15 * * * *', '2026-12-01T02:55:00Z')).toBe('2026-12-01T03:00:00.000Z');
    expect(next('0 */15 * * * *', '2026-12-01T03:00:00Z')).toBe('2026-12-01T03:15:00.000Z');
  });

  it('handles lists, ranges, names and weekdays', () => {
    expect(next('30 5 9-17 * * mon-fri', '2026-11-28T12:00:00Z')).toBe('2026-11-30T09:05:30.000Z'); // Saturday → Monday
    expect(next('0 0 6 * jan,jul *', '2026-11-28T00:00:00Z')).toBe('2027-01-01T06:00:00.000Z');
  });

  it('rejects malformed expressions with the field named', () => {
    expect(() => parseNcrontab('0 */15 * * *')).toThrow(/six fields/);
    expect(() => parseNcrontab('0 61 * * * *')).toThrow(/minute field/);
    expect(() => parseNcrontab('0 0 25 * * *')).toThrow(/hour field/);
    expect(() => parseNcrontab('0 */0 * * * *')).toThrow(/bad step/);
  });
});
