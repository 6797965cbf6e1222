/**
 * Archive: copies a finished video from Kling's URL (which Kling purges 30 days after the task
 * ended) into the pipeline's bucket. Pure of AWS and HTTP: the video comes through a
 * {@link VideoSource}, goes to a {@link VideoStore}, so the same code runs on Lambda (fetch, S3)
 * and locally (the simulator, s3rver).
 *
 * Safe to repeat: each video has one key; an object already there with its checksum is kept; a
 * download is streamed to an incoming key and copied to its own key only once it is complete,
 * counted and hashed, so an interrupted attempt (a retry, a Lambda re-run, a redrive) never
 * leaves a partial video where a complete one is expected, and is never reported as archived.
 */
import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import * as z from "zod";
import { ArchiveError } from "./archive-error";
import { ARCHIVE_METADATA, archivedVideoKey, incomingVideoKey, type VideoVariant } from "../common/video-bucket";

/** A video's bytes from where Kling serves them. */
export interface VideoDownload {
  readonly body: Readable;
  /** The Content-Length Kling announced, when it did: a shorter body is a broken download. */
  readonly announcedBytes: number | undefined;
}

export interface VideoSource {
  /** Throws Archive.VideoPurged when the URL no longer serves the video, Archive.DownloadFailed otherwise. */
  open(url: string): Promise<VideoDownload>;
}

