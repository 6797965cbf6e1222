/**
 * The product table's words (products.ts holds its facts): for each product what it makes, its
 * request fields (ours in camelCase, Kling's as sent) with their rules, its other rules, what a
 * bounded price is reserved for and where the price comes from. Only the README (and people) read
 * them, so no Lambda bundle carries them. Sources: each product's page in the docs/api folder of
 * github aself101/kling-api (copies of Kling's pages), its price page and its updates log.
 */
import type { ApiStandard } from "./models";
import type { ProductName } from "./products";

export interface ProductField {
  /** The request's field (camelCase). */
  readonly name: string;
  /** Kling's parameter it becomes. */
  readonly wire: string;
  readonly rule: string;
}

/** Where a product is created: its standard and path (`{model}` stands for the model on the new standard). */
export interface ProductEndpoint {
  readonly standard: ApiStandard;
  readonly create: string;
}

export interface ProductDescription {
  readonly summary: string;
  readonly endpoints: readonly ProductEndpoint[];
  readonly fields: readonly ProductField[];
  readonly rules: readonly string[];
  /** What a bounded price is reserved for, when Kling alone knows the length. */
  readonly reservedFor?: string;
  readonly priceSource: string;
}

const TEXT_TO_VIDEO: readonly ProductEndpoint[] = [
  { standard: "legacy", create: "/v1/videos/text2video" },
  { standard: "new", create: "/text-to-video/{model}" },
];
const IMAGE_TO_VIDEO: readonly ProductEndpoint[] = [
  { standard: "legacy", create: "/v1/videos/image2video" },
  { standard: "new", create: "/image-to-video/{model}" },
];
const PRICE_PAGE = "Kling's price page (pricing/base/video)";
const MODEL_TABLE = "the model's row (see the model table)";

