/**
 * Every model Kling documents, and what each accepts: the one table that says which API
 * standard serves a model (and so which endpoints the client calls), and that validation (and
 * so the API) checks requests against before anything is sent or paid for. PRICING (pricing.ts)
 * and the typical generation times (generation-time.ts) are keyed by MODEL_NAMES: a model
 * without a price or a time fails type-checking. The README's model table is generated from it.
 *
 * Sources: Kling's API documentation, "Models and rules (legacy /v1)" and "The new standard"; for
 * the per-model details of the new standard (durations, prompt lengths, audio, last frame) the
 * copies of Kling's new-standard pages it names (aself101/kling-api, docs/specs/appendices/
 * B-new-standard-contracts.md, section 2). Where a fact is not documented the table takes the
 * stricter choice, so a request is refused here rather than after the call.
 */
/** `legacy`: `/v1/videos/{text2video,image2video}`, model in the body. `new`: `/{text,image}-to-video/{model}`. */
export type ApiStandard = "legacy" | "new";

/**
 * `std` = 720p, `pro` = 1080p, `4k` = 4K (on the new standard: `settings.resolution`). 4K: kling-v3
 * (`mode: "4k"`) and kling-3.0 (`settings.resolution: "4k"`) only (updates log 2026-04-23; 3.0 pages).
 */
export const MODES = ["std", "pro", "4k"] as const;
export type Mode = (typeof MODES)[number];
export const MODE_RESOLUTIONS: Readonly<Record<Mode, "720p" | "1080p" | "4k">> = { std: "720p", pro: "1080p", "4k": "4k" };
/** The modes of every model up to 2.6: 720p and 1080p. */
const STD_PRO: readonly Mode[] = ["std", "pro"];

/** Seconds of video, written as Kling's legacy API writes them: "3" to "15" (kling-v3), "5" or "10" (the others). */
export const DURATIONS = ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"] as const;
export type Duration = (typeof DURATIONS)[number];
const FIVE_OR_TEN: readonly Duration[] = ["5", "10"];

export const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const SOUND_SETTINGS = ["on", "off"] as const;

/** Kling's camera moves: `simple` (one axis, with a config) or one of the four preset moves. */
export const CAMERA_CONTROL_TYPES = ["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"] as const;
export type CameraControlType = (typeof CAMERA_CONTROL_TYPES)[number];

/** What a video starts from: a prompt alone, or an image (the first frame). */
export type VideoInput = "text" | "image";

