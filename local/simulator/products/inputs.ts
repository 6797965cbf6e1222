/** The rules every product applies to the same kinds of input: images, videos, audio, prompts, and the legacy task options. */
import { audioFormatOf, wavSeconds } from "../audio";
import { readImageInfo } from "../image";
import { isRecord } from "../json";
import { ASSUMED_MEDIA_SECONDS, type KnownVideo, type ProductContext } from "./context";

const MB = 1024 * 1024;
const MIN_IMAGE_PX = 300;
const MAX_IMAGE_ASPECT = 2.5;

/** What is wrong with an image (an https URL or raw base64), the field named as the caller sent it. */
export function imageProblemOf(field: string, value: unknown, maxMegabytes = 10): string | undefined {
  if (typeof value !== "string") return `${field} must be a string (an https URL or base64)`;
  if (value.startsWith("data:")) return `${field} must be raw base64 without a data: prefix`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return value.toLowerCase().startsWith("https://") && isHttpUrl(value) ? undefined : `${field} URL must use https`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return `${field} is neither an https URL nor base64`;
  if ((value.length * 3) / 4 > maxMegabytes * MB + 2) return `${field} must be at most ${maxMegabytes} MB`;
  const info = readImageInfo(Buffer.from(value, "base64"));
  if (!info) return `${field} must be a jpg, jpeg or png image`;
  if (Math.min(info.width, info.height) < MIN_IMAGE_PX) return `${field} must be at least ${MIN_IMAGE_PX} px on each side`;
  const aspect = info.width / info.height;
  if (aspect > MAX_IMAGE_ASPECT || aspect < 1 / MAX_IMAGE_ASPECT) return `${field} aspect ratio must be between 1:2.5 and 2.5:1`;
  return undefined;
}

export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

export function promptProblem(field: string, value: unknown, limit: number, required: boolean): string | undefined {
  if (value === undefined || value === "") return required ? `${field} is required` : undefined;
  if (typeof value !== "string") return `${field} must be a string`;
  if (Array.from(value).length > limit) return `${field} must be at most ${limit} characters`;
  return undefined;
}

/** A video input: how long it lasts, and the simulator's own video when it is one (its id for parent_video). */
export interface VideoInput {
  readonly seconds: number;
  readonly known: KnownVideo | undefined;
}

export interface SecondsRange {
  readonly min: number;
  readonly max: number;
}

const secondsProblem = (field: string, seconds: number, range: SecondsRange) =>
  seconds < range.min || seconds > range.max ? `${field} must last ${range.min} to ${range.max} s (it lasts ${seconds} s)` : undefined;

/** A video given by URL (see context.ts for what the simulator can know of one). */
export function videoUrlInput(field: string, value: unknown, context: ProductContext, range: SecondsRange): VideoInput | string {
  if (typeof value !== "string" || value === "") return `${field} must be a video URL`;
  const served = context.servedMedia(value);
  if (served.kind === "gone") return `${field} could not be downloaded (the video is not there)`;
  if (served.kind === "audio") return `${field} must be an .mp4 or .mov video`;
  if (served.kind === "video") return secondsProblem(field, served.video.seconds, range) ?? { seconds: served.video.seconds, known: served.video };
  if (!value.toLowerCase().startsWith("https://") || !isHttpUrl(value)) return `${field} URL must use https`;
  return { seconds: ASSUMED_MEDIA_SECONDS, known: undefined };
}

/** A video of this account given by its Kling video id. */
export function videoIdInput(field: string, value: unknown, context: ProductContext, range: SecondsRange): VideoInput | string {
  if (typeof value !== "string" || value === "") return `${field} must be a video id`;
  const video = context.videoById(value);
  if (!video) return `${field} ${value} is not a video of this account generated within the last 30 days`;
  return secondsProblem(field, video.seconds, range) ?? { seconds: video.seconds, known: video };
}

/** Exactly one of `video_id` and `video_url`, as lip-sync's face identification and video to audio take them. */
export function videoIdOrUrl(body: Record<string, unknown>, context: ProductContext, range: SecondsRange): VideoInput | string {
  const hasId = body.video_id !== undefined && body.video_id !== "";
  const hasUrl = body.video_url !== undefined && body.video_url !== "";
  if (hasId === hasUrl) return "exactly one of video_id and video_url is required (they are mutually exclusive)";
  return hasId ? videoIdInput("video_id", body.video_id, context, range) : videoUrlInput("video_url", body.video_url, context, range);
}

