/**
 * The Archive Lambda: a factory of its ports (Kling, the video bucket, its own settings); each
 * invocation is {@link archiveVideo} of its event, asking Kling for the task's video, reading
 * it over HTTP and writing the bucket.
 */
import { wallClock } from "../common/clock";
import { klingApiFrom } from "../common/kling-api";
import { parseEvent } from "../common/parse-event";
import type { HandlerPorts } from "../common/ports";
import { videoBucketFrom } from "../common/video-bucket";
import { logger, observed } from "../observability/logger";
import { archiveEventSchema, archiveVideo, type ArchiveResult } from "./archive";
import { HttpVideoSource } from "./http-video-source";
import { S3VideoStore } from "./s3-video-store";
import { type ArchiveSettings, archiveSettings } from "./settings";

export interface ArchivePortsOfHandler extends Pick<HandlerPorts, "kling" | "videoBucket" | "clock"> {
  /** Read when an invocation needs them (lambdas/archive/settings.ts). */
  readonly archiveSettings: () => ArchiveSettings;
}

export function archiveHandler({ kling, videoBucket, clock, archiveSettings }: ArchivePortsOfHandler) {
  return observed(async (event: unknown): Promise<ArchiveResult> => {
    const request = parseEvent(archiveEventSchema, event, "Archive");
    const bucket = await videoBucket();
    const { archiveWatermarked, stallMs, downloads } = archiveSettings();
    const result = await archiveVideo(request, {
      kling: await kling(),
      source: new HttpVideoSource(stallMs, downloads),
      store: new S3VideoStore(bucket.client, bucket.name),
      archiveWatermarked,
      stallMs,
      maxBytes: downloads.maxBytes,
      now: () => clock.now(),
    });
    for (const warning of result.warnings) logger().warn("archive warning", { warning, key: result.video.key });
    logger().info("video archived", { bucket: result.bucket, key: result.video.key, bytes: result.video.bytes, kept: result.video.kept });
    return result;
  });
}

export const handler = archiveHandler({
  clock: wallClock,
  kling: klingApiFrom(process.env, wallClock),
  videoBucket: videoBucketFrom(process.env),
  archiveSettings: () => archiveSettings(process.env),
});
