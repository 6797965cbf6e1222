import { describe, expect, it } from "vitest";
import type { PollSchedule } from "#lambdas/common/config";
import { nextWaitSeconds } from "#lambdas/common/poll-schedule";
import { typicalGenerationSeconds } from "#lambdas/schemas/generation-time";
import { DURATIONS, type Duration, type ModelName } from "#lambdas/schemas/models";
import { pipelineConfigSchema } from "#lib/pipeline-config";

const schedule: PollSchedule = { firstPollShare: 0.8, intervalShare: 0.07, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 1800 };
const TYPICAL = 150;

/** The waits a task gets from Submit until it is seen done at `doneAt`: returns the polls and the delay. */
function pollsUntil(doneAt: number, typical = TYPICAL): { polls: number; delay: number } {
  let elapsed = 0;
  let polls = 0;
  for (;;) {
    const wait = nextWaitSeconds(schedule, typical, elapsed);
    if (wait === undefined) throw new Error(`deadline passed before ${doneAt}`);
    elapsed += wait;
    polls += 1;
    if (elapsed >= doneAt) return { polls, delay: elapsed - doneAt };
  }
}

describe("nextWaitSeconds", () => {
  it("waits after Submit until just before the quickest such videos are done", () => {
    expect(nextWaitSeconds(schedule, TYPICAL, 0)).toBe(120); // 0.8 x 150
    expect(nextWaitSeconds(schedule, TYPICAL, 100)).toBe(20); // a poll that came early waits for the rest
  });

  it("then polls every share of the typical time, and of the time spent once past it", () => {
    expect(nextWaitSeconds(schedule, TYPICAL, 120)).toBe(11); // 0.07 x 150 = 10.5
    expect(nextWaitSeconds(schedule, TYPICAL, 149)).toBe(11);
    expect(nextWaitSeconds(schedule, TYPICAL, 300)).toBe(21); // 0.07 x 300
    expect(nextWaitSeconds(schedule, TYPICAL, 600)).toBe(42);
  });

  it("keeps the waits after the first poll within minSeconds and maxSeconds", () => {
    expect(nextWaitSeconds(schedule, 40, 40)).toBe(5); // 2.8, raised to the minimum
    expect(nextWaitSeconds(schedule, TYPICAL, 1000)).toBe(60); // 70, capped
  });

  it("is clamped to the seconds left before the deadline, and undefined once less than one is left", () => {
    expect(nextWaitSeconds(schedule, TYPICAL, 1790)).toBe(10);
    expect(nextWaitSeconds(schedule, TYPICAL, 1795.5)).toBe(4);
    expect(nextWaitSeconds(schedule, 3000, 0)).toBe(1800); // even the first wait
    expect(nextWaitSeconds(schedule, TYPICAL, 1799.5)).toBeUndefined();
    expect(nextWaitSeconds(schedule, TYPICAL, 1800)).toBeUndefined();
    expect(nextWaitSeconds(schedule, 0, 5000)).toBeUndefined();
  });

  it("notices a video done anywhere from 0.8 to 1.3 times the typical time within a wait, 4% of its time on average, in at most 8 polls", () => {
    const shares: number[] = [];
    for (let share = 0.8; share <= 1.3; share += 0.01) {
      const doneAt = share * TYPICAL;
      const { polls, delay } = pollsUntil(doneAt);
      expect(delay, `done at ${doneAt.toFixed(1)} s`).toBeLessThanOrEqual(14); // one wait: at most 0.07 x 1.3 x 150, rounded
      expect(polls, `done at ${doneAt.toFixed(1)} s`).toBeLessThanOrEqual(8);
      shares.push(delay / doneAt);
    }
    expect(shares.reduce((sum, share) => sum + share, 0) / shares.length).toBeLessThanOrEqual(0.04);
  });

  it("keeps the delay a bounded share however late a video is, with few polls", () => {
    for (const doneAt of [400, 700, 1500]) {
      const { polls, delay } = pollsUntil(doneAt);
      expect(delay / doneAt).toBeLessThanOrEqual(0.08);
      expect(polls).toBeLessThanOrEqual(45);
    }
  });

  it("never lets a wait end past the deadline, whatever the elapsed time", () => {
    for (let elapsed = 0; elapsed <= 1810; elapsed += 0.75) {
      for (const typical of [30, 150, 400]) {
        const wait = nextWaitSeconds(schedule, typical, elapsed);
        if (wait !== undefined) expect(elapsed + wait, `elapsed ${elapsed}, typical ${typical}`).toBeLessThanOrEqual(schedule.deadlineSeconds);
        else expect(elapsed).toBeGreaterThan(schedule.deadlineSeconds - 1);
      }
    }
  });
});

