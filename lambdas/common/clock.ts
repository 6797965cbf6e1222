/**
 * The time every handler reads. On AWS it is the wall clock; the local runner swaps in a
 * scaled clock so that simulated generation times, poll waits and deadlines keep their
 * real proportions while a run takes seconds.
 */
export interface Clock {
  now(): number;
}

const wallClock: Clock = { now: () => Date.now() };
let current: Clock = wallClock;

export function now(): number {
  return current.now();
}

/** Replaces the clock (local runner and tests only); returns a function that restores it. */
export function useClock(clock: Clock): () => void {
  const previous = current;
  current = clock;
  return () => {
    current = previous;
  };
}
