/**
 * The HTTP API Lambda, event in and response out, against a mocked Step Functions that keeps
 * its executions like the real one: a name is taken once, StartExecution with the same name and
 * input of a RUNNING execution succeeds again, anything else is ExecutionAlreadyExists.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  type ExecutionStatus,
} from "@aws-sdk/client-sfn";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { S3Client } from "@aws-sdk/client-s3";
import { PresignedVideoLinks } from "#lambdas/api/video-links";
import { MAX_REQUEST_BODY_BYTES, handleApiRequest } from "#lambdas/api/routes";
import { SfnGenerationExecutions } from "#lambdas/api/sfn-executions";
import { diagnose } from "#lambdas/diagnose/diagnosis";
import { REDACTED } from "#lambdas/common/redaction";
import { apiGatewayEvent } from "../support/api-gateway-event";

const STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:GenerationWorkflow";
const EXECUTION_ARN_PREFIX = "arn:aws:states:eu-west-1:123456789012:execution:GenerationWorkflow:";
/** A prompt no log line or error response may ever contain. */
const SECRET_PROMPT = "a confidential storyboard for project nightingale";

const sfn = mockClient(SFNClient);

interface StoredExecution {
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

/** The executions the mocked Step Functions holds, by name. */
let stored: Map<string, StoredExecution>;

function useFakeStepFunctions(): void {
  stored = new Map();
  sfn.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
    const existing = stored.get(input.name);
    if (existing && !(existing.status === "RUNNING" && existing.input === input.input)) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${EXECUTION_ARN_PREFIX}${input.name}'`, $metadata: {} });
    }
    stored.set(input.name, existing ?? { status: "RUNNING", input: input.input });
    return { executionArn: `${EXECUTION_ARN_PREFIX}${input.name}`, startDate: new Date() };
  });
  sfn.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
    const name = input.executionArn.startsWith(EXECUTION_ARN_PREFIX) ? input.executionArn.slice(EXECUTION_ARN_PREFIX.length) : "";
    const execution = stored.get(name);
    if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
    return { executionArn: input.executionArn, stateMachineArn: STATE_MACHINE_ARN, name, startDate: new Date(), ...execution };
  });
}

const event = apiGatewayEvent;

interface PostOptions {
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly base64?: boolean;
}

/** POST /generations with a body: an object is sent as JSON, a string as it is. */
function postEvent(body: unknown, options: PostOptions = {}): APIGatewayProxyEvent {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return event({
    httpMethod: "POST",
    body: options.base64 ? Buffer.from(text, "utf8").toString("base64") : text,
    isBase64Encoded: options.base64 ?? false,
    headers: options.headers ?? {},
    multiValueHeaders: options.multiValueHeaders ?? {},
  });
}

function getEvent(id: string): APIGatewayProxyEvent {
  return event({ httpMethod: "GET", resource: "/generations/{id}", path: `/generations/${id}`, pathParameters: { id } });
}

const executions = () => new SfnGenerationExecutions(STATE_MACHINE_ARN, new SFNClient({ region: "eu-west-1" }));

async function send(request: APIGatewayProxyEvent, env: Record<string, string> = {}): Promise<APIGatewayProxyResult> {
  return handleApiRequest(request, executions(), env);
}

function jsonOf(response: APIGatewayProxyResult): unknown {
  expect(response.headers?.["content-type"]).toBe("application/json");
  return JSON.parse(response.body);
}

function startCalls() {
  return sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
}

function sfnCallCount(): number {
  return sfn.calls().length;
}

/**
 * What the API's log lines print. Powertools runs in dev mode here (vitest.config.ts): each
 * record is one JSON line on console.log; nothing may go around it to console.error.
 */
function captureLogs() {
  const printed: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
  const bypassed = vi.spyOn(console, "error");
  return { printed, records: () => printed.map((line) => JSON.parse(line) as Record<string, unknown>), bypassed };
}

function sha256Name(key: string): string {
  return `api-${createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32)}`;
}

