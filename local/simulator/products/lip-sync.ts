/**
 * Lip-sync (legacy), in two steps as Kling's "Face Recognition" and "Lip Sync" pages describe them:
 * `POST /v1/videos/identify-face` with a video (`video_id` of this account, at most 60 s, or
 * `video_url`, 2 s to 60 s) answers at once with a `session_id` and the faces found (the
 * simulator finds one face, `"0"`, seen from start to end), 0.05 units a call; then
 * `POST /v1/videos/advanced-lip-sync` with that `session_id` and one `face_choose[]` entry (the face,
 * its audio of 2 s to 60 s by `audio_id` or `sound_file`, and where to crop and insert it, in ms)
 * makes the video again with the lips following the audio: as long as the video, 0.5 units per 5 s.
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { LIP_SYNC_UNITS_PER_5_SECONDS, unitsOf } from "../kling-tables";
import type { ProductContext } from "./context";
import { audioInput, legacyOptions, unknownField, videoIdOrUrl, type VideoInput } from "./inputs";

const MIN_CROP_MS = 2000;
const MIN_OVERLAP_MS = 2000;
const FIELDS = ["session_id", "face_choose", "watermark_info", "external_task_id", "callback_url"];
const FACE_FIELDS = ["face_id", "audio_id", "sound_file", "sound_start_time", "sound_end_time", "sound_insert_time", "sound_volume", "original_audio_volume"];

/** The video of a face identification, or what is wrong with the request. */
export function validateIdentifyFace(body: unknown, context: ProductContext): (VideoInput & { readonly url: string; readonly id: string }) | string {
  if (!isRecord(body)) return "the request body must be a JSON object";
  const unknown = unknownField(body, ["video_id", "video_url"]);
  if (unknown !== undefined) return `${unknown} is not a parameter of identify-face`;
  const video = videoIdOrUrl(body, context, { min: 2, max: 60 });
  if (typeof video === "string") return video;
  return { ...video, url: typeof body.video_url === "string" && body.video_url !== "" ? body.video_url : (video.known?.url ?? ""), id: video.known?.id ?? "" };
}

export function validateLipSync(body: unknown, context: ProductContext): CreateValidation {
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, FIELDS);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of advanced-lip-sync`);
  if (typeof body.session_id !== "string" || body.session_id === "") return refuse("session_id is required (from identify-face)");
  const session = context.faceSession(body.session_id);
  if (!session) return refuse(`session_id ${body.session_id} is not a face identification of this account`);
  if (!Array.isArray(body.face_choose) || body.face_choose.length !== 1) return refuse("face_choose must hold exactly one face (one person's lip-sync)");
  const choice: unknown = body.face_choose[0];
  if (!isRecord(choice)) return refuse("face_choose[0] must be an object");
  const unknownChoice = unknownField(choice, FACE_FIELDS);
  if (unknownChoice !== undefined) return refuse(`face_choose[0].${unknownChoice} is not a parameter of advanced-lip-sync`);
  const face = session.faces.find((candidate) => candidate.faceId === choice.face_id);
  if (!face) return refuse(`face_choose[0].face_id ${String(choice.face_id)} is not a face of session ${session.sessionId} (${session.faces.map((f) => f.faceId).join(", ")})`);
  const audioSeconds = audioInput("face_choose[0].", choice, context, { min: 2, max: 60 });
  if (typeof audioSeconds === "string") return refuse(audioSeconds);
  const times = ["sound_start_time", "sound_end_time", "sound_insert_time"] as const;
  for (const field of times) {
    const value = choice[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) return refuse(`face_choose[0].${field} is required, a whole number of ms from 0`);
  }
  const start = Number(choice.sound_start_time);
  const end = Number(choice.sound_end_time);
  const insert = Number(choice.sound_insert_time);
  const videoMs = session.video.seconds * 1000;
  if (end - start < MIN_CROP_MS) return refuse(`face_choose[0].sound_end_time must be at least ${MIN_CROP_MS} ms after sound_start_time (the cropped sound lasts 2 s or more)`);
  if (end > Math.round(audioSeconds * 1000)) return refuse(`face_choose[0].sound_end_time ${end} ms is past the end of the audio (${Math.round(audioSeconds * 1000)} ms)`);
  if (insert + (end - start) > videoMs) return refuse(`face_choose[0].sound_insert_time: the inserted sound would end at ${insert + end - start} ms, past the video's end (${videoMs} ms)`);
  const overlap = Math.min(insert + end - start, face.endMs) - Math.max(insert, face.startMs);
  if (overlap < MIN_OVERLAP_MS) return refuse("face_choose[0].sound_insert_time: the inserted sound must overlap the face's time for at least 2 s");
  for (const field of ["sound_volume", "original_audio_volume"] as const) {
    const value = choice[field];
    if (value !== undefined && (typeof value !== "number" || value < 0 || value > 2)) return refuse(`face_choose[0].${field} must be a number from 0 to 2`);
  }
  const options = legacyOptions(body);
  if (typeof options === "string") return refuse(options);
  const seconds = session.video.seconds;
  return {
    ok: true,
    create: {
      model: "lip-sync",
      mode: "std",
      duration: String(seconds),
      ...options,
      units: unitsOf(LIP_SYNC_UNITS_PER_5_SECONDS, Math.ceil(seconds / 5)),
      result: "video",
      parentVideo: { id: session.video.id, url: session.video.url, duration: session.video.duration },
    },
  };
}
