/**
 * Video to audio (legacy): `POST /v1/audio/video-to-audio`, as Kling's "Video to Audio" page
 * describes it: a video (`video_id` of this account or `video_url`, 3 s to 20 s), sound-effect and
 * background-music prompts of at most 200 characters, `asmr_mode`. It makes the video with its
 * new sound (`task_result.videos[]`) and the audio alone as MP3 and WAV (`task_result.audios[]`),
 * as long as the video; 0.25 units a call.
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { VIDEO_TO_AUDIO_UNITS } from "../kling-tables";
import type { ProductContext } from "./context";
import { legacyOptions, promptProblem, unknownField, videoIdOrUrl } from "./inputs";

const FIELDS = ["video_id", "video_url", "sound_effect_prompt", "bgm_prompt", "asmr_mode", "callback_url", "external_task_id"];

export function validateVideoToAudio(body: unknown, context: ProductContext): CreateValidation {
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, FIELDS);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of video-to-audio`);
  const video = videoIdOrUrl(body, context, { min: 3, max: 20 });
  if (typeof video === "string") return refuse(video);
  const problem = promptProblem("sound_effect_prompt", body.sound_effect_prompt, 200, false) ?? promptProblem("bgm_prompt", body.bgm_prompt, 200, false);
  if (problem) return refuse(problem);
  if (body.asmr_mode !== undefined && typeof body.asmr_mode !== "boolean") return refuse("asmr_mode must be true or false");
  const options = legacyOptions(body);
  if (typeof options === "string") return refuse(options);
  const prompt = [body.sound_effect_prompt, body.bgm_prompt].filter((text): text is string => typeof text === "string" && text !== "").join(" / ");
  const url = typeof body.video_url === "string" ? body.video_url : (video.known?.url ?? "");
  return {
    ok: true,
    create: {
      model: "video-to-audio",
      mode: "std",
      duration: String(video.seconds),
      ...(prompt === "" ? {} : { prompt }),
      ...options,
      units: VIDEO_TO_AUDIO_UNITS,
      result: "audio",
      parentVideo: { id: video.known?.id ?? "", url, duration: String(video.seconds) },
    },
  };
}
