/**
 * The shortest time a batch could take on Kling: the same generation times, in the same order,
 * on the account's concurrency slots, each job starting the instant a slot frees and known
 * done the instant it finishes. A pipeline's makespan divided by this is its overhead.
 *
 * On a shared account `taken` are the slots other users really held (seconds from the start):
 * they stay where they were, and the jobs fit around them.
 */
export function idealMakespanSeconds(
  generationSeconds: readonly number[],
  slots: number,
  taken: readonly { readonly from: number; readonly until: number }[] = [],
): number {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a whole number of 1 or more, got ${slots}`);
  const blocked: { from: number; until: number }[][] = Array.from({ length: slots }, () => []);
  for (const interval of [...taken].sort((a, b) => a.from - b.from)) {
    const slot = blocked.find((intervals) => (intervals.at(-1)?.until ?? -Infinity) <= interval.from);
    if (!slot) throw new RangeError(`more than ${slots} slots taken at ${interval.from} s`);
    slot.push({ from: interval.from, until: interval.until });
  }
  const freeAt: number[] = Array.from({ length: slots }, () => 0);
  let makespan = 0;
  for (const seconds of generationSeconds) {
    let best = { slot: 0, start: Infinity };
    for (let slot = 0; slot < slots; slot++) {
      let start = freeAt[slot] ?? 0;
      for (const interval of blocked[slot] ?? []) {
        if (interval.until <= start) continue;
        if (interval.from >= start + seconds) break;
        start = interval.until;
      }
      if (start < best.start) best = { slot, start };
    }
    freeAt[best.slot] = best.start + seconds;
    makespan = Math.max(makespan, best.start + seconds);
  }
  return makespan;
}
