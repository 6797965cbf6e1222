/**
 * The product table (lambdas/schemas/products.ts and its words, products-described.ts) against
 * Kling's pages (docs/api of github aself101/kling-api) and against the code that speaks to Kling.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TASK_PATHS } from "#lambdas/kling/client";
import { NEW_TASK_KINDS } from "#lambdas/kling/wire-v2";
import { PRICING } from "#lambdas/schemas/pricing";
import { PRODUCT_DESCRIPTIONS } from "#lambdas/schemas/products-described";
import { PRODUCT_NAMES, PRODUCTS } from "#lambdas/schemas/products";
import { validateGenerationRequest } from "#lambdas/schemas/validation";

describe("the product table", () => {
  it("describes every product, and only those", () => {
    expect(Object.keys(PRODUCTS).sort()).toEqual([...PRODUCT_NAMES].sort());
    expect(Object.keys(PRODUCT_DESCRIPTIONS).sort()).toEqual([...PRODUCT_NAMES].sort());
  });

  it("shows for text-to-video and image-to-video the very paths the clients call", () => {
    expect(PRODUCT_DESCRIPTIONS["text-to-video"].endpoints).toEqual([
      { standard: "legacy", create: TASK_PATHS.text2video },
      { standard: "new", create: `/${NEW_TASK_KINDS[0]}/{model}` },
    ]);
    expect(PRODUCT_DESCRIPTIONS["image-to-video"].endpoints).toEqual([
      { standard: "legacy", create: TASK_PATHS.image2video },
      { standard: "new", create: `/${NEW_TASK_KINDS[1]}/{model}` },
    ]);
  });

  it("runs only products whose price is known: by their model's row, or their own", () => {
    for (const name of PRODUCT_NAMES.filter((product) => PRODUCTS[product].runs)) {
      const { price, models } = PRODUCTS[name];
      expect(price.kind, name).not.toBe("unknown");
      if (price.kind === "model-rate") for (const model of models) expect(Object.keys(PRICING), `${name} on ${model}`).toContain(model);
    }
  });

  it("has Kling's published prices (price page): avatar 0.4 / 0.8 a second, lip-sync 0.5 per 5 s and 0.05 a face, video-to-audio 0.25 a call, and 4K by its model's rate", () => {
    expect(PRODUCTS.avatar.price).toEqual({ kind: "per-second", std: 0.4, pro: 0.8, boundSeconds: 300 });
    expect(PRODUCTS["lip-sync"].price).toEqual({ kind: "per-5-seconds", units: 0.5, perCall: 0.05, boundSeconds: 60 });
    expect(PRODUCTS["video-to-audio"].price).toEqual({ kind: "per-call", units: 0.25 });
    // 4K is priced by its model's 4k rate (pricing.ts: 3.0 units/s on kling-v3 and kling-3.0).
    expect(PRODUCTS["4k"].price).toEqual({ kind: "model-rate" });
    expect(PRODUCTS["4k"].models).toEqual(["kling-v3", "kling-3.0"]);
    // Neither has a row on the price page: refused, never guessed.
    expect(PRODUCTS["video-effects"].price.kind).toBe("unknown");
    expect(PRODUCTS["video-extend"].price.kind).toBe("unknown");
  });

  it("offers multi-shot on kling-v3, kling-3.0 and kling-3.0-turbo (capability map: 3.0 family; kling-v3's multi_prompt)", () => {
    expect(PRODUCTS["multi-shot"].models).toEqual(["kling-v3", "kling-3.0", "kling-3.0-turbo"]);
  });
});

describe("the README's example request per product", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Products"), readme.indexOf("<!-- BEGIN generated: product-table"));
  const examples = [...section.matchAll(/```json\n(.*)\n```/g)].map((match) => JSON.parse(match[1] ?? "") as Record<string, unknown>);

  it("shows one for each product the pipeline runs, and each is valid", () => {
    expect(examples.map((example) => example.product)).toEqual(PRODUCT_NAMES.filter((name) => PRODUCTS[name].runs));
    for (const example of examples) {
      const result = validateGenerationRequest(example, { defaultModel: "kling-v2-6", blockedTerms: [] });
      expect(result.ok ? [] : result.problems, JSON.stringify(example)).toEqual([]);
    }
  });
});
