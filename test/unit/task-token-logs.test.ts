/**
 * A task token is a capability: whoever holds it ends the wait it belongs to. Every handler that
 * receives one (WaitForSlot, ReleaseSlot handing a slot to a waiter, AwaitVideo, the callback
 * answering a wait, AwaitRedrive, Diagnose refusing an old definition's token) runs here through
 * its factory, at DEBUG, on every path that answers, parks or refuses a token, and no log line
 * it prints holds one.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { awaitRedriveHandler } from "#lambdas/await-redrive/handler";
import { awaitVideoHandler } from "#lambdas/await-video/handler";
import { capabilityToken } from "#lambdas/common/capability-token";
import { settingsFrom } from "#lambdas/common/ports";
import { ENV } from "#lambdas/common/settings";
import type { TaskResponses } from "#lambdas/common/task-responses";
import type { TaskView } from "#lambdas/common/task-view";
import { handler as diagnoseHandler } from "#lambdas/diagnose/handler";
import { klingCallbackHandler } from "#lambdas/kling-callback/handler";
import type { KlingApi } from "#lambdas/kling/port";
import type { Task } from "#lambdas/kling/wire";
import { LOG_CONTEXT_FIELD, POWERTOOLS_ENV } from "#lambdas/observability/catalog";
import { releaseSlotHandler } from "#lambdas/release-slot/handler";
import { waitForSlotHandler } from "#lambdas/wait-for-slot/handler";
import { manualClock } from "#local/simulator/test-support";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const CAPABILITY_KEY = "capability-key-for-the-token-log-tests-0123456789";
const clock = manualClock(Date.UTC(2026, 11, 8, 3));

/** Tokens shaped like Step Functions' (long, opaque), each one distinct, all remembered. */
const tokens: string[] = [];
const newToken = () => {
  const token = `AQCEAAAAKgAAAAMAAAAAAAAAAb${tokens.length}x9Qh2Jm4kLr8Vt0Zp6Ws3Nd5Gf7Yb1Ce-TOKEN-${tokens.length}`;
  tokens.push(token);
  return token;
};

/** Step Functions' task responses: answered once; a second answer, or one for a token whose Task ended, is TaskTimedOut. */
class TaskResponsesOnce implements TaskResponses {
  readonly answered = new Set<string>();
  async succeed(taskToken: string): Promise<void> {
    this.answer(taskToken);
  }
  async fail(taskToken: string): Promise<void> {
    this.answer(taskToken);
  }
  private answer(taskToken: string): void {
    if (this.answered.has(taskToken)) throw Object.assign(new Error("Task Timed Out: 'Provided task does not exist anymore'"), { name: "TaskTimedOut" });
    this.answered.add(taskToken);
  }
}
const responses = new TaskResponsesOnce();

let klingAnswer: Task;
const kling: KlingApi = {
  getTask: async () => klingAnswer,
  createTask: () => Promise.reject(new Error("not used here")),
  findTaskByExternalId: () => Promise.reject(new Error("not used here")),
  listTasks: () => Promise.reject(new Error("not used here")),
  getResourcePacks: () => Promise.reject(new Error("not used here")),
};

const ports = () => ({
  clock,
  settings: settingsFrom({ [ENV.klingConcurrency]: "1", [ENV.slotQueue]: JSON.stringify({ parkSeconds: 60, deadlineSeconds: 600 }) }),
  kling: async () => kling,
  ledger: () => dynalite.ledger,
  taskWaits: () => dynalite.taskWaits,
  taskResponses: responses,
  callbacks: { baseUrl: () => "https://videos.example.com/v1", secrets: async () => ({ capabilityKey: CAPABILITY_KEY }), confirmingQueriesPerMinute: () => 6 },
});

const logContext = (stateName: string) => ({ [LOG_CONTEXT_FIELD]: { executionName: "job-tokens", stateName } });

let printed: string[] = [];
beforeAll(() => {
  // Locally the logger prints each line through console.log; DEBUG prints every line there is.
  vi.stubEnv(POWERTOOLS_ENV.devMode, "true");
  vi.stubEnv(POWERTOOLS_ENV.logLevel, "DEBUG");
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(" "));
  });
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function taskView(externalTaskId: string): TaskView {
  return {
    taskId: `kling-${externalTaskId}`,
    externalTaskId,
    kind: "text2video",
    status: "submitted",
    typicalSeconds: 120,
    submittedAt: clock.now(),
    polls: 0,
    nextWaitSeconds: 180,
    video: null,
  };
}
const succeeded = (task: TaskView): Task => ({
  task_id: task.taskId,
  task_status: "succeed",
  task_info: { external_task_id: task.externalTaskId },
  task_result: { videos: [{ id: "video-1", url: "https://cdn.example/video-1.mp4", duration: "5" }] },
  final_unit_deduction: "2",
  created_at: 1,
  updated_at: 2,
});
const callbackEvent = (task: TaskView, body: unknown, token = capabilityToken(CAPABILITY_KEY, task.externalTaskId, clock.now() + 3_600_000)) =>
  ({
    body: JSON.stringify(body),
    isBase64Encoded: false,
    headers: {},
    multiValueHeaders: {},
    httpMethod: "POST",
    path: `/kling/callbacks/${task.externalTaskId}/${token}`,
    pathParameters: { externalTaskId: task.externalTaskId, token },
  }) as unknown as APIGatewayProxyEvent;

