/**
 * The virtual clock of a simulation. Durable timers and the fake cloud's slow work (boots, reimages,
 * replication, builds) are scheduled on it; it only moves forward when nothing else can happen, so a
 * simulated month takes seconds and every run is reproducible.
 */
export interface ScheduledWork {
  at: number;
  seq: number;
  run: () => void;
  label: string;
}

export class VirtualClock {
  private current: number;
  private queue: ScheduledWork[] = [];
  private seq = 0;
  private readonly advanceListeners: ((from: number, to: number) => void)[] = [];

  constructor(start: Date | string | number) {
    this.current = new Date(start).getTime();
    if (Number.isNaN(this.current)) throw new RangeError(`invalid clock start: ${String(start)}`);
  }

  nowMs(): number {
    return this.current;
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Runs `run` when the clock reaches `at` (immediately on the next drain if `at` is not in the future). */
  schedule(at: Date | number, run: () => void, label = 'work'): void {
    const when = Math.max(typeof at === 'number' ? at : at.getTime(), this.current);
    this.queue.push({ at: when, seq: this.seq++, run, label });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  after(minutes: number, run: () => void, label?: string): void {
    this.schedule(this.current + minutes * 60_000, run, label);
  }

  /** Time of the next scheduled work, or undefined when nothing is scheduled. */
  nextAt(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Runs everything due at the current time; returns how many items ran. */
  runDue(): number {
    let ran = 0;
    while (this.queue.length > 0 && this.queue[0]!.at <= this.current) {
      const item = this.queue.shift()!;
      item.run();
      ran++;
    }
    return ran;
  }

  /** Moves to `at` (never backwards) without running anything. */
  advanceTo(at: number): void {
    if (at <= this.current) return;
    // Listeners see the world as it stood over [from, to): nothing changes between two instants.
    for (const listener of this.advanceListeners) listener(this.current, at);
    this.current = at;
  }

  /** Calls `listener` before each move forward, with where the clock is and where it goes (measurements over time). */
  onAdvance(listener: (from: number, to: number) => void): void {
    this.advanceListeners.push(listener);
  }
}
