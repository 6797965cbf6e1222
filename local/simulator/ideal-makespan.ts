/**
 * The shortest time a batch could take on Kling: the same generation times, in the same order,
 * on the account's concurrency slots, each job starting the instant a slot frees and known
 * done the instant it finishes. A pipeline's makespan divided by this is its overhead.
 */
export function idealMakespanSeconds(generationSeconds: readonly number[], slots: number): number {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a whole number of 1 or more, got ${slots}`);
  const freeAt: number[] = Array.from({ length: slots }, () => 0);
  for (const seconds of generationSeconds) {
    let earliest = 0;
    for (let slot = 1; slot < slots; slot++) if ((freeAt[slot] ?? 0) < (freeAt[earliest] ?? 0)) earliest = slot;
    freeAt[earliest] = (freeAt[earliest] ?? 0) + seconds;
  }
  return Math.max(...freeAt);
}
