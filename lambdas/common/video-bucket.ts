/**
 * The pipeline's video bucket, as Archive (which writes it) and the API (which signs links to it)
 * reach it: one S3 client, the object key layout, and the metadata each archived video carries.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { Environment } from "./config";
import { ENV } from "./settings";

/** The bucket a function writes or links to: its client and its name. */
export interface VideoBucket {
  readonly client: S3Client;
  readonly name: string;
}

/**
 * The stack's bucket, as a Lambda container reaches it (its region and role), made on first use;
 * the local runner gives the functions the embedded S3 server's instead.
 */
export function videoBucketFrom(env: Environment): () => Promise<VideoBucket> {
  let bucket: VideoBucket | undefined;
  return async () => (bucket ??= { client: new S3Client({}), name: videoBucketName(env) });
}

/** The bucket's name, which the stack sets; a function without it cannot work, and says so. */
function videoBucketName(env: Environment): string {
  const bucket = env[ENV.videoBucketName];
  if (!bucket) throw new Error(`${ENV.videoBucketName} is not set: the function does not know the video bucket`);
  return bucket;
}

/** Kling's video ids are UUIDs; anything else is kept readable and safe in a key. */
function keySegment(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** Which copy of a video: Kling's plain one, or the watermarked one (when configured). */
export type VideoVariant = "video" | "watermarked";

/**
 * Where a video is kept: `videos/<jobId>/<videoId>.mp4`, and `videos/<jobId>/<videoId>-watermarked.mp4`
 * for the watermarked copy. One key per job and video, so a repeat writes the same key.
 */
export function archivedVideoKey(jobId: string, videoId: string, variant: VideoVariant): string {
  const suffix = variant === "watermarked" ? "-watermarked" : "";
  return `${ARCHIVE_PREFIXES.videos}${keySegment(jobId)}/${keySegment(videoId)}${suffix}.mp4`;
}

/**
 * Where a download is streamed before it is checked: only a complete, counted and hashed upload is
 * copied to its key under `videos/`. A lifecycle rule deletes whatever an interrupted run left here.
 */
export function incomingVideoKey(finalKey: string): string {
  return `${ARCHIVE_PREFIXES.incoming}${finalKey.slice(ARCHIVE_PREFIXES.videos.length)}`;
}

export const ARCHIVE_PREFIXES = { videos: "videos/", incoming: "incoming/" } as const;

/** The user metadata of an archived video (`x-amz-meta-*`; S3 lower-cases the names). */
export const ARCHIVE_METADATA = {
  sha256: "sha256",
  bytes: "bytes",
  jobId: "job-id",
  model: "model",
  taskId: "task-id",
  unitsCharged: "units-charged",
} as const;
