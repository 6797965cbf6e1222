/**
 * Every Kling video product, the one table beside the model table (models.ts): for each product
 * its endpoints and API standard, the models that offer it, its request fields (ours in camelCase,
 * Kling's as sent) and rules, its price with its source, its typical generation time and what its
 * result is. Validation, pricing, Submit's endpoint, the README's product table and the diagnosis
 * read it. Data only: it imports no schema, so every bundle can take it at no cost.
 *
 * Sources: Kling's own pages, as copied in the docs/api folder of github aself101/kling-api
 * (each product's page, the price page pricing/base/video, the capability map and the updates
 * log). `runs` says whether this pipeline carries the product end to end yet; a product it does
 * not run, or whose price Kling does not publish, is refused up front naming the reason.
 */
import { modelsFor, modelsWhere, type ApiStandard, type ModelName } from "./models";

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

export interface ProductEndpoint {
  readonly standard: ApiStandard;
  /** The create path; `{model}` stands for the model on the new standard. */
  readonly create: string;
}

export interface ProductField {
  /** The request's field (camelCase). */
  readonly name: string;
  /** Kling's parameter it becomes. */
  readonly wire: string;
  readonly rule: string;
}

/**
 * How a product is priced, in resource-pack units: by its model's row of the pricing table
 * (pricing.ts), by its own rates, per call, or unknown (refused, never guessed).
 */
export type ProductPrice =
  | { readonly kind: "model-rate" }
  | { readonly kind: "per-second"; readonly std: number; readonly pro: number; readonly bound: string }
  | { readonly kind: "per-call"; readonly units: number }
  | { readonly kind: "per-5-seconds"; readonly units: number; readonly perCall: number; readonly bound: string }
  | { readonly kind: "unknown"; readonly why: string };

export interface Product {
  readonly summary: string;
  readonly endpoints: readonly ProductEndpoint[];
  /** The models that offer it; empty for a product that names no model. */
  readonly models: readonly ProductModel[];
  readonly fields: readonly ProductField[];
  readonly rules: readonly string[];
  readonly price: ProductPrice;
  readonly priceSource: string;
  /** Typical seconds from create to the result: `by-model` reads generation-time.ts. */
  readonly typicalSeconds: number | "by-model";
  readonly result: "video" | "video and audio";
  /** Whether this pipeline runs the product end to end today. */
  readonly runs: boolean;
}

const PRICE_PAGE = "Kling's price page (pricing/base/video)";
const MODEL_TABLE = "the model's row (see the model table)";

const TEXT_TO_VIDEO: readonly ProductEndpoint[] = [
  { standard: "legacy", create: "/v1/videos/text2video" },
  { standard: "new", create: "/text-to-video/{model}" },
];
const IMAGE_TO_VIDEO: readonly ProductEndpoint[] = [
  { standard: "legacy", create: "/v1/videos/image2video" },
  { standard: "new", create: "/image-to-video/{model}" },
];

