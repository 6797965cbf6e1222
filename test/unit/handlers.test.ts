/**
 * The CheckCredits, Submit and Poll handlers against the real simulator on 127.0.0.1, made by
 * their factories with the AWS ports of a fresh container, given an environment of their own and
 * a hand-moved clock (nothing here touches process.env), the credentials read from a mocked
 * Secrets Manager secret.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkCreditsHandler } from "#lambdas/check-credits/handler";
import type { PollSchedule } from "#lambdas/common/config";
import { portsFromEnvironment } from "#lambdas/common/aws-ports";
import type { TaskView } from "#lambdas/common/task-view";
import { KlingError, type KlingErrorName } from "#lambdas/errors/index";
import type { KlingCredentials } from "#lambdas/kling/port";
import { pollHandler } from "#lambdas/poll/handler";
import type { GenerationRequest } from "#lambdas/schemas/validation";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { submitHandler } from "#lambdas/submit/handler";
import { verifyCapabilityToken } from "#lambdas/common/capability-token";
import { LOCAL_CALLBACK_SECRET_VARIABLES } from "#lambdas/common/callback-secrets";
import { CALLBACK_TOKEN_GRACE_SECONDS } from "#lambdas/common/callback-url";
import { CALLBACK_ENV } from "#lambdas/common/settings";
import { startSimulator, type ScenarioName, type Simulator } from "#local/simulator/index";
import { GENERATION_FAILED_MESSAGE } from "#local/simulator/scenarios";
import { manualClock, type ManualClock } from "#local/simulator/test-support";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-credentials-AbCdEf";
const API_KEY = "kl-api-key-5e4d3c2b1a0f";
const ACCESS_KEY = "kl-access-key-77aa88bb";
const SECRET_KEY = "kl-secret-key-99cc00dd11ee";
const CREDENTIAL_VALUES = [API_KEY, SECRET_KEY];

const SCHEDULE: PollSchedule = { firstPollShare: 0.1, intervalShare: 0.2, minSeconds: 5, maxSeconds: 20, deadlineSeconds: 300 };
/** typicalGenerationSeconds of REQUEST (kling-v2-6, std, 5 s). */
const TYPICAL_SECONDS = 75;
/** The first wait: 0.1 of the typical 75 s, rounded. */
const FIRST_WAIT_SECONDS = 8;
const CREDIT_CACHE_SECONDS = 30;

const EXECUTION_ARN = "arn:aws:states:eu-west-1:123456789012:execution:KlingGeneration:job-0001";

const REQUEST: GenerationRequest = {
  prompt: "a red fox running through fresh snow at dawn",
  model: "kling-v2-6",
  mode: "std",
  duration: "5",
  aspectRatio: "16:9",
};

const secretsManager = mockClient(SecretsManagerClient);
/** The functions' environment, read by their ports when they run. */
let env: Record<string, string>;
let clock: ManualClock;
let simulator: Simulator | undefined;
let checkCredits: ReturnType<typeof checkCreditsHandler>;
let submit: ReturnType<typeof submitHandler>;
let poll: ReturnType<typeof pollHandler>;

beforeEach(() => {
  env = {
    KLING_SECRET_ARN: SECRET_ARN,
    POLL_SCHEDULE: JSON.stringify(SCHEDULE),
    CREDIT_CACHE_SECONDS: String(CREDIT_CACHE_SECONDS),
    KLING_REQUEST_TIMEOUT_MS: "5000",
  };
  clock = manualClock();
  const ports = portsFromEnvironment(env, clock);
  checkCredits = checkCreditsHandler(ports);
  submit = submitHandler(ports);
  poll = pollHandler(ports);
  secretsManager.reset();
  secretHolds({ apiKey: API_KEY });
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

function secretHolds(credentials: KlingCredentials): void {
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: JSON.stringify(credentials) });
}

async function start(
  scenario: ScenarioName = "happy",
  credentials: KlingCredentials | readonly KlingCredentials[] = { apiKey: API_KEY },
): Promise<Simulator> {
  simulator = await startSimulator({ scenario, clock, credentials });
  env.KLING_BASE_URL = simulator.baseUrl;
  return simulator;
}

