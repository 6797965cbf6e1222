/**
 * Every simulator scenario through the synthesized generation state machine on the local
 * engine, with the real handlers: the outcome, the diagnosis, which states retried and why,
 * and how many Kling tasks were created.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnosisSchema } from "#lambdas/diagnose/diagnosis";
import { type ArchiveErrorName, classifyKlingError, ERROR_KINDS, errorKindOf, type KlingErrorName } from "#lambdas/errors/index";
import { SCENARIO_NAMES, scenarioNamed, type ScenarioName } from "#local/simulator/index";
import { WorkflowHarness } from "./harness";

const DEADLINE_SECONDS = 600;
let harness: WorkflowHarness;

beforeAll(() => {
  harness = new WorkflowHarness(0.002, {
    pollSchedule: { firstPollShare: 0.8, intervalShare: 0.07, minSeconds: 5, maxSeconds: 60, deadlineSeconds: DEADLINE_SECONDS },
    blockedTerms: ["gore"],
    // A quiet period of many real milliseconds at this time scale: a park outlasts a busy machine's handler.
    slotQueue: { parkSeconds: 900, deadlineSeconds: 2700, probeSeconds: 600 },
  });
});
afterAll(() => harness.close());

type ExpectedError = KlingErrorName | ArchiveErrorName;
/** What a state retried for: an error of the table, or its park's timeout. */
type RetriedFor = ExpectedError | "States.Timeout";

interface Expected {
  readonly status: "SUCCEEDED" | "FAILED";
  readonly error?: ExpectedError;
  readonly failedState?: string;
  /** State -> retries, each retry caused by `retriedFor`. */
  readonly retries: Record<string, number>;
  readonly retriedFor?: RetriedFor;
  readonly tasksCreated: number;
}

const EXPECTED: Record<ScenarioName, Expected> = {
  happy: { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  "rate-limit": { status: "SUCCEEDED", retries: { Submit: 2 }, retriedFor: "Kling.RateLimited", tasksCreated: 1 },
  // Each 1303 sends it back to the queue; holding nothing else, it looks again after the quiet period (its park's timeout).
  "concurrency-limit": { status: "SUCCEEDED", retries: { BackToQueue: 2 }, retriedFor: "States.Timeout", tasksCreated: 1 },
  "server-error": { status: "SUCCEEDED", retries: { Submit: 3 }, retriedFor: "Kling.ServerError", tasksCreated: 1 },
  unauthorized: { status: "FAILED", error: "Kling.AuthFailed", failedState: "CheckCredits", retries: {}, tasksCreated: 0 },
  "insufficient-credits": {
    status: "FAILED",
    error: "Kling.InsufficientCredits",
    failedState: "CheckCredits",
    retries: {},
    tasksCreated: 0,
  },
  "resource-pack-exhausted": {
    status: "FAILED",
    error: "Kling.InsufficientCredits",
    failedState: "Submit",
    retries: {},
    tasksCreated: 0,
  },
  "content-policy": { status: "FAILED", error: "Kling.ContentPolicy", failedState: "Submit", retries: {}, tasksCreated: 0 },
  "invalid-params": { status: "FAILED", error: "Kling.InvalidRequest", failedState: "Submit", retries: {}, tasksCreated: 0 },
  // Kling's callback of the failed task ends WaitForVideo with the failure (callbacks are on by default).
  "generation-failed": { status: "FAILED", error: "Kling.GenerationFailed", failedState: "WaitForVideo", retries: {}, tasksCreated: 1 },
  "poll-timeout": { status: "FAILED", error: "Kling.PollTimeout", failedState: "Poll", retries: {}, tasksCreated: 1 },
  "lost-create-response": { status: "SUCCEEDED", retries: { Submit: 1 }, retriedFor: "Kling.ServerError", tasksCreated: 1 },
  "lost-create-connection": { status: "SUCCEEDED", retries: { Submit: 1 }, retriedFor: "Kling.ServerError", tasksCreated: 1 },
  "malformed-response": { status: "SUCCEEDED", retries: { Submit: 1 }, retriedFor: "Kling.ServerError", tasksCreated: 1 },
  "download-dropped": { status: "SUCCEEDED", retries: { Archive: 1 }, retriedFor: "Archive.DownloadFailed", tasksCreated: 1 },
  "video-purged": { status: "FAILED", error: "Archive.VideoPurged", failedState: "Archive", retries: {}, tasksCreated: 1 },
  // Archive asks Kling again for a fresh URL, within the same attempt.
  "video-forbidden-once": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  // The pipeline finds each end by polling, whatever happens to Kling's callbacks.
  "callback-lost": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  "callback-duplicated": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  "callback-late": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  "callback-reordered": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
  "callback-missigned": { status: "SUCCEEDED", retries: {}, tasksCreated: 1 },
};

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("each simulator scenario through the synthesized state machine", () => {
  it("covers every scenario the simulator knows", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...SCENARIO_NAMES].sort());
  });

  it.each(SCENARIO_NAMES)("%s", async (scenario) => {
    const expected = EXPECTED[scenario];
    const run = await harness.run(scenario);

    expect(run.report.status).toBe(expected.status);
    expect(run.report.retries).toEqual(expected.retries);
    expect(run.tasksCreated).toBe(expected.tasksCreated);
    const retriedErrors = run.report.events.filter((e) => e.type === "StateRetried").map((e) => e.retry?.error);
    expect(new Set(retriedErrors)).toEqual(new Set(expected.retriedFor ? [expected.retriedFor] : []));

    if (expected.status === "SUCCEEDED") {
      expect(run.report.error).toBeNull();
      expect(run.report.output).toMatchObject({ task: { status: "succeed", video: { url: expect.stringMatching(/\.mp4$/) } } });
      // The video is in the bucket, under the job, with the bytes the simulator served.
      const { task, archive } = run.report.output as { task: { video: { id: string } }; archive: { video: { key: string; sha256: string } } };
      expect(archive.video.key).toBe(`videos/${run.report.executionName}/${task.video.id}.mp4`);
      const served = run.servedVideo(task.video.id) ?? Buffer.alloc(0);
      expect(archive.video.sha256).toBe(sha256(served));
      const bucket = await harness.pipeline.videoBucketServer();
      expect(sha256(readFileSync(bucket.pathOf(archive.video.key)))).toBe(sha256(served));
      return;
    }
    const error = expected.error as ExpectedError;
    expect(run.report.error).toBe(error);
    expect(run.diagnosis).toMatchObject({
      jobId: run.report.executionName,
      errorCode: error,
      failedState: expected.failedState,
      recoverable: errorKindOf(error)?.recoverable,
      action: errorKindOf(error)?.action,
    });
    expect(run.diagnosis?.suggestion).toMatch(/\w/);
  });
});

