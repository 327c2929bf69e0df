/**
 * Paces the broker's GitHub writes: a token bucket of `perMinute` tokens that refills evenly. A
 * fleet booting at once (or a flood of calls) gets 429 with the seconds until the next token from
 * kiln, instead of kiln meeting GitHub's secondary rate limits (900 points a minute, a write costing
 * 5, and content-creation limits) with its own credential, which would stall every other flow too.
 * Per app instance: each Functions instance paces itself.
 *
 * Each caller refused is told a time one token later than the caller refused before it, so a burst
 * of waiting VMs comes back spread over the minutes the bucket needs, about one per token, rather
 * than all at the next token (where all but one would be refused again, over and over).
 */
export interface Pacer {
  /** Takes a token now, or says how many seconds until one is free. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createPacer(perMinute: number): Pacer {
  const msPerToken = 60_000 / perMinute;
  let tokens = perMinute;
  let at: number | undefined;
  /** The latest time a refused caller was told to come back. */
  let promisedUntil = 0;
  return {
    take(nowMs) {
      if (at !== undefined && nowMs > at) tokens = Math.min(perMinute, tokens + (nowMs - at) / msPerToken);
      at = Math.max(at ?? nowMs, nowMs);
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      const nextToken = nowMs + (1 - tokens) * msPerToken;
      promisedUntil = Math.max(promisedUntil + msPerToken, nextToken);
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((promisedUntil - nowMs) / 1000)) };
    },
  };
}
