/**
 * The legacy create-body rules of Kling's API documentation ("Text to video", "Image to video", "Models and
 * rules"). The first broken rule becomes a 400/1201 whose message names the field, as Kling's
 * does. The new standard's rules are in validation-v2.ts.
 */
import type { Mode } from "#lambdas/schemas/models";
import { CAMERA_AXES, CAMERA_CONTROL_TYPES, type TaskKind } from "#lambdas/kling/wire";
import { readImageInfo } from "./image";
import { isRecord } from "./json";

// Kling's model lists as its API documentation gives them, kept apart from the pipeline's own table
// (lambdas/schemas/models.ts) on purpose: the simulator stands for Kling, so a mistake in the
// pipeline's table shows up as a refused create instead of being shared by both.
const TEXT_TO_VIDEO_MODELS = [
  "kling-v1",
  "kling-v1-6",
  "kling-v2-master",
  "kling-v2-1-master",
  "kling-v2-5-turbo",
  "kling-v2-6",
  "kling-v3",
] as const;
const IMAGE_TO_VIDEO_MODELS = [...TEXT_TO_VIDEO_MODELS, "kling-v1-5", "kling-v2-1"] as const;
const MODELS_BY_KIND: Readonly<Record<TaskKind, readonly string[]>> = {
  text2video: TEXT_TO_VIDEO_MODELS,
  image2video: IMAGE_TO_VIDEO_MODELS,
};
/** The models with `sound`, and the modes native audio (`on`) is made in: 2.6 at 1080p only. */
const SOUND_MODES: Readonly<Record<string, readonly string[]>> = { "kling-v2-6": ["pro"], "kling-v3": ["std", "pro"] };
const FIVE_OR_TEN = ["5", "10"];
/** kling-v3 takes "3" to "15"; the others "5" or "10". */
const DURATIONS_BY_MODEL: Readonly<Record<string, readonly string[]>> = {
  "kling-v3": Array.from({ length: 13 }, (_, index) => String(index + 3)),
};
/** kling-v2-master has no mode parameter; kling-v2-1-master is 1080p (pro) only. Both render 1080p. */
const NO_MODE_PARAMETER = "kling-v2-master";
const PRO_ONLY = ["kling-v2-master", "kling-v2-1-master"];
/** First and last frame: 1080p only on 2.5 Turbo and 2.6, and silent on 2.6. */
const LAST_FRAME_PRO_ONLY = ["kling-v2-5-turbo", "kling-v2-6"];
const LAST_FRAME_SILENT_ONLY = ["kling-v2-6"];
const MAX_PROMPT_CHARS = 2500;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const MIN_IMAGE_PX = 300;
const MAX_IMAGE_ASPECT = 2.5;

/** What the simulator keeps of a valid create body. */
export interface AcceptedCreate {
  readonly model: string;
  readonly mode: Mode;
  /** Seconds, as the legacy standard writes them. */
  readonly duration: string;
  readonly sound?: "on" | "off";
  /** Kept so a run can tell whose task it is even without an external_task_id (the chaos run's accounting). */
  readonly prompt?: string;
  readonly externalTaskId?: string;
  readonly callbackUrl?: string;
}

export type CreateValidation = { readonly ok: true; readonly create: AcceptedCreate } | { readonly ok: false; readonly message: string };

export function validateCreateBody(kind: TaskKind, body: unknown): CreateValidation {
  if (!isRecord(body)) return { ok: false, message: "the request body must be a JSON object" };
  const problem = firstProblem(kind, body);
  if (problem !== undefined) return { ok: false, message: problem };
  return {
    ok: true,
    create: {
      model: typeof body.model_name === "string" ? body.model_name : "kling-v1",
      mode: body.mode === "pro" || PRO_ONLY.includes(String(body.model_name)) ? "pro" : "std",
      duration: typeof body.duration === "string" ? body.duration : "5",
      ...(body.sound === "on" || body.sound === "off" ? { sound: body.sound } : {}),
      ...(typeof body.prompt === "string" ? { prompt: body.prompt } : {}),
      ...(typeof body.external_task_id === "string" ? { externalTaskId: body.external_task_id } : {}),
      ...(typeof body.callback_url === "string" ? { callbackUrl: body.callback_url } : {}),
    },
  };
}