describe("the promises behind the scenarios", () => {
  it("a 429 with code 1102 on create fails as insufficient credits without a single retry", async () => {
    const run = await harness.run("resource-pack-exhausted");
    expect(run.diagnosis).toMatchObject({ errorCode: "Kling.InsufficientCredits", httpStatus: 429, klingCode: 1102, recoverable: true });
    expect(run.createAttempts).toBe(1);
  });

  it("a create whose answer is lost is found by its external_task_id, never created twice", async () => {
    const run = await harness.run("lost-create-response");
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.createAttempts).toBe(1);
    expect(run.tasksCreated).toBe(1);
  });

  it("a task that never finishes fails as a poll timeout at the deadline, not long after", async () => {
    const run = await harness.run("poll-timeout");
    expect(run.report.error).toBe("Kling.PollTimeout");
    // The deadline runs from Submit (its clock reading lies inside the state) to the Poll that gives up: the states before Submit (the
    // ledger's among them) and the failure path after it are not part of it.
    const at = (type: string, stateName: string) => run.report.events.findLast((event) => event.type === type && event.stateName === stateName)?.at ?? Number.NaN;
    const pollingSeconds = (at("StateFailed", "Poll") - at("StateEntered", "Submit")) / 1000;
    // The last wait is clamped to the deadline; what is left is handler time.
    expect(pollingSeconds).toBeGreaterThanOrEqual(DEADLINE_SECONDS);
    expect(pollingSeconds).toBeLessThan(DEADLINE_SECONDS + 60);
  });

  it("a failed generation carries Kling's reason and the seed's suggestion", async () => {
    const run = await harness.run("generation-failed");
    expect(run.diagnosis?.errorMessage).toMatch(/too complex/);
    expect(run.diagnosis?.suggestion).toMatch(/simpler scene/);
  });

  it("an invalid request fails at Validate with every problem, before Kling hears of it", async () => {
    const run = await harness.run("happy", { prompt: "", duration: "7", mode: "ultra" });
    expect(run.report.error).toBe("Kling.InvalidRequest");
    expect(run.diagnosis?.failedState).toBe("Validate");
    expect(run.diagnosis?.errorMessage).toContain("duration");
    expect(run.diagnosis?.errorMessage).toContain("mode");
    expect(run.requests).toBe(0);
  });

  it("a blocked term is a content-policy failure at Validate", async () => {
    const run = await harness.run("happy", { prompt: "a scene full of gore" });
    expect(run.diagnosis).toMatchObject({ errorCode: "Kling.ContentPolicy", failedState: "Validate", recoverable: false });
    expect(run.requests).toBe(0);
  });

  it("Failed carries the diagnosis as Cause: Kling's refusal, and what the error table says of it, field by field", async () => {
    const [rule] = scenarioNamed("content-policy").rules;
    if (rule?.fault.answer.type !== "error") throw new Error("the content-policy scenario answers creates with an error");
    const { status, code, message } = rule.fault.answer;
    const errorCode = classifyKlingError(status, code);
    if (errorCode === "Kling.GenerationFailed") throw new Error("a create's refusal is never a failed generation");

    const run = await harness.run("content-policy");
    expect(run.report.error).toBe(errorCode);
    // Exactly the diagnosis' fields, nothing more, with the values the table and Kling's answer give.
    expect(diagnosisSchema.strict().parse(JSON.parse(run.report.cause ?? "null"))).toEqual({
      jobId: run.report.executionName,
      errorCode,
      errorMessage: expect.stringContaining(message),
      httpStatus: status,
      klingCode: code,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      failedState: "Submit",
      recoverable: ERROR_KINDS[errorCode].recoverable,
      action: ERROR_KINDS[errorCode].action,
      suggestion: ERROR_KINDS[errorCode].suggestion,
    });
  });
});
