/**
 * A discrete-event clock: simulated time stands still while anything runs, and jumps to the
 * next pending timer (a Wait, a retry interval, a Task's timeout) once every execution is
 * blocked on one. Lambda invocations run one at a time, in the order they were asked for, so
 * the same workload gives the same timeline, and the same figures, on any machine; handler
 * run time never counts as simulated time.
 */
import type { LocalClock } from "./scaled-clock";

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly fire: () => void;
}

/** Macrotask rounds with nothing running before the clock moves: the engine's own steps between states settle in fewer. */
const QUIET_ROUNDS = 3;

export class VirtualClock implements LocalClock {
  private current: number;
  private timers: Timer[] = [];
  private order = 0;
  private running = false;
  private readonly waiting: (() => void)[] = [];
  private driving = false;
  private closed = false;

  /** @param start simulated epoch ms at which time starts */
  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  after(seconds: number, fire: () => void): () => void {
    if (this.closed) throw new Error("the virtual clock is closed");
    // Whole milliseconds, as Date.now() gives them.
    const timer: Timer = { at: this.current + Math.round(Math.max(0, seconds) * 1000), order: this.order++, fire };
    this.timers.push(timer);
    this.drive();
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  async work<T>(invocation: () => Promise<T>): Promise<T> {
    if (this.running) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running = true;
    try {
      return await invocation();
    } finally {
      // Handed straight to the next invocation asked for, so the clock never sees a gap between them.
      const next = this.waiting.shift();
      if (next) next();
      else this.running = false;
    }
  }

  /** Stops moving time; pending timers never fire. */
  close(): void {
    this.closed = true;
    this.timers = [];
  }

  private drive(): void {
    if (this.driving) return;
    this.driving = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.closed && this.timers.length > 0) {
      await this.quiet();
      if (this.closed) break;
      // The earliest timer, and of those due at once the first set.
      const next = this.timers.reduce<Timer | undefined>((best, timer) => (!best || timer.at < best.at || (timer.at === best.at && timer.order < best.order) ? timer : best), undefined);
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.driving = false;
  }

  /** Resolves once nothing has run for a few macrotask rounds. */
  private async quiet(): Promise<void> {
    let rounds = 0;
    while (rounds < QUIET_ROUNDS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      await new Promise((resolve) => setImmediate(resolve));
      rounds = this.running || this.waiting.length > 0 ? 0 : rounds + 1;
    }
  }
}
