import { describe, expect, it } from "vitest";
import type { PollSchedule } from "../../lambdas/common/config";
import { nextWaitSeconds } from "../../lambdas/common/poll-schedule";

const schedule: PollSchedule = { initialSeconds: 10, factor: 1.5, maxSeconds: 60, deadlineSeconds: 1800 };

describe("nextWaitSeconds", () => {
  it("starts at initialSeconds", () => {
    expect(nextWaitSeconds(schedule, 0, 0)).toBe(10);
  });

  it("grows by the factor after each poll", () => {
    expect(nextWaitSeconds(schedule, 1, 10)).toBe(15);
    expect(nextWaitSeconds(schedule, 2, 25)).toBe(23); // 22.5, rounded
    expect(nextWaitSeconds(schedule, 3, 48)).toBe(34); // 33.75
    expect(nextWaitSeconds(schedule, 4, 82)).toBe(51); // 50.625
  });

  it("is capped at maxSeconds", () => {
    expect(nextWaitSeconds(schedule, 5, 133)).toBe(60); // 75.9 uncapped
    expect(nextWaitSeconds(schedule, 40, 300)).toBe(60);
  });

  it("never grows with factor 1", () => {
    const flat: PollSchedule = { initialSeconds: 7, factor: 1, maxSeconds: 60, deadlineSeconds: 600 };
    for (let polls = 0; polls < 10; polls++) expect(nextWaitSeconds(flat, polls, polls * 7)).toBe(7);
  });

  it("an initial wait above the cap is capped", () => {
    expect(nextWaitSeconds({ initialSeconds: 90, factor: 2, maxSeconds: 30, deadlineSeconds: 600 }, 0, 0)).toBe(30);
  });

  it("is clamped to the seconds left before the deadline", () => {
    expect(nextWaitSeconds(schedule, 30, 1790)).toBe(10);
    expect(nextWaitSeconds(schedule, 30, 1795.5)).toBe(4); // 4.5 s left: never past the deadline
    expect(nextWaitSeconds(schedule, 30, 1799)).toBe(1);
    expect(nextWaitSeconds(schedule, 0, 1795)).toBe(5); // even the first wait
  });

  it("is undefined once less than a second is left, at and past the deadline", () => {
    expect(nextWaitSeconds(schedule, 30, 1799.5)).toBeUndefined();
    expect(nextWaitSeconds(schedule, 30, 1800)).toBeUndefined();
    expect(nextWaitSeconds(schedule, 30, 1801)).toBeUndefined();
    expect(nextWaitSeconds(schedule, 0, 5000)).toBeUndefined();
  });

  it("a whole run: non-decreasing waits, capped, ending exactly at the deadline, then undefined", () => {
    const waits: number[] = [];
    let elapsed = 0;
    for (let polls = 0; ; polls++) {
      const wait = nextWaitSeconds(schedule, polls, elapsed);
      if (wait === undefined) break;
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(schedule.maxSeconds);
      expect(Number.isInteger(wait)).toBe(true);
      expect(elapsed + wait).toBeLessThanOrEqual(schedule.deadlineSeconds);
      waits.push(wait);
      elapsed += wait;
      expect(polls).toBeLessThan(1000);
    }
    expect(waits.slice(0, 6)).toEqual([10, 15, 23, 34, 51, 60]);
    // Growth stops at the cap; only the last wait may be shorter (clamped to the deadline).
    for (let index = 1; index < waits.length - 1; index++) expect(waits[index]).toBeGreaterThanOrEqual(waits[index - 1] ?? 0);
    expect(elapsed).toBe(schedule.deadlineSeconds);
  });

  it("never lets a wait end past the deadline, whatever the elapsed time", () => {
    for (let elapsed = 0; elapsed <= 1810; elapsed += 0.75) {
      for (const polls of [0, 1, 3, 10]) {
        const wait = nextWaitSeconds(schedule, polls, elapsed);
        if (wait !== undefined) expect(elapsed + wait, `elapsed ${elapsed}, polls ${polls}`).toBeLessThanOrEqual(schedule.deadlineSeconds);
        else expect(elapsed).toBeGreaterThan(schedule.deadlineSeconds - 1);
      }
    }
  });
});
