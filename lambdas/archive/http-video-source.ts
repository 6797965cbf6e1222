/** The VideoSource on Lambda and locally: an HTTP GET of Kling's video URL, streamed. */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { VideoDownload, VideoSource } from "./archive";
import { ArchiveError } from "./archive-error";

/** What Kling's CDN answers for a video it no longer has (it purges videos 30 days after the task). */
const PURGED_STATUSES = new Set([403, 404, 410]);

export class HttpVideoSource implements VideoSource {
  /** `connectMs` bounds the wait for the answer's headers; the body has its own stall timeout. */
  constructor(private readonly connectMs: number) {}

  async open(url: string): Promise<VideoDownload> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.connectMs} ms`)), this.connectMs);
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (error) {
      throw ArchiveError.downloadBrokeOff(url, error instanceof Error && error.cause instanceof Error ? error.cause : error);
    } finally {
      clearTimeout(timer);
    }
    if (PURGED_STATUSES.has(response.status)) {
      await response.body?.cancel();
      throw new ArchiveError("Archive.VideoPurged", `Kling's URL ${url} answered ${response.status}: the video is no longer there`);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new ArchiveError("Archive.DownloadFailed", `Kling's URL ${url} answered ${response.status}`);
    }
    const length = response.headers.get("content-length");
    return {
      body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      announcedBytes: length === null ? undefined : Number(length),
    };
  }
}