export const MODEL_NAMES = [
  "kling-v1",
  "kling-v1-5",
  "kling-v1-6",
  "kling-v2-master",
  "kling-v2-1",
  "kling-v2-1-master",
  "kling-v2-5-turbo",
  "kling-v2-6",
  "kling-v3",
  "kling-2.5-turbo",
  "kling-2.6",
  "kling-3.0",
  "kling-3.0-turbo",
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The modes (and durations) a feature is accepted with. */
interface Allowed {
  readonly modes: readonly Mode[];
}

export interface ModelCapabilities {
  readonly standard: ApiStandard;
  /** Text to video, image to video, or both. */
  readonly inputs: readonly VideoInput[];
  readonly modes: readonly Mode[];
  /** The mode of a request that names none. */
  readonly defaultMode: Mode;
  /** False for a model that takes no mode parameter at all (it renders in its one mode). */
  readonly modeParameter: boolean;
  readonly durations: readonly Duration[];
  /** Text-to-video only: for image-to-video the image sets the aspect ratio. */
  readonly aspectRatios: readonly AspectRatio[];
  /** The longest prompt, in characters, by input (the new standard's limits differ by page). */
  readonly promptCharacters: Readonly<Record<VideoInput, number>>;
  readonly negativePrompt: boolean;
  readonly cfgScale: boolean;
  /** The `sound` parameter: undefined when the model has none; else the modes `sound: "on"` (native audio) is made in. */
  readonly sound: Allowed | undefined;
  /** True for a model that always makes native audio and has no switch for it (kling-3.0-turbo). */
  readonly alwaysNativeAudio: boolean;
  /** First and last frame (`imageTail`): undefined when the model takes no last frame. */
  readonly lastFrame: (Allowed & { readonly silentOnly: boolean }) | undefined;
  /**
   * Multi-shot video: undefined when the model makes none. `form` is how the shots are given: `prompt`, the new standard's
   * "shot n, m, words;" prompt form; `fields`, the legacy kling-v3 `multi_prompt` list. `setting`: the model has a
   * `multi_shot` switch, which defaults to true on 3.0, so the pipeline always sends it (false unless shots are asked for).
   */
  readonly multiShot: { readonly form: "prompt" | "fields"; readonly setting: boolean } | undefined;
  /** The modes, durations and types camera_control is accepted with; undefined when it never is. */
  readonly cameraControl: (Allowed & { readonly durations: readonly Duration[]; readonly types: readonly CameraControlType[] }) | undefined;
}

const BOTH: readonly VideoInput[] = ["text", "image"];
const IMAGE_ONLY: readonly VideoInput[] = ["image"];
const PRO_ONLY: readonly Mode[] = ["pro"];
const LEGACY_PROMPT = { text: 2500, image: 2500 } as const;

/** The legacy models up to kling-v2-6: each states only where it differs. */
const LEGACY = {
  standard: "legacy",
  inputs: BOTH,
  modes: STD_PRO,
  defaultMode: "std",
  modeParameter: true,
  durations: FIVE_OR_TEN,
  aspectRatios: ASPECT_RATIOS,
  promptCharacters: LEGACY_PROMPT,
  negativePrompt: true,
  cfgScale: false,
  sound: undefined,
  alwaysNativeAudio: false,
  lastFrame: { modes: STD_PRO, silentOnly: false },
  multiShot: undefined,
  cameraControl: undefined,
} as const satisfies ModelCapabilities;

/** The new standard: no negative prompt, no cfg_scale, no camera control (none of its pages has them). */
const NEW = { ...LEGACY, standard: "new", negativePrompt: false } as const satisfies ModelCapabilities;

/** 2.5 Turbo and 2.6: first and last frame only at 1080p (and silent on 2.6). */
const TURBO_2_5 = { lastFrame: { modes: PRO_ONLY, silentOnly: false } } as const;
/** 2.6: native audio only at 1080p; first and last frame only at 1080p and silent. */
const V2_6 = { sound: { modes: PRO_ONLY }, lastFrame: { modes: PRO_ONLY, silentOnly: true } } as const;
/** 3.0: 3 to 15 s, 720p, 1080p and 4K, native audio at each; a last frame at each (4K: "all functions"). */
const V3 = { durations: DURATIONS, modes: MODES, sound: { modes: MODES }, lastFrame: { modes: MODES, silentOnly: false } } as const;

/** kling-v1-5, kling-v1-6, kling-v2-1: first and last frame in pro mode only (updates log 2024-12-09, 2025-03-12, 2025-03-31). */
const LAST_FRAME_PRO = { lastFrame: { modes: PRO_ONLY, silentOnly: false } } as const;

export const MODELS: Readonly<Record<ModelName, ModelCapabilities>> = {
  "kling-v1": { ...LEGACY, cfgScale: true, cameraControl: { modes: ["std"], durations: ["5"], types: CAMERA_CONTROL_TYPES } },
  // "V1.5 Model PRO mode supports start/end frame, end frame, motion brush, camera control (simple only)" (updates log 2025-03-12).
  "kling-v1-5": { ...LEGACY, ...LAST_FRAME_PRO, inputs: IMAGE_ONLY, cfgScale: true, cameraControl: { modes: PRO_ONLY, durations: FIVE_OR_TEN, types: ["simple"] } },
  "kling-v1-6": { ...LEGACY, ...LAST_FRAME_PRO, cfgScale: true },
  // No mode parameter at all (updates log 2025-05-13): it renders 1080p, priced as such.
  "kling-v2-master": { ...LEGACY, modes: PRO_ONLY, defaultMode: "pro", modeParameter: false },
  "kling-v2-1": { ...LEGACY, ...LAST_FRAME_PRO, inputs: IMAGE_ONLY },
  "kling-v2-1-master": { ...LEGACY, modes: PRO_ONLY, defaultMode: "pro" },
  "kling-v2-5-turbo": { ...LEGACY, ...TURBO_2_5 },
  "kling-v2-6": { ...LEGACY, ...V2_6 },
  // multi_shot, shot_type and multi_prompt (at most 6 shots; updates log 2026-04-23, 2026-05-07).
  "kling-v3": { ...LEGACY, ...V3, multiShot: { form: "fields", setting: true } },
  "kling-2.5-turbo": { ...NEW, ...TURBO_2_5 },
  "kling-2.6": { ...NEW, ...V2_6 },
  // settings.multi_shot defaults to true: a prompt in the shot form becomes a multi-shot video unless it is sent false.
  "kling-3.0": { ...NEW, ...V3, promptCharacters: { text: 3072, image: 3072 }, multiShot: { form: "prompt", setting: true } },
  // Native audio always, with no audio setting (its pages have none; its price row and the capability map: "With Native
  // Audio"), and first frame only ("First Frame + Last Frame ... not supported yet"; capability map: not supported).
  // Multi-shot by the prompt form alone: its pages have no multi_shot setting.
  "kling-3.0-turbo": { ...NEW, durations: DURATIONS, promptCharacters: { text: 3072, image: 2500 }, alwaysNativeAudio: true, lastFrame: undefined, multiShot: { form: "prompt", setting: false } },
};

/** The longest prompt any model accepts: the field's own limit; each model's is checked with the model. */
export const MAX_PROMPT_CHARACTERS = Math.max(...MODEL_NAMES.flatMap((model) => Object.values(MODELS[model].promptCharacters)));

export function isModelName(value: string): value is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(value);
}

/** The models that accept the given input, in table order. */
export function modelsFor(input: VideoInput): ModelName[] {
  return MODEL_NAMES.filter((model) => MODELS[model].inputs.includes(input));
}

/** The models with a given capability, in table order. */
export function modelsWhere(accepts: (capabilities: ModelCapabilities) => boolean): ModelName[] {
  return MODEL_NAMES.filter((model) => accepts(MODELS[model]));
}
