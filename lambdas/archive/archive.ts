/**
 * Archive: copies a finished video from Kling's URL (which Kling purges 30 days after the task
 * ended) into the pipeline's bucket. Pure of AWS and HTTP: the video comes through a
 * {@link VideoSource}, goes to a {@link VideoStore}, so the same code runs on Lambda (fetch, S3)
 * and locally (the simulator, s3rver).
 *
 * Trusts only Kling: the URLs come from Kling's own answer for the execution's task, asked for
 * by the external_task_ids the execution derives from its ARN, never from the state (which a
 * task token's answer, SendTaskSuccess by anyone holding the token, sets). A video past the size
 * cap is refused, however it is announced.
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
import { failedTaskError } from "../errors";
import { KLING_TASK_KINDS, type KlingApi } from "../kling/port";
import type { Task } from "../kling/wire";
import { externalTaskIdsUpTo } from "../submit/external-task-id";

/** A video's bytes from where Kling serves them. */
export interface VideoDownload {
  readonly body: Readable;
  /** The Content-Length Kling announced, when it did: a shorter body is a broken download. */
  readonly announcedBytes: number | undefined;
}

export interface VideoSource {
  /**
   * Throws Archive.VideoPurged when the URL no longer serves the video (403, 404, 410: an expired
   * URL as well as a deleted video), Archive.DownloadFailed otherwise.
   */
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
  /** Kling, asked for the execution's task: the only source of the URLs downloaded. */
  readonly kling: KlingApi;
  readonly source: VideoSource;
  readonly store: VideoStore;
  /** Whether to keep Kling's watermarked copy too. */
  readonly archiveWatermarked: boolean;
  /** A download with no byte for this long is given up. */
  readonly stallMs: number;
  /** A video past this many bytes is refused (Archive.DownloadFailed), announced or counted. */
  readonly maxBytes: number;
  /** Now, in epoch ms: whether the task ended past Kling's 30 days. */
  readonly now: () => number;
}

export const archiveEventSchema = z.object({
  jobId: z.string().min(1),
  model: z.string().min(1),
  unitsCharged: z.number().min(0),
  /**
   * The execution's ARN, its redrive count and the kind of task Validate found, none of which a
   * task token's answer can change: Archive asks Kling for the execution's own external_task_ids.
   * Absent in executions started before a deploy that added them: Kling is asked for the task
   * id the state holds.
   */
  executionId: z.string().min(1).optional(),
  redriveCount: z.number().int().min(0).optional(),
  kind: z.enum(KLING_TASK_KINDS).optional(),
  /** The task as the state holds it: only its id and kind are read, never its URLs. */
  task: z.object({ taskId: z.string().min(1), kind: z.enum(KLING_TASK_KINDS) }),
});
export type ArchiveEvent = z.infer<typeof archiveEventSchema>;

/** Kling deletes a task's videos 30 days after the task ended. */
const KLING_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** What the archived objects are of: the job, and the task and video as Kling answered for them. */
interface ArchivedJob {
  readonly jobId: string;
  readonly model: string;
  readonly unitsCharged: number;
  readonly taskId: string;
  readonly videoId: string;
}

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

/**
 * The execution's task as Kling answers for it now: the first of its external_task_ids (newest
 * first) that succeeded, else the newest Kling knows; undefined when Kling knows none.
 */
async function klingTaskOf(kling: KlingApi, event: ArchiveEvent): Promise<Task | undefined> {
  const kind = event.kind ?? event.task.kind;
  if (event.executionId === undefined) return kling.getTask(kind, event.task.taskId);
  let newest: Task | undefined;
  for (const externalTaskId of externalTaskIdsUpTo(event.jobId, event.executionId, event.redriveCount ?? 0)) {
    const task = await kling.findTaskByExternalId(kind, externalTaskId);
    if (task?.task_status === "succeed") return task;
    newest ??= task;
  }
  return newest;
}

type KlingVideo = NonNullable<Task["task_result"]>["videos"][number];

/** The video Kling's answer gives for the execution's task, with the task; throws when there is none to archive. */
async function confirmedVideo(kling: KlingApi, event: ArchiveEvent): Promise<{ task: Task; video: KlingVideo }> {
  const task = await klingTaskOf(kling, event);
  if (!task) throw new ArchiveError("Archive.VideoPurged", `Kling has no task for job ${event.jobId} any more`);
  if (task.task_status === "failed") throw failedTaskError(task.task_status_msg ?? "", task.task_id);
  if (task.task_status !== "succeed") {
    throw new ArchiveError("Archive.DownloadFailed", `Kling says task ${task.task_id} is ${task.task_status}: there is no video to download yet`);
  }
  const video = task.task_result?.videos[0];
  if (!video?.url) throw new ArchiveError("Archive.VideoPurged", `Kling's answer for task ${task.task_id} gives no video URL any more`);
  return { task, video };
}

