import type { Clock } from "#lambdas/common/clock";

/**
 * The simulated time a local run keeps: what handlers, the simulator and the trace read, and
 * what the engine's Waits, retry intervals and Task timeouts count in.
 */
export interface LocalClock extends Clock {
  /** Calls `fire` once this many simulated seconds have passed; returns a function that cancels it. */
  after(seconds: number, fire: () => void): () => void;
  /** Runs one Lambda invocation: a virtual clock holds time still while it runs. */
  work<T>(invocation: () => Promise<T>): Promise<T>;
}

/**
 * Simulated time that runs `1 / timeScale` times faster than the wall clock: with a scale of
 * 0.01 a 300 s generation takes 3 s. Handlers, the simulator and the trace all read it.
 */
export class ScaledClock implements LocalClock {
  private readonly realStart = Date.now();

  constructor(readonly timeScale: number) {
    if (!(timeScale > 0 && timeScale <= 1)) throw new Error(`the time scale must be above 0 and at most 1, got ${timeScale}`);
  }

  now(): number {
    return this.realStart + (Date.now() - this.realStart) / this.timeScale;
  }

  /** Real milliseconds that stand for this many simulated seconds. */
  realMs(simulatedSeconds: number): number {
    return simulatedSeconds * 1000 * this.timeScale;
  }

  after(seconds: number, fire: () => void): () => void {
    const timer = setTimeout(fire, this.realMs(seconds));
    return () => clearTimeout(timer);
  }

  /** Handler time is real time here, and counts as simulated time too. */
  work<T>(invocation: () => Promise<T>): Promise<T> {
    return invocation();
  }
}
