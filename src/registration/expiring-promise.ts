/**
 * A read kept for `ttlMs` and shared by every caller meanwhile (a fleet boots in bursts): read again
 * once it is older (or the clock went back), or older than `readSince` when a caller has reason to
 * doubt it, and never kept when it failed, so the next caller tries again.
 */
export function expiringPromise<T>(
  ttlMs: number,
  load: () => Promise<T>,
): (nowMs: number, readSince?: number) => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return (nowMs, readSince) => {
    const doubted = readSince !== undefined && cached !== undefined && cached.at < readSince;
    if (!cached || doubted || nowMs - cached.at > ttlMs || nowMs < cached.at) {
      const value = load();
      cached = { at: nowMs, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
}