/**
 * Opens Kling's URL; when its CDN refuses it (an expired URL answers 403 as a purged video
 * does), asks Kling again for a fresh one and opens that. Archive.VideoPurged only once Kling
 * gives no URL or the task ended past Kling's 30 days; a fresh URL refused within them is a
 * download to try again later (Archive.DownloadFailed).
 */
async function openFresh(url: string, fresh: () => Promise<string>, ports: ArchivePorts): Promise<VideoDownload> {
  try {
    return await ports.source.open(url);
  } catch (error) {
    if (!(error instanceof ArchiveError && error.name === "Archive.VideoPurged")) throw error;
    const again = await fresh();
    try {
      return await ports.source.open(again);
    } catch (refused) {
      if (!(refused instanceof ArchiveError && refused.name === "Archive.VideoPurged")) throw refused;
      throw new ArchiveError("Archive.DownloadFailed", `${refused.message}, a fresh URL too, though Kling still gives one within its 30 days: tried again later`);
    }
  }
}

export async function archiveVideo(event: ArchiveEvent, ports: ArchivePorts): Promise<ArchiveResult> {
  const { task, video } = await confirmedVideo(ports.kling, event);
  const job: ArchivedJob = { jobId: event.jobId, model: event.model, unitsCharged: event.unitsCharged, taskId: task.task_id, videoId: video.id };
  /** Kling's URL of this variant, asked for again; Archive.VideoPurged when it gives none, or the task is past 30 days. */
  const fresh = (variant: VideoVariant) => async (): Promise<string> => {
    const now = await confirmedVideo(ports.kling, event);
    const endedDaysAgo = (ports.now() - now.task.updated_at) / (24 * 3600 * 1000);
    if (ports.now() - now.task.updated_at > KLING_RETENTION_MS) {
      throw new ArchiveError("Archive.VideoPurged", `Kling task ${now.task.task_id} ended ${Math.floor(endedDaysAgo)} days ago, past the 30 days Kling keeps its videos`);
    }
    const url = variant === "video" ? now.video.url : now.video.watermark_url;
    if (!url) throw new ArchiveError("Archive.VideoPurged", `Kling's answer for task ${now.task.task_id} gives no ${variant} URL any more`);
    return url;
  };
  const archived = await archiveOne(job, "video", video.url, fresh("video"), ports);
  let watermarked: ArchivedObject | null = null;
  const warnings: string[] = [];
  if (ports.archiveWatermarked) {
    // The video is stored: a watermarked copy Kling did not offer is worth a warning, not the job.
    if (video.watermark_url) watermarked = await archiveOne(job, "watermarked", video.watermark_url, fresh("watermarked"), ports);
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

async function archiveOne(job: ArchivedJob, variant: VideoVariant, url: string, fresh: () => Promise<string>, ports: ArchivePorts): Promise<ArchivedObject> {
  const { store } = ports;
  const key = archivedVideoKey(job.jobId, job.videoId, variant);
  const earlier = completeArchive(await store.find(key));
  if (earlier) return { key, ...earlier, kept: true };

  const download = await openFresh(url, fresh, ports);
  if (download.announcedBytes !== undefined && download.announcedBytes > ports.maxBytes) {
    download.body.destroy();
    throw tooLarge(url, ports.maxBytes, `announces ${download.announcedBytes} bytes`);
  }
  const checked = new CheckedDownload(download.announcedBytes, ports.stallMs, ports.maxBytes, url);
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
      [ARCHIVE_METADATA.jobId]: job.jobId,
      [ARCHIVE_METADATA.model]: job.model,
      [ARCHIVE_METADATA.taskId]: job.taskId,
      [ARCHIVE_METADATA.unitsCharged]: String(job.unitsCharged),
    });
  }
  await store.delete(incoming);
  return { key, sha256, bytes, kept: false };
}

function tooLarge(url: string, maxBytes: number, what: string): ArchiveError {
  return new ArchiveError("Archive.DownloadFailed", `the video at ${url} ${what}, past videoArchive.maxVideoBytes (${maxBytes}): the download stopped`);
}

/**
 * Passes the download through, hashing and counting it: fails when no byte comes for `stallMs`,
 * when the body passes `maxBytes`, or when it ends short of (or past) what Kling announced.
 * Holds no more than one chunk.
 */
class CheckedDownload extends Transform {
  private readonly hash = createHash("sha256");
  private bytes = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private finished: { sha256: string; bytes: number } | undefined;

  constructor(
    private readonly announcedBytes: number | undefined,
    private readonly stallMs: number,
    private readonly maxBytes: number,
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
    if (this.bytes > this.maxBytes) {
      callback(tooLarge(this.url, this.maxBytes, `passed ${this.maxBytes} bytes`));
      return;
    }
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
