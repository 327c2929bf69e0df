/**
 * The workload's oracle (issue 19): what an autoscaler that knew every arrival in advance would
 * spend, the yardstick for kiln's waste. A pure function of the arrivals, each stream's serving scale
 * sets and the latencies.
 *
 * Definition. Jobs are taken in arrival order; a job of a stream no managed scale set serves is left
 * out (no autoscaler could run it). For each other job arriving at `a` the oracle has a machine of a
 * serving scale set whose runner is online exactly at `a`, so the job waits 0 s (scale sets have no
 * min or max capacity yet: when they do, a job waits only while max machines are busy, and min
 * machines stay running even without a job). Each machine was asked for `provision + register`
 * minutes before `a` (before the run if need be: the oracle knew), is running `register` minutes
 * before its runner is online, and is deleted the moment its job ends unless the oracle reuses it.
 * So a job costs idle minutes, the cheaper of:
 * - a fresh machine: `register` minutes (counted within the run only: `a - start` when smaller);
 * - reusing a machine of a serving scale set whose job ended at `e <= a`: `a - e` minutes (the latest
 *   such end, best fit). A machine of a one-job scale set (`oneJob`: an ephemeral JIT runner's, a
 *   recycle scale set's) is never reused: before another job it is reimaged and registers again,
 *   which costs the `register` minutes of a fresh one. A new machine goes to a serving scale set
 *   whose machines can be reused, when the stream has one.
 * `idleInstanceMinutes` is the sum; kiln's measured idle minutes over the oracle's is the waste.
 */
import type { Arrival } from '../fake-cloud/workload.js';

export interface OracleInput {
  startMs: number;
  arrivals: readonly Arrival[];
  /** Per stream (by index), the managed scale sets that serve its jobs. */
  serving: readonly (readonly string[])[];
  latency: { provision: number; register: number };
  /** Scale sets whose machines serve one job each (never reused). */
  oneJob?: ReadonlySet<string>;
}

export interface WaitPercentiles {
  p50: number;
  p95: number;
  max: number;
}

export interface OracleResult {
  queueWaitSeconds: WaitPercentiles;
  idleInstanceMinutes: number;
}

const MINUTE = 60_000;

export function oracle(input: OracleInput): OracleResult {
  const { startMs, latency } = input;
  const registerMs = latency.register * MINUTE;
  const oneJob = input.oneJob ?? new Set<string>();
  /** Machines whose job ended or will end: the scale set and when its runner is free again. */
  let machines: { scaleSet: string; freeAt: number }[] = [];
  let idleMs = 0;
  const waits: number[] = [];
  for (const arrival of input.arrivals) {
    const serving = input.serving[arrival.stream] ?? [];
    if (serving.length === 0) continue;
    const a = arrival.at;
    // A machine idle longer than a fresh one's registration would never be chosen again: deleted.
    machines = machines.filter((m) => m.freeAt > a || a - m.freeAt < registerMs);
    const fresh = Math.min(registerMs, a - startMs);
    let best: (typeof machines)[number] | undefined;
    for (const m of machines)
      if (
        m.freeAt <= a &&
        serving.includes(m.scaleSet) &&
        !oneJob.has(m.scaleSet) &&
        (!best || m.freeAt > best.freeAt)
      )
        best = m;
    const end = a + arrival.minutes * MINUTE;
    if (best && a - best.freeAt < fresh) {
      idleMs += a - best.freeAt;
      best.freeAt = end;
    } else {
      idleMs += fresh;
      machines.push({ scaleSet: serving.find((name) => !oneJob.has(name)) ?? serving[0]!, freeAt: end });
    }
    waits.push(0);
  }
  return { queueWaitSeconds: percentiles(waits), idleInstanceMinutes: roundMinutes(idleMs / MINUTE) };
}

/** p50, p95 (nearest rank) and max of whole seconds; all 0 for no values. */
export function percentiles(seconds: readonly number[]): WaitPercentiles {
  if (seconds.length === 0) return { p50: 0, p95: 0, max: 0 };
  const sorted = [...seconds].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: Math.round(rank(0.5)), p95: Math.round(rank(0.95)), max: Math.round(sorted.at(-1)!) };
}

/** Minutes to two decimals, as the report gives them. */
export function roundMinutes(minutes: number): number {
  return Math.round(minutes * 100) / 100;
}
