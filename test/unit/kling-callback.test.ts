/**
 * The callback function (POST /kling/callbacks/{externalTaskId}/{token}) and AwaitVideo, made
 * by their factories with the ledger on dynalite, a Kling whose answers each test sets, and task
 * tokens recorded as Step Functions keeps them: what is refused with no effect, what is only a
 * hint, and what ends WaitForVideo once.
 */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { awaitVideoHandler } from "#lambdas/await-video/handler";
import { capabilityToken } from "#lambdas/common/capability-token";
import type { CallbackSecrets } from "#lambdas/common/callback-secrets";
import { settingsFrom } from "#lambdas/common/ports";
import { signWebhook } from "#lambdas/common/standard-webhooks";
import type { TaskResponses } from "#lambdas/common/task-responses";
import type { TaskView } from "#lambdas/common/task-view";
import { failedTaskError, KlingError } from "#lambdas/errors/index";
import { klingCallbackHandler } from "#lambdas/kling-callback/handler";
import type { KlingApi } from "#lambdas/kling/port";
import type { Task } from "#lambdas/kling/wire";
import { ENV } from "#lambdas/common/settings";
import { manualClock } from "#local/simulator/test-support";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const CAPABILITY_KEY = "capability-key-for-the-callback-tests-0123456789";
const SIGNING_SECRET = `whsec_${Buffer.from("kling-signing-secret-of-32-bytes!").toString("base64")}`;

/** Task tokens as Step Functions keeps them: answered once; after that TaskTimedOut. */
class RecordedResponses implements TaskResponses {
  readonly answers = new Map<string, { output?: unknown; error?: string; cause?: string }>();
  /** Answers sent for a token no Task waits on any more. */
  refused = 0;
  readonly gone = new Set<string>();
  async succeed(taskToken: string, output: string): Promise<void> {
    this.take(taskToken);
    this.answers.set(taskToken, { output: JSON.parse(output) });
  }
  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.take(taskToken);
    this.answers.set(taskToken, { error, cause });
  }
  private take(taskToken: string): void {
    if (this.gone.has(taskToken) || this.answers.has(taskToken)) this.refused += 1;
    if (this.gone.has(taskToken)) throw Object.assign(new Error("the task timed out"), { name: "TaskTimedOut" });
    if (this.answers.has(taskToken)) throw Object.assign(new Error(`token ${taskToken} was answered`), { name: "TaskTimedOut" });
  }
}

let taskNumber = 0;
let responses: RecordedResponses;
/** Kling's answer to every query, or its answers in turn. */
let klingAnswer: Task | Error | (Task | Error)[];
let klingQueries: number;
let secrets: CallbackSecrets;
/** The callback function's per-task limit of confirming queries a minute. */
let queriesPerMinute: number;
const clock = manualClock(Date.UTC(2026, 10, 26, 12));
/** A URL's token as Submit makes it: valid for the next hour unless a test says otherwise. */
const tokenFor = (externalTaskId: string, key = CAPABILITY_KEY, expiresAt = clock.now() + 3_600_000) => capabilityToken(key, externalTaskId, expiresAt);

const kling: KlingApi = {
  async getTask() {
    klingQueries += 1;
    const answer = Array.isArray(klingAnswer) ? klingAnswer.shift() : klingAnswer;
    if (answer === undefined) throw new Error("the test gave Kling no more answers");
    if (answer instanceof Error) throw answer;
    return answer;
  },
  createTask: () => Promise.reject(new Error("not used here")),
  findTaskByExternalId: () => Promise.reject(new Error("not used here")),
  listTasks: () => Promise.reject(new Error("not used here")),
  getResourcePacks: () => Promise.reject(new Error("not used here")),
};

const ports = () => ({
  clock,
  settings: settingsFrom({ [ENV.klingConcurrency]: "2", [ENV.slotQueue]: JSON.stringify({ parkSeconds: 60, deadlineSeconds: 600 }) }),
  kling: async () => kling,
  ledger: () => dynalite.ledger,
  taskWaits: () => dynalite.taskWaits,
  taskResponses: responses,
  callbacks: { baseUrl: () => "https://videos.example.com/v1", secrets: async () => secrets, confirmingQueriesPerMinute: () => queriesPerMinute },
});

