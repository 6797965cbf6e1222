/** The one pricing table against Kling's published prices ("Account: resource packs"). */
import { describe, expect, expectTypeOf, it } from "vitest";
import { DURATIONS, MODEL_NAMES, MODES, type ModelName } from "../../lambdas/schemas/models";
import { PRICING, priceUnits, type PricedRequest } from "../../lambdas/schemas/pricing";

const price = (request: PricedRequest) => priceUnits(request);

describe("documented prices", () => {
  it.each([
    // 2.5 Turbo and 2.6 without native audio: 0.3 units/s at 720p (std), 0.5 units/s at 1080p (pro).
    ["kling-v2-5-turbo", "std", "5", undefined, 1.5],
    ["kling-v2-5-turbo", "pro", "5", undefined, 2.5],
    ["kling-v2-5-turbo", "std", "10", undefined, 3],
    ["kling-v2-5-turbo", "pro", "10", undefined, 5],
    ["kling-v2-6", "std", "5", undefined, 1.5],
    ["kling-v2-6", "pro", "5", undefined, 2.5],
    ["kling-v2-6", "std", "5", "off", 1.5],
    ["kling-v2-6", "pro", "10", "off", 5],
    ["kling-v2-6", "std", "10", undefined, 3],
    // 2.6 with native audio: 1.0 unit/s, whatever the mode.
    ["kling-v2-6", "std", "5", "on", 5],
    ["kling-v2-6", "pro", "5", "on", 5],
    ["kling-v2-6", "std", "10", "on", 10],
  ] as const)("%s %s %s s sound=%s costs %s units", (model, mode, duration, sound, units) => {
    expect(price({ model, mode, duration, sound })).toBe(units);
  });

  it("0.3 units/s for 10 s is exactly 3 (no floating-point residue)", () => {
    expect(price({ model: "kling-v2-5-turbo", mode: "std", duration: "10" })).toBe(3);
    expect(price({ model: "kling-v2-6", mode: "std", duration: "10" })).toBe(3);
  });

  it("sound on a model without native audio is priced at the mode's rate", () => {
    expect(price({ model: "kling-v2-5-turbo", mode: "pro", duration: "5", sound: "on" })).toBe(2.5);
  });
});

describe("the table covers every model", () => {
  it("PRICING has exactly the models of MODEL_NAMES", () => {
    expect(Object.keys(PRICING).sort()).toEqual([...MODEL_NAMES].sort());
  });

  it("is keyed by model name, so a model added without a price fails type-checking (npm test runs tsc)", () => {
    expectTypeOf<keyof typeof PRICING>().toEqualTypeOf<ModelName>();
  });

  it.each(MODEL_NAMES.map((model) => [model] as const))("%s has a positive price for every mode and duration; 10 s costs twice 5 s", (model) => {
    for (const mode of MODES) {
      for (const duration of DURATIONS) {
        const units = price({ model, mode, duration });
        expect(Number.isFinite(units) && units > 0, `${model} ${mode} ${duration}`).toBe(true);
        // Rounded to a hundredth of a unit.
        expect(Math.round(units * 100) / 100).toBe(units);
      }
      expect(price({ model, mode, duration: "10" })).toBe(2 * price({ model, mode, duration: "5" }));
    }
  });

  it("pro never costs less than std", () => {
    for (const model of MODEL_NAMES) {
      expect(price({ model, mode: "pro", duration: "5" })).toBeGreaterThanOrEqual(price({ model, mode: "std", duration: "5" }));
    }
  });

  it("documented prices are marked as such, the rest as estimates", () => {
    expect(PRICING["kling-v2-5-turbo"].source).toBe("published");
    expect(PRICING["kling-v2-6"].source).toBe("published");
    expect(PRICING["kling-v1"].source).toBe("estimate");
  });

  it("an unknown model throws, naming it", () => {
    expect(() => price({ model: "kling-v9-ultra", mode: "std", duration: "5" })).toThrow(/kling-v9-ultra/);
    expect(() => price({ model: "", mode: "std", duration: "5" })).toThrow();
  });
});
