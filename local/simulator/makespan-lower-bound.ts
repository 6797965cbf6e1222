/**
 * The shortest time any schedule could take for a workload on Kling: a lower bound, so a run's
 * makespan divided by it is never below 1 and what lies above 1 is time the schedule lost.
 *
 * The jobs arrive in stages (the benchmark's batches, each sent when the one before it ended;
 * one stage when everything arrives at once). For each stage two things are unavoidable:
 * - its longest job runs whole after the stage began: the stage cannot end before its start
 *   plus that job's generation time;
 * - every job needs a slot for its whole generation time, and a slot that another user of the
 *   account holds is not the pipeline's: the stage cannot end before the earliest moment at
 *   which the free slot-time since its start (slots x elapsed time, less the slot-time other
 *   users held meanwhile) covers the stage's total work.
 * A stage starts at the earliest when the one before it could end. Neither bound assumes an
 * order, a slot or a policy, so no schedule beats their maximum; the other users' slots are
 * those they really held in the run measured.
 */

/** A slot another user of the account held, in seconds from the workload's start; `until` may be Infinity. */
export interface TakenSlot {
  readonly from: number;
  readonly until: number;
}

/** Slots other users hold from `at` until the next change. */
interface Held {
  readonly at: number;
  readonly held: number;
}

export function makespanLowerBoundSeconds(stages: readonly (readonly number[])[], slots: number, taken: readonly TakenSlot[] = []): number {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be a whole number of 1 or more, got ${slots}`);
  for (const seconds of stages.flat()) {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`a generation time must be a finite number of 0 or more seconds, got ${seconds}`);
  }
  const profile = heldProfile(taken, slots);
  let start = 0;
  for (const stage of stages) {
    if (stage.length === 0) continue;
    const work = stage.reduce((sum, seconds) => sum + seconds, 0);
    start = Math.max(start + Math.max(...stage), freeSlotTimeCovers(profile, slots, start, work));
  }
  return start;
}

/** How many slots other users hold over time: a step function, from -Infinity. */
function heldProfile(taken: readonly TakenSlot[], slots: number): Held[] {
  const changes = new Map<number, number>();
  for (const { from, until } of taken) {
    if (!(until > from)) continue;
    changes.set(from, (changes.get(from) ?? 0) + 1);
    if (Number.isFinite(until)) changes.set(until, (changes.get(until) ?? 0) - 1);
  }
  const profile: Held[] = [{ at: -Infinity, held: 0 }];
  let held = 0;
  for (const at of [...changes.keys()].sort((a, b) => a - b)) {
    held += changes.get(at) ?? 0;
    if (held > slots) throw new RangeError(`other users hold ${held} slots at ${at} s, more than the account's ${slots}`);
    profile.push({ at, held });
  }
  return profile;
}

/** The earliest moment from `start` at which the slot-time other users left free adds up to `work` seconds. */
function freeSlotTimeCovers(profile: readonly Held[], slots: number, start: number, work: number): number {
  let remaining = work;
  let at = start;
  for (let index = 0; index < profile.length; index++) {
    if (remaining <= 0) return at;
    const next = profile[index + 1]?.at ?? Infinity;
    if (next <= at) continue;
    const free = slots - (profile[index]?.held ?? 0);
    if (free > 0 && free * (next - at) >= remaining) return at + remaining / free;
    // Past the last change nothing frees up any more.
    if (!Number.isFinite(next)) break;
    remaining -= free * (next - at);
    at = next;
  }
  throw new RangeError(`other users hold every slot for good from ${at} s: ${remaining} s of work can never run`);
}