beforeEach(() => {
  sfn.reset();
  useFakeStepFunctions();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("POST /generations", () => {
  it("starts an execution with the normalized request and answers 202 with its id", async () => {
    const response = await send(postEvent({ prompt: "a cat on a skateboard", duration: 10 }));

    expect(response.statusCode).toBe(202);
    const body = jsonOf(response);
    expect(body).toEqual({
      id: expect.stringMatching(/^api-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      status: "RUNNING",
      links: { self: expect.stringMatching(/^\/generations\/api-/) },
    });
    const [start, ...more] = startCalls();
    expect(more).toEqual([]);
    expect(start?.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(body).toMatchObject({ id: start?.name, links: { self: `/generations/${start?.name}` } });
    expect(JSON.parse(start?.input ?? "")).toEqual({
      prompt: "a cat on a skateboard",
      model: "kling-v2-6",
      mode: "std",
      duration: "10",
      aspectRatio: "16:9",
    });
  });

  it("gives the same request, whatever its key order or spacing, the same execution input text", async () => {
    await send(postEvent({ prompt: "a cat", duration: "5", mode: "std" }));
    await send(postEvent('{ "mode": "std",\n  "duration": 5, "prompt": "a cat" }'));

    const [first, second] = startCalls();
    expect(first?.input).toBeDefined();
    expect(second?.input).toBe(first?.input);
  });

  it("validates with the Validate state's configuration: DEFAULT_MODEL and BLOCKED_TERMS", async () => {
    const env = { DEFAULT_MODEL: "kling-v1-6", BLOCKED_TERMS: JSON.stringify(["forbidden word"]) };
    const accepted = await send(postEvent({ prompt: "a cat" }), env);
    expect(accepted.statusCode).toBe(202);
    expect(JSON.parse(startCalls()[0]?.input ?? "")).toMatchObject({ model: "kling-v1-6" });

    const refused = await send(postEvent({ prompt: "a FORBIDDEN  word here" }), env);
    expect(refused.statusCode).toBe(400);
    expect(jsonOf(refused)).toEqual({ errors: [expect.stringContaining("forbidden word")] });
    expect(startCalls()).toHaveLength(1);
  });

  describe("refuses a request that is not valid with 400, listing every problem, and starts nothing", () => {
    it.each([
      ["a missing prompt", { duration: "5" }, ["prompt is required"]],
      ["a duration the model does not offer", { prompt: "a cat", duration: 7 }, ['duration must be one of "5", "10" for kling-v2-6']],
      [
        "fields of the wrong type",
        { prompt: 5, cfgScale: "high" },
        ["prompt must be a string, got 5", 'cfgScale must be a number, got "high"', "cfgScale is not accepted by kling-v2-6"],
      ],
      [
        "many problems at once",
        { duration: "7", mode: "turbo", colour: "red", negative_prompt: "dogs" },
        [
          "colour is not a known field",
          "negative_prompt is not a known field (did you mean negativePrompt?)",
          'mode must be one of "std", "pro" for kling-v2-6',
          "prompt is required",
          'duration must be one of "5", "10" for kling-v2-6',
        ],
      ],
      ["a body that is not an object", ["a cat"], ["the request must be a JSON object"]],
    ])("%s", async (_scenario, body, errors) => {
      const response = await send(postEvent(body));

      expect(response.statusCode).toBe(400);
      expect(jsonOf(response)).toEqual({ errors });
      expect(sfnCallCount()).toBe(0);
    });

    it.each([
      ["malformed JSON", '{"prompt": "a cat",', "the body is not valid JSON"],
      ["an empty body", "", "the body is empty; send the request as a JSON object"],
    ])("%s", async (_scenario, body, problem) => {
      const response = await send(postEvent(body));

      expect(response.statusCode).toBe(400);
      expect(jsonOf(response)).toEqual({ errors: [problem] });
      expect(sfnCallCount()).toBe(0);
    });

    it("a missing body (null)", async () => {
      const response = await send(event({ httpMethod: "POST", body: null }));
      expect(response.statusCode).toBe(400);
      expect(jsonOf(response)).toEqual({ errors: ["the body is empty; send the request as a JSON object"] });
    });

    it("bytes that are not UTF-8", async () => {
      const response = await send(event({ httpMethod: "POST", isBase64Encoded: true, body: Buffer.from([0x7b, 0xff, 0x7d]).toString("base64") }));
      expect(response.statusCode).toBe(400);
      expect(jsonOf(response)).toEqual({ errors: ["the body is not valid UTF-8"] });
    });
  });

  describe("the body size limit (a Step Functions execution input is at most 256 KiB)", () => {
    it("refuses a body one byte over 256 KiB with 413, starting nothing", async () => {
      const body = `{"prompt": "a cat"}${" ".repeat(MAX_REQUEST_BODY_BYTES - 19 + 1)}`;
      expect(Buffer.byteLength(body)).toBe(256 * 1024 + 1);

      const response = await send(postEvent(body));

      expect(response.statusCode).toBe(413);
      expect(jsonOf(response)).toEqual({ errors: ["the body is 262145 bytes; at most 262144 are accepted"] });
      expect(sfnCallCount()).toBe(0);
    });

    it("accepts a body of exactly 256 KiB", async () => {
      const body = `{"prompt": "a cat"}${" ".repeat(MAX_REQUEST_BODY_BYTES - 19)}`;
      const response = await send(postEvent(body));
      expect(response.statusCode).toBe(202);
    });

    it("counts a base64-encoded body's decoded bytes, not its base64 text", async () => {
      const fits = `{"prompt": "a cat"}${" ".repeat(MAX_REQUEST_BODY_BYTES - 19)}`;
      expect((await send(postEvent(fits, { base64: true }))).statusCode).toBe(202);
      expect((await send(postEvent(`${fits} `, { base64: true }))).statusCode).toBe(413);
    });
  });

  it("reads a base64-encoded body (isBase64Encoded) like a plain one", async () => {
    const request = { prompt: "un chat sur un skate 🛹", duration: "5" };
    const plain = await send(postEvent(request));
    const encoded = await send(postEvent(request, { base64: true }));

    expect(plain.statusCode).toBe(202);
    expect(encoded.statusCode).toBe(202);
    const [first, second] = startCalls();
    expect(second?.input).toBe(first?.input);
    expect(JSON.parse(second?.input ?? "")).toMatchObject({ prompt: "un chat sur un skate 🛹" });
  });

  it("answers a path API Gateway matched through {proxy+} the same way", async () => {
    const response = await send({ ...postEvent({ prompt: "a cat" }), resource: "/{proxy+}", path: "/generations/" });
    expect(response.statusCode).toBe(202);
  });
});

describe("the Idempotency-Key header", () => {
  const request = { prompt: "a cat", duration: "5" };

  it("names the execution api-<key>, so a retried POST gets the same id and starts nothing new", async () => {
    const first = await send(postEvent(request, { headers: { "Idempotency-Key": "order-42_retry" } }));
    const retry = await send(postEvent(request, { headers: { "Idempotency-Key": "order-42_retry" } }));

    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(jsonOf(first)).toEqual({ id: "api-order-42_retry", status: "RUNNING", links: { self: "/generations/api-order-42_retry" } });
    expect(jsonOf(retry)).toEqual(jsonOf(first));
    expect(startCalls().map((call) => call.name)).toEqual(["api-order-42_retry", "api-order-42_retry"]);
    expect(stored.size).toBe(1);
  });

  it("answers a retry after the execution finished with 202, the same id and its current status", async () => {
    await send(postEvent(request, { headers: { "Idempotency-Key": "order-43" } }));
    const execution = stored.get("api-order-43");
    if (!execution) throw new Error("the first POST started nothing");
    execution.status = "SUCCEEDED";

    const retry = await send(postEvent({ duration: 5, prompt: "a cat" }, { headers: { "Idempotency-Key": "order-43" } }));

    expect(retry.statusCode).toBe(202);
    expect(jsonOf(retry)).toEqual({ id: "api-order-43", status: "SUCCEEDED", links: { self: "/generations/api-order-43" } });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn)).toEqual([
      `${EXECUTION_ARN_PREFIX}api-order-43`,
    ]);
  });

  it("compares requests as values: an execution whose input has its keys in another order holds the same request", async () => {
    const reordered = '{"prompt":"a cat","model":"kling-v2-6","mode":"std","duration":"5","aspectRatio":"16:9"}';
    stored.set("api-order-48", { status: "SUCCEEDED", input: reordered });

    const retry = await send(postEvent(request, { headers: { "Idempotency-Key": "order-48" } }));

    expect(retry.statusCode).toBe(202);
    expect(jsonOf(retry)).toMatchObject({ id: "api-order-48", status: "SUCCEEDED" });
    expect(startCalls()[0]?.input).not.toBe(reordered);
  });

  it("refuses the same key with a different request with 409, leaving the first execution alone", async () => {
    await send(postEvent(request, { headers: { "Idempotency-Key": "order-44" } }));
    const reused = await send(postEvent({ prompt: "a dog", duration: "5" }, { headers: { "Idempotency-Key": "order-44" } }));

    expect(reused.statusCode).toBe(409);
    expect(jsonOf(reused)).toEqual({
      errors: ['Idempotency-Key "order-44" was already used with a different request; send a new key for a new request'],
    });
    expect(stored.size).toBe(1);
    expect(JSON.parse(stored.get("api-order-44")?.input ?? "")).toMatchObject({ prompt: "a cat" });
  });

  it.each([
    ["lower case", { "idempotency-key": "case-1" }, {}],
    ["upper case", { "IDEMPOTENCY-KEY": "case-1" }, {}],
    ["only in multiValueHeaders", {}, { "idempotency-Key": ["case-1"] }],
  ])("is found whatever the case of its name: %s", async (_scenario, headers, multiValueHeaders) => {
    const response = await send(postEvent(request, { headers, multiValueHeaders }));
    expect(jsonOf(response)).toMatchObject({ id: "api-case-1" });
  });

  it("hashes a key with characters an execution name cannot hold, the same key always to the same name", async () => {
    const key = "order 45/äöü:retry";
    const first = await send(postEvent(request, { headers: { "Idempotency-Key": key } }));
    const retry = await send(postEvent(request, { headers: { "idempotency-key": key } }));

    expect(jsonOf(first)).toMatchObject({ id: sha256Name(key) });
    expect(jsonOf(retry)).toMatchObject({ id: sha256Name(key) });
    expect(sha256Name(key)).toMatch(/^api-[0-9a-f]{32}$/);
  });

  it("uses a safe key of up to 64 characters as it is and hashes a longer one (names are at most 80)", async () => {
    const longest = "k".repeat(64);
    const tooLong = "k".repeat(65);
    expect(jsonOf(await send(postEvent(request, { headers: { "Idempotency-Key": longest } })))).toMatchObject({ id: `api-${longest}` });
    expect(jsonOf(await send(postEvent(request, { headers: { "Idempotency-Key": tooLong } })))).toMatchObject({ id: sha256Name(tooLong) });
  });

  it.each([
    ["empty", "", "Idempotency-Key must not be empty"],
    ["blank", "   ", "Idempotency-Key must not be empty"],
    ["over 256 characters", "k".repeat(257), "Idempotency-Key must be at most 256 characters (got 257)"],
  ])("refuses a key that is %s with 400", async (_scenario, key, problem) => {
    const response = await send(postEvent(request, { headers: { "Idempotency-Key": key } }));
    expect(response.statusCode).toBe(400);
    expect(jsonOf(response)).toEqual({ errors: [problem] });
    expect(sfnCallCount()).toBe(0);
  });

  it("lists a bad key together with the body's problems", async () => {
    const response = await send(postEvent({ duration: "5" }, { headers: { "Idempotency-Key": "" } }));
    expect(jsonOf(response)).toEqual({ errors: ["Idempotency-Key must not be empty", "prompt is required"] });
  });

  it("refuses two different keys in one request", async () => {
    const response = await send(postEvent(request, { multiValueHeaders: { "Idempotency-Key": ["a", "b"] } }));
    expect(response.statusCode).toBe(400);
    expect(jsonOf(response)).toEqual({ errors: ["Idempotency-Key was sent 2 times with different values; send it once"] });
  });
});

describe("GET /generations/{id}", () => {
  function store(name: string, execution: StoredExecution): void {
    stored.set(name, execution);
  }
  const input = JSON.stringify({ prompt: "a cat" });
  const diagnosis = diagnose("api-failed", "Poll", { Error: "Kling.PollTimeout", Cause: "no video after 600 s" });

  it.each([
    ["RUNNING", { status: "RUNNING", input }, { status: "RUNNING", video: null, diagnosis: null }],
    [
      "SUCCEEDED, with the video from the output's task.video",
      {
        status: "SUCCEEDED",
        input,
        output: JSON.stringify({
          request: { prompt: "a cat" },
          task: { taskId: "t-1", status: "succeed", video: { id: "v-1", url: "https://cdn.example.com/v-1.mp4", duration: "5.1" } },
        }),
      },
      { status: "SUCCEEDED", video: { url: "https://cdn.example.com/v-1.mp4", duration: "5.1" }, diagnosis: null },
    ],
    [
      "FAILED, with the diagnosis from the cause",
      { status: "FAILED", input, error: "Kling.PollTimeout", cause: JSON.stringify(diagnosis) },
      { status: "FAILED", video: null, diagnosis },
    ],
    [
      "PENDING_REDRIVE, which is FAILED to the caller",
      { status: "PENDING_REDRIVE", input, error: "Kling.PollTimeout", cause: JSON.stringify(diagnosis) },
      { status: "FAILED", video: null, diagnosis },
    ],
    [
      "TIMED_OUT, diagnosed as the recoverable States.Timeout AWS reports",
      { status: "TIMED_OUT", input, error: "States.Timeout" },
      { status: "TIMED_OUT", video: null, diagnosis: expect.objectContaining({ errorCode: "States.Timeout", recoverable: true }) },
    ],
    [
      "ABORTED, diagnosed as stopped with StopExecution's words",
      { status: "ABORTED", input, error: "Operator", cause: "stopped by hand" },
      { status: "ABORTED", video: null, diagnosis: expect.objectContaining({ errorCode: "Execution.Stopped", errorMessage: expect.stringContaining("stopped by hand") }) },
    ],
  ] satisfies [string, StoredExecution, object][])("reports an execution that is %s", async (_scenario, execution, expected) => {
    store("api-gen-1", execution);

    const response = await send(getEvent("api-gen-1"));

    expect(response.statusCode).toBe(200);
    expect(jsonOf(response)).toEqual({ id: "api-gen-1", ...expected });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: `${EXECUTION_ARN_PREFIX}api-gen-1` });
  });

  it("diagnoses a failure whose cause is not a diagnosis: errorCode is the error, errorMessage the cause", async () => {
    store("api-gen-2", { status: "FAILED", input, error: "States.Runtime", cause: "The JSONPath '$.task' could not be found" });

    const response = await send(getEvent("api-gen-2"));

    expect(jsonOf(response)).toMatchObject({
      id: "api-gen-2",
      status: "FAILED",
      video: null,
      diagnosis: { errorCode: "States.Runtime", errorMessage: "The JSONPath '$.task' could not be found", recoverable: false },
    });
  });

  it("answers an archived video with a presigned S3 GET link of the configured lifetime, and where the video is kept", async () => {
    const archive = { bucket: "my-videos", video: { key: "videos/api-gen-4/v-4.mp4", sha256: "ab".repeat(32), bytes: 262_282, kept: false }, watermarked: null };
    const output = { task: { taskId: "t-4", status: "succeed", video: { id: "v-4", url: "https://cdn.example.com/v-4.mp4", duration: "5" } }, archive };
    store("api-gen-4", { status: "SUCCEEDED", input, output: JSON.stringify(output) });
    const signer = new S3Client({ region: "eu-west-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-secret" } });
    const links = new PresignedVideoLinks(async () => ({ client: signer, name: "my-videos" }), 900);

    const response = await handleApiRequest(getEvent("api-gen-4"), executions(), {}, { links });

    const { video } = jsonOf(response) as { video: { url: string; duration: string; archive: Record<string, unknown> } };
    const link = new URL(video.url);
    expect(`${link.origin}${link.pathname}`).toBe("https://my-videos.s3.eu-west-1.amazonaws.com/videos/api-gen-4/v-4.mp4");
    expect(link.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(link.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(video.url).not.toContain("cdn.example.com");
    expect(video.archive).toEqual({
      bucket: "my-videos",
      key: "videos/api-gen-4/v-4.mp4",
      sha256: "ab".repeat(32),
      bytes: 262_282,
      linkExpiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it("reports no video, and logs the fault, when a succeeded execution's output holds none", async () => {
    store("api-gen-3", { status: "SUCCEEDED", input, output: JSON.stringify({ task: { video: null } }) });
    const logs = captureLogs();

    const response = await send(getEvent("api-gen-3"));

    expect(jsonOf(response)).toEqual({ id: "api-gen-3", status: "SUCCEEDED", video: null, diagnosis: null });
    expect(logs.records()).toEqual([
      expect.objectContaining({ level: "ERROR", message: "a succeeded execution has no video in its output", id: "api-gen-3" }),
    ]);
    expect(logs.bypassed).not.toHaveBeenCalled();
  });

  it("answers 404 for an id no execution has", async () => {
    const response = await send(getEvent("api-nobody"));

    expect(response.statusCode).toBe(404);
    expect(jsonOf(response)).toEqual({ errors: ["no generation api-nobody"] });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });

  it("finds executions the batch workflow and the local runner started", async () => {
    store("batch-b1-item-3", { status: "RUNNING", input });
    store("local-7", { status: "RUNNING", input });
    expect((await send(getEvent("batch-b1-item-3"))).statusCode).toBe(200);
    expect((await send(getEvent("local-7"))).statusCode).toBe(200);
  });

  it.each([
    "other-prefix",
    "api-",
    "api-../../stateMachine:Other",
    "api-a:b",
    "api-%2Fx",
    `${EXECUTION_ARN_PREFIX}api-gen-1`,
    `api-${"x".repeat(77)}`,
    `batch-${"x".repeat(75)}`,
  ])("answers 404 for the malformed id %s without asking Step Functions", async (id) => {
    const response = await send(getEvent(id));

    expect(response.statusCode).toBe(404);
    expect(jsonOf(response)).toEqual({ errors: [expect.stringMatching(/^no generation /)] });
    expect(sfnCallCount()).toBe(0);
  });
});

describe("other methods and paths", () => {
  it.each([
    ["DELETE /generations", event({ httpMethod: "DELETE" }), 405, "POST"],
    ["GET /generations", event({ httpMethod: "GET" }), 405, "POST"],
    ["POST /generations/{id}", { ...getEvent("api-gen-1"), httpMethod: "POST" }, 405, "GET"],
    ["GET /other", event({ httpMethod: "GET", resource: "/{proxy+}", path: "/other" }), 404, undefined],
    ["GET /generations/a/b", event({ httpMethod: "GET", resource: "/{proxy+}", path: "/generations/a/b" }), 404, undefined],
  ] satisfies [string, APIGatewayProxyEvent, number, string | undefined][])("%s is refused", async (_scenario, request, status, allow) => {
    const response = await send(request);

    expect(response.statusCode).toBe(status);
    expect(jsonOf(response)).toEqual({ errors: [expect.any(String)] });
    expect(response.headers?.allow).toBe(allow);
    expect(sfnCallCount()).toBe(0);
  });
});

describe("a failure of Step Functions", () => {
  function failingSfn(): void {
    const failure = Object.assign(new Error("User is not authorized to perform: states:StartExecution"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400, requestId: "aws-req-9" },
    });
    sfn.on(StartExecutionCommand).rejects(failure);
    sfn.on(DescribeExecutionCommand).rejects(failure);
  }

  it("is a 500 saying only 'internal error', logged as one structured line without the body", async () => {
    failingSfn();
    const logs = captureLogs();

    const response = await send(postEvent({ prompt: SECRET_PROMPT }, { headers: { "Idempotency-Key": "order-46" } }));

    expect(response.statusCode).toBe(500);
    expect(jsonOf(response)).toEqual({ errors: ["internal error"] });
    expect(logs.bypassed).not.toHaveBeenCalled();
    expect(logs.printed).toHaveLength(1);
    const [line] = logs.printed;
    expect(JSON.parse(line ?? "")).toMatchObject({
      level: "ERROR",
      message: "the API request failed unexpectedly",
      method: "POST",
      errorName: "AccessDeniedException",
      httpStatusCode: 400,
      awsRequestId: "aws-req-9",
    });
    expect(line).not.toContain("nightingale");
    expect(response.body).not.toContain("nightingale");
    expect(response.body).not.toMatch(/stack|at |AccessDenied/);
  });

  it("is a 500 on GET as well", async () => {
    failingSfn();
    captureLogs();

    const response = await send(getEvent("api-gen-1"));

    expect(response.statusCode).toBe(500);
    expect(jsonOf(response)).toEqual({ errors: ["internal error"] });
  });

  it("is logged with the same redaction as every Lambda's lines: no token an AWS error quotes", async () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhayJ9.c2lnbmF0dXJl";
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error(`the request signed with Bearer ${jwt} was refused`), { name: "UnrecognizedClientException", $metadata: {} }));
    const logs = captureLogs();

    const response = await send(postEvent({ prompt: "a cat" }));

    expect(response.statusCode).toBe(500);
    expect(logs.printed.join("\n")).not.toContain(jwt);
    expect(logs.records()).toEqual([expect.objectContaining({ errorMessage: `the request signed with Bearer ${REDACTED} was refused` })]);
  });

  it("is a 500 when the name is taken but the execution cannot be described", async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "exists", $metadata: {} }));
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: "gone", $metadata: {} }));
    captureLogs();

    const response = await send(postEvent({ prompt: "a cat" }, { headers: { "Idempotency-Key": "order-47" } }));

    expect(response.statusCode).toBe(500);
  });
});

