import { describe, expect, it } from 'vitest';
import { expiringPromise } from '../../src/registration/expiring-promise.js';

describe('expiringPromise: a shared read kept for a while', () => {
  it('shares one read within the time to live, reads again after it or when the clock went back', async () => {
    let reads = 0;
    const read = expiringPromise(1_000, async () => ++reads);
    expect(await read(0)).toBe(1);
    expect(await read(1_000)).toBe(1);
    expect(await read(1_001)).toBe(2);
    expect(await read(500)).toBe(3);
  });

  it('keeps no failed read: the next caller tries again', async () => {
    let reads = 0;
    const read = expiringPromise(60_000, async () => {
      reads++;
      if (reads === 1) throw new Error('down');
      return reads;
    });
    await expect(read(0)).rejects.toThrow('down');
    expect(await read(1)).toBe(2);
  });
});