const taskView = (externalTaskId: string): TaskView => ({
  taskId: `kling-${externalTaskId}`,
  externalTaskId,
  kind: "text2video",
  status: "submitted",
  typicalSeconds: 120,
  submittedAt: clock.now(),
  polls: 0,
  nextWaitSeconds: 180,
  video: null,
});
const VIDEO = { id: "video-1", url: "https://cdn.example/video-1.mp4", duration: "5" };
const klingTask = (task: TaskView, status: Task["task_status"], message?: string): Task => ({
  task_id: task.taskId,
  task_status: status,
  ...(message ? { task_status_msg: message } : {}),
  task_info: { external_task_id: task.externalTaskId },
  ...(status === "succeed" ? { task_result: { videos: [VIDEO] } } : {}),
  final_unit_deduction: "2",
  created_at: 1,
  updated_at: 2,
});

function callbackEvent(task: TaskView, body: unknown, options: { token?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    body: text,
    isBase64Encoded: false,
    headers: options.headers ?? {},
    multiValueHeaders: {},
    httpMethod: "POST",
    path: `/kling/callbacks/${task.externalTaskId}/token`,
    pathParameters: { externalTaskId: task.externalTaskId, token: options.token ?? tokenFor(task.externalTaskId) },
  } as unknown as APIGatewayProxyEvent;
}

/** A task whose WaitForVideo waits on `token-<n>`, holding a slot, as AwaitVideo leaves it. */
async function waitingTask(): Promise<{ task: TaskView; token: string; executionArn: string }> {
  taskNumber += 1;
  const task = taskView(`job-${taskNumber}-0a1b2c3d4e5f`);
  const executionArn = dynalite.arn(`job-${taskNumber}`);
  const token = `token-${taskNumber}`;
  await dynalite.ledger.takeSlot({ executionArn, redriveCount: 0 }, 2, clock.now());
  expect(await awaitVideoHandler(ports())({ taskToken: token, task, executionArn })).toBe("waiting");
  return { task, token, executionArn };
}

const callback = (event: APIGatewayProxyEvent) => klingCallbackHandler(ports())(event);

beforeEach(() => {
  responses = new RecordedResponses();
  klingQueries = 0;
  secrets = { capabilityKey: CAPABILITY_KEY };
  queriesPerMinute = 4;
});

