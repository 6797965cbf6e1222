import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { archiveVideo, type ArchiveEvent, type ArchivePorts } from "#lambdas/archive/archive";
import { archiveHandler } from "#lambdas/archive/handler";
import { downloadRefusal, HttpVideoSource } from "#lambdas/archive/http-video-source";
import { archiveSettings, type DownloadPolicy } from "#lambdas/archive/settings";
import { wallClock } from "#lambdas/common/clock";
import { DOWNLOAD_ENV, ENV } from "#lambdas/common/settings";
import { KlingError } from "#lambdas/errors/index";
import type { KlingApi, KlingTaskKind } from "#lambdas/kling/port";
import type { ResourcePack, Task } from "#lambdas/kling/wire";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { S3VideoStore } from "#lambdas/archive/s3-video-store";
import { syntheticMp4 } from "#local/simulator/mp4";
import { deliverVideo, type VideoDeliveryFault } from "#local/simulator/video-delivery";
import { startVideoBucketServer, type VideoBucketServer } from "#local/storage/video-bucket-server";

/** What the fake CDN does with a download: a delivery fault, a purge, a body sent without Content-Length, or a redirect. */
type CdnAnswer = VideoDeliveryFault | "purged" | "forbidden" | "unannounced" | { readonly redirect: string };

/** Kling's CDN, as far as Archive sees it: each path serves its video, with the next planned answer. */
class FakeCdn {
  /** The host its URLs name (it listens on 127.0.0.1): "localhost" is another host than the allowed one. */
  constructor(private readonly host = "127.0.0.1") {}

  readonly videos = new Map<string, Buffer>();
  readonly faults: CdnAnswer[] = [];
  downloads = 0;
  private server: Server | undefined;
  baseUrl = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.downloads += 1;
      const video = this.videos.get(request.url ?? "");
      const fault = this.faults.shift();
      if (typeof fault === "object") {
        response.writeHead(302, { location: fault.redirect }).end();
      } else if (!video || fault === "purged") {
        response.writeHead(404).end("not found");
      } else if (fault === "forbidden") {
        response.writeHead(403).end("the URL's signature has expired");
      } else if (fault === "unannounced") {
        response.writeHead(200, { "content-type": "video/mp4" }).end(video);
      } else {
        deliverVideo(response, video, fault);
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://${this.host}:${(this.server?.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

/**
 * Kling's answers for the tests' tasks, by external_task_id: the only source of the URLs Archive
 * downloads. Archive asks it nothing but queries.
 */
class KlingAnswers implements KlingApi {
  readonly tasks = new Map<string, Task>();
  /** What Kling answers for a task from the second time it is asked (a task it later purged, say). */
  readonly later = new Map<string, Task>();
  /** The external_task_ids (or task ids) asked for, in order. */
  readonly asked: string[] = [];

  async findTaskByExternalId(_kind: KlingTaskKind, externalTaskId: string): Promise<Task | undefined> {
    this.asked.push(externalTaskId);
    const task = this.tasks.get(externalTaskId);
    const next = this.later.get(externalTaskId);
    if (next) this.tasks.set(externalTaskId, next);
    this.later.delete(externalTaskId);
    return task;
  }

  async getTask(_kind: KlingTaskKind, id: string): Promise<Task> {
    this.asked.push(id);
    const task = [...this.tasks.values()].find((candidate) => candidate.task_id === id);
    if (!task) throw new KlingError("Kling.InvalidRequest", `Task not found: ${id}`);
    return task;
  }

  createTask(): Promise<Task> {
    throw new Error("Archive creates no task");
  }

  listTasks(): Promise<Task[]> {
    throw new Error("Archive lists no task");
  }

  getResourcePacks(): Promise<ResourcePack[]> {
    throw new Error("Archive reads no resource pack");
  }
}

/** S3's smallest part: the tests' videos are a few parts without being large. */
const PART_BYTES = 5 * 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let directory: string;
let bucket: VideoBucketServer;
let client: S3Client;
const cdn = new FakeCdn();
/** Another server, where a URL that is not Kling's would lead: no test may download from it. */
const elsewhere = new FakeCdn("localhost");
const kling = new KlingAnswers();
/** The S3 operations the store sent, by command name (s3rver lists no multipart uploads, so the test watches the calls). */
const sent: string[] = [];

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), "archive-test-"));
  bucket = await startVideoBucketServer(directory);
  client = bucket.client;
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? "");
      return next(args);
    },
    { step: "initialize" },
  );
  await cdn.start();
  await elsewhere.start();
});