/** What the store says of an object it holds. */
export interface StoredObject {
  readonly bytes: number;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface VideoStore {
  readonly bucket: string;
  /** Undefined when there is no object at the key. */
  find(key: string): Promise<StoredObject | undefined>;
  /** Streams the body to the key (a multipart upload, aborted if the body fails). */
  upload(key: string, body: Readable): Promise<void>;
  /** Copies an object to another key with this metadata. */
  copy(from: string, to: string, metadata: Readonly<Record<string, string>>): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ArchivePorts {
  readonly source: VideoSource;
  readonly store: VideoStore;
  /** Whether to keep Kling's watermarked copy too. */
  readonly archiveWatermarked: boolean;
  /** A download with no byte for this long is given up. */
  readonly stallMs: number;
}

export const archiveEventSchema = z.object({
  jobId: z.string().min(1),
  model: z.string().min(1),
  unitsCharged: z.number().min(0),
  task: z.object({
    taskId: z.string().min(1),
    video: z.object({ id: z.string().min(1), url: z.string().min(1), watermarkUrl: z.string().optional() }),
  }),
});
export type ArchiveEvent = z.infer<typeof archiveEventSchema>;

interface ArchivedObject {
  readonly key: string;
  /** The SHA-256 of the whole video, hex: computed while streaming, kept in the object's metadata. */
  readonly sha256: string;
  readonly bytes: number;
  /** True when an earlier attempt had archived it already (nothing was downloaded this time). */
  readonly kept: boolean;
}

export interface ArchiveResult {
  readonly bucket: string;
  readonly video: ArchivedObject;
  readonly watermarked: ArchivedObject | null;
  /** What did not go as configured but does not fail a job whose video is stored (a watermarked copy Kling did not offer). */
  readonly warnings: readonly string[];
}

export async function archiveVideo(event: ArchiveEvent, ports: ArchivePorts): Promise<ArchiveResult> {
  const { video } = event.task;
  const archived = await archiveOne(event, "video", video.url, ports);
  let watermarked: ArchivedObject | null = null;
  const warnings: string[] = [];
  if (ports.archiveWatermarked) {
    // The video is stored: a watermarked copy Kling did not offer is worth a warning, not the job.
    if (video.watermarkUrl) watermarked = await archiveOne(event, "watermarked", video.watermarkUrl, ports);
    else warnings.push(`Kling gave no watermarked URL for video ${video.id}: only the video is archived`);
  }
  return { bucket: ports.store.bucket, video: archived, watermarked, warnings };
}

/** The metadata that says a complete video of this checksum is at the key: written only by the copy of a checked upload. */
function completeArchive(stored: StoredObject | undefined): { sha256: string; bytes: number } | undefined {
  const sha256 = stored?.metadata[ARCHIVE_METADATA.sha256];
  const bytes = Number(stored?.metadata[ARCHIVE_METADATA.bytes]);
  if (!stored || !sha256 || stored.bytes !== bytes) return undefined;
  return { sha256, bytes };
}

async function archiveOne(event: ArchiveEvent, variant: VideoVariant, url: string, ports: ArchivePorts): Promise<ArchivedObject> {
  const { store } = ports;
  const key = archivedVideoKey(event.jobId, event.task.video.id, variant);
  const earlier = completeArchive(await store.find(key));
  if (earlier) return { key, ...earlier, kept: true };

  const download = await ports.source.open(url);
  const checked = new CheckedDownload(download.announcedBytes, ports.stallMs, url);
  const incoming = incomingVideoKey(key);
  // pipe() does not forward a source's error: the checker fails itself, and the upload aborts.
  download.body.on("error", (error) => checked.destroy(ArchiveError.downloadBrokeOff(url, error)));
  try {
    await store.upload(incoming, download.body.pipe(checked));
  } catch (error) {
    // A broken download is the cause, whatever the aborted upload then said.
    throw checked.errored ?? error;
  } finally {
    download.body.destroy();
  }
  const { sha256, bytes } = checked.digest();

  const uploaded = await store.find(incoming);
  if (uploaded?.bytes !== bytes) {
    throw new ArchiveError("Archive.DownloadFailed", `the upload of ${url} holds ${uploaded?.bytes ?? "no"} bytes, not the ${bytes} downloaded`);
  }
  // Another attempt may have finished meanwhile: the same checksum is kept, anything else replaced.
  const now = completeArchive(await store.find(key));
  if (now?.sha256 !== sha256) {
    await store.copy(incoming, key, {
      [ARCHIVE_METADATA.sha256]: sha256,
      [ARCHIVE_METADATA.bytes]: String(bytes),
      [ARCHIVE_METADATA.jobId]: event.jobId,
      [ARCHIVE_METADATA.model]: event.model,
      [ARCHIVE_METADATA.taskId]: event.task.taskId,
      [ARCHIVE_METADATA.unitsCharged]: String(event.unitsCharged),
    });
  }
  await store.delete(incoming);
  return { key, sha256, bytes, kept: false };
}

/**
 * Passes the download through, hashing and counting it: fails when no byte comes for `stallMs`,
 * or when the body ends short of (or past) what Kling announced. Holds no more than one chunk.
 */
class CheckedDownload extends Transform {
  private readonly hash = createHash("sha256");
  private bytes = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private finished: { sha256: string; bytes: number } | undefined;

  constructor(
    private readonly announcedBytes: number | undefined,
    private readonly stallMs: number,
    private readonly url: string,
  ) {
    super();
    this.armStallTimer();
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.destroy(new ArchiveError("Archive.DownloadFailed", `the download of ${this.url} stalled: no byte for ${this.stallMs} ms after ${this.bytes} bytes`));
    }, this.stallMs);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.armStallTimer();
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: (error?: Error | null) => void): void {
    clearTimeout(this.stallTimer);
    if (this.announcedBytes !== undefined && this.bytes !== this.announcedBytes) {
      callback(new ArchiveError("Archive.DownloadFailed", `the download of ${this.url} ended after ${this.bytes} of ${this.announcedBytes} bytes`));
      return;
    }
    this.finished = { sha256: this.hash.digest("hex"), bytes: this.bytes };
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.stallTimer);
    callback(error);
  }

  /** The checksum and size of a download that ended complete; throws for any other. */
  digest(): { sha256: string; bytes: number } {
    if (!this.finished) throw new ArchiveError("Archive.DownloadFailed", `the download of ${this.url} did not end complete`);
    return this.finished;
  }
}
