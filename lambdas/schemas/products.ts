/**
 * Every Kling video product, the one table beside the model table (models.ts): for each product
 * the models that offer it, its price, its typical generation time and what its result is; its
 * endpoints and API standard, request fields, rules and price sources, which only people read, are
 * the same table's words in products-described.ts (keyed alike, so neither can miss a product).
 * Validation, pricing, Submit's endpoint and the README's product table read it. Data only: it
 * imports no schema, and carries no prose, so every bundle can take it at little cost.
 *
 * Sources: Kling's own pages, as copied in the docs/api folder of github aself101/kling-api
 * (each product's page, the price page pricing/base/video, the capability map and the updates
 * log). `runs` says whether this pipeline carries the product end to end yet; a product it does
 * not run, or whose price Kling does not publish, is refused up front naming the reason.
 */
import { modelsFor, modelsWhere, type ModelName } from "./models";

export const PRODUCT_NAMES = [
  "text-to-video",
  "image-to-video",
  "multi-shot",
  "4k",
  "omni-video",
  "avatar",
  "lip-sync",
  "motion-control",
  "video-effects",
  "video-extend",
  "video-to-audio",
] as const;
export type ProductName = (typeof PRODUCT_NAMES)[number];

/** The models of Kling's products that are not text/image-to-video models (models.ts). */
export type ProductModel = ModelName | "kling-3.0-omni" | "kling-o1";

/**
 * How a product is priced, in resource-pack units: by its model's row of the pricing table
 * (pricing.ts), by its own rates, per call, or unknown (refused, never guessed).
 */
export type ProductPrice =
  | { readonly kind: "model-rate" }
  /** `boundSeconds`: what is reserved when Kling alone knows the length (the audio's, the video's); `duration`: the request's. */
  | { readonly kind: "per-second"; readonly std: number; readonly pro: number; readonly boundSeconds: number | "duration" }
  | { readonly kind: "per-call"; readonly units: number }
  | { readonly kind: "per-5-seconds"; readonly units: number; readonly perCall: number; readonly boundSeconds: number }
  | { readonly kind: "unknown"; readonly why: string };

export interface Product {
  /** The models that offer it; empty for a product that names no model. */
  readonly models: readonly ProductModel[];
  readonly price: ProductPrice;
  /** Typical seconds from create to the result: `by-model` reads generation-time.ts. */
  readonly typicalSeconds: number | "by-model";
  readonly result: "video" | "video and audio";
  /** Whether this pipeline runs the product end to end today. */
  readonly runs: boolean;
}


export const PRODUCTS: Readonly<Record<ProductName, Product>> = {
  "text-to-video": {
    models: modelsFor("text"),
    price: { kind: "model-rate" },
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "image-to-video": {
    models: modelsFor("image"),
    price: { kind: "model-rate" },
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "multi-shot": {
    models: modelsWhere((model) => model.multiShot !== undefined),
    price: { kind: "model-rate" },
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "4k": {
    models: modelsWhere((model) => model.modes.includes("4k")),
    price: { kind: "model-rate" },
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "omni-video": {
    models: ["kling-3.0-omni", "kling-o1"],
    price: { kind: "per-second", std: 0.9, pro: 1.2, boundSeconds: "duration" },
    typicalSeconds: 180,
    result: "video",
    runs: false,
  },
  avatar: {
    models: [],
    price: { kind: "per-second", std: 0.4, pro: 0.8, boundSeconds: 300 },
    typicalSeconds: 240,
    result: "video",
    runs: false,
  },
  "lip-sync": {
    models: [],
    price: { kind: "per-5-seconds", units: 0.5, perCall: 0.05, boundSeconds: 60 },
    typicalSeconds: 120,
    result: "video",
    runs: false,
  },
  "motion-control": {
    models: ["kling-3.0", "kling-2.6"],
    price: { kind: "per-second", std: 0.9, pro: 1.2, boundSeconds: 30 },
    typicalSeconds: 240,
    result: "video",
    runs: false,
  },
  "video-effects": {
    models: [],
    price: { kind: "unknown", why: "not on Kling's price page: effects have their own list" },
    typicalSeconds: 120,
    result: "video",
    runs: false,
  },
  "video-extend": {
    models: ["kling-v1", "kling-v1-5", "kling-v1-6"],
    price: { kind: "unknown", why: "not on Kling's price page" },
    typicalSeconds: 150,
    result: "video",
    runs: false,
  },
  "video-to-audio": {
    models: [],
    price: { kind: "per-call", units: 0.25 },
    typicalSeconds: 60,
    result: "video and audio",
    runs: false,
  },
};

/** Out of scope: Kling products that make images or audio alone, not videos. */
export const OUT_OF_SCOPE = ["image generation", "virtual try-on", "text-to-speech"] as const;

export function isProductName(value: unknown): value is ProductName {
  return typeof value === "string" && (PRODUCT_NAMES as readonly string[]).includes(value);
}
