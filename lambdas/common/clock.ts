/**
 * The time the handlers and the Kling client read: a port like any other. On AWS it is the wall
 * clock; the local runner passes a scaled clock so that simulated generation times, poll waits
 * and deadlines keep their real proportions while a run takes seconds.
 */
export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };
