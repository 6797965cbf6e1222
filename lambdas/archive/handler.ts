/**
 * The Archive Lambda: its ports (Kling's URL over HTTP, the video bucket on S3) are made once per
 * container by {@link archiveHandler}; each invocation is {@link archiveVideo} of its event.
 */
import { parseEvent } from "../common/parse-event";
import { DEFAULTS, ENV } from "../common/settings";
import { videoBucketClient, videoBucketName } from "../common/video-bucket";
import { logger, observed } from "../observability/logger";
import { archiveEventSchema, archiveVideo, type ArchivePorts, type ArchiveResult } from "./archive";
import { HttpVideoSource } from "./http-video-source";
import { S3VideoStore } from "./s3-video-store";

function archiveHandler(ports: ArchivePorts): (event: unknown) => Promise<ArchiveResult> {
  return async (event) => {
    const result = await archiveVideo(parseEvent(archiveEventSchema, event, "Archive"), ports);
    logger().info("video archived", { bucket: result.bucket, key: result.video.key, bytes: result.video.bytes, kept: result.video.kept });
    return result;
  };
}

function portsFromEnvironment(env: Readonly<Record<string, string | undefined>> = process.env): ArchivePorts {
  const stallMs = Number(env[ENV.downloadStallMs] ?? DEFAULTS.videoArchive.downloadStallMs);
  return {
    source: new HttpVideoSource(stallMs),
    store: new S3VideoStore(videoBucketClient(env), videoBucketName(env)),
    archiveWatermarked: (env[ENV.archiveWatermarked] ?? String(DEFAULTS.videoArchive.archiveWatermarked)) === "true",
    stallMs,
  };
}

/** The settings the ports are made from: fixed for a Lambda container; the local runner may point them elsewhere. */
const PORT_SETTINGS = [ENV.videoBucketName, ENV.videoBucketEndpoint, ENV.archiveWatermarked, ENV.downloadStallMs] as const;
let made: { readonly settings: string; readonly archive: (event: unknown) => Promise<ArchiveResult> } | undefined;

/** Made on first use, not at import: the local runner sets the environment after importing the handlers. */
function archiveOfThisContainer(): (event: unknown) => Promise<ArchiveResult> {
  const settings = PORT_SETTINGS.map((name) => process.env[name] ?? "").join("\n");
  if (made?.settings !== settings) made = { settings, archive: archiveHandler(portsFromEnvironment()) };
  return made.archive;
}

export const handler = observed((event: unknown) => archiveOfThisContainer()(event));
