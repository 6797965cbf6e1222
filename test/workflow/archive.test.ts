/**
 * Archive on the local engine, with the real handler against the simulator's videos and the
 * embedded S3: one object per video however often Archive runs (retries, a function stopped
 * after its work, a redrive), and its bytes are the ones Kling served.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY, type FaultPlan, type Simulator, startSimulator, type VideoDelivery } from "#local/simulator/index";
import { lambdaError } from "#local/runner/lambda-binding";
import type { ExecutionReport } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { parseDiagnosis } from "#local/runner/trace";
import { RETRY_POLICIES } from "#lib/retry-policies";
import { synthesizedPlan } from "#local/runner/synthesize";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { syntheticMp4 } from "#local/simulator/mp4";

const REQUEST = { prompt: "a corgi surfing a wave" };
let clock: ScaledClock;
let pipeline: LocalPipeline;
let runs = 0;
/** Archive invocations that do their work and are then stopped by their timeout, before answering. */
let archiveStoppedAfterWork = 0;

beforeAll(() => {
  clock = new ScaledClock(0.002);
  pipeline = new LocalPipeline({
    clock,
    plan: synthesizedPlan({ videoArchive: { downloadStallMs: 3000 } }),
    aroundInvoke: async (stateName, invoke) => {
      const result = await invoke();
      if (stateName === "Archive" && archiveStoppedAfterWork > 0) {
        archiveStoppedAfterWork -= 1;
        throw lambdaError("Sandbox.Timedout", "Task timed out after 600.00 seconds");
      }
      return result;
    },
  });
});
afterAll(() => pipeline.close());

/** Every download gets the next delivery in the list (then whole ones). */
function downloads(deliveries: (VideoDelivery | undefined)[]): FaultPlan {
  return { onRequest: () => undefined, taskOutcome: () => ({ status: "succeed" }), onVideoDownload: () => deliveries.shift() };
}

async function withSimulator<T>(plan: FaultPlan, work: (simulator: Simulator) => Promise<T>): Promise<T> {
  const credentials = { apiKey: DEV_API_KEY };
  const simulator = await startSimulator({ faultPlan: plan, clock, credentials, videoMediaBytes: 6 * 1024 * 1024 });
  pipeline.connect(simulator.baseUrl, credentials);
  try {
    return await work(simulator);
  } finally {
    await simulator.close();
  }
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const nextName = (label: string) => `archive-${label}-${(runs += 1)}`;

interface Archived {
  readonly task: { readonly video: { readonly id: string } };
  readonly archive: { readonly video: { readonly key: string; readonly sha256: string; readonly kept: boolean }; readonly warnings: readonly string[] };
}

/** The job's objects in the bucket, and the stored bytes' checksum against what the simulator served. */
async function stored(report: ExecutionReport, simulator: Simulator) {
  const bucket = await pipeline.videoBucketServer();
  const { task, archive } = report.output as Archived;
  const jobDirectory = path.join(bucket.directory, bucket.bucket, "videos", report.executionName);
  return {
    objects: readdirSync(jobDirectory).filter((file) => file.endsWith("._S3rver_object")),
    storedSha256: sha256(readFileSync(bucket.pathOf(archive.video.key))),
    servedSha256: sha256(simulator.videoBytes(task.video.id) ?? Buffer.alloc(0)),
    reported: archive.video,
    warnings: archive.warnings,
  };
}

describe("Archive's bucket is a port the local runner gives it", () => {
  it("runs against the embedded S3 without writing where it is into the process's environment", async () => {
    const before = { ...process.env };
    await withSimulator(downloads([]), async () => {
      const report = await pipeline.runGeneration(REQUEST, nextName("env"));
      expect(report.status).toBe("SUCCEEDED");
    });
    // Only the Powertools variables, which the library reads from process.env itself, may be set by the runner.
    const added = Object.keys(process.env).filter((name) => before[name] === undefined && !name.startsWith("POWERTOOLS_"));
    expect(added).toEqual([]);
  });
});

describe("Archive keeps each video once, with the bytes Kling served", () => {
  it("a download cut in the middle of the body is retried, and the stored checksum is the served bytes'", async () => {
    await withSimulator(downloads(["download-dropped", "download-truncated"]), async (simulator) => {
      const report = await pipeline.runGeneration(REQUEST, nextName("cut"));
      expect(report.status).toBe("SUCCEEDED");
      expect(report.retries).toEqual({ Archive: 2 });
      const { objects, storedSha256, servedSha256, reported, warnings } = await stored(report, simulator);
      expect(objects).toHaveLength(1);
      expect(storedSha256).toBe(servedSha256);
      expect(reported.sha256).toBe(servedSha256);
      // Archive's warnings reach the output (none here: nothing was missing).
      expect(warnings).toEqual([]);
    });
  });

  it("a function stopped after it stored the video is retried, keeps the object and downloads nothing again", async () => {
    archiveStoppedAfterWork = 1;
    let downloadCount = 0;
    const counting: FaultPlan = { onRequest: () => undefined, taskOutcome: () => ({ status: "succeed" }), onVideoDownload: () => void (downloadCount += 1) };
    await withSimulator(counting, async (simulator) => {
      const report = await pipeline.runGeneration(REQUEST, nextName("stopped"));
      expect(report.status).toBe("SUCCEEDED");
      expect(report.retries).toEqual({ Archive: 1 });
      expect(downloadCount).toBe(1);
      const { objects, storedSha256, servedSha256, reported } = await stored(report, simulator);
      expect(objects).toHaveLength(1);
      expect(reported.kept).toBe(true);
      expect(storedSha256).toBe(servedSha256);
    });
  });

  it("downloads failing past every retry wait in AwaitRedrive; redriven, Archive stores the video once and no task is paid again", async () => {
    const attempts = RETRY_POLICIES.downloadFailed.maxAttempts + 1;
    const deliveries: (VideoDelivery | undefined)[] = Array.from({ length: attempts }, () => "download-dropped");
    await withSimulator(downloads(deliveries), async (simulator) => {
      const name = nextName("redrive");
      const failed = await pipeline.runGeneration(REQUEST, name);
      expect(failed.status).toBe("FAILED");
      expect(parseDiagnosis(failed.cause)).toMatchObject({ errorCode: "Archive.DownloadFailed", failedState: "Archive", recoverable: true });
      const last = failed.events.filter((event) => event.type === "StateEntered").at(-1);
      expect(last?.stateName).toBe("AwaitRedrive");

      const redriven = await pipeline.generation.run(last?.input, name, undefined, { resumeAt: "AwaitRedrive", redriveCount: 1 });
      expect(redriven.status).toBe("SUCCEEDED");
      const entered = redriven.events.filter((event) => event.type === "StateEntered").map((event) => event.stateName);
      expect(entered).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "Archive"]);
      expect(simulator.stats.tasksCreated).toBe(1);
      const { objects, storedSha256, servedSha256 } = await stored(redriven, simulator);
      expect(objects).toHaveLength(1);
      expect(storedSha256).toBe(servedSha256);
    });
  });
});