describe("a callback that does not check out", () => {
  it("with another task's capability token, or a made-up one, is refused with 401 and changes nothing", async () => {
    const { task, token } = await waitingTask();
    const other = taskView("job-other-ffffffffffff");
    klingAnswer = klingTask(task, "succeed");
    for (const forged of [tokenFor(other.externalTaskId), tokenFor(task.externalTaskId, "another-key-of-at-least-32-characters!!"), "AAAA"]) {
      const answer = await callback(callbackEvent(task, klingTask(task, "succeed"), { token: forged }));
      expect(answer).toMatchObject({ statusCode: 401 });
      expect(JSON.parse(answer.body)).toEqual({ errors: ["the callback URL's capability token is not this task's"] });
    }
    expect(klingQueries).toBe(0);
    expect(responses.answers.has(token)).toBe(false);
    expect((await dynalite.taskWaits.taskWait(task.externalTaskId))?.end).toBeUndefined();
  });

  it("with a signing secret configured, is refused with 401 unsigned, signed with another secret, or signed for another body", async () => {
    const { task, token } = await waitingTask();
    secrets = { capabilityKey: CAPABILITY_KEY, klingSigningSecret: SIGNING_SECRET };
    klingAnswer = klingTask(task, "succeed");
    const body = JSON.stringify(klingTask(task, "succeed"));
    const now = clock.now() / 1000;
    const otherSecret = `whsec_${Buffer.from("another-signing-secret-32-bytes!!").toString("base64")}`;
    const cases = [
      {},
      signWebhook(otherSecret, "msg-1", now, body),
      signWebhook(SIGNING_SECRET, "msg-1", now, body.replace("succeed", "failed")),
      signWebhook(SIGNING_SECRET, "msg-1", now - 600, body),
    ];
    for (const headers of cases) {
      const answer = await callback(callbackEvent(task, body, { headers }));
      expect(answer.statusCode, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(answer.body).errors[0]).toMatch(/^the callback's signature does not check out: /);
    }
    expect(klingQueries).toBe(0);
    expect(responses.answers.has(token)).toBe(false);
    // Signed right, it is acted on.
    expect(await callback(callbackEvent(task, body, { headers: signWebhook(SIGNING_SECRET, "msg-2", now, body) }))).toMatchObject({ statusCode: 200 });
    expect(responses.answers.get(token)?.output).toMatchObject({ status: "succeed", video: VIDEO });
  });

  it("with a body that is not a Kling task is refused with 400 naming the problem", async () => {
    const { task } = await waitingTask();
    const notJson = await callback(callbackEvent(task, "task_status=succeed"));
    expect(notJson.statusCode).toBe(400);
    expect(JSON.parse(notJson.body)).toEqual({ errors: ["the body is not valid JSON"] });
    const noStatus = await callback(callbackEvent(task, { task_id: task.taskId }));
    expect(noStatus.statusCode).toBe(400);
    expect(JSON.parse(noStatus.body).errors[0]).toMatch(/^the callback body is not a Kling task: task_status: /);
    const otherTask = await callback(callbackEvent(task, { task_id: task.taskId, task_status: "succeed", task_info: { external_task_id: "job-else" } }));
    expect(JSON.parse(otherTask.body)).toEqual({ errors: [`the callback body is for the external_task_id job-else, not this URL's task`] });
    expect(klingQueries).toBe(0);
  });
});

describe("a callback that checks out", () => {
  it("for a task nobody waits on is accepted (200) and changes nothing: nothing tells it apart from a known one", async () => {
    const unknown = taskView("job-unknown-123456789abc");
    klingAnswer = klingTask(unknown, "succeed");
    expect(await callback(callbackEvent(unknown, klingTask(unknown, "succeed")))).toMatchObject({ statusCode: 200, body: "" });
    expect(klingQueries).toBe(0);
    expect(await dynalite.taskWaits.taskWait(unknown.externalTaskId)).toBeUndefined();
  });

  it("saying the task still runs needs no query and ends nothing", async () => {
    const { task, token } = await waitingTask();
    expect(await callback(callbackEvent(task, klingTask(task, "processing")))).toMatchObject({ statusCode: 200 });
    expect(klingQueries).toBe(0);
    expect(responses.answers.has(token)).toBe(false);
  });

  it("saying the task succeeded while Kling says it still runs is only a hint: the wait goes on", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = klingTask(task, "processing");
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect(klingQueries).toBe(1);
    expect(responses.answers.has(token)).toBe(false);
    expect((await dynalite.taskWaits.taskWait(task.externalTaskId))?.end).toBeUndefined();
  });

  it("of a success Kling confirms ends the wait with the TaskView and its video, and releases the slot then; a duplicate changes nothing", async () => {
    const { task, token, executionArn } = await waitingTask();
    klingAnswer = klingTask(task, "succeed");
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    // unitsSpent: Kling's final_unit_deduction.
    expect(responses.answers.get(token)).toEqual({ output: { ...task, status: "succeed", nextWaitSeconds: 0, video: VIDEO, unitsSpent: 2 } });
    expect((await dynalite.ledger.holdings()).slotHolders).not.toContain(executionArn);

    // A duplicate, or a late one: no second query, no second answer (which would be TaskTimedOut).
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect(klingQueries).toBe(1);
  });

  it("in the new standard's shape (id, status succeeded) is read the same way", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = klingTask(task, "succeed");
    const newShape = { id: task.taskId, status: "succeeded", external_id: task.externalTaskId, create_time: 1, update_time: 2 };
    expect(await callback(callbackEvent(task, newShape))).toMatchObject({ statusCode: 200 });
    expect(responses.answers.get(token)?.output).toMatchObject({ status: "succeed", video: VIDEO });
  });

  it("of a failure Kling confirms ends the wait with Kling.GenerationFailed and Kling's reason, as Poll would", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = klingTask(task, "failed", "the scene is too complex to render");
    expect(await callback(callbackEvent(task, klingTask(task, "failed")))).toMatchObject({ statusCode: 200 });
    const answer = responses.answers.get(token);
    expect(answer?.error).toBe("Kling.GenerationFailed");
    expect(answer?.cause).toContain("the scene is too complex to render");
    expect(JSON.parse(answer?.cause ?? "{}")).toEqual({
      errorType: "Kling.GenerationFailed",
      // Poll's own error for it, so Diagnose reads both the same.
      errorMessage: failedTaskError("the scene is too complex to render", task.taskId).message,
    });
  });

  it("whose wait has timed out (the fallback poll runs) still claims the end; the next WaitForVideo ends at once with it", async () => {
    const { task, token, executionArn } = await waitingTask();
    responses.gone.add(token);
    klingAnswer = klingTask(task, "succeed");
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect((await dynalite.taskWaits.taskWait(task.externalTaskId))?.end).toMatchObject({ status: "succeed" });

    const again = await awaitVideoHandler(ports())({ taskToken: "token-after-poll", task: { ...task, polls: 1 }, executionArn });
    expect(again).toBe("ended");
    expect(responses.answers.get("token-after-poll")?.output).toMatchObject({ status: "succeed", polls: 1, video: VIDEO });
  });

  it("whose confirming query meets a passing fault asks again, and acts on the end Kling then confirms", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = [new KlingError("Kling.ServerError", "Kling answered 503"), klingTask(task, "succeed")];
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect(klingQueries).toBe(2);
    expect(responses.answers.get(token)?.output).toMatchObject({ status: "succeed", video: VIDEO });
  });

  it("when Kling cannot be asked answers 503 and changes nothing: a retry, or the fallback poll, settles it", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = new KlingError("Kling.ServerError", "Kling answered 503");
    const answer = await callback(callbackEvent(task, klingTask(task, "succeed")));
    expect(answer.statusCode).toBe(503);
    // Two queries for a server fault (both fit the function's and API Gateway's time); one for a
    // rate limit, which still holds a moment later, or a fault that does not pass.
    expect(klingQueries).toBe(2);
    for (const refusal of [new KlingError("Kling.RateLimited", "Too many requests"), new KlingError("Kling.AuthFailed", "Kling refused the key")]) {
      klingQueries = 0;
      klingAnswer = refusal;
      expect((await callback(callbackEvent(task, klingTask(task, "succeed")))).statusCode).toBe(503);
      expect(klingQueries).toBe(1);
    }
    expect(responses.answers.has(token)).toBe(false);
    expect((await dynalite.taskWaits.taskWait(task.externalTaskId))?.end).toBeUndefined();
  });

  it("of an end claimed by a call that failed before it released the slot and answered finishes that work, once", async () => {
    const { task, token, executionArn } = await waitingTask();
    // The claimant's claim landed; then it failed (and answered 503), leaving the slot held and the wait unanswered.
    expect((await dynalite.taskWaits.claimTaskEnd(task.externalTaskId, { status: "succeed", video: VIDEO, unitsSpent: 2 })).outcome).toBe("claimed");
    expect((await dynalite.ledger.holdings()).slotHolders).toContain(executionArn);
    klingQueries = 0;
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect(klingQueries).toBe(0);
    expect(responses.answers.get(token)?.output).toMatchObject({ status: "succeed", video: VIDEO, unitsSpent: 2 });
    expect((await dynalite.ledger.holdings()).slotHolders).not.toContain(executionArn);
    // Sent once more, it changes nothing: the work is recorded done, and no answer is even tried.
    expect(await callback(callbackEvent(task, klingTask(task, "succeed")))).toMatchObject({ statusCode: 200 });
    expect(responses.answers.size).toBe(1);
    expect(responses.refused).toBe(0);
  });
});