// Longer than 60 lines: Kling's documented checks on a create body, in the order Kling applies them.
function firstProblem(kind: TaskKind, body: Record<string, unknown>): string | undefined {
  const models = MODELS_BY_KIND[kind];
  const model = body.model_name ?? "kling-v1";
  if (typeof model !== "string" || !models.includes(model)) {
    return `model_name ${JSON.stringify(model)} is not a ${kind} model (one of ${models.join(", ")})`;
  }

  if (kind === "text2video" && (body.prompt === undefined || body.prompt === "")) return "prompt is required";
  for (const field of ["prompt", "negative_prompt"] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== "string") return `${field} must be a string`;
    if (value.length > MAX_PROMPT_CHARS) return `${field} must be at most ${MAX_PROMPT_CHARS} characters`;
  }

  if (body.cfg_scale !== undefined) {
    if (model.startsWith("kling-v2")) return `cfg_scale is not accepted by ${model}`;
    if (typeof body.cfg_scale !== "number" || body.cfg_scale < 0 || body.cfg_scale > 1) return "cfg_scale must be a number from 0 to 1";
  }
  if (model === NO_MODE_PARAMETER && body.mode !== undefined) return `mode is not supported by ${model} (it has no mode parameter)`;
  const mode = body.mode ?? (PRO_ONLY.includes(model) ? "pro" : "std");
  if (mode !== "std" && mode !== "pro") return 'mode must be "std" or "pro"';
  if (PRO_ONLY.includes(model) && mode !== "pro") return `mode must be "pro" for ${model} (1080p only)`;
  const durations = DURATIONS_BY_MODEL[model] ?? FIVE_OR_TEN;
  const duration = body.duration ?? "5";
  if (typeof duration !== "string" || !durations.includes(duration)) return `duration must be one of the strings ${durations.join(", ")} for ${model}`;

  if (kind === "image2video" && body.aspect_ratio !== undefined) return "aspect_ratio is not accepted by image2video";
  if (body.aspect_ratio !== undefined && !["16:9", "9:16", "1:1"].includes(String(body.aspect_ratio))) {
    return 'aspect_ratio must be "16:9", "9:16" or "1:1"';
  }

  if (body.sound !== undefined) {
    const soundModes = SOUND_MODES[model];
    if (!soundModes) return `sound is not supported by ${model} (only ${Object.keys(SOUND_MODES).join(", ")})`;
    if (body.sound !== "on" && body.sound !== "off") return 'sound must be "on" or "off"';
    if (body.sound === "on" && !soundModes.includes(mode)) return `sound "on" is only supported in ${soundModes.join(" or ")} mode by ${model}`;
  }
  if (body.image_tail !== undefined && body.camera_control !== undefined) {
    return "image_tail and camera_control cannot be used together";
  }
  if (body.image_tail !== undefined && LAST_FRAME_PRO_ONLY.includes(model) && mode !== "pro") {
    return `image_tail (first and last frame) is only supported in pro mode (1080p) by ${model}`;
  }
  if (body.image_tail !== undefined && LAST_FRAME_SILENT_ONLY.includes(model) && body.sound === "on") {
    return `image_tail (first and last frame) is only supported with sound "off" by ${model}`;
  }

  if (body.camera_control !== undefined) {
    const problem = cameraControlProblem(body.camera_control);
    if (problem) return problem;
    if (model !== "kling-v1" || mode !== "std" || duration !== "5") {
      return `camera_control is only available with kling-v1, std mode and a 5 s duration (got ${model}, ${mode}, ${duration} s)`;
    }
  }

  if (kind === "image2video") {
    if (body.image === undefined || body.image === "") return "image is required";
    const imageProblem = imageProblemOf("image", body.image);
    if (imageProblem) return imageProblem;
    if (body.image_tail !== undefined) {
      const tailProblem = imageProblemOf("image_tail", body.image_tail);
      if (tailProblem) return tailProblem;
    }
  } else if (body.image !== undefined || body.image_tail !== undefined) {
    return "image and image_tail are not accepted by text2video";
  }

  if (body.callback_url !== undefined && !isHttpUrl(body.callback_url)) return "callback_url must be an http(s) URL";
  if (body.external_task_id !== undefined && (typeof body.external_task_id !== "string" || body.external_task_id === "")) {
    return "external_task_id must be a non-empty string";
  }
  return undefined;
}

function cameraControlProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return "camera_control must be an object";
  if (!(CAMERA_CONTROL_TYPES as readonly unknown[]).includes(value.type)) {
    return `camera_control.type must be one of ${CAMERA_CONTROL_TYPES.join(", ")}`;
  }
  if (value.type !== "simple") {
    return value.config === undefined ? undefined : `camera_control.config is only accepted with type "simple"`;
  }
  if (!isRecord(value.config)) return 'camera_control.config is required with type "simple"';
  const config = value.config;
  const unknownAxis = Object.keys(config).find((key) => !(CAMERA_AXES as readonly string[]).includes(key));
  if (unknownAxis) return `camera_control.config.${unknownAxis} is not a camera axis (${CAMERA_AXES.join(", ")})`;
  for (const axis of CAMERA_AXES) {
    const amount = config[axis];
    if (amount !== undefined && (typeof amount !== "number" || amount < -10 || amount > 10)) {
      return `camera_control.config.${axis} must be a number from -10 to 10`;
    }
  }
  const moving = CAMERA_AXES.filter((axis) => typeof config[axis] === "number" && config[axis] !== 0);
  if (moving.length !== 1) return "camera_control.config must set exactly one non-zero axis";
  return undefined;
}

/** What is wrong with an image (an https URL or raw base64), the field named as the caller sent it. */
export function imageProblemOf(field: string, value: unknown): string | undefined {
  if (typeof value !== "string") return `${field} must be a string (an https URL or base64)`;
  if (value.startsWith("data:")) return `${field} must be raw base64 without a data: prefix`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return value.toLowerCase().startsWith("https://") && isHttpUrl(value) ? undefined : `${field} URL must use https`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return `${field} is neither an https URL nor base64`;
  if ((value.length * 3) / 4 > MAX_IMAGE_BYTES + 2) return `${field} must be at most 10 MB`;
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