describe("the default schedule", () => {
  const defaults = pipelineConfigSchema.parse({}).pollSchedule;

  it("polls first at 0.85 of the typical time, then every 5% of the time spent, within 5 to 60 s", () => {
    expect(defaults).toEqual({ firstPollShare: 0.85, intervalShare: 0.05, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 1800 });
    expect(nextWaitSeconds(defaults, 200, 0)).toBe(170);
    expect(nextWaitSeconds(defaults, 200, 170)).toBe(10);
    expect(nextWaitSeconds(defaults, 200, 400)).toBe(20);
  });

  it("notices a video done after its first poll and before 1.5 times the typical time within one short wait, in at most 14 polls", () => {
    for (const typical of [60, 150, 400]) {
      for (let share = 0.86; share <= 1.5; share += 0.01) {
        let elapsed = 0;
        let polls = 0;
        let wait = 0;
        while (elapsed < share * typical) {
          wait = nextWaitSeconds(defaults, typical, elapsed) ?? Number.POSITIVE_INFINITY;
          elapsed += wait;
          polls += 1;
        }
        expect(elapsed - share * typical, `typical ${typical}, done at ${share.toFixed(2)}`).toBeLessThanOrEqual(wait);
        expect(wait, `typical ${typical}, done at ${share.toFixed(2)}`).toBeLessThanOrEqual(Math.max(5, Math.ceil(0.05 * 1.6 * typical)));
        expect(polls).toBeLessThanOrEqual(14);
      }
    }
  });
});

describe("typicalGenerationSeconds", () => {
  it("is longer in pro, for 10 s and with native audio", () => {
    const base = typicalGenerationSeconds({ model: "kling-v2-6", mode: "std", duration: "5" });
    expect(typicalGenerationSeconds({ model: "kling-v2-6", mode: "pro", duration: "5" })).toBeGreaterThan(base);
    expect(typicalGenerationSeconds({ model: "kling-v2-6", mode: "std", duration: "10" })).toBeGreaterThan(base);
    expect(typicalGenerationSeconds({ model: "kling-v2-6", mode: "std", duration: "5", sound: "on" })).toBeGreaterThan(base);
    expect(typicalGenerationSeconds({ model: "kling-v2-5-turbo", mode: "std", duration: "5" })).toBeLessThan(base);
  });

  it("grows with every second of a 3 to 15 s video (kling-v3 and the 3.0 models), 10 s being 1.7 times 5 s as before", () => {
    const seconds = (duration: Duration) => typicalGenerationSeconds({ model: "kling-3.0", mode: "std", duration });
    const all = DURATIONS.map(seconds);
    for (const [index, value] of all.entries()) if (index > 0) expect(value).toBeGreaterThan(all[index - 1] ?? 0);
    expect(seconds("10")).toBe(Math.round(seconds("5") * 1.7));
  });

  it("plans the same model alike on either standard, and 3.0 Turbo faster than 3.0", () => {
    const time = (model: ModelName) => typicalGenerationSeconds({ model, mode: "pro", duration: "5" });
    expect(time("kling-2.6")).toBe(time("kling-v2-6"));
    expect(time("kling-2.5-turbo")).toBe(time("kling-v2-5-turbo"));
    expect(time("kling-3.0")).toBe(time("kling-v3"));
    expect(time("kling-3.0-turbo")).toBeLessThan(time("kling-3.0"));
  });
});