afterAll(async () => {
  await cdn.stop();
  await elsewhere.stop();
  await bucket.close();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  cdn.faults.length = 0;
  cdn.downloads = 0;
  elsewhere.downloads = 0;
  kling.asked.length = 0;
  sent.length = 0;
});
afterEach(() => vi.restoreAllMocks());

/** The download policy of the tests: Kling's CDN hosts, and the fake CDN's origin as the local runner allows the simulator's. */
function policy(): DownloadPolicy {
  return { hosts: ["*.klingai.com"], localHost: "127.0.0.1", maxBytes: 64 * 1024 * 1024 };
}

function ports(overrides: Partial<ArchivePorts> = {}): ArchivePorts {
  return {
    kling,
    source: new HttpVideoSource(2000, policy()),
    store: new S3VideoStore(client, bucket.bucket, PART_BYTES),
    archiveWatermarked: false,
    // Long enough for a loaded machine's s3rver; the stall case sets its own.
    stallMs: 3000,
    maxBytes: policy().maxBytes,
    now: () => Date.now(),
    ...overrides,
  };
}

interface Job {
  readonly event: ArchiveEvent;
  readonly videoId: string;
  /** Kling's task for the job, as Kling answers for it. */
  readonly task: Task;
}

let jobs = 0;
/**
 * A job whose task Kling answers for as succeeded, with a video the CDN serves (and its
 * watermarked copy): each test its own job, so none sees another's object.
 */
function jobWithVideo(bytes: Buffer, options: { readonly watermarked?: boolean; readonly url?: string } = {}): Job {
  jobs += 1;
  const videoId = `video-${jobs}`;
  const url = options.url ?? `${cdn.baseUrl}/${videoId}.mp4`;
  cdn.videos.set(`/${videoId}.mp4`, bytes);
  cdn.videos.set(`/${videoId}.mp4?watermark=1`, Buffer.concat([bytes, Buffer.from("watermark")]));
  const event: ArchiveEvent = {
    jobId: `job-${jobs}`,
    model: "kling-v2-6",
    unitsCharged: 35,
    executionId: `arn:aws:states:us-east-1:123456789012:execution:Generation:job-${jobs}`,
    redriveCount: 0,
    kind: "text2video",
    task: { taskId: `task-${jobs}`, kind: "text2video" },
  };
  const task: Task = {
    task_id: event.task.taskId,
    task_status: "succeed",
    task_info: { external_task_id: externalTaskIdFor(event.jobId, event.executionId ?? "") },
    task_result: { videos: [{ id: videoId, url, ...(options.watermarked === false ? {} : { watermark_url: `${url}?watermark=1` }), duration: "5" }] },
    created_at: Date.now() - 60_000,
    updated_at: Date.now(),
  };
  kling.tasks.set(task.task_info?.external_task_id ?? "", task);
  return { event, videoId, task };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? "");
}