export const PRODUCTS: Readonly<Record<ProductName, Product>> = {
  "text-to-video": {
    summary: "a video from a prompt",
    endpoints: TEXT_TO_VIDEO,
    models: modelsFor("text"),
    fields: [{ name: "prompt", wire: "prompt", rule: "required; the model's limit (2500 or 3072 characters)" }],
    rules: ["the model's modes, durations, aspect ratios, sound and extras (model table)"],
    price: { kind: "model-rate" },
    priceSource: MODEL_TABLE,
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "image-to-video": {
    summary: "a video from a first frame (and a last frame where the model takes one)",
    endpoints: IMAGE_TO_VIDEO,
    models: modelsFor("image"),
    fields: [
      { name: "image", wire: "image / contents first_frame", rule: "required: https URL or raw base64 jpg/png" },
      { name: "imageTail", wire: "image_tail / contents last_frame", rule: "where the model takes a last frame (pro only on kling-v1-5, v1-6, v2-1, 2.5 Turbo, 2.6)" },
    ],
    rules: ["no aspectRatio (the image sets it)", "a last frame and camera control exclude each other"],
    price: { kind: "model-rate" },
    priceSource: MODEL_TABLE,
    typicalSeconds: "by-model",
    result: "video",
    runs: true,
  },
  "multi-shot": {
    summary: "one video of 1 to 6 shots, each with its own words and seconds",
    endpoints: [...TEXT_TO_VIDEO, ...IMAGE_TO_VIDEO],
    models: modelsWhere((model) => model.multiShot !== undefined),
    fields: [
      { name: "multiPrompt", wire: "multi_prompt (kling-v3) / the prompt \"shot n, m, words;\" (3.0)", rule: "1 to 6 shots {prompt, duration}, each at least 1 s and at most 512 characters, adding up to the duration" },
    ],
    rules: ["multi_shot is always sent where the model has the switch (3.0 defaults it to true)", "3.0 Turbo has no switch: its prompt form alone makes the shots"],
    price: { kind: "model-rate" },
    priceSource: MODEL_TABLE,
    typicalSeconds: "by-model",
    result: "video",
    runs: false,
  },
  "4k": {
    summary: "a 4K video (legacy `mode: \"4k\"`, new `settings.resolution: \"4k\"`)",
    endpoints: [...TEXT_TO_VIDEO, ...IMAGE_TO_VIDEO, { standard: "new", create: "/omni-video/{model}" }],
    models: ["kling-v3", "kling-3.0", "kling-3.0-omni"],
    fields: [{ name: "mode", wire: "mode / settings.resolution", rule: "\"4k\"" }],
    rules: ["not with a reference video on 3.0 Omni", "not with motion control"],
    price: { kind: "per-second", std: 3.0, pro: 3.0, bound: "the duration" },
    priceSource: `${PRICE_PAGE}: 3.0 units/s at 4K, with or without audio`,
    typicalSeconds: 300,
    result: "video",
    runs: false,
  },
  "omni-video": {
    summary: "a video from a prompt with frames, reference images, a reference or base video and elements",
    endpoints: [{ standard: "new", create: "/omni-video/{model}" }],
    models: ["kling-3.0-omni", "kling-o1"],
    fields: [
      { name: "image, imageTail", wire: "contents first_frame, last_frame", rule: "first frame alone or with a last frame; no last frame alone" },
      { name: "referImages", wire: "contents refer_image", rule: "with elements at most 7 (4 with a reference video)" },
      { name: "videoUrl", wire: "contents feature_video / base_video", rule: "one video, 3 to 15.5 s on 3.0 Omni (3 to 10 s on O1), mp4/mov, at most 200 MB" },
      { name: "elements", wire: "contents element", rule: "element ids; at most 3 with frames" },
    ],
    rules: ["a base video: no frames, no multi-shot, no native audio", "a feature video: audio off"],
    price: { kind: "per-second", std: 0.9, pro: 1.2, bound: "the duration, at the dearest row (with video input)" },
    priceSource: `${PRICE_PAGE}: 3.0 Omni and O1 rows`,
    typicalSeconds: 180,
    result: "video",
    runs: false,
  },
  avatar: {
    summary: "a talking avatar from one image and its speech",
    endpoints: [{ standard: "legacy", create: "/v1/videos/avatar/image2video" }],
    models: [],
    fields: [
      { name: "image", wire: "image", rule: "required: https URL or raw base64 jpg/png" },
      { name: "soundFile", wire: "sound_file", rule: "an mp3/wav/m4a/aac URL or base64, 2 to 300 s, at most 5 MB; or audioId" },
      { name: "audioId", wire: "audio_id", rule: "an audio made by Kling's TTS within 30 days; or soundFile" },
      { name: "prompt", wire: "prompt", rule: "actions, emotions, camera; at most 2500 characters" },
      { name: "mode", wire: "mode", rule: "std or pro" },
    ],
    rules: ["exactly one of soundFile and audioId", "the video lasts as long as the audio"],
    price: { kind: "per-second", std: 0.4, pro: 0.8, bound: "300 s, the longest audio Kling takes (the audio's length is known only to Kling)" },
    priceSource: `${PRICE_PAGE}: Avatar 0.4 / 0.8 units/s`,
    typicalSeconds: 240,
    result: "video",
    runs: false,
  },
  "lip-sync": {
    summary: "a video's lips made to follow an audio (face identification, then lip-sync: one generation)",
    endpoints: [
      { standard: "legacy", create: "/v1/videos/identify-face" },
      { standard: "legacy", create: "/v1/videos/advanced-lip-sync" },
    ],
    models: [],
    fields: [
      { name: "videoId or videoUrl", wire: "video_id / video_url", rule: "a video of 2 to 60 s (videoId: Kling's id, within 30 days)" },
      { name: "soundFile or audioId", wire: "face_choose[].sound_file / audio_id", rule: "2 to 60 s" },
    ],
    rules: ["the face Kling finds first is the one synced"],
    price: { kind: "per-5-seconds", units: 0.5, perCall: 0.05, bound: "60 s, the longest video Kling takes" },
    priceSource: `${PRICE_PAGE}: Lip Sync 0.5 units per 5 s, Face Recognition 0.05 a call`,
    typicalSeconds: 120,
    result: "video",
    runs: false,
  },
  "motion-control": {
    summary: "an image's character moved as in a reference video",
    endpoints: [{ standard: "new", create: "/motion-control/{model}" }],
    models: ["kling-3.0", "kling-2.6"],
    fields: [
      { name: "image", wire: "contents image", rule: "the character" },
      { name: "videoUrl", wire: "contents video", rule: "the motion: at most 10 s, or 30 s when the orientation follows the video" },
    ],
    rules: ["no 4K on 3.0"],
    price: { kind: "per-second", std: 0.9, pro: 1.2, bound: "30 s, the longest reference video" },
    priceSource: `${PRICE_PAGE}: Motion Control 3.0 0.9 / 1.2, 2.6 0.5 / 0.8 units/s`,
    typicalSeconds: 240,
    result: "video",
    runs: false,
  },
  "video-effects": {
    summary: "one of Kling's effect scenes applied to one image (two for the dual-image scenes)",
    endpoints: [{ standard: "legacy", create: "/v1/videos/effects" }],
    models: [],
    fields: [
      { name: "effectScene", wire: "effect_scene", rule: "one of the scenes Kling lists" },
      { name: "image / images", wire: "input.image / input.images", rule: "one image, or two for a dual-image scene" },
    ],
    rules: [],
    price: { kind: "unknown", why: "Kling prices effects on its Effects Pricing List (document-api video-effect-price), which is not on its price page" },
    priceSource: "not published on the price page",
    typicalSeconds: 120,
    result: "video",
    runs: false,
  },
  "video-extend": {
    summary: "4 to 5 s more of an earlier video",
    endpoints: [{ standard: "legacy", create: "/v1/videos/video-extend" }],
    models: ["kling-v1", "kling-v1-5", "kling-v1-6"],
    fields: [{ name: "videoId", wire: "video_id", rule: "Kling's id of a video of this account made within 30 days by kling-v1, v1-5 or v1-6" }],
    rules: ["at most 3 minutes in all"],
    price: { kind: "unknown", why: "Kling's price page has no video-extend row" },
    priceSource: "not published on the price page",
    typicalSeconds: 150,
    result: "video",
    runs: false,
  },
  "video-to-audio": {
    summary: "sound effects and background music made for a video",
    endpoints: [{ standard: "legacy", create: "/v1/audio/video-to-audio" }],
    models: [],
    fields: [
      { name: "videoId or videoUrl", wire: "video_id / video_url", rule: "a video of 3 to 20 s (videoId: Kling's id, within 30 days)" },
      { name: "soundEffectPrompt", wire: "sound_effect_prompt", rule: "at most 200 characters" },
      { name: "bgmPrompt", wire: "bgm_prompt", rule: "at most 200 characters" },
      { name: "asmrMode", wire: "asmr_mode", rule: "true or false" },
    ],
    rules: ["exactly one of videoId and videoUrl"],
    price: { kind: "per-call", units: 0.25 },
    priceSource: `${PRICE_PAGE}: Video to Audio 0.25 units a call`,
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
