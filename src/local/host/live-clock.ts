/**
 * Drives a simulation's virtual clock in real time (× speed) for `kiln serve`: every tick the clock
 * moves forward by the real time elapsed times `speed`, running the durable runner, cloud work and
 * the app's timers due on the way — so the app behaves as it would on a host, only faster.
 */
import { nextOccurrence, parseNcrontab } from '../../domain/ncrontab.js';
import type { VirtualClock } from '../clock.js';
import type { LocalAppHost } from './app-host.js';

export interface LiveClockOptions {
  host: LocalAppHost;
  clock: VirtualClock;
  /** Virtual milliseconds per real millisecond (1: the wall clock's pace). */
  speed: number;
  /** Fire the app's timer functions on their schedules. */
  timers: boolean;
  tickMs?: number;
  onError?: (error: Error) => void;
}

export class LiveClock {
  private interval: NodeJS.Timeout | undefined;
  private lastReal = Date.now();
  private running: Promise<void> = Promise.resolve();
  private readonly due: string[] = [];

  constructor(private readonly options: LiveClockOptions) {}

  start(): void {
    if (this.options.timers) this.scheduleTimers();
    this.lastReal = Date.now();
    this.interval = setInterval(() => {
      this.running = this.running
        .then(() => this.tick())
        .catch((error: Error) => this.options.onError?.(error));
    }, this.options.tickMs ?? 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.interval);
    await this.running;
  }

  private async tick(): Promise<void> {
    const { clock, host } = this.options;
    const real = Date.now();
    const target = clock.nowMs() + (real - this.lastReal) * this.options.speed;
    this.lastReal = real;
    await this.settle();
    for (let next = clock.nextAt(); next !== undefined && next <= target; next = clock.nextAt()) {
      clock.advanceTo(next);
      clock.runDue();
      await this.settle();
    }
    clock.advanceTo(target);
    await host.runner.runUntilQuiet();
  }

  /** Fires the timers that came due, then runs everything that can run at this instant. */
  private async settle(): Promise<void> {
    const { host } = this.options;
    for (;;) {
      while (this.due.length > 0) await host.fireTimer(this.due.shift()!);
      await host.runner.runUntilQuiet();
      if (this.due.length === 0) return;
    }
  }

  private scheduleTimers(): void {
    const { clock, host } = this.options;
    for (const timer of host.timerFunctions()) {
      const schedule = parseNcrontab(timer.schedule);
      const arm = (after: number) => {
        const at = nextOccurrence(schedule, after);
        if (at === undefined) return;
        clock.schedule(
          at,
          () => {
            this.due.push(timer.name);
            arm(at);
          },
          `timer ${timer.name}`,
        );
      };
      arm(clock.nowMs() - 1);
    }
  }
}
