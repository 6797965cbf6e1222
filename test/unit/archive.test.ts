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
import { settingsFrom } from "#lambdas/common/ports";
import { ENV } from "#lambdas/common/settings";
import { HttpVideoSource } from "#lambdas/archive/http-video-source";
import { S3VideoStore } from "#lambdas/archive/s3-video-store";
import { syntheticMp4 } from "#local/simulator/mp4";
import { deliverVideo, type VideoDeliveryFault } from "#local/simulator/video-delivery";
import { startVideoBucketServer, type VideoBucketServer } from "#local/storage/video-bucket-server";

/** Kling's CDN, as far as Archive sees it: each path serves its video, with the next planned fault. */
class FakeCdn {
  readonly videos = new Map<string, Buffer>();
  readonly faults: (VideoDeliveryFault | "purged")[] = [];
  downloads = 0;
  private server: Server | undefined;
  baseUrl = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.downloads += 1;
      const video = this.videos.get(request.url ?? "");
      const fault = this.faults.shift();
      if (!video || fault === "purged") {
        response.writeHead(404).end("not found");
        return;
      }
      deliverVideo(response, video, fault);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

/** S3's smallest part: the tests' videos are a few parts without being large. */
const PART_BYTES = 5 * 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let directory: string;
let bucket: VideoBucketServer;
let client: S3Client;
const cdn = new FakeCdn();
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
});

afterAll(async () => {
  await cdn.stop();
  await bucket.close();
  rmSync(directory, { recursive: true, force: true });
});

beforeEach(() => {
  cdn.faults.length = 0;
  cdn.downloads = 0;
  sent.length = 0;
});
afterEach(() => vi.restoreAllMocks());

function ports(overrides: Partial<ArchivePorts> = {}): ArchivePorts {
  return {
    source: new HttpVideoSource(2000),
    store: new S3VideoStore(client, bucket.bucket, PART_BYTES),
    archiveWatermarked: false,
    stallMs: 300,
    ...overrides,
  };
}

let jobs = 0;
/** A job whose video the CDN serves: each test its own job, so none sees another's object. */
function jobWithVideo(bytes: Buffer): ArchiveEvent {
  jobs += 1;
  const id = `video-${jobs}`;
  cdn.videos.set(`/${id}.mp4`, bytes);
  cdn.videos.set(`/${id}.mp4?watermark=1`, Buffer.concat([bytes, Buffer.from("watermark")]));
  return {
    jobId: `job-${jobs}`,
    model: "kling-v2-6",
    unitsCharged: 35,
    task: { taskId: `task-${jobs}`, video: { id, url: `${cdn.baseUrl}/${id}.mp4`, watermarkUrl: `${cdn.baseUrl}/${id}.mp4?watermark=1` } },
  };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? "");
}

describe("Archive copies a video from Kling's URL into the bucket", () => {
  it("a video of several parts is stored under videos/<jobId>/<videoId>.mp4 with the served bytes, its SHA-256 and the job's metadata", async () => {
    const served = syntheticMp4("big", 10, 11 * 1024 * 1024); // three parts
    const event = jobWithVideo(served);
    const result = await archiveVideo(event, ports());

    expect(result.video).toEqual({ key: `videos/${event.jobId}/${event.task.video.id}.mp4`, sha256: sha256(served), bytes: served.length, kept: false });
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
    const event = jobWithVideo(syntheticMp4("again", 5, 4096));
    const first = await archiveVideo(event, ports());
    const downloads = cdn.downloads;
    const second = await archiveVideo(event, ports());
    expect(second.video).toEqual({ ...first.video, kept: true });
    expect(cdn.downloads).toBe(downloads);
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([first.video.key]);
  });

  it("keeps the watermarked copy too when configured, beside the video", async () => {
    const event = jobWithVideo(syntheticMp4("marked", 5, 2048));
    const result = await archiveVideo(event, ports({ archiveWatermarked: true }));
    expect(result.watermarked?.key).toBe(`videos/${event.jobId}/${event.task.video.id}-watermarked.mp4`);
    expect(readFileSync(bucket.pathOf(result.watermarked?.key ?? "")).toString("latin1").endsWith("watermark")).toBe(true);
  });

  it.each([
    // Three parts: the first is uploaded before the connection drops.
    ["the connection dropped in the middle of the body", "download-dropped", 12 * 1024 * 1024, /broke off/],
    ["a body that ends short of its Content-Length", "download-truncated", 64 * 1024, /broke off|ended after/],
    ["a body that stalls past the stall timeout", "download-stalled", 64 * 1024, /stalled/],
  ] as const)("%s is Archive.DownloadFailed, stores nothing and leaves no upload open; the next attempt stores the served bytes", async (_, fault, size, message) => {
    const served = syntheticMp4(fault, 10, size);
    const event = jobWithVideo(served);
    cdn.faults.push(fault);

    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.DownloadFailed", message: expect.stringMatching(message) });
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

  it("a URL Kling has purged (404) is Archive.VideoPurged, and nothing is stored", async () => {
    const event = jobWithVideo(syntheticMp4("gone", 5, 1024));
    cdn.faults.push("purged");
    await expect(archiveVideo(event, ports())).rejects.toMatchObject({ name: "Archive.VideoPurged" });
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([]);
  });
});

describe("a watermarked copy Kling does not offer", () => {
  /** A job whose video Kling gave with no watermarked URL. */
  function jobWithoutWatermark(): ArchiveEvent {
    const event = jobWithVideo(syntheticMp4("unmarked", 5, 2048));
    const { watermarkUrl: _dropped, ...video } = event.task.video;
    return { ...event, task: { ...event.task, video } };
  }

  it("does not fail a job whose video is stored: the video is archived, and the output says what is missing", async () => {
    const event = jobWithoutWatermark();
    const result = await archiveVideo(event, ports({ archiveWatermarked: true }));
    expect(result.video.key).toBe(`videos/${event.jobId}/${event.task.video.id}.mp4`);
    expect(result.watermarked).toBeNull();
    expect(result.warnings).toEqual([`Kling gave no watermarked URL for video ${event.task.video.id}: only the video is archived`]);
    expect(await keysUnder(`videos/${event.jobId}/`)).toEqual([result.video.key]);
  });

  it("is a warning in the function's log, and none when nothing is missing", async () => {
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
    const handler = archiveHandler({
      videoBucket: async () => ({ client, name: bucket.bucket }),
      settings: settingsFrom({ [ENV.archiveWatermarked]: "true", [ENV.downloadStallMs]: "2000" }),
    });
    const warnings = () => printed.map((line) => JSON.parse(line) as { level: string; message: string; warning?: string }).filter((line) => line.level === "WARN");

    await handler(jobWithVideo(syntheticMp4("marked-logged", 5, 2048)));
    expect(warnings()).toEqual([]);

    const event = jobWithoutWatermark();
    await handler(event);
    expect(warnings()).toEqual([expect.objectContaining({ message: "archive warning", warning: expect.stringContaining(`no watermarked URL for video ${event.task.video.id}`) })]);
  });
});
