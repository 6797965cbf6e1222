/**
 * A discrete-event clock: simulated time stands still while anything runs, and jumps to the
 * next pending timer (a Wait, a retry interval, a Task's timeout) once every execution is
 * blocked on one. Lambda invocations run one at a time, each once everything else has settled,
 * so the same workload gives the same timeline, and the same figures, on any machine; handler
 * run time never counts as simulated time.
 */
import type { LocalClock } from "./scaled-clock";

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly fire: () => void;
}

/** Event-loop turns before the next invocation or timer. */
const SETTLE_TURNS = 3;

export class VirtualClock implements LocalClock {
  private current: number;
  private timers: Timer[] = [];
  private order = 0;
  /** Invocations asked for and not yet started, in the order they were asked for. */
  private readonly waiting: (() => Promise<void>)[] = [];
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

  /**
   * Runs the invocation when nothing else runs and everything it could race with has settled:
   * so which invocation runs next never depends on how long another one took for real.
   */
  work<T>(invocation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => invocation().then(resolve, reject));
      this.drive();
    });
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
    while (!this.closed) {
      await settled();
      const invocation = this.waiting.shift();
      if (invocation) {
        await invocation();
        continue;
      }
      // The earliest timer, and of those due at once the first set.
      const next = this.timers.reduce<Timer | undefined>((best, timer) => (!best || timer.at < best.at || (timer.at === best.at && timer.order < best.order) ? timer : best), undefined);
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.current = Math.max(this.current, next.at);
      next.fire();
    }
    this.driving = false;
  }
}

/** Resolves after a few event-loop turns and a timer turn: the engine's own steps between states settle in fewer. */
async function settled(): Promise<void> {
  for (let turn = 0; turn < SETTLE_TURNS; turn++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
}