describe("Archive copies a video from Kling's URL into the bucket", () => {
  it("a video of several parts is stored under videos/<jobId>/<videoId>.mp4 with the served bytes, its SHA-256 and the job's metadata", async () => {
    const served = syntheticMp4("big", 10, 11 * 1024 * 1024); // three parts
    const { event, videoId } = jobWithVideo(served);
    const result = await archiveVideo(event, ports());

    expect(result.video).toEqual({ key: `videos/${event.jobId}/${videoId}.mp4`, sha256: sha256(served), bytes: served.length, kept: false });
    expect(sha256(readFileSync(bucket.pathOf(result.video.key)))).toBe(sha256(served));
    const stored = await new S3VideoStore(client, bucket.bucket).find(result.video.key);
    expect(stored?.metadata).toEqual({
      sha256: sha256(served),
      bytes: String(served.length),
      "job-id": event.jobId,
      model: "kling-v2-6",
      "task-id": event.task.taskId,
      "units-charged": "35",
    });
    expect(await keysUnder(`incoming/${event.jobId}/`)).toEqual([]);
  });

  it("run again (a retry, a re-run, a redrive), it keeps the object it finds with its checksum and downloads nothing", async () => {
    const { event } = jobWithVideo(syntheticMp4("again", 5, 4096));
    const first = await archiveVideo(event, ports());
    const downloads = cdn.downloads;
    const second = await archiveVideo(event, ports());
    expect(second.video).toEqual({ ...first.video, kept: true });
    expect(cdn.downloads).toBe(downloads);
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([first.video.key]);
  });

  it("keeps the watermarked copy too when configured, beside the video", async () => {
    const { event, videoId } = jobWithVideo(syntheticMp4("marked", 5, 2048));
    const result = await archiveVideo(event, ports({ archiveWatermarked: true }));
    expect(result.watermarked?.key).toBe(`videos/${event.jobId}/${videoId}-watermarked.mp4`);
    expect(readFileSync(bucket.pathOf(result.watermarked?.key ?? "")).toString("latin1").endsWith("watermark")).toBe(true);
  });

  it.each([
    // Three parts: the first is uploaded before the connection drops.
    ["the connection dropped in the middle of the body", "download-dropped", 12 * 1024 * 1024, /broke off/],
    ["a body that ends short of its Content-Length", "download-truncated", 64 * 1024, /broke off|ended after/],
    ["a body that stalls past the stall timeout", "download-stalled", 64 * 1024, /stalled/],
  ] as const)("%s is Archive.DownloadFailed, stores nothing and leaves no upload open; the next attempt stores the served bytes", async (_, fault, size, message) => {
    const served = syntheticMp4(fault, 10, size);
    const { event } = jobWithVideo(served);
    cdn.faults.push(fault);

    await expect(archiveVideo(event, ports({ stallMs: 300 }))).rejects.toMatchObject({ name: "Archive.DownloadFailed", message: expect.stringMatching(message) });
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([]);
    expect(sent).not.toContain("CompleteMultipartUploadCommand");
    expect(sent).not.toContain("PutObjectCommand");
    // A multipart upload that was started is aborted (s3rver refuses the abort; S3 does it).
    if (sent.includes("CreateMultipartUploadCommand")) expect(sent).toContain("AbortMultipartUploadCommand");
    expect(sent.includes("CreateMultipartUploadCommand")).toBe(size > PART_BYTES);

    const retried = await archiveVideo(event, ports());
    expect(retried.video.sha256).toBe(sha256(served));
    expect(sha256(readFileSync(bucket.pathOf(retried.video.key)))).toBe(sha256(served));
  });

});

describe("a URL Kling's CDN refuses (403, 404, 410)", () => {
  it("a 403 (an expired URL) is not a purge: Archive asks Kling for the task again and downloads the fresh URL", async () => {
    const served = syntheticMp4("expired", 5, 2048);
    const { event, task } = jobWithVideo(served);
    cdn.faults.push("forbidden");
    const result = await archiveVideo(event, ports());
    expect(result.video.sha256).toBe(sha256(served));
    expect(kling.asked).toEqual([task.task_info?.external_task_id, task.task_info?.external_task_id]);
    expect(cdn.downloads).toBe(2);
  });

  it("a fresh URL refused too, within Kling's 30 days, is Archive.DownloadFailed (tried again later), and nothing is stored", async () => {
    const { event } = jobWithVideo(syntheticMp4("refused twice", 5, 1024));
    cdn.faults.push("forbidden", "purged");
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.DownloadFailed", message: expect.stringMatching(/answered 404.*a fresh URL too/) });
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([]);
  });

  it("is Archive.VideoPurged once Kling gives no URL for the video any more", async () => {
    const { event, task } = jobWithVideo(syntheticMp4("gone", 5, 1024));
    kling.later.set(task.task_info?.external_task_id ?? "", { ...task, task_result: { videos: [] } });
    cdn.faults.push("purged");
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.VideoPurged", message: expect.stringContaining("gives no video URL any more") });
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([]);
  });

  it("is Archive.VideoPurged when the task ended past Kling's 30 days, and nothing is downloaded again", async () => {
    const { event } = jobWithVideo(syntheticMp4("old", 5, 1024));
    cdn.faults.push("forbidden");
    const in31Days = Date.now() + 31 * 24 * 3600 * 1000;
    await expect(archiveVideo(event, ports({ now: () => in31Days }))).rejects.toMatchObject({ name: "Archive.VideoPurged", message: expect.stringMatching(/ended 3[01] days ago, past the 30 days/) });
    expect(cdn.downloads).toBe(1);
  });
});

