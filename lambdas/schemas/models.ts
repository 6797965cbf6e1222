/**
 * What each Kling model accepts: the one capability table that validation (and so the API)
 * checks requests against before anything is sent or paid for.
 *
 * Source: Kling's API documentation, "Text to video" and "Image to video" (legacy `/v1`).
 * Only the facts written there: every model takes modes std/pro and durations "5"/"10";
 * cfg_scale is refused by the kling-v2.x models; sound is kling-v2-6 (and later) only;
 * camera_control only with kling-v1, std mode, 5 s; kling-v1-5 and kling-v2-1 are
 * image-to-video models only. PRICING (pricing.ts) is keyed by MODEL_NAMES: a model without a
 * price fails type-checking.
 */
import type { TaskKind } from "../kling/wire";

export const MODES = ["std", "pro"] as const;
export type Mode = (typeof MODES)[number];

/** Seconds of video, written as Kling writes them. */
export const DURATIONS = ["5", "10"] as const;
export type Duration = (typeof DURATIONS)[number];

export const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const SOUND_SETTINGS = ["on", "off"] as const;

export const MODEL_NAMES = [
  "kling-v1",
  "kling-v1-5",
  "kling-v1-6",
  "kling-v2-master",
  "kling-v2-1",
  "kling-v2-1-master",
  "kling-v2-5-turbo",
  "kling-v2-6",
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelCapabilities {
  /** The endpoints (text2video, image2video) that take this model. */
  readonly kinds: readonly TaskKind[];
  readonly modes: readonly Mode[];
  readonly durations: readonly Duration[];
  /** Text-to-video only: for image-to-video the image sets the aspect ratio. */
  readonly aspectRatios: readonly AspectRatio[];
  readonly cfgScale: boolean;
  readonly sound: boolean;
  /** The modes and durations camera_control is accepted with; undefined when it never is. */
  readonly cameraControl: { readonly modes: readonly Mode[]; readonly durations: readonly Duration[] } | undefined;
}

const BOTH_KINDS: readonly TaskKind[] = ["text2video", "image2video"];
const IMAGE_ONLY: readonly TaskKind[] = ["image2video"];

/** The shared defaults of the table; each model states only where it differs. */
const COMMON = {
  modes: MODES,
  durations: DURATIONS,
  aspectRatios: ASPECT_RATIOS,
  cameraControl: undefined,
} as const;

export const MODELS: Readonly<Record<ModelName, ModelCapabilities>> = {
  "kling-v1": { ...COMMON, kinds: BOTH_KINDS, cfgScale: true, sound: false, cameraControl: { modes: ["std"], durations: ["5"] } },
  "kling-v1-5": { ...COMMON, kinds: IMAGE_ONLY, cfgScale: true, sound: false },
  "kling-v1-6": { ...COMMON, kinds: BOTH_KINDS, cfgScale: true, sound: false },
  "kling-v2-master": { ...COMMON, kinds: BOTH_KINDS, cfgScale: false, sound: false },
  "kling-v2-1": { ...COMMON, kinds: IMAGE_ONLY, cfgScale: false, sound: false },
  "kling-v2-1-master": { ...COMMON, kinds: BOTH_KINDS, cfgScale: false, sound: false },
  "kling-v2-5-turbo": { ...COMMON, kinds: BOTH_KINDS, cfgScale: false, sound: false },
  "kling-v2-6": { ...COMMON, kinds: BOTH_KINDS, cfgScale: false, sound: true },
};

export function isModelName(value: string): value is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(value);
}

/** The models that accept the given kind of task, in table order. */
export function modelsFor(kind: TaskKind): ModelName[] {
  return MODEL_NAMES.filter((model) => MODELS[model].kinds.includes(kind));
}
