/**
 * The Archive Lambda: a factory of its ports (the video bucket, the settings); each invocation is
 * {@link archiveVideo} of its event, reading Kling's URL over HTTP and writing the bucket.
 */
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { videoBucketFrom } from "../common/video-bucket";
import { logger, observed } from "../observability/logger";
import { archiveEventSchema, archiveVideo, type ArchiveResult } from "./archive";
import { HttpVideoSource } from "./http-video-source";
import { S3VideoStore } from "./s3-video-store";

export function archiveHandler({ videoBucket, settings }: Pick<HandlerPorts, "videoBucket" | "settings">) {
  return observed(async (event: unknown): Promise<ArchiveResult> => {
    const request = parseEvent(archiveEventSchema, event, "Archive");
    const bucket = await videoBucket();
    const { archiveWatermarked, stallMs } = settings.archive();
    const result = await archiveVideo(request, {
      source: new HttpVideoSource(stallMs),
      store: new S3VideoStore(bucket.client, bucket.name),
      archiveWatermarked,
      stallMs,
    });
    for (const warning of result.warnings) logger().warn("archive warning", { warning, key: result.video.key });
    logger().info("video archived", { bucket: result.bucket, key: result.video.key, bytes: result.video.bytes, kept: result.video.kept });
    return result;
  });
}

export const handler = archiveHandler({ videoBucket: videoBucketFrom(process.env), settings: settingsFrom(process.env) });