describe("a callback URL's capability token", () => {
  it("past its expiry is refused with 401 saying so, and nothing is asked of Kling", async () => {
    const { task, token } = await waitingTask();
    klingAnswer = klingTask(task, "succeed");
    const expired = tokenFor(task.externalTaskId, CAPABILITY_KEY, clock.now() - 1000);
    const answer = await callback(callbackEvent(task, klingTask(task, "succeed"), { token: expired }));
    expect(answer).toMatchObject({ statusCode: 401 });
    expect(JSON.parse(answer.body)).toEqual({ errors: ["the callback URL's capability token has expired"] });
    expect(klingQueries).toBe(0);
    expect(responses.answers.has(token)).toBe(false);
  });

  it("made with the next key of a rotation, or the previous one until its time, is accepted; the previous one past its time is refused", async () => {
    const previous = "the-previous-capability-key-0123456789abcdef";
    const next = "the-next-capability-key-0123456789abcdef0123";
    const until = new Date(clock.now() + 60_000).toISOString();
    secrets = { capabilityKey: CAPABILITY_KEY, nextCapabilityKey: next, previousCapabilityKey: previous, previousCapabilityKeyUntil: until };
    const accepted = [tokenFor("job-x-aaaaaaaaaaaa", next), tokenFor("job-x-aaaaaaaaaaaa", previous), tokenFor("job-x-aaaaaaaaaaaa")];
    const unknown = taskView("job-x-aaaaaaaaaaaa");
    for (const token of accepted) expect((await callback(callbackEvent(unknown, klingTask(unknown, "processing"), { token }))).statusCode).toBe(200);

    secrets = { ...secrets, previousCapabilityKeyUntil: new Date(clock.now() - 1).toISOString() };
    const answer = await callback(callbackEvent(unknown, klingTask(unknown, "processing"), { token: tokenFor("job-x-aaaaaaaaaaaa", previous) }));
    expect(answer.statusCode).toBe(401);
  });
});

