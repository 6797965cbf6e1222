/**
 * The account's media as the products see them: the earlier videos and audios a request may
 * name (by id or by the simulator's own URL, products/context.ts), lip-sync's face
 * identifications, and the audio files and face images the simulator serves.
 */
import { randomUUID } from "node:crypto";
import { failure, success, type Answer } from "./answers";
import { syntheticMp3, syntheticWav } from "./audio";
import { FACE_IDENTIFICATION_UNITS } from "./kling-tables";
import type { ResourcePacks } from "./packs";
import { RETENTION_MS, type FaceSession, type KnownVideo, type ProductContext, type ServedMedia } from "./products/context";
import { validateIdentifyFace } from "./products/lip-sync";
import { routeOf } from "./routes";
import { videoUrl, type SimulatedTask, type TaskStore } from "./tasks";

/** The part of a running simulator's state its media live in. */
export interface MediaState {
  readonly tasks: TaskStore;
  readonly packs: ResourcePacks;
  /** Lip-sync's face identifications, by session id. */
  readonly faceSessions: Map<string, FaceSession>;
  readonly baseUrl: string;
}

/** A 1x1 PNG: the face image an identification points to. */
const FACE_PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

/** What the products' rules may know of the account at `at`. */
export function productContext(state: MediaState, at: number): ProductContext {
  const fresh = (task: SimulatedTask | undefined): task is SimulatedTask =>
    task !== undefined && task.status === "succeed" && at - task.updatedAt <= RETENTION_MS;
  const knownVideo = (task: SimulatedTask): KnownVideo => ({
    id: task.videoId,
    url: videoUrl(state.baseUrl, task),
    duration: task.request.duration,
    seconds: Number(task.request.duration),
    model: task.request.model,
    mode: task.request.mode,
  });
  return {
    videoById: (id) => {
      const task = state.tasks.byVideoId(id);
      return fresh(task) ? knownVideo(task) : undefined;
    },
    audioById: (id) => {
      const task = state.tasks.byAudioId(id);
      return fresh(task) ? { id, seconds: Number(task.request.duration) } : undefined;
    },
    servedMedia: (url): ServedMedia => {
      const media = servedPath(state.baseUrl, url);
      if (!media) return { kind: "elsewhere" };
      const task = media.kind === "video" ? state.tasks.byVideoId(media.id) : state.tasks.byAudioId(media.id);
      if (!fresh(task)) return { kind: "gone" };
      return media.kind === "video" ? { kind: "video", video: knownVideo(task) } : { kind: "audio", audio: { id: media.id, seconds: Number(task.request.duration) } };
    },
    faceSession: (sessionId) => state.faceSessions.get(sessionId),
  };
}

/** The simulator's own medium a URL names (same origin as the simulator), if it names one. */
function servedPath(baseUrl: string, url: string): { readonly kind: "video" | "audio"; readonly id: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.origin !== new URL(baseUrl).origin) return undefined;
  const route = routeOf("GET", parsed.pathname);
  if (route.kind === "video") return { kind: "video", id: route.videoId };
  if (route.kind === "audio") return { kind: "audio", id: route.audioId };
  return undefined;
}

/** Lip-sync's first step: answers at once with a session and the one face it finds, seen from start to end. */
export function identifyFace(state: MediaState, body: unknown, at: number): Answer {
  const video = validateIdentifyFace(body, productContext(state, at));
  if (typeof video === "string") return failure(400, 1201, video);
  const charges = state.packs.charge(FACE_IDENTIFICATION_UNITS, at);
  if (!charges) return failure(429, 1102, `Resource pack exhausted or expired: face identification costs ${FACE_IDENTIFICATION_UNITS} units`);
  const sessionId = randomUUID();
  const session: FaceSession = {
    sessionId,
    video: { id: video.id, url: video.url, duration: String(video.seconds), seconds: video.seconds },
    faces: [{ faceId: "0", startMs: 0, endMs: Math.round(video.seconds * 1000) }],
  };
  state.faceSessions.set(sessionId, session);
  return success({
    session_id: sessionId,
    final_unit_deduction: String(FACE_IDENTIFICATION_UNITS),
    face_data: session.faces.map((face) => ({
      face_id: face.faceId,
      face_image: `${state.baseUrl}/faces/${sessionId}/${face.faceId}.png`,
      start_time: face.startMs,
      end_time: face.endMs,
    })),
  });
}

/** An audio of a video-to-audio task, as MP3 or WAV (sent whole: download faults hit videos only). */
export function serveAudio(state: MediaState, audioId: string, format: "mp3" | "wav", at: number): Answer {
  const task = state.tasks.byAudioId(audioId);
  if (!task || task.status !== "succeed" || at - task.updatedAt > RETENTION_MS) return failure(404, 1203, "Audio not found");
  const seconds = Number(task.request.duration);
  return format === "mp3"
    ? { type: "raw", status: 200, contentType: "audio/mpeg", body: syntheticMp3(seconds) }
    : { type: "raw", status: 200, contentType: "audio/wav", body: syntheticWav(audioId, seconds) };
}

export function serveFaceImage(state: MediaState, sessionId: string, faceId: string): Answer {
  const known = state.faceSessions.get(sessionId)?.faces.some((face) => face.faceId === faceId);
  return known ? { type: "raw", status: 200, contentType: "image/png", body: FACE_PNG } : failure(404, 1203, "Face image not found");
}