describe("Archive trusts only Kling", () => {
  it("a task token answered by someone else, with a URL of their choosing, makes Archive fetch nothing but Kling's own URL for the task", async () => {
    // Where the forged answer points: it must never be asked for anything.
    let forgedDownloads = 0;
    const forgedVideo = syntheticMp4("forged", 5, 4096);
    const attacker = createServer((_request, response) => {
      forgedDownloads += 1;
      response.writeHead(200, { "content-type": "video/mp4", "content-length": String(forgedVideo.length) }).end(forgedVideo);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/forged.mp4`;
    // Kling's callbacks are lost, so only the forged answer (or, late, the fallback poll) ends the wait.
    const plan: FaultPlan = { onRequest: () => undefined, taskOutcome: () => ({ status: "succeed" }), onCallback: () => ({ kind: "drop" }) };
    const credentials = { apiKey: DEV_API_KEY };
    // Done at Kling after 1 simulated s; the first fallback poll of a 10 s pro video comes minutes later.
    const simulator = await startSimulator({ faultPlan: plan, clock, credentials, generationSeconds: 1 });
    pipeline.connect(simulator.baseUrl, credentials);
    try {
      expect(pipeline.callbacksOn).toBe(true);
      const name = nextName("forged");
      const running = pipeline.runGeneration({ ...REQUEST, duration: 10, mode: "pro" }, name);
      const externalTaskId = externalTaskIdFor(name, pipeline.executions.arnOf(name));
      let wait = await pipeline.ledger.taskWaits.taskWait(externalTaskId);
      while (!wait || !simulator.tasks().some((task) => task.status === "succeed")) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        wait = await pipeline.ledger.taskWaits.taskWait(externalTaskId);
      }
      // SendTaskSuccess by anyone holding the token: the TaskView with a video of their choosing.
      const forged = { ...wait.task, status: "succeed", nextWaitSeconds: 0, unitsSpent: 0, video: { id: "forged", url: attackerUrl, watermarkUrl: attackerUrl, duration: "10" } };
      await pipeline.taskResponses.succeed(wait.taskToken, JSON.stringify(forged));
      const report = await running;

      expect(report.status).toBe("SUCCEEDED");
      expect(forgedDownloads).toBe(0);
      const [task] = simulator.tasks();
      const { storedSha256, servedSha256, reported } = await stored({ ...report, output: { ...(report.output as object), task: { video: { id: task?.videoId } } } }, simulator);
      expect(reported.key).toBe(`videos/${name}/${task?.videoId}.mp4`);
      expect(storedSha256).toBe(servedSha256);
    } finally {
      await simulator.close();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });
});
