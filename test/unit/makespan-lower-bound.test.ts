/**
 * The benchmark's makespan lower bound (local/simulator/makespan-lower-bound.ts): no schedule
 * beats it. Checked against schedules built here, each checked feasible first (never more jobs
 * and other users' tasks at once than the account has slots, each stage after the one before).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { benchWorkload, otherUsersWorkload } from "#local/bench/workload";
import { inBatches } from "#local/runner/batches";
import { makespanLowerBoundSeconds, type TakenSlot } from "#local/simulator/index";

interface Run {
  readonly from: number;
  readonly until: number;
}

/** Jobs and other users' slots running at `at`. */
function runningAt(runs: readonly Run[], at: number): number {
  return runs.filter((run) => run.from <= at && at < run.until).length;
}

/** Whether `seconds` of work fits from `from` beside `runs` on `slots`: the count only rises where a run starts. */
function fits(runs: readonly Run[], slots: number, from: number, seconds: number): boolean {
  const rises = [from, ...runs.map((run) => run.from).filter((at) => at > from && at < from + seconds)];
  return rises.every((at) => runningAt(runs, at) < slots);
}

/**
 * A feasible schedule: each job in order at the earliest moment a slot is free for its whole
 * generation time (a stage starting when the one before it ended). Returns every job's run.
 */
function greedySchedule(stages: readonly (readonly number[])[], slots: number, taken: readonly TakenSlot[]): { readonly jobs: Run[]; readonly makespan: number } {
  const jobs: Run[] = [];
  let stageStart = 0;
  for (const stage of stages) {
    let stageEnd = stageStart;
    for (const seconds of stage) {
      const runs = [...taken, ...jobs];
      const candidates = [stageStart, ...runs.map((run) => run.until).filter((at) => at > stageStart && Number.isFinite(at))].sort((a, b) => a - b);
      const start = candidates.find((at) => fits(runs, slots, at, seconds));
      if (start === undefined) throw new Error("the greedy schedule found no slot");
      jobs.push({ from: start, until: start + seconds });
      stageEnd = Math.max(stageEnd, start + seconds);
    }
    stageStart = stageEnd;
  }
  return { jobs, makespan: stageStart };
}

/** Never more runs at once than slots, checked at every start. */
function feasible(jobs: readonly Run[], taken: readonly TakenSlot[], slots: number): boolean {
  const runs = [...taken, ...jobs].filter((run) => run.until > run.from);
  return runs.every((run) => runningAt(runs, run.from) <= slots);
}

/** Other users' slots that never exceed the account: each slot ("lane") holds a row of intervals one after another. */
const takenArbitrary = (slots: number) =>
  fc
    .array(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 200 }), length: fc.integer({ min: 1, max: 300 }) }), { maxLength: 4 }), { maxLength: slots })
    .map((lanes) =>
      lanes.flatMap((lane) => {
        let at = 0;
        return lane.map(({ gap, length }) => {
          const from = at + gap;
          at = from + length;
          return { from, until: at };
        });
      }),
    );

describe("the makespan lower bound", () => {
  it("is the longest job, or the moment the slots' time covers all the work, whichever is later", () => {
    expect(makespanLowerBoundSeconds([[100]], 5)).toBe(100);
    expect(makespanLowerBoundSeconds([[100, 100, 100]], 2)).toBe(150);
    expect(makespanLowerBoundSeconds([[60, 80, 50, 30]], 2)).toBe(110);
    expect(makespanLowerBoundSeconds([[400, 10, 10]], 2)).toBe(400);
    expect(makespanLowerBoundSeconds([[]], 3)).toBe(0);
  });

  it("takes out the slot-time other users held, wherever it lay", () => {
    // One slot, taken from 50 to 150 s: 200 s of work needs 300 s (a schedule needs 350: no job fits in the first 50 s).
    expect(makespanLowerBoundSeconds([[100, 100]], 1, [{ from: 50, until: 150 }])).toBe(300);
    // Two slots, one taken for the first 100 s: 180 s of work is done at 140 s at the earliest.
    expect(makespanLowerBoundSeconds([[60, 60, 60]], 2, [{ from: 0, until: 100 }])).toBe(140);
    // A slot held for good leaves the others.
    expect(makespanLowerBoundSeconds([[60, 60]], 2, [{ from: 0, until: Infinity }])).toBe(120);
  });

  it("starts a stage no earlier than the one before it could end", () => {
    // 100 s then 100 s on 2 slots: each stage needs its longest job.
    expect(makespanLowerBoundSeconds([[100], [100]], 2)).toBe(200);
    expect(makespanLowerBoundSeconds([[100, 100], [50, 50, 50, 50]], 2)).toBe(200);
  });

  it("refuses what cannot be a workload, naming it", () => {
    expect(() => makespanLowerBoundSeconds([[1]], 0)).toThrow(/slots must be a whole number of 1 or more, got 0/);
    expect(() => makespanLowerBoundSeconds([[-1]], 1)).toThrow(/a generation time must be a finite number of 0 or more seconds, got -1/);
    expect(() =>
      makespanLowerBoundSeconds([[1]], 1, [
        { from: 0, until: 10 },
        { from: 5, until: 15 },
      ]),
    ).toThrow(/other users hold 2 slots at 5 s, more than the account's 1/);
    expect(() => makespanLowerBoundSeconds([[1]], 1, [{ from: 0, until: Infinity }])).toThrow(/other users hold every slot for good from 0 s/);
  });

  it("is met exactly when the work divides evenly, so it is no looser than it must be", () => {
    expect(greedySchedule([[50, 50, 50, 50]], 2, []).makespan).toBe(makespanLowerBoundSeconds([[50, 50, 50, 50]], 2));
  });

  it("never exceeds a feasible schedule's makespan, whatever the jobs, stages, slots and other users", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((slots) =>
          fc.record({
            slots: fc.constant(slots),
            stages: fc.array(fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 12 }), { minLength: 1, maxLength: 3 }),
            taken: takenArbitrary(slots),
          }),
        ),
        ({ slots, stages, taken }) => {
          const schedule = greedySchedule(stages, slots, taken);
          expect(feasible(schedule.jobs, taken, slots)).toBe(true);
          const bound = makespanLowerBoundSeconds(stages, slots, taken);
          expect(bound).toBeLessThanOrEqual(schedule.makespan + 1e-9);
          // Never trivially low: at least the longest job and the work spread over every slot.
          const jobs = stages.flat();
          if (jobs.length > 0) expect(bound).toBeGreaterThanOrEqual(Math.max(...jobs, jobs.reduce((sum, seconds) => sum + seconds, 0) / slots) - 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is below the schedule that starts each job the moment a slot frees, for the benchmark's own seeded workloads with other users", () => {
    for (const seed of [1, 7, 20_261_125]) {
      const jobs = benchWorkload(60, seed).map((job) => job.generationSeconds);
      const stages = inBatches(jobs, 25);
      // Other users every 10 minutes on average, each waiting for a free slot: here they simply hold what they ask for, on their own lane.
      let laneFree = 0;
      const taken = otherUsersWorkload(seed, 3000).map((task) => {
        const from = Math.max(task.startSeconds, laneFree);
        laneFree = from + task.seconds;
        return { from, until: laneFree };
      });
      const schedule = greedySchedule(stages, 5, taken);
      expect(feasible(schedule.jobs, taken, 5), `seed ${seed}`).toBe(true);
      expect(makespanLowerBoundSeconds(stages, 5, taken), `seed ${seed}`).toBeLessThanOrEqual(schedule.makespan);
    }
  });
});
