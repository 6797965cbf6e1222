/** The one pricing table against Kling's API documentation ("Prices"), by hand. */
import { describe, expect, expectTypeOf, it } from "vitest";
import { DURATIONS, MODEL_NAMES, MODES, SOUND_SETTINGS, type ModelName } from "#lambdas/schemas/models";
import { PRICING, priceUnits } from "#lambdas/schemas/pricing";
import { validateGenerationRequest } from "#lambdas/schemas/validation";

/**
 * Units per second, copied by hand from the price table of Kling's API documentation: [std, pro, 4k] silent, then
 * [std, pro] with native audio; null where the table has no price.
 */
const KLING_API_PRICES: Readonly<Record<ModelName, { silent: readonly (number | null)[]; audio?: readonly (number | null)[] }>> = {
  "kling-v1": { silent: [0.2, 0.7] },
  "kling-v1-5": { silent: [0.4, 0.7] },
  "kling-v1-6": { silent: [0.4, 0.7] },
  "kling-v2-1": { silent: [0.4, 0.7] },
  "kling-v2-master": { silent: [null, 2.0] },
  "kling-v2-1-master": { silent: [null, 2.0] },
  "kling-v2-5-turbo": { silent: [0.3, 0.5] },
  "kling-2.5-turbo": { silent: [0.3, 0.5] },
  "kling-v2-6": { silent: [0.3, 0.5], audio: [null, 1.0] },
  "kling-2.6": { silent: [0.3, 0.5], audio: [null, 1.0] },
  // 4K: 3.0 units/s, with native audio or without (price page; updates log 2026-04-23).
  "kling-v3": { silent: [0.6, 0.8, 3.0], audio: [0.9, 1.2, 3.0] },
  "kling-3.0": { silent: [0.6, 0.8, 3.0], audio: [0.9, 1.2, 3.0] },
  "kling-3.0-turbo": { silent: [0.8, 1.0] },
};

const cases = MODEL_NAMES.flatMap((model) =>
  MODES.flatMap((mode, index) => {
    const row = KLING_API_PRICES[model];
    return [
      { model, mode, sound: undefined, rate: row.silent[index] ?? null },
      ...(row.audio ? [{ model, mode, sound: "on" as const, rate: row.audio[index] ?? null }] : []),
    ];
  }),
);

describe("every model and mode costs what Kling's API documentation says, per second of video", () => {
  it.each(cases.filter((entry) => entry.rate !== null))("$model $mode sound=$sound: $rate units/s", ({ model, mode, sound, rate }) => {
    expect(priceUnits({ model, mode, duration: "5", sound })).toBe(Math.round((rate ?? 0) * 5 * 100) / 100);
    expect(priceUnits({ model, mode, duration: "10", sound })).toBe(Math.round((rate ?? 0) * 10 * 100) / 100);
  });

  it.each(cases.filter((entry) => entry.rate === null))("$model $mode sound=$sound has no price: refused, not guessed low", ({ model, mode, sound }) => {
    expect(() => priceUnits({ model, mode, duration: "5", sound })).toThrow(new RegExp(`no price is known for ${model} in ${mode} mode.*refusing to guess`));
  });

  it("prices kling-v3's and the 3.0 models' durations from 3 to 15 s by the second", () => {
    expect(priceUnits({ model: "kling-v3", mode: "std", duration: "3" })).toBe(1.8);
    expect(priceUnits({ model: "kling-3.0", mode: "pro", duration: "15", sound: "on" })).toBe(18);
    expect(priceUnits({ model: "kling-3.0-turbo", mode: "std", duration: "7" })).toBe(5.6);
  });

  it("0.3 units/s for 10 s is exactly 3 (no floating-point residue)", () => {
    expect(priceUnits({ model: "kling-v2-5-turbo", mode: "std", duration: "10" })).toBe(3);
    expect(priceUnits({ model: "kling-v2-6", mode: "std", duration: "10" })).toBe(3);
  });

  it("sound off is priced as silent", () => {
    expect(priceUnits({ model: "kling-v2-6", mode: "pro", duration: "5", sound: "off" })).toBe(2.5);
  });
});

describe("the table covers every model", () => {
  it("PRICING has exactly the models of MODEL_NAMES, each row with its source", () => {
    expect(Object.keys(PRICING).sort()).toEqual([...MODEL_NAMES].sort());
    expect(PRICING["kling-3.0"].source).toMatch(/^Kling's price page/);
    expect(PRICING["kling-v1"].source).toMatch(/^third-party/);
    expect(PRICING["kling-v2-master"].source).toMatch(/1080p only/);
  });

  it("is keyed by model name, so a model added without a price fails type-checking (npm test runs tsc)", () => {
    expectTypeOf<keyof typeof PRICING>().toEqualTypeOf<ModelName>();
  });

  it("has a price for every request the validator accepts, so CheckCredits never has to guess", () => {
    let priced = 0;
    for (const model of MODEL_NAMES) {
      for (const mode of MODES) {
        for (const duration of DURATIONS) {
          for (const sound of [undefined, ...SOUND_SETTINGS]) {
            const result = validateGenerationRequest({ model, mode, duration, image: "https://images.example.com/a.png", ...(sound ? { sound } : {}) }, { defaultModel: model, blockedTerms: [] });
            if (!result.ok) continue;
            expect(priceUnits(result.request)).toBeGreaterThan(0);
            priced++;
          }
        }
      }
    }
    expect(priced).toBeGreaterThan(MODEL_NAMES.length);
  });

  it("an unknown model throws, naming it", () => {
    expect(() => priceUnits({ model: "kling-v9-ultra", mode: "std", duration: "5" })).toThrow(/kling-v9-ultra/);
    expect(() => priceUnits({ model: "", mode: "std", duration: "5" })).toThrow();
  });
});
