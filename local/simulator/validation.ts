/**
 * The legacy create-body rules of Kling's API documentation ("Text to video", "Image to video", "Models and
 * rules"). The first broken rule becomes a 400/1201 whose message names the field, as Kling's
 * does. The new standard's rules are in validation-v2.ts, the other products' in products/.
 */
import { refuse, type CreateValidation } from "./accepted";
import { isRecord } from "./json";
import { CAMERA_AXES, CAMERA_CONTROL_TYPES, resolutionOfMode, videoUnits } from "./kling-tables";
import { imageProblemOf, isHttpUrl } from "./products/inputs";
import { MAX_SHOT_WORDS, MAX_SHOTS, shotsProblem, type Shot } from "./products/multi-shot";

type TaskKind = "text2video" | "image2video";

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
const SOUND_MODES: Readonly<Record<string, readonly string[]>> = { "kling-v2-6": ["pro"], "kling-v3": ["std", "pro", "4k"] };
const FIVE_OR_TEN = ["5", "10"];
/** kling-v3 takes "3" to "15"; the others "5" or "10". */
const DURATIONS_BY_MODEL: Readonly<Record<string, readonly string[]>> = {
  "kling-v3": Array.from({ length: 13 }, (_, index) => String(index + 3)),
};
/** kling-v2-master has no mode parameter; kling-v2-1-master is 1080p (pro) only. Both render 1080p. */
const NO_MODE_PARAMETER = "kling-v2-master";
const PRO_ONLY = ["kling-v2-master", "kling-v2-1-master"];
/** First and last frame: 1080p only on 1.5, 1.6 and 2.1 (updates log 2024-12-09, 2025-03-12), 2.5 Turbo and 2.6, and silent on 2.6. */
const LAST_FRAME_PRO_ONLY = ["kling-v1-5", "kling-v1-6", "kling-v2-1", "kling-v2-5-turbo", "kling-v2-6"];
/** kling-v3 also renders 4k (`mode: "4k"`) and takes the multi-shot fields (updates log 2026-04-23). */
const FOUR_K_MODELS = ["kling-v3"];
const MULTI_SHOT_MODELS = ["kling-v3"];
const SHOT_TYPES = ["customize", "intelligence"];
const LAST_FRAME_SILENT_ONLY = ["kling-v2-6"];
const MAX_PROMPT_CHARS = 2500;

export function validateCreateBody(kind: TaskKind, body: unknown): CreateValidation {
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const problem = firstProblem(kind, body) ?? multiShotProblem(body);
  if (problem !== undefined) return refuse(problem);
  const model = typeof body.model_name === "string" ? body.model_name : "kling-v1";
  const mode = body.mode === "pro" || body.mode === "4k" ? body.mode : PRO_ONLY.includes(model) ? "pro" : "std";
  const duration = typeof body.duration === "string" ? body.duration : "5";
  return {
    ok: true,
    create: {
      model,
      mode,
      duration,
      ...(body.sound === "on" || body.sound === "off" ? { sound: body.sound } : {}),
      ...(typeof body.prompt === "string" ? { prompt: body.prompt } : {}),
      ...(typeof body.external_task_id === "string" ? { externalTaskId: body.external_task_id } : {}),
      ...(typeof body.callback_url === "string" ? { callbackUrl: body.callback_url } : {}),
      units: videoUnits(model, resolutionOfMode(mode), Number(duration), body.sound === "on"),
      result: "video",
    },
  };
}

/** kling-v3's multi-shot fields: `multi_shot`, then `shot_type` and, for `customize`, the shots in `multi_prompt[]`. */
function multiShotProblem(body: Record<string, unknown>): string | undefined {
  const model = String(body.model_name ?? "kling-v1");
  const fields = ["multi_shot", "shot_type", "multi_prompt"].filter((field) => body[field] !== undefined);
  if (fields.length === 0) return undefined;
  if (!MULTI_SHOT_MODELS.includes(model)) return `${fields[0]} is not supported by ${model} (multi-shot is ${MULTI_SHOT_MODELS.join(", ")} only)`;
  if (body.multi_shot !== undefined && typeof body.multi_shot !== "boolean") return "multi_shot must be true or false";
  if (body.multi_shot !== true) {
    return body.shot_type !== undefined || body.multi_prompt !== undefined ? "shot_type and multi_prompt need multi_shot: true" : undefined;
  }
  if (!SHOT_TYPES.includes(String(body.shot_type))) return `shot_type must be ${SHOT_TYPES.join(" or ")} with multi_shot: true`;
  if (body.shot_type === "intelligence") return body.multi_prompt === undefined ? undefined : 'multi_prompt is only taken with shot_type "customize"';
  const shots = readShots(body.multi_prompt);
  if (typeof shots === "string") return shots;
  return shotsProblem("multi_prompt", shots, Number(body.duration ?? "5"));
}

function readShots(value: unknown): Shot[] | string {
  if (!Array.isArray(value) || value.length === 0) return `multi_prompt is required with shot_type "customize" (1 to ${MAX_SHOTS} shots)`;
  const shots: Shot[] = [];
  for (const [index, item] of value.entries()) {
    if (!isRecord(item)) return `multi_prompt[${index}] must be an object {index, prompt, duration}`;
    if (typeof item.prompt !== "string") return `multi_prompt[${index}].prompt must be a string of at most ${MAX_SHOT_WORDS} characters`;
    const seconds = typeof item.duration === "string" && /^\d+$/.test(item.duration) ? Number(item.duration) : Number.NaN;
    if (Number.isNaN(seconds)) return `multi_prompt[${index}].duration must be a whole number of seconds, as a string`;
    if (typeof item.index !== "number") return `multi_prompt[${index}].index must be a number`;
    shots.push({ index: item.index, seconds, words: item.prompt });
  }
  return shots;
}

// Longer than 60 lines: Kling's documented checks on a create body, in the order Kling applies them.
function firstProblem(kind: TaskKind, body: Record<string, unknown>): string | undefined {
  const models = MODELS_BY_KIND[kind];
  const model = body.model_name ?? "kling-v1";
  if (typeof model !== "string" || !models.includes(model)) {
    return `model_name ${JSON.stringify(model)} is not a ${kind} model (one of ${models.join(", ")})`;
  }

  const shotsWritten = body.multi_shot === true && body.shot_type === "customize";
  if (kind === "text2video" && !shotsWritten && (body.prompt === undefined || body.prompt === "")) return "prompt is required";
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
  if (mode === "4k" && !FOUR_K_MODELS.includes(model)) return `mode "4k" is not supported by ${model} (only ${FOUR_K_MODELS.join(", ")})`;
  if (mode !== "std" && mode !== "pro" && mode !== "4k") return FOUR_K_MODELS.includes(model) ? 'mode must be "std", "pro" or "4k"' : 'mode must be "std" or "pro"';
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
    if (body.sound === "on" && !soundModes.includes(String(mode))) return `sound "on" is only supported in ${soundModes.join(" or ")} mode by ${model}`;
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
    // kling-v1 in std for 5 s; kling-v1-5 in pro with a simple move (updates log 2025-03-12).
    const onV1 = model === "kling-v1" && mode === "std" && duration === "5";
    const onV1_5 = model === "kling-v1-5" && mode === "pro" && isRecord(body.camera_control) && body.camera_control.type === "simple";
    if (!onV1 && !onV1_5) {
      return `camera_control is only available with kling-v1 (std mode, 5 s) or kling-v1-5 (pro mode, type "simple") (got ${model}, ${mode}, ${duration} s)`;
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
