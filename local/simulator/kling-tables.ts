/**
 * Kling's own figures, as the simulator knows them: prices and the camera-control constants. Kept
 * apart from the pipeline's tables (lambdas/schemas/pricing.ts, lambdas/kling/wire.ts) on purpose:
 * the simulator stands for Kling, so a wrong price in the pipeline shows up as a reservation that
 * differs from what the simulator charges (`final_unit_deduction`), instead of being shared by both.
 *
 * Source: Kling's price page (document-api pricing/base/video, copied in aself101/kling-api
 * docs/api/kling-pricing-video.md), units per second of output unless said; the kling-v1.x and
 * master rows come from a third party (the cluely/unmodel pricing table, /work/shared/KLING_API.md).
 * Two products have no row on Kling's page; the simulator charges them by a convention of its own,
 * said at their constant (video effects, video extend).
 */

/** The resolutions a price is given for: std is 720p, pro 1080p (and kling-v3's mode "4k"). */
export type Resolution = "720p" | "1080p" | "4k";
export type PerSecond = Readonly<Partial<Record<Resolution, number>>>;

export interface VideoRates {
  /** Without native audio. */
  readonly silent: PerSecond;
  /** With native audio (no voice control); undefined: the model makes none. */
  readonly withAudio?: PerSecond;
}

const V1: VideoRates = { silent: { "720p": 0.2, "1080p": 0.7 } };
const V1_X: VideoRates = { silent: { "720p": 0.4, "1080p": 0.7 } };
const MASTER: VideoRates = { silent: { "1080p": 2.0 } };
const TURBO_2_5: VideoRates = { silent: { "720p": 0.3, "1080p": 0.5 } };
const V2_6: VideoRates = { silent: { "720p": 0.3, "1080p": 0.5 }, withAudio: { "1080p": 1.0 } };
const V3: VideoRates = { silent: { "720p": 0.6, "1080p": 0.8, "4k": 3.0 }, withAudio: { "720p": 0.9, "1080p": 1.2, "4k": 3.0 } };
/** 3.0 Turbo's one row says "With Native Audio": there is no switch, every video is priced so. */
const TURBO_3_0: VideoRates = { silent: { "720p": 0.8, "1080p": 1.0 } };

/** Text and image to video, by model name (legacy `model_name` or the new standard's path segment). */
export const VIDEO_RATES: Readonly<Record<string, VideoRates>> = {
  "kling-v1": V1,
  "kling-v1-5": V1_X,
  "kling-v1-6": V1_X,
  "kling-v2-1": V1_X,
  "kling-v2-master": MASTER,
  "kling-v2-1-master": MASTER,
  "kling-v2-5-turbo": TURBO_2_5,
  "kling-v2-6": V2_6,
  "kling-v3": V3,
  "kling-2.5-turbo": TURBO_2_5,
  "kling-2.6": V2_6,
  "kling-3.0": V3,
  "kling-3.0-turbo": TURBO_3_0,
};

/** Omni video: priced by whether a video is among the inputs, and by native audio (3.0 Omni only). */
export const OMNI_RATES: Readonly<Record<string, { readonly noVideo: VideoRates; readonly withVideo: PerSecond }>> = {
  "kling-3.0-omni": {
    noVideo: { silent: { "720p": 0.6, "1080p": 0.8, "4k": 3.0 }, withAudio: { "720p": 0.8, "1080p": 1.0, "4k": 3.0 } },
    withVideo: { "720p": 0.9, "1080p": 1.2, "4k": 3.0 },
  },
  "kling-o1": { noVideo: { silent: { "720p": 0.6, "1080p": 0.8 } }, withVideo: { "720p": 0.9, "1080p": 1.2 } },
};

/** Motion control, per second of the output video. */
export const MOTION_CONTROL_RATES: Readonly<Record<string, PerSecond>> = {
  "kling-3.0": { "720p": 0.9, "1080p": 1.2 },
  "kling-2.6": { "720p": 0.5, "1080p": 0.8 },
};

/** Avatar, per second of the output (as long as its audio): std 0.4, pro 0.8. */
export const AVATAR_RATES: PerSecond = { "720p": 0.4, "1080p": 0.8 };
/** Lip-sync: 0.5 units per 5 s of video, a started 5 s counted whole. */
export const LIP_SYNC_UNITS_PER_5_SECONDS = 0.5;
/** Face identification (the first step of lip-sync), per call. */
export const FACE_IDENTIFICATION_UNITS = 0.05;
/** Video to audio, per call. */
export const VIDEO_TO_AUDIO_UNITS = 0.25;
/**
 * Video effects: not on Kling's price page. The simulator's convention: an effect makes a 5 s
 * video, charged as kling-v1-6 in std mode (0.4 units/s), 2 units.
 */
export const EFFECT_SECONDS = 5;
export const EFFECT_RATES_MODEL = "kling-v1-6";
/**
 * Video extend: not on Kling's price page. The simulator's convention: each extension adds 5 s
 * (Kling says 4 to 5), charged at the rate of the extended video's model and mode.
 */
export const EXTEND_SECONDS = 5;

/** Camera control (legacy text and image to video). */
export const CAMERA_CONTROL_TYPES = ["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"] as const;
export const CAMERA_AXES = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"] as const;

/** Rate times seconds, to the hundredth of a unit (0.3 * 3 is 0.8999999999999999 in floats). */
export function unitsOf(rate: number, seconds: number): number {
  return Math.round(rate * seconds * 100) / 100;
}

/**
 * The rate of a video of a model at a resolution; throws when the table has none: a combination
 * the simulator's rules accept without a price is a defect of the simulator, never a free video.
 */
export function rateOf(rates: PerSecond | undefined, resolution: Resolution, what: string): number {
  const rate = rates?.[resolution];
  if (rate === undefined) throw new Error(`the simulator has no price for ${what} at ${resolution}`);
  return rate;
}

/** The units a text or image to video costs. */
export function videoUnits(model: string, resolution: Resolution, seconds: number, withAudio: boolean): number {
  const rates = VIDEO_RATES[model];
  const what = `${model}${withAudio ? " with native audio" : ""}`;
  return unitsOf(rateOf(withAudio ? rates?.withAudio : rates?.silent, resolution, what), seconds);
}

/** std is 720p, pro 1080p, and kling-v3's "4k" is 4k. */
export function resolutionOfMode(mode: string): Resolution {
  if (mode === "4k") return "4k";
  return mode === "pro" ? "1080p" : "720p";
}