describe("the handlers that receive task tokens", () => {
  it("log what they did with each token, never the token", async () => {
    const waitForSlot = waitForSlotHandler(ports());
    const releaseSlot = releaseSlotHandler(ports());
    const [first, second] = [dynalite.arn("first"), dynalite.arn("second")];
    // One slot: the first takes it, the second parks its token, the release hands it over.
    expect(await waitForSlot({ taskToken: newToken(), executionArn: first, redriveCount: 0, ...logContext("WaitForSlot") })).toBe("acquired");
    expect(await waitForSlot({ taskToken: newToken(), executionArn: second, redriveCount: 0, ...logContext("WaitForSlot") })).toBe("queued");
    expect(await releaseSlot({ executionArn: first, ...logContext("ReleaseSlot") })).toMatchObject({ slot: true, woken: 1 });

    // WaitForVideo records its token; the callback, confirmed, answers it; a second callback finds it settled.
    const awaitVideo = awaitVideoHandler(ports());
    const callback = klingCallbackHandler(ports());
    const task = taskView("job-tokens-0a1b2c3d4e5f");
    const videoToken = newToken();
    expect(await awaitVideo({ taskToken: videoToken, task, executionArn: second, ...logContext("WaitForVideo") })).toBe("waiting");
    klingAnswer = succeeded(task);
    expect(await callback(callbackEvent(task, succeeded(task)))).toMatchObject({ statusCode: 200 });
    expect(responses.answered.has(videoToken)).toBe(true);
    expect(await callback(callbackEvent(task, succeeded(task)))).toMatchObject({ statusCode: 200 });
    // A callback whose URL carries a made-up capability token is refused, and logged as refused.
    expect(await callback(callbackEvent(task, succeeded(task), "forged-capability-token-AAAAAAAAAAAAAAAAAAAA"))).toMatchObject({ statusCode: 401 });
    // An ended task: AwaitVideo answers its own token at once, the second time as a token already answered.
    const ended = taskView("job-tokens-ffeeddccbbaa");
    klingAnswer = succeeded(ended);
    await dynalite.taskWaits.recordTaskWait(ended.externalTaskId, { executionArn: first, task: ended, taskToken: newToken() }, clock.now() + 60_000);
    await dynalite.taskWaits.claimTaskEnd(ended.externalTaskId, { status: "succeed", video: { id: "v", url: "https://cdn.example/v.mp4", duration: "5" }, unitsSpent: 2 });
    expect(await awaitVideo({ taskToken: newToken(), task: ended, executionArn: first, ...logContext("WaitForVideo") })).toBe("ended");

    // AwaitRedrive fails with the diagnosis, then resumes when redriven.
    const awaitRedrive = awaitRedriveHandler({ taskResponses: responses });
    const diagnosis = { errorCode: "Kling.PollTimeout", cause: "{}", ...logContext("AwaitRedrive") };
    expect(await awaitRedrive({ taskToken: newToken(), diagnosedAtRedriveCount: 0, redriveCount: 0, ...diagnosis })).toEqual({ answered: "failed" });
    expect(await awaitRedrive({ taskToken: newToken(), diagnosedAtRedriveCount: 0, redriveCount: 1, ...diagnosis })).toEqual({ answered: "resumed" });
    // Diagnose, invoked with a token by an old definition, refuses it.
    const refusal = newToken();
    await expect(diagnoseHandler({ taskToken: refusal, errorCode: "Kling.PollTimeout", cause: "{}", ...logContext("AwaitRedrive") })).rejects.toSatisfy(
      (error: Error) => error.name === "AwaitRedrive.NotResumable" && !error.message.includes(refusal),
    );

    // The lines were captured (the check below can fail), and none holds a token.
    expect(printed.some((line) => line.includes("waiting for a Kling slot"))).toBe(true);
    expect(printed.some((line) => line.includes("callback confirmed"))).toBe(true);
    expect(printed.some((line) => line.includes("callback refused"))).toBe(true);
    expect(printed.length).toBeGreaterThanOrEqual(6);
    const leaks = printed.flatMap((line) => tokens.filter((token) => line.includes(token)).map((token) => `${token} in ${line}`));
    expect(leaks).toEqual([]);
    expect(printed.filter((line) => line.includes("forged-capability-token"))).toEqual([]);
  });
});
