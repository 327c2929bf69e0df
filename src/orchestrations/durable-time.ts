/**
 * Moments relative to the orchestration's own clock: replays must compute the same ones, so they
 * come from context.df.currentUtcDateTime, never from the wall clock (S7).
 */
import type { OrchestrationContext } from 'durable-functions';

export interface Duration {
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
}

/** The moment `duration` after the orchestration's current time. */
export function after(
  context: OrchestrationContext,
  { days = 0, hours = 0, minutes = 0, seconds = 0 }: Duration,
): Date {
  return new Date(
    context.df.currentUtcDateTime.getTime() +
      days * 24 * 3600_000 +
      hours * 3600_000 +
      minutes * 60_000 +
      seconds * 1000,
  );
}

/**
 * At least `minutes` from now, rounded up to a whole `tick` of UTC time (default: `minutes`), so that
 * every scale set waiting on the same clock looks at the same moment.
 */
export function onTick(context: OrchestrationContext, minutes: number, tick = minutes): Date {
  const tickMs = tick * 60_000;
  return new Date(Math.ceil(after(context, { minutes }).getTime() / tickMs) * tickMs);
}