describe("a watermarked copy Kling does not offer", () => {
  it("does not fail a job whose video is stored: the video is archived, and the output says what is missing", async () => {
    const { event, videoId } = jobWithVideo(syntheticMp4("unmarked", 5, 2048), { watermarked: false });
    const result = await archiveVideo(event, ports({ archiveWatermarked: true }));
    expect(result.video.key).toBe(`videos/${event.jobId}/${videoId}.mp4`);
    expect(result.watermarked).toBeNull();
    expect(result.warnings).toEqual([`Kling gave no watermarked URL for video ${videoId}: only the video is archived`]);
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([result.video.key]);
  });

  it("is a warning in the function's log, and none when nothing is missing", async () => {
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
    const handler = archiveHandler({
      clock: wallClock,
      kling: async () => kling,
      videoBucket: async () => ({ client, name: bucket.bucket }),
      archiveSettings: () => archiveSettings({ [ENV.archiveWatermarked]: "true", [ENV.downloadStallMs]: "2000", [DOWNLOAD_ENV.localVideoHost]: "127.0.0.1" }),
    });
    const warnings = () => printed.map((line) => JSON.parse(line) as { level: string; message: string; warning?: string }).filter((line) => line.level === "WARN");

    await handler(jobWithVideo(syntheticMp4("marked-logged", 5, 2048)).event);
    expect(warnings()).toEqual([]);

    const { event, videoId } = jobWithVideo(syntheticMp4("unmarked-logged", 5, 2048), { watermarked: false });
    await handler(event);
    expect(warnings()).toEqual([expect.objectContaining({ message: "archive warning", warning: expect.stringContaining(`no watermarked URL for video ${videoId}`) })]);
  });
});