/** Everything a value exposes when it leaves a handler: for an error, message, stack and every own property. */
function exposed(value: unknown): string {
  if (!(value instanceof Error)) return JSON.stringify(value) ?? String(value);
  const fields: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(value)) fields[key] = (value as unknown as Record<string, unknown>)[key];
  return JSON.stringify({ ...fields, message: value.message, stack: value.stack, name: value.name, cause: String(value.cause) });
}

function expectNoCredentials(value: unknown): void {
  const text = exposed(value);
  for (const secret of CREDENTIAL_VALUES) expect(text).not.toContain(secret);
}

/** Runs a handler that must succeed; its answer must not carry a credential. */
async function succeeds<T>(run: Promise<T>): Promise<T> {
  const result = await run;
  expectNoCredentials(result);
  return result;
}

/** Runs a handler that must throw the named KlingError; the error must not carry a credential. */
async function failsWith(run: Promise<unknown>, name: KlingErrorName): Promise<KlingError> {
  let caught: unknown;
  let result: unknown;
  try {
    result = await run;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${name}, got the answer ${JSON.stringify(result)}`).toBeInstanceOf(KlingError);
  const error = caught as KlingError;
  expect(error.name, error.message).toBe(name);
  expectNoCredentials(error);
  return error;
}

function submitEvent(jobId = "job-0001", executionId = EXECUTION_ARN, request: GenerationRequest = REQUEST) {
  return { jobId, executionId, kind: "text2video" as const, request };
}

function creditEvent(request: { model: string; mode: "std" | "pro"; duration: string; sound?: "on" | "off" }) {
  return { request };
}

describe("CheckCredits", () => {
  it("prices the request and reports the online units", async () => {
    const sim = await start();
    const check = await succeeds(checkCredits(creditEvent({ model: "kling-v2-6", mode: "std", duration: "5" })));
    expect(check).toEqual({ priceUnits: 1.5, availableUnits: 10_000 });
    const withSound = await succeeds(checkCredits(creditEvent({ model: "kling-v2-6", mode: "pro", duration: "10", sound: "on" })));
    expect(withSound.priceUnits).toBe(10);
    expect(sim.stats.requestsByKind.create).toBe(0);
  });

  it("reads the credentials from the secret named by KLING_SECRET_ARN", async () => {
    await start();
    await succeeds(checkCredits(creditEvent({ model: "kling-v2-6", mode: "std", duration: "5" })));
    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    expect(calls.map((call) => call.args[0].input.SecretId)).toEqual([SECRET_ARN]);
  });

  it("insufficient-credits: throws Kling.InsufficientCredits before any task is created", async () => {
    const sim = await start("insufficient-credits");
    const error = await failsWith(checkCredits(creditEvent({ model: "kling-v2-6", mode: "std", duration: "5" })), "Kling.InsufficientCredits");
    expect(error.message).toMatch(/1\.5 units/);
    expect(error.message).toMatch(/hold 1\b/);
    expect(sim.stats.requestsByKind.account).toBe(1);
    expect(sim.stats.requestsByKind.create).toBe(0);
    expect(sim.stats.tasksCreated).toBe(0);
  });

  it("caches the account answer: one account request for two calls within the cache time, a new one after it", async () => {
    const sim = await start();
    const event = creditEvent({ model: "kling-v2-5-turbo", mode: "pro", duration: "5" });
    const first = await succeeds(checkCredits(event));
    clock.advanceSeconds(CREDIT_CACHE_SECONDS - 1);
    const second = await succeeds(checkCredits(event));
    expect(second).toEqual(first);
    expect(sim.stats.requestsByKind.account).toBe(1);

    clock.advanceSeconds(2);
    await succeeds(checkCredits(event));
    expect(sim.stats.requestsByKind.account).toBe(2);
  });

  it("with CREDIT_CACHE_SECONDS=0 every call asks the account", async () => {
    env.CREDIT_CACHE_SECONDS = "0";
    const sim = await start();
    const event = creditEvent({ model: "kling-v2-6", mode: "std", duration: "5" });
    await succeeds(checkCredits(event));
    await succeeds(checkCredits(event));
    expect(sim.stats.requestsByKind.account).toBe(2);
  });

  it("an event it cannot read is Kling.InvalidRequest", async () => {
    await start();
    const error = await failsWith(checkCredits({ request: { model: "kling-v2-6", mode: "ultra", duration: "5" } }), "Kling.InvalidRequest");
    expect(error.message).toMatch(/^CheckCredits received an event it cannot read: request\.mode: /);
  });

  it("reads the request with the request schema: an unknown model is refused by name before Kling is asked", async () => {
    const sim = await start();
    const error = await failsWith(checkCredits(creditEvent({ model: "kling-v9", mode: "std", duration: "5" })), "Kling.InvalidRequest");
    expect(error.message).toMatch(/request\.model: .*"kling-v2-6"/);
    expect(sim.stats.requests).toBe(0);
  });

  it("reads only what sets the price from the whole request it is given", async () => {
    await start();
    const check = await succeeds(checkCredits({ request: { ...REQUEST, model: "kling-v2-5-turbo", mode: "pro", duration: "10" } }));
    expect(check.priceUnits).toBe(5);
  });
});

describe("Submit", () => {
  it("creates one task with the external_task_id derived from the execution", async () => {
    const sim = await start();
    const task = await succeeds(submit(submitEvent()));
    const externalTaskId = externalTaskIdFor("job-0001", EXECUTION_ARN);
    expect(task).toEqual({
      taskId: expect.any(String),
      externalTaskId,
      kind: "text2video",
      status: "submitted",
      typicalSeconds: TYPICAL_SECONDS,
      submittedAt: clock.now(),
      polls: 0,
      nextWaitSeconds: FIRST_WAIT_SECONDS,
      video: null,
      unitsSpent: null,
    });
    const [created] = sim.tasks();
    expect(sim.tasks()).toHaveLength(1);
    expect(created?.taskId).toBe(task.taskId);
    expect(created?.request).toMatchObject({ model: "kling-v2-6", mode: "std", duration: "5", externalTaskId });
    expect(sim.stats.tasksCreatedByExternalId(externalTaskId)).toBe(1);
  });

  it("with callbacks on, gives Kling a callback URL whose token works until the poll deadline and a grace after it, no longer", async () => {
    const sim = await start();
    const key = "the-capability-key-of-the-submit-test-0123456789";
    env[CALLBACK_ENV.baseUrl] = "https://videos.example.com/v1";
    env[LOCAL_CALLBACK_SECRET_VARIABLES.capabilityKey] = key;
    const task = await succeeds(submit(submitEvent()));
    const url = new URL(sim.tasks()[0]?.request.callbackUrl ?? "");
    const [, , , externalTaskId, token] = url.pathname.split("/").filter(Boolean);
    expect(url.origin).toBe("https://videos.example.com");
    expect(externalTaskId).toBe(task.externalTaskId);
    const expiresAt = clock.now() + (SCHEDULE.deadlineSeconds + CALLBACK_TOKEN_GRACE_SECONDS) * 1000;
    expect(verifyCapabilityToken([key], task.externalTaskId, token ?? "", expiresAt)).toBe("valid");
    expect(verifyCapabilityToken([key], task.externalTaskId, token ?? "", expiresAt + 1000)).toBe("expired");
  });

  it("called twice for the same execution, it returns the same task and creates one", async () => {
    const sim = await start();
    const first = await succeeds(submit(submitEvent()));
    clock.advanceSeconds(4);
    const second = await succeeds(submit(submitEvent()));
    expect(second.taskId).toBe(first.taskId);
    expect(second.externalTaskId).toBe(first.externalTaskId);
    expect(sim.stats.tasksCreated).toBe(1);
    expect(sim.stats.tasksCreatedByExternalId(first.externalTaskId)).toBe(1);
    expect(sim.stats.createAttemptsByExternalId(first.externalTaskId)).toBe(1);
  });

  it("two executions create two tasks", async () => {
    const sim = await start();
    const first = await succeeds(submit(submitEvent("job-a", `${EXECUTION_ARN}-a`)));
    const second = await succeeds(submit(submitEvent("job-b", `${EXECUTION_ARN}-b`)));
    expect(second.taskId).not.toBe(first.taskId);
    expect(sim.stats.tasksCreated).toBe(2);
  });

  it("lost-create-response: the first call throws Kling.ServerError, the second returns the task that was created", async () => {
    const sim = await start("lost-create-response");
    const error = await failsWith(submit(submitEvent()), "Kling.ServerError");
    expect(error.httpStatus).toBe(504);
    expect(error.klingCode).toBe(5002);
    expect(sim.stats.tasksCreated).toBe(1);

    const task = await succeeds(submit(submitEvent()));
    expect(task.taskId).toBe(sim.tasks()[0]?.taskId);
    expect(sim.stats.tasksCreated).toBe(1);
    expect(sim.stats.tasksCreatedByExternalId(task.externalTaskId)).toBe(1);
  });

  it("resource-pack-exhausted: throws Kling.InsufficientCredits", async () => {
    const sim = await start("resource-pack-exhausted");
    const error = await failsWith(submit(submitEvent()), "Kling.InsufficientCredits");
    expect(error.klingCode).toBe(1102);
    expect(error.retriedByStateMachine).toBe(false);
    expect(sim.stats.tasksCreated).toBe(0);
  });

  it("content-policy: throws Kling.ContentPolicy", async () => {
    const sim = await start("content-policy");
    const error = await failsWith(submit(submitEvent()), "Kling.ContentPolicy");
    expect(error.klingCode).toBe(1301);
    expect(sim.stats.tasksCreated).toBe(0);
  });

  it("an API key the simulator refuses is Kling.AuthFailed, without the key in the error", async () => {
    await start("happy", { apiKey: "some-other-key" });
    const error = await failsWith(submit(submitEvent()), "Kling.AuthFailed");
    expect(error.httpStatus).toBe(401);
  });

  it("works with an AccessKey/SecretKey secret, and the SecretKey never leaves", async () => {
    secretsManager.reset();
    secretHolds({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    const sim = await start("happy", { accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    const task = await succeeds(submit(submitEvent()));
    expect(sim.stats.tasksCreatedByExternalId(task.externalTaskId)).toBe(1);
  });

  it("a SecretKey the simulator refuses is Kling.AuthFailed, without the key in the error", async () => {
    secretsManager.reset();
    secretHolds({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    await start("happy", { accessKey: ACCESS_KEY, secretKey: "the-right-secret-key" });
    await failsWith(submit(submitEvent()), "Kling.AuthFailed");
  });

  it("an unreadable secret is Kling.AuthFailed and nothing reaches Kling", async () => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: `apiKey=${API_KEY}` });
    const sim = await start();
    await failsWith(submit(submitEvent()), "Kling.AuthFailed");
    expect(sim.stats.requests).toBe(0);
  });
});

describe("externalTaskIdFor", () => {
  it("is stable for the same execution", () => {
    expect(externalTaskIdFor("job-1", EXECUTION_ARN)).toBe(externalTaskIdFor("job-1", EXECUTION_ARN));
  });

  it("differs for different execution ARNs, even with the same name", () => {
    const other = EXECUTION_ARN.replace("KlingGeneration", "KlingGenerationStaging");
    expect(externalTaskIdFor("job-1", EXECUTION_ARN)).not.toBe(externalTaskIdFor("job-1", other));
  });

  it.each(["job-1", "my job/ü:é #1", "a".repeat(200), "x.y.z", "idem-key_42"])("%j gives only [A-Za-z0-9_-]", (name) => {
    const id = externalTaskIdFor(name, `arn:aws:states:eu-west-1:1:execution:M:${name}`);
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(id.length).toBeLessThanOrEqual(64);
  });
});

describe("Poll", () => {
  async function submitted(scenario: ScenarioName = "happy"): Promise<{ sim: Simulator; task: TaskView }> {
    const sim = await start(scenario);
    const task = await succeeds(submit(submitEvent()));
    return { sim, task };
  }

  it("processing: returns the next wait from the schedule and one more poll", async () => {
    const { task } = await submitted();
    clock.advanceSeconds(task.nextWaitSeconds);
    const first = await succeeds(poll({ task }));
    // 0.2 of the typical time while under it: 15 s.
    expect(first).toEqual({ ...task, status: "processing", polls: 1, nextWaitSeconds: 15 });

    clock.advanceSeconds(first.nextWaitSeconds);
    const second = await succeeds(poll({ task: first }));
    expect(second).toMatchObject({ status: "processing", polls: 2, nextWaitSeconds: 15 });
  });

  it("past the typical time the waits grow with the time spent, up to maxSeconds", async () => {
    const { task } = await submitted("poll-timeout");
    clock.advanceSeconds(90);
    expect(await succeeds(poll({ task }))).toMatchObject({ status: "processing", nextWaitSeconds: 18 }); // 0.2 x 90
    clock.advanceSeconds(30);
    expect(await succeeds(poll({ task }))).toMatchObject({ status: "processing", nextWaitSeconds: SCHEDULE.maxSeconds }); // 0.2 x 120 = 24, capped
  });

  it("a task from an execution started before a deploy added typicalSeconds is polled by the time spent alone", async () => {
    const { task } = await submitted("poll-timeout");
    const { typicalSeconds: _absent, ...older } = task;
    clock.advanceSeconds(10);
    expect(await succeeds(poll({ task: older }))).toMatchObject({ status: "processing", nextWaitSeconds: SCHEDULE.minSeconds }); // 0.2 x 10, raised
    clock.advanceSeconds(40);
    expect(await succeeds(poll({ task: older }))).toMatchObject({ status: "processing", nextWaitSeconds: 10 }); // 0.2 x 50
  });

  it("succeed: the video URL and nextWaitSeconds 0", async () => {
    const { sim, task } = await submitted();
    clock.advanceSeconds(sim.generationSeconds + 1);
    const done = await succeeds(poll({ task: { ...task, polls: 3 } }));
    expect(done).toMatchObject({ taskId: task.taskId, status: "succeed", polls: 4, nextWaitSeconds: 0 });
    expect(done.video?.url).toMatch(new RegExp(`^${sim.baseUrl}/videos/.+\\.mp4$`));
    expect(done.video?.duration).toBe("5");
    expect(done.video?.id).not.toBe("");
  });

  it("generation-failed: Kling.GenerationFailed carrying Kling's message", async () => {
    const { sim, task } = await submitted("generation-failed");
    clock.advanceSeconds(sim.generationSeconds + 1);
    const error = await failsWith(poll({ task }), "Kling.GenerationFailed");
    expect(error.klingMessage).toContain(GENERATION_FAILED_MESSAGE);
    expect(error.message).toContain(task.taskId);
  });

  it("close to the deadline the wait is clamped to the seconds left", async () => {
    const { task } = await submitted("poll-timeout");
    clock.advanceSeconds(SCHEDULE.deadlineSeconds - 3);
    const late = await succeeds(poll({ task: { ...task, polls: 10 } }));
    expect(late.nextWaitSeconds).toBe(3);
  });

  it("past the deadline: Kling.PollTimeout", async () => {
    const { task } = await submitted("poll-timeout");
    clock.advanceSeconds(SCHEDULE.deadlineSeconds + 1);
    const error = await failsWith(poll({ task: { ...task, polls: 12 } }), "Kling.PollTimeout");
    expect(error.message).toMatch(new RegExp(`${SCHEDULE.deadlineSeconds} s deadline`));
    expect(error.retriedByStateMachine).toBe(false);
  });

  it("malformed-response: Kling.ServerError", async () => {
    await start("malformed-response");
    const task: TaskView = {
      taskId: "task-from-an-earlier-submit",
      externalTaskId: externalTaskIdFor("job-0001", EXECUTION_ARN),
      kind: "text2video",
      status: "submitted",
      typicalSeconds: TYPICAL_SECONDS,
      submittedAt: clock.now(),
      polls: 0,
      nextWaitSeconds: FIRST_WAIT_SECONDS,
      video: null,
      unitsSpent: null,
    };
    clock.advanceSeconds(FIRST_WAIT_SECONDS);
    const error = await failsWith(poll({ task }), "Kling.ServerError");
    expect(error.httpStatus).toBe(200);
    expect(error.retriedByStateMachine).toBe(true);
  });

  it("an event without a task is Kling.InvalidRequest", async () => {
    await start();
    await failsWith(poll({}), "Kling.InvalidRequest");
  });
});