describe("the Lambda handler", () => {
  /** The invocation's context as Lambda passes it. */
  const lambdaContext = (awsRequestId: string): Context => ({
    awsRequestId,
    functionName: "api",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:api",
    memoryLimitInMB: "256",
    logGroupName: "/aws/lambda/api",
    logStreamName: "2026/11/25/[$LATEST]0",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  });

  const ledgerTable = mockClient(DynamoDBDocumentClient);
  afterAll(() => ledgerTable.restore());

  /** The handler as a cold start makes it, with a ledger whose queue holds these executions, oldest first. */
  async function coldStart(queued: readonly string[] = []) {
    ledgerTable.reset();
    const items = queued.map((name, index) => ({
      pk: "slot-queue",
      sk: `${index}`,
      executionArn: `${STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:${name}`,
      redriveCount: 0,
      taskToken: `token-${index}`,
      enqueuedAt: index,
    }));
    ledgerTable.on(QueryCommand).resolves({ Items: items });
    vi.resetModules();
    vi.stubEnv("GENERATION_STATE_MACHINE_ARN", STATE_MACHINE_ARN);
    vi.stubEnv("LEDGER_TABLE_NAME", "ledger");
    vi.stubEnv("AWS_REGION", "eu-west-1");
    return (await import("#lambdas/api/handler")).handler;
  }

  it("serves requests through Step Functions, with the state machine from GENERATION_STATE_MACHINE_ARN", async () => {
    const handler = await coldStart();

    const started = await handler(postEvent({ prompt: "a cat" }, { headers: { "Idempotency-Key": "lambda-1" } }));
    const described = await handler(getEvent("api-lambda-1"));

    expect(started.statusCode).toBe(202);
    expect(startCalls()[0]).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: "api-lambda-1" });
    expect(jsonOf(described)).toEqual({ id: "api-lambda-1", status: "RUNNING", video: null, diagnosis: null });
  });

  it("reports a running generation that waits for a Kling slot as QUEUED, with its place in the ledger's queue", async () => {
    const handler = await coldStart(["api-other", "api-lambda-1"]);
    await handler(postEvent({ prompt: "a cat" }, { headers: { "Idempotency-Key": "lambda-1" } }));

    expect(jsonOf(await handler(getEvent("api-lambda-1")))).toEqual({ id: "api-lambda-1", status: "QUEUED", video: null, diagnosis: null, queuePosition: 2 });
    expect(ledgerTable.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ TableName: "ledger" });
  });

  it("is wrapped like every pipeline Lambda: its log lines carry the invocation's request id", async () => {
    const handler = await coldStart();
    stored.set("api-lambda-2", { status: "SUCCEEDED", input: "{}", output: "{}" });
    const logs = captureLogs();

    await handler(getEvent("api-lambda-2"), lambdaContext("lambda-invocation-7"));

    expect(logs.records()).toEqual([
      expect.objectContaining({ level: "ERROR", id: "api-lambda-2", function_request_id: "lambda-invocation-7", function_name: "api" }),
    ]);
  });

  it("fails its cold start when GENERATION_STATE_MACHINE_ARN is not set", async () => {
    vi.resetModules();
    vi.stubEnv("GENERATION_STATE_MACHINE_ARN", "");
    await expect(import("#lambdas/api/handler")).rejects.toThrow("environment variable GENERATION_STATE_MACHINE_ARN is not set");
  });
});