describe("Archive trusts only Kling", () => {
  it("a task token answered with a URL of the sender's choosing: Archive downloads the video Kling's answer for the execution's task gives, never that URL", async () => {
    const served = syntheticMp4("kling's own", 5, 4096);
    const { event, videoId, task } = jobWithVideo(served);
    elsewhere.videos.set("/forged.mp4", syntheticMp4("forged", 5, 4096));
    // What a SendTaskSuccess by anyone holding the token could have put in the state: another task, another URL.
    const forged = { ...event, task: { ...event.task, taskId: "someone-elses-task", video: { id: "forged", url: `${elsewhere.baseUrl}/forged.mp4`, watermarkUrl: `${elsewhere.baseUrl}/forged.mp4` } } };
    const handler = archiveHandler({
      clock: wallClock,
      kling: async () => kling,
      videoBucket: async () => ({ client, name: bucket.bucket }),
      archiveSettings: () => archiveSettings({ [ENV.archiveWatermarked]: "true", [DOWNLOAD_ENV.localVideoHost]: "127.0.0.1" }),
    });

    const result = await handler(forged);
    expect(elsewhere.downloads).toBe(0);
    expect(kling.asked).toEqual([task.task_info?.external_task_id]);
    expect(result.video).toMatchObject({ key: `videos/${event.jobId}/${videoId}.mp4`, sha256: sha256(served) });
    expect((await new S3VideoStore(client, bucket.bucket).find(result.video.key))?.metadata["task-id"]).toBe(task.task_id);
  });

  it("a redriven execution finds its task under the external_task_id of the run that created it", async () => {
    const { event, task } = jobWithVideo(syntheticMp4("redriven", 5, 2048));
    const redriven = { ...event, redriveCount: 1 };
    await archiveVideo(redriven, ports());
    expect(kling.asked).toEqual([`${task.task_info?.external_task_id}-r1`, task.task_info?.external_task_id]);
  });

  it("an execution started before Archive was given its ARN asks Kling for the task id the state holds", async () => {
    const { event, videoId } = jobWithVideo(syntheticMp4("older", 5, 2048));
    const { executionId: _arn, redriveCount: _count, kind: _kind, ...older } = event;
    const result = await archiveVideo(older, ports());
    expect(kling.asked).toEqual([event.task.taskId]);
    expect(result.video.key).toBe(`videos/${event.jobId}/${videoId}.mp4`);
  });

  it.each([
    ["still processing", { task_status: "processing", task_result: undefined }, "Archive.DownloadFailed", /is processing: there is no video to download yet/],
    ["failed", { task_status: "failed", task_status_msg: "internal error", task_result: undefined }, "Kling.GenerationFailed", /failed: internal error/],
    ["succeeded without a video URL", { task_result: { videos: [] } }, "Archive.VideoPurged", /gives no video URL any more/],
  ] as [string, Partial<Task>, string, RegExp][])("Kling answering that the task is %s is %s, and nothing is downloaded", async (_, answer, name, message) => {
    const { event, task } = jobWithVideo(syntheticMp4("not-ready", 5, 1024));
    kling.tasks.set(task.task_info?.external_task_id ?? "", { ...task, ...answer });
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name, message: expect.stringMatching(message) });
    expect(cdn.downloads).toBe(0);
  });

  it("Kling knowing no task of the execution is Archive.VideoPurged", async () => {
    const { event, task } = jobWithVideo(syntheticMp4("unknown", 5, 1024));
    kling.tasks.delete(task.task_info?.external_task_id ?? "");
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.VideoPurged", message: `Kling has no task for job ${event.jobId} any more` });
  });

  it("downloads only over https from Kling's CDN hosts (and, locally, the runner's one origin)", () => {
    const kling = { hosts: ["*.klingai.com", "videos.example.net"], localHost: undefined };
    expect(downloadRefusal(kling, "https://v15-kling.klingai.com/bs2/upload-ylab-stunt-sgp/a.mp4?x-kcdn-pid=112372")).toBeUndefined();
    expect(downloadRefusal(kling, "https://cdn.klingai.com/bs2/upload-kling-api/a.mp4")).toBeUndefined();
    expect(downloadRefusal(kling, "https://videos.example.net/a.mp4")).toBeUndefined();
    expect(downloadRefusal(kling, "http://cdn.klingai.com/a.mp4")).toBe("http://cdn.klingai.com is not https");
    for (const elsewhere of ["https://klingai.com/a.mp4", "https://evilklingai.com/a.mp4", "https://cdn.klingai.com.example.org/a.mp4", "https://169.254.169.254/latest/meta-data", "https://sub.videos.example.net/a.mp4"]) {
      expect(downloadRefusal(kling, elsewhere), elsewhere).toMatch(/is not one of videoArchive.downloadHosts \(\*\.klingai\.com, videos\.example\.net\)$/);
    }
    expect(downloadRefusal(kling, "file:///etc/passwd")).toBe("null is not https");
    expect(downloadRefusal(kling, "not a url")).toBe('"not a url" is not a URL');
    // The local allowance is one host, exactly (on any port, over http too): another host is not it.
    const local = { hosts: ["*.klingai.com"], localHost: "127.0.0.1" };
    expect(downloadRefusal(local, "http://127.0.0.1:4010/videos/a.mp4")).toBeUndefined();
    expect(downloadRefusal(local, "http://localhost:4010/videos/a.mp4")).toBe("http://localhost:4010 is not https");
    expect(downloadRefusal(local, "file://127.0.0.1/etc/passwd")).toBe("null is not https");
  });

  it("a URL off the allow-list in Kling's own answer is Archive.DownloadFailed, and nothing is fetched", async () => {
    const { event } = jobWithVideo(syntheticMp4("off-list", 5, 1024), { url: `${elsewhere.baseUrl}/off-list.mp4` });
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.DownloadFailed", message: expect.stringContaining("is not https") });
    expect(elsewhere.downloads).toBe(0);
  });

  it("follows a redirect on Kling's own host, and none to another host", async () => {
    const served = syntheticMp4("moved", 5, 2048);
    const moved = jobWithVideo(served);
    cdn.faults.push({ redirect: `/${moved.videoId}.mp4` });
    expect((await archiveVideo(moved.event, ports())).video.sha256).toBe(sha256(served));
    expect(cdn.downloads).toBe(2);

    const away = jobWithVideo(syntheticMp4("away", 5, 2048));
    elsewhere.videos.set("/away.mp4", syntheticMp4("elsewhere", 5, 2048));
    cdn.faults.push({ redirect: `${elsewhere.baseUrl}/away.mp4` });
    await expect(archiveVideo(away.event, ports())).rejects.toMatchObject({
      name: "Archive.DownloadFailed",
      message: expect.stringContaining(`redirects to another host (${new URL(elsewhere.baseUrl).host})`),
    });
    expect(elsewhere.downloads).toBe(0);
    expect(await keysUnder(`videos/${away.event.jobId}/`)).toEqual([]);
  });

  it.each([
    ["announced past the cap", undefined],
    ["sent without a Content-Length, counted past the cap", "unannounced"],
  ] as const)("a video %s is Archive.DownloadFailed naming the cap, and nothing is stored", async (_, fault) => {
    const { event } = jobWithVideo(syntheticMp4("too large", 5, 256 * 1024));
    if (fault) cdn.faults.push(fault);
    await expect(archiveVideo(event, ports({ maxBytes: 100 * 1024 }))).rejects.toMatchObject({
      name: "Archive.DownloadFailed",
      message: expect.stringContaining(`past videoArchive.maxVideoBytes (${100 * 1024}): the download stopped`),
    });
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([]);
  });
});
