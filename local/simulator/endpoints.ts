/**
 * The endpoints the simulator serves, as Kling's pages name them (copies in the aself101/kling-api
 * repository, docs/api), kept here and not taken from the pipeline's wire types: the simulator
 * stands for Kling, so a path the pipeline gets wrong is answered 404, not shared.
 *
 * Legacy standard (`/v1/...`, the model in the body): each kind is created by `POST <path>`,
 * queried by `GET <path>/{task_id or external_task_id}` and listed by `GET <path>?pageNum&pageSize`.
 * New standard (the model in the path): `POST /{kind}/{model}`, queried by `GET /tasks` and paged
 * by `POST /tasks`. `POST /v1/videos/identify-face` answers at once (no task).
 */

export const LEGACY_KIND_PATHS = {
  text2video: "/v1/videos/text2video",
  image2video: "/v1/videos/image2video",
  avatar: "/v1/videos/avatar/image2video",
  "advanced-lip-sync": "/v1/videos/advanced-lip-sync",
  effects: "/v1/videos/effects",
  "video-extend": "/v1/videos/video-extend",
  "video-to-audio": "/v1/audio/video-to-audio",
} as const;
export type LegacyKind = keyof typeof LEGACY_KIND_PATHS;
export const LEGACY_KINDS = Object.keys(LEGACY_KIND_PATHS) as LegacyKind[];

/** `POST /{kind}/{model}`. */
export const NEW_KINDS = ["text-to-video", "image-to-video", "omni-video", "motion-control"] as const;
export type NewKind = (typeof NEW_KINDS)[number];

/** The kind of a task the simulator runs. */
export type SimulatorTaskKind = LegacyKind | NewKind;

/** Face identification for lip-sync: a synchronous create (its answer holds the session). */
export const IDENTIFY_FACE_PATH = "/v1/videos/identify-face";
export type CreateKind = SimulatorTaskKind | "identify-face";

export function isNewKind(kind: string): kind is NewKind {
  return (NEW_KINDS as readonly string[]).includes(kind);
}
