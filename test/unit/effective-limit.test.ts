/**
 * The effective limit's arithmetic (AIMD): a 1303 lowers it to what the pipeline holds, never
 * below 1 nor above what it was; a probe raises it by one after a quiet period, never past the
 * ceiling; a 1303 that leaves nothing held pauses grants for the quiet period.
 */
import { describe, expect, it } from "vitest";
import { afterRefusal, effectiveLimit, loweredLimit, probedLimit } from "#lambdas/ledger/effective-limit";

const CEILING = 8;
const QUIET_MS = 60_000;
const fresh = { limit: undefined, changedAt: undefined };

describe("the effective limit", () => {
  it("is the ceiling until Kling refuses a create, and never above the ceiling (a deploy may lower it)", () => {
    expect(effectiveLimit(fresh, CEILING)).toBe(8);
    expect(effectiveLimit({ limit: 5, changedAt: 1 }, CEILING)).toBe(5);
    expect(effectiveLimit({ limit: 5, changedAt: 1 }, 3)).toBe(3);
  });

  it("drops on a 1303 to what the pipeline holds once the refused slot is given back", () => {
    expect(loweredLimit(fresh, CEILING, 4)).toBe(4);
    expect(loweredLimit({ limit: 6, changedAt: 1 }, CEILING, 5)).toBe(5);
  });

  it("never drops below 1, even when the refused generation was all the pipeline held", () => {
    expect(loweredLimit(fresh, CEILING, 0)).toBe(1);
    expect(loweredLimit({ limit: 1, changedAt: 1 }, CEILING, 0)).toBe(1);
  });

  it("never rises on a 1303: a refusal counted while more were held keeps the lower limit", () => {
    expect(loweredLimit({ limit: 3, changedAt: 1 }, CEILING, 5)).toBe(3);
  });

  it("climbs by one per probe, once quiet for the quiet period, and stops at the ceiling", () => {
    const lowered = { limit: 3, changedAt: 1_000_000 };
    expect(probedLimit(lowered, CEILING, QUIET_MS, 1_000_000 + QUIET_MS - 1)).toBeUndefined();
    expect(probedLimit(lowered, CEILING, QUIET_MS, 1_000_000 + QUIET_MS)).toBe(4);
    expect(probedLimit({ limit: 7, changedAt: 0 }, CEILING, QUIET_MS, QUIET_MS)).toBe(8);
    expect(probedLimit({ limit: 8, changedAt: 0 }, CEILING, QUIET_MS, QUIET_MS)).toBeUndefined();
    expect(probedLimit(fresh, CEILING, QUIET_MS, QUIET_MS)).toBeUndefined();
  });

  it("pauses grants for the quiet period after a 1303 that left nothing held, and only then; the slot granted after the pause is the first probe", () => {
    expect(afterRefusal(fresh, CEILING, 0, QUIET_MS, 5_000)).toEqual({ limit: 1, changedAt: 5_000 + QUIET_MS, grantsResumeAt: 5_000 + QUIET_MS });
    expect(afterRefusal(fresh, CEILING, 2, QUIET_MS, 5_000)).toEqual({ limit: 2, changedAt: 5_000, grantsResumeAt: undefined });
  });
});
