/**
 * Avatar (legacy): `POST /v1/videos/avatar/image2video`, as Kling's "Avatar" page describes it: a
 * reference image and its speech (`sound_file`, or `audio_id` of an earlier audio), 2 s to 300 s.
 * The video lasts as long as the audio; std 0.4, pro 0.8 units a second.
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { AVATAR_RATES, rateOf, unitsOf } from "../kling-tables";
import type { ProductContext } from "./context";
import { audioInput, imageProblemOf, legacyOptions, promptProblem, unknownField } from "./inputs";

const FIELDS = ["image", "audio_id", "sound_file", "prompt", "mode", "watermark_info", "callback_url", "external_task_id"];

export function validateAvatar(body: unknown, context: ProductContext): CreateValidation {
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, FIELDS);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of avatar/image2video`);
  if (body.image === undefined || body.image === "") return refuse("image is required");
  const problem = imageProblemOf("image", body.image) ?? promptProblem("prompt", body.prompt, 2500, false);
  if (problem) return refuse(problem);
  const mode = body.mode ?? "std";
  if (mode !== "std" && mode !== "pro") return refuse('mode must be "std" or "pro"');
  const seconds = audioInput("", body, context, { min: 2, max: 300 });
  if (typeof seconds === "string") return refuse(seconds);
  const options = legacyOptions(body);
  if (typeof options === "string") return refuse(options);
  const rounded = Math.round(seconds * 100) / 100;
  return {
    ok: true,
    create: {
      model: "avatar",
      mode,
      duration: String(rounded),
      ...(typeof body.prompt === "string" ? { prompt: body.prompt } : {}),
      ...options,
      units: unitsOf(rateOf(AVATAR_RATES, mode === "pro" ? "1080p" : "720p", "avatar"), rounded),
      result: "video",
    },
  };
}
