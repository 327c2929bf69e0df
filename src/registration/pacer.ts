/**
 * Paces the broker's GitHub writes: a token bucket of `perMinute` tokens that refills evenly. A
 * fleet booting at once (or a flood of calls) gets 429 with the seconds until the next token from
 * kiln, instead of kiln meeting GitHub's secondary rate limits (900 points a minute, a write costing
 * 5, and content-creation limits) with its own credential, which would stall every other flow too.
 * Per app instance: each Functions instance paces itself.
 */
export interface Pacer {
  /** Takes a token now, or says how many seconds until one is free. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createPacer(perMinute: number): Pacer {
  const msPerToken = 60_000 / perMinute;
  let tokens = perMinute;
  let at: number | undefined;
  return {
    take(nowMs) {
      if (at !== undefined && nowMs > at) tokens = Math.min(perMinute, tokens + (nowMs - at) / msPerToken);
      at = Math.max(at ?? nowMs, nowMs);
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - tokens) * msPerToken) / 1000)) };
    },
  };
}