describe("the confirming queries of one task's callbacks", () => {
  it("are at most confirmingQueriesPerMinute a minute: past it a callback is accepted without asking Kling, and the next minute may ask again", async () => {
    const { task, token } = await waitingTask();
    const other = await waitingTask();
    queriesPerMinute = 3;
    klingAnswer = klingTask(task, "processing");
    clock.advanceSeconds((60_000 - (clock.now() % 60_000)) / 1000);
    // A leaked URL replayed: Kling says the task still runs, every time.
    for (let call = 0; call < 10; call++) expect((await callback(callbackEvent(task, klingTask(task, "succeed")))).statusCode).toBe(200);
    expect(klingQueries).toBe(3);
    // Another task's callbacks have a count of their own.
    klingAnswer = klingTask(other.task, "processing");
    expect((await callback(callbackEvent(other.task, klingTask(other.task, "succeed")))).statusCode).toBe(200);
    expect(klingQueries).toBe(4);

    clock.advanceSeconds(60);
    klingAnswer = klingTask(task, "succeed");
    expect((await callback(callbackEvent(task, klingTask(task, "succeed")))).statusCode).toBe(200);
    expect(klingQueries).toBe(5);
    expect(responses.answers.get(token)?.output).toMatchObject({ status: "succeed", video: VIDEO });
  });

  it("count each attempt: a fault's second query past the limit is not sent, and the call answers 503", async () => {
    const { task, token } = await waitingTask();
    queriesPerMinute = 1;
    clock.advanceSeconds((60_000 - (clock.now() % 60_000)) / 1000);
    klingAnswer = [new KlingError("Kling.ServerError", "Kling answered 503"), klingTask(task, "succeed")];
    expect((await callback(callbackEvent(task, klingTask(task, "succeed")))).statusCode).toBe(503);
    expect(klingQueries).toBe(1);
    expect(responses.answers.has(token)).toBe(false);
  });
});