export const PRODUCT_DESCRIPTIONS: Readonly<Record<ProductName, ProductDescription>> = {
  "text-to-video": {
    endpoints: TEXT_TO_VIDEO,
    summary: "a video from a prompt",
    fields: [{ name: "prompt", wire: "prompt", rule: "required; the model's limit (2500 or 3072 characters)" }],
    rules: ["the model's modes, durations, aspect ratios, sound and extras (model table)"],
    priceSource: MODEL_TABLE,
  },
  "image-to-video": {
    endpoints: IMAGE_TO_VIDEO,
    summary: "a video from a first frame (and a last frame where the model takes one)",
    fields: [
      { name: "image", wire: "image / contents first_frame", rule: "required: https URL or raw base64 jpg/png" },
      { name: "imageTail", wire: "image_tail / contents last_frame", rule: "where the model takes a last frame (pro only on kling-v1-5, v1-6, v2-1, 2.5 Turbo, 2.6)" },
    ],
    rules: ["no aspectRatio (the image sets it)", "a last frame and camera control exclude each other"],
    priceSource: MODEL_TABLE,
  },
  "multi-shot": {
    endpoints: [...TEXT_TO_VIDEO, ...IMAGE_TO_VIDEO],
    summary: "one video of 1 to 6 shots, each with its own words and seconds",
    fields: [
      { name: "multiPrompt", wire: "multi_prompt (kling-v3) / the prompt \"shot n, m, words;\" (3.0)", rule: "1 to 6 shots {prompt, duration}, each at least 1 s and at most 512 characters, adding up to the duration" },
    ],
    rules: ["multi_shot is always sent where the model has the switch (3.0 defaults it to true)", "3.0 Turbo has no switch: its prompt form alone makes the shots"],
    priceSource: MODEL_TABLE,
  },
  "4k": {
    endpoints: [...TEXT_TO_VIDEO, ...IMAGE_TO_VIDEO],
    summary: "a 4K video (legacy `mode: \"4k\"`, new `settings.resolution: \"4k\"`)",
    fields: [{ name: "mode", wire: "mode / settings.resolution", rule: "\"4k\" (the product's default; any other mode is refused)" }],
    rules: ["text-to-video or image-to-video at 4K, with or without audio; also mode \"4k\" on those products", "3.0 Omni offers 4K too (not with a reference video); this pipeline does not run omni yet"],
    priceSource: `${PRICE_PAGE}: 3.0 units/s at 4K, with or without audio`,
  },
  "omni-video": {
    endpoints: [{ standard: "new", create: "/omni-video/{model}" }],
    summary: "a video from a prompt with frames, reference images, a reference or base video and elements",
    fields: [
      { name: "image, imageTail", wire: "contents first_frame, last_frame", rule: "first frame alone or with a last frame; no last frame alone" },
      { name: "referImages", wire: "contents refer_image", rule: "with elements at most 7 (4 with a reference video)" },
      { name: "videoUrl", wire: "contents feature_video / base_video", rule: "one video, 3 to 15.5 s on 3.0 Omni (3 to 10 s on O1), mp4/mov, at most 200 MB" },
      { name: "elements", wire: "contents element", rule: "element ids; at most 3 with frames" },
    ],
    rules: ["a base video: no frames, no multi-shot, no native audio", "a feature video: audio off"],
    reservedFor: "the duration, at the dearest row (with video input)",
    priceSource: `${PRICE_PAGE}: 3.0 Omni and O1 rows`,
  },
  avatar: {
    endpoints: [{ standard: "legacy", create: "/v1/videos/avatar/image2video" }],
    summary: "a talking avatar from one image and its speech",
    fields: [
      { name: "image", wire: "image", rule: "required: https URL or raw base64 jpg/png" },
      { name: "soundFile", wire: "sound_file", rule: "an mp3/wav/m4a/aac URL or base64, 2 to 300 s, at most 5 MB; or audioId" },
      { name: "audioId", wire: "audio_id", rule: "an audio made by Kling's TTS within 30 days; or soundFile" },
      { name: "prompt", wire: "prompt", rule: "actions, emotions, camera; at most 2500 characters" },
      { name: "mode", wire: "mode", rule: "std or pro" },
    ],
    rules: ["exactly one of soundFile and audioId", "the video lasts as long as the audio"],
    reservedFor: "300 s, the longest audio Kling takes (only Kling knows the audio's length)",
    priceSource: `${PRICE_PAGE}: Avatar 0.4 / 0.8 units/s`,
  },
  "lip-sync": {
    endpoints: [
      { standard: "legacy", create: "/v1/videos/identify-face" },
      { standard: "legacy", create: "/v1/videos/advanced-lip-sync" },
    ],
    summary: "a video's lips made to follow an audio (face identification, then lip-sync: one generation)",
    fields: [
      { name: "videoId or videoUrl", wire: "video_id / video_url", rule: "a video of 2 to 60 s (videoId: Kling's id, within 30 days)" },
      { name: "soundFile or audioId", wire: "face_choose[].sound_file / audio_id", rule: "2 to 60 s" },
    ],
    rules: ["the face Kling finds first is the one synced"],
    reservedFor: "60 s, the longest video Kling takes",
    priceSource: `${PRICE_PAGE}: Lip Sync 0.5 units per 5 s, Face Recognition 0.05 a call`,
  },
  "motion-control": {
    endpoints: [{ standard: "new", create: "/motion-control/{model}" }],
    summary: "an image's character moved as in a reference video",
    fields: [
      { name: "image", wire: "contents image", rule: "the character" },
      { name: "videoUrl", wire: "contents video", rule: "the motion: at most 10 s, or 30 s when the orientation follows the video" },
    ],
    rules: ["no 4K on 3.0"],
    reservedFor: "30 s, the longest reference video",
    priceSource: `${PRICE_PAGE}: Motion Control 3.0 0.9 / 1.2, 2.6 0.5 / 0.8 units/s`,
  },
  "video-effects": {
    endpoints: [{ standard: "legacy", create: "/v1/videos/effects" }],
    summary: "one of Kling's effect scenes applied to one image (two for the dual-image scenes)",
    fields: [
      { name: "effectScene", wire: "effect_scene", rule: "one of the scenes Kling lists" },
      { name: "image / images", wire: "input.image / input.images", rule: "one image, or two for a dual-image scene" },
    ],
    rules: [],
    priceSource: "not published on the price page",
  },
  "video-extend": {
    endpoints: [{ standard: "legacy", create: "/v1/videos/video-extend" }],
    summary: "4 to 5 s more of an earlier video",
    fields: [{ name: "videoId", wire: "video_id", rule: "Kling's id of a video of this account made within 30 days by kling-v1, v1-5 or v1-6" }],
    rules: ["at most 3 minutes in all"],
    priceSource: "not published on the price page",
  },
  "video-to-audio": {
    endpoints: [{ standard: "legacy", create: "/v1/audio/video-to-audio" }],
    summary: "sound effects and background music made for a video",
    fields: [
      { name: "videoId or videoUrl", wire: "video_id / video_url", rule: "a video of 3 to 20 s (videoId: Kling's id, within 30 days)" },
      { name: "soundEffectPrompt", wire: "sound_effect_prompt", rule: "at most 200 characters" },
      { name: "bgmPrompt", wire: "bgm_prompt", rule: "at most 200 characters" },
      { name: "asmrMode", wire: "asmr_mode", rule: "true or false" },
    ],
    rules: ["exactly one of videoId and videoUrl"],
    priceSource: `${PRICE_PAGE}: Video to Audio 0.25 units a call`,
  },
};