/** An audio given as `audio_id` (an audio of this account) or `sound_file` (base64 or a URL), exactly one of them; its seconds. */
export function audioInput(prefix: string, holder: Record<string, unknown>, context: ProductContext, range: SecondsRange): number | string {
  const hasId = holder.audio_id !== undefined && holder.audio_id !== "";
  const hasFile = holder.sound_file !== undefined && holder.sound_file !== "";
  if (hasId === hasFile) return `exactly one of ${prefix}audio_id and ${prefix}sound_file is required (they are mutually exclusive)`;
  if (hasId) {
    const audio = typeof holder.audio_id === "string" ? context.audioById(holder.audio_id) : undefined;
    if (!audio) return `${prefix}audio_id ${String(holder.audio_id)} is not an audio of this account generated within the last 30 days`;
    return secondsProblem(`${prefix}audio_id`, audio.seconds, range) ?? audio.seconds;
  }
  const field = `${prefix}sound_file`;
  const value = holder.sound_file;
  if (typeof value !== "string") return `${field} must be a string (an audio URL or base64)`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const served = context.servedMedia(value);
    if (served.kind === "gone") return `${field} could not be downloaded (the audio is not there)`;
    if (served.kind === "video") return `${field} must be an .mp3, .wav, .m4a or .aac audio`;
    if (served.kind === "audio") return secondsProblem(field, served.audio.seconds, range) ?? served.audio.seconds;
    if (!value.toLowerCase().startsWith("https://") || !isHttpUrl(value)) return `${field} URL must use https`;
    return ASSUMED_MEDIA_SECONDS;
  }
  if (value.startsWith("data:")) return `${field} must be raw base64 without a data: prefix`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return `${field} is neither an audio URL nor base64`;
  if ((value.length * 3) / 4 > 5 * MB + 2) return `${field} must be at most 5 MB`;
  const bytes = Buffer.from(value, "base64");
  const format = audioFormatOf(bytes);
  if (!format) return `${field} must be an .mp3, .wav, .m4a or .aac audio`;
  const seconds = format === "wav" ? wavSeconds(bytes) : ASSUMED_MEDIA_SECONDS;
  if (seconds === undefined) return `${field} is a WAV whose duration cannot be read`;
  return secondsProblem(field, Math.round(seconds * 100) / 100, range) ?? seconds;
}

/** The legacy standard's task options: `callback_url`, `external_task_id`, `watermark_info` (empty strings refused, as on text and image to video). */
export interface LegacyOptions {
  readonly externalTaskId?: string;
  readonly callbackUrl?: string;
}

export function legacyOptions(body: Record<string, unknown>): LegacyOptions | string {
  if (body.callback_url !== undefined && !isHttpUrl(body.callback_url)) return "callback_url must be an http(s) URL";
  if (body.external_task_id !== undefined && (typeof body.external_task_id !== "string" || body.external_task_id === "")) {
    return "external_task_id must be a non-empty string";
  }
  const watermark = watermarkProblem("watermark_info", body.watermark_info);
  if (watermark) return watermark;
  return {
    ...(typeof body.external_task_id === "string" ? { externalTaskId: body.external_task_id } : {}),
    ...(typeof body.callback_url === "string" ? { callbackUrl: body.callback_url } : {}),
  };
}

export function watermarkProblem(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value.enabled !== "boolean") return `${field} must be {"enabled": true or false}`;
  return undefined;
}

/** The field of `body` not among `known`, if any. */
export function unknownField(body: Record<string, unknown>, known: readonly string[]): string | undefined {
  return Object.keys(body).find((key) => !known.includes(key));
}

/** The new standard's `options`: `callback_url`, `external_task_id`, `watermark_info`. */
export function newStandardOptions(value: unknown): LegacyOptions | string {
  const options = value ?? {};
  if (!isRecord(options)) return "options must be an object";
  const unknown = unknownField(options, ["callback_url", "external_task_id", "watermark_info"]);
  if (unknown !== undefined) return `options.${unknown} is not a parameter`;
  if (options.callback_url !== undefined && !isHttpUrl(options.callback_url)) return "options.callback_url must be an http(s) URL";
  if (options.external_task_id !== undefined && (typeof options.external_task_id !== "string" || options.external_task_id === "")) {
    return "options.external_task_id must be a non-empty string";
  }
  const watermark = watermarkProblem("options.watermark_info", options.watermark_info);
  if (watermark) return watermark;
  return {
    ...(typeof options.external_task_id === "string" ? { externalTaskId: options.external_task_id } : {}),
    ...(typeof options.callback_url === "string" ? { callbackUrl: options.callback_url } : {}),
  };
}

/** An object field that may be absent (then empty). */
export function objectField(body: Record<string, unknown>, field: string): Record<string, unknown> | string {
  const value = body[field] ?? {};
  return isRecord(value) ? value : `${field} must be an object`;
}
