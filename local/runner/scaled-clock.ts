import type { Clock } from "#lambdas/common/clock";

/**
 * Simulated time that runs `1 / timeScale` times faster than the wall clock: with a scale of
 * 0.01 a 300 s generation takes 3 s. Handlers, the simulator and the trace all read it.
 */
export class ScaledClock implements Clock {
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
}
