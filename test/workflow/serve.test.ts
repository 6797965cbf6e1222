/**
 * `npm start -- serve`: the API handler behind a real HTTP server on 127.0.0.1, its
 * executions run by the local engine against the embedded simulator, called with fetch as a
 * client would call API Gateway.
 */
import { createHash, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BATCH_EVENTS } from "#lambdas/batch/batch";
import type { BusEvent } from "#local/runner/event-bus";
import type { GenerationExecutions } from "#lambdas/api/executions";
import { PresignedVideoLinks } from "#lambdas/api/video-links";
import { DEV_API_KEY, startSimulator, type Simulator } from "#local/simulator/index";
import { startLocalApiServer, type LocalApiServer } from "#local/serve/api-server";
import { toProxyEvent, type RawApiRequest } from "#local/serve/proxy-event";
import { WorkflowHarness } from "./harness";

const POLL_INTERVAL_MS = 20;
const POLL_TIMEOUT_MS = 8_000;

let harness: WorkflowHarness;
let simulator: Simulator;
let server: LocalApiServer;
const logLines: string[] = [];
/** Every generation the tests started, waited for before the simulator closes. */
const started = new Set<string>();

beforeAll(async () => {
  harness = new WorkflowHarness(0.002);
  simulator = await startSimulator({ clock: harness.clock, credentials: { apiKey: DEV_API_KEY } });
  harness.pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
  server = await startLocalApiServer({
    executions: harness.pipeline.executions,
    environment: harness.pipeline.functionEnvironment,
    links: new PresignedVideoLinks(() => harness.pipeline.videoBucketPort(), harness.pipeline.videoLinkSeconds),
    events: (entry) => harness.pipeline.putEvent(entry),
    callbacks: (event) => harness.pipeline.handleKlingCallback(event),
    port: 0,
    onRequest: (line) => logLines.push(line),
  });
  // As serve does: Kling calls back at the API's own route.
  harness.pipeline.receiveCallbacksAt(server.url);
});

afterAll(async () => {
  await Promise.allSettled([...started].map((id) => harness.pipeline.executions.finished(id)));
  await harness?.pipeline.statusChangesDelivered();
  await server?.close();
  await simulator?.close();
  await harness?.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as Record<string, unknown> };
}

function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call("/generations", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POST that must be accepted: its id, remembered for afterAll. */
async function start(body: unknown, headers: Record<string, string> = {}): Promise<{ id: string; self: string }> {
  const answer = await post(body, headers);
  expect(answer.status).toBe(202);
  const { id, links } = answer.json as { id: string; links: { self: string } };
  started.add(id);
  return { id, self: links.self };
}

/** GET the generation until it is no longer RUNNING. */
async function settled(self: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const answer = await call(self);
    expect(answer.status).toBe(200);
    if (answer.json.status !== "RUNNING") return answer.json;
    if (Date.now() > deadline) throw new Error(`${self} was still RUNNING after ${POLL_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

describe("the local API over HTTP", () => {
  it("accepts a generation with 202 and reports it SUCCEEDED with the video", async () => {
    const answer = await post({ prompt: "a corgi surfing a wave" });

    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({ id: expect.stringMatching(/^api-/), status: "RUNNING", links: { self: `/generations/${answer.json.id}` } });
    expect(answer.headers.get("location")).toBe(`/generations/${answer.json.id}`);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    const id = answer.json.id as string;
    started.add(id);

    const view = await settled((answer.json.links as { self: string }).self);
    expect(view).toMatchObject({ id, status: "SUCCEEDED", diagnosis: null });
    // The link is the archived copy, presigned for an hour, and downloads the very bytes the simulator served.
    const video = view.video as { url: string; archive: { bucket: string; key: string; sha256: string; bytes: number } };
    const link = new URL(video.url);
    expect(link.pathname).toBe(`/${video.archive.bucket}/${video.archive.key}`);
    expect(link.searchParams.get("X-Amz-Expires")).toBe("3600");
    expect(video.archive.key).toMatch(new RegExp(`^videos/${id}/[^/]+\\.mp4$`));
    const downloaded = Buffer.from(await (await fetch(video.url)).arrayBuffer());
    const videoId = (video.archive.key.split("/").at(-1) ?? "").replace(/\.mp4$/, "");
    expect(downloaded.equals(simulator.videoBytes(videoId) ?? Buffer.alloc(1))).toBe(true);
    expect(createHash("sha256").update(downloaded).digest("hex")).toBe(video.archive.sha256);

    // One log line per request: method, path, status, milliseconds.
    expect(logLines).toContainEqual(expect.stringMatching(/^POST \/generations 202 \d+ms$/));
    expect(logLines).toContainEqual(expect.stringMatching(new RegExp(`^GET /generations/${id} 200 \\d+ms$`)));
  });

  it("receives Kling's callbacks on its own route, with the callback function: the generation ends by one; a forged one is 401", async () => {
    const { id, self } = await start({ prompt: "a corgi surfing a wave, called back" });
    expect(await settled(self)).toMatchObject({ id, status: "SUCCEEDED" });
    await simulator.settleCallbacks();
    const report = await harness.pipeline.executions.finished(id);
    expect(report.events.some((event) => event.type === "StateEntered" && event.stateName === "Poll")).toBe(false);
    expect(logLines).toContainEqual(expect.stringMatching(/^POST \/kling\/callbacks\/[^/]+\/[^/]+ 200 \d+ms$/));

    const forged = await call("/kling/callbacks/some-task/not-its-token", { method: "POST", body: JSON.stringify({ task_id: "t", task_status: "succeed" }) });
    expect(forged).toMatchObject({ status: 401, json: { errors: ["the callback URL's capability token is not this task's"] } });
  });

  it("reports a prompt the simulator refuses as FAILED with its diagnosis", async () => {
    const { self } = await start({ prompt: "[scenario:content-policy] a corgi surfing a wave" });

    const view = await settled(self);
    expect(view).toMatchObject({ status: "FAILED", video: null, diagnosis: { errorCode: "Kling.ContentPolicy", action: "change-prompt" } });
  });

  it("answers a retry with the same Idempotency-Key and body with the same id, and another body with 409", async () => {
    const key = `serve-${randomUUID()}`;
    const first = await start({ prompt: "a corgi surfing a wave" }, { "Idempotency-Key": key });
    const again = await start({ prompt: "a corgi surfing a wave" }, { "idempotency-key": key });
    expect(again.id).toBe(first.id);

    const other = await post({ prompt: "a cat on a skateboard" }, { "Idempotency-Key": key });
    expect(other.status).toBe(409);
    expect(other.json).toEqual({ errors: [expect.stringContaining("was already used with a different request")] });
  });

  it("refuses a request that is not valid with 400, listing every problem", async () => {
    const answer = await post({ duration: "7", mode: "turbo", colour: "red" }, { "Idempotency-Key": "" });

    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      errors: [
        "Idempotency-Key must not be empty",
        "colour is not a known field",
        'mode must be one of "std", "pro" for kling-v2-6',
        "prompt is required",
        'duration must be one of "5", "10" for kling-v2-6',
      ],
    });
  });

  it("refuses malformed JSON and bytes that are not UTF-8 with 400", async () => {
    expect(await post('{"prompt": "a cat",')).toEqual(expect.objectContaining({ status: 400, json: { errors: ["the body is not valid JSON"] } }));
    const bytes = await call("/generations", { method: "POST", body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(bytes).toEqual(expect.objectContaining({ status: 400, json: { errors: ["the body is not valid UTF-8"] } }));
  });

  it("answers 404 for an unknown id or path and 405 for another method", async () => {
    expect(await call("/generations/api-nobody")).toEqual(expect.objectContaining({ status: 404, json: { errors: ["no generation api-nobody"] } }));
    expect((await call("/nowhere")).status).toBe(404);
    const wrongMethod = await call("/generations", { method: "GET" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
  });

  it("refuses a body over API Gateway's 10 MB with 413 before the handler, and the handler's own limit past 256 KiB", async () => {
    const huge = await call("/generations", { method: "POST", body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20) });
    expect(huge).toEqual(expect.objectContaining({ status: 413, json: { errors: [expect.stringContaining("10485760 bytes")] } }));
    const large = await post(" ".repeat(256 * 1024 + 1));
    expect(large).toEqual(expect.objectContaining({ status: 413, json: { errors: ["the body is 262145 bytes; at most 262144 are accepted"] } }));
  });

  it("refuses requests from web pages: another Origin, or a Host that is not this machine", async () => {
    const fromPage = await post({ prompt: "a corgi" }, { origin: "https://example.com" });
    expect(fromPage.status).toBe(403);
    expect(fromPage.json).toEqual({ errors: ["the local API does not answer requests from web pages"] });

    // fetch cannot set Host; a DNS-rebound page's request carries its own name there.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      const request = httpRequest(`${server.url}/generations/api-nobody`, { headers: { host: "attacker.example:3000" } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.once("error", reject);
      request.end();
    });
    expect(rebound).toBe(403);
  });
});

describe("a failure behind the handler", () => {
  it("is a 500 saying only 'internal error'", async () => {
    const failing: GenerationExecutions = {
      start: () => Promise.reject(new Error("boom at /secret/path.ts:12")),
      describe: () => Promise.reject(new Error("boom")),
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = await startLocalApiServer({ executions: failing, environment: {}, links: new PresignedVideoLinks(() => harness.pipeline.videoBucketPort(), 60), port: 0 });
    try {
      const response = await fetch(`${broken.url}/generations`, { method: "POST", body: JSON.stringify({ prompt: "a corgi" }) });
      expect(response.status).toBe(500);
      expect(await response.text()).toBe('{"errors":["internal error"]}');
    } finally {
      await broken.close();
      errors.mockRestore();
    }
  });
});

describe("the event API Gateway would deliver", () => {
  const request = (overrides: Partial<RawApiRequest>): RawApiRequest => ({
    method: "GET",
    target: "/generations",
    rawHeaders: ["Host", "127.0.0.1:3000"],
    body: Buffer.alloc(0),
    sourceIp: "127.0.0.1",
    localPort: 3000,
    requestId: "request-1",
    receivedAt: new Date(Date.UTC(2026, 3, 9, 12, 34, 56)),
    ...overrides,
  });

  it("matches /generations/{id}, with the id decoded, the path as sent and the v1 stage", () => {
    const event = toProxyEvent(request({ target: "/generations/api-a%2Db?x=1&x=2&y=%20z" }));
    expect(event).toMatchObject({
      resource: "/generations/{id}",
      path: "/generations/api-a%2Db",
      httpMethod: "GET",
      pathParameters: { id: "api-a-b" },
      queryStringParameters: { x: "2", y: " z" },
      multiValueQueryStringParameters: { x: ["1", "2"], y: [" z"] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        stage: "v1",
        path: "/v1/generations/api-a%2Db",
        resourcePath: "/generations/{id}",
        requestId: "request-1",
        requestTime: "09/Apr/2026:12:34:56 +0000",
        identity: { sourceIp: "127.0.0.1" },
      },
    });
  });

  it("keeps header names as sent, the last value in headers and all in multiValueHeaders; a non-UTF-8 body is base64", () => {
    const event = toProxyEvent(
      request({
        method: "POST",
        rawHeaders: ["Host", "localhost:3000", "Idempotency-Key", "a", "Idempotency-Key", "b"],
        body: Buffer.from([0xff, 0x00]),
      }),
    );
    expect(event.headers).toMatchObject({ Host: "localhost:3000", "Idempotency-Key": "b", "X-Forwarded-For": "127.0.0.1" });
    expect(event.multiValueHeaders).toMatchObject({ "Idempotency-Key": ["a", "b"] });
    expect(event).toMatchObject({ resource: "/generations", pathParameters: null, body: "/wA=", isBase64Encoded: true });
  });

  it("matches Kling's callback route, with its two path parameters", () => {
    expect(toProxyEvent(request({ method: "POST", target: "/kling/callbacks/job-1-abc/tok%2Den" }))).toMatchObject({
      resource: "/kling/callbacks/{externalTaskId}/{token}",
      pathParameters: { externalTaskId: "job-1-abc", token: "tok-en" },
    });
  });

  it("sends any other path to a {proxy+} resource, for the handler to answer", () => {
    expect(toProxyEvent(request({ target: "/generations/a/b" }))).toMatchObject({
      resource: "/{proxy+}",
      path: "/generations/a/b",
      pathParameters: { proxy: "generations/a/b" },
    });
  });
});

describe("EventBridge's PutEvents on the same port", () => {
  const events = () =>
    new EventBridgeClient({ endpoint: server.url, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });

  it("starts a batch the way the batch rule does, answering each entry as EventBridge does", async () => {
    const completed = new Promise<BusEvent>((resolve) => {
      const unsubscribe = harness.pipeline.bus.subscribe((event) => {
        if (event.detailType === BATCH_EVENTS.completed && (event.detail as { batchId?: string }).batchId === "from-put-events") {
          unsubscribe();
          resolve(event);
        }
      });
    });
    const client = events();
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "kling-pipeline.requests",
            DetailType: BATCH_EVENTS.requested,
            Detail: JSON.stringify({ batchId: "from-put-events", items: [{ prompt: "a corgi surfing" }, { prompt: "a paper boat" }] }),
          },
          { Source: "kling-pipeline.requests", DetailType: BATCH_EVENTS.requested, Detail: "not json" },
        ],
      }),
    );
    client.destroy();
    expect(answer.FailedEntryCount).toBe(1);
    expect(answer.Entries?.[0]?.EventId).toEqual(expect.any(String));
    expect(answer.Entries?.[1]).toMatchObject({ ErrorCode: "MalformedDetail" });
    expect((await completed).detail).toMatchObject({ batchId: "from-put-events", total: 2, succeeded: 2, failed: 0 });
  });

  it("refuses a call without entries with EventBridge's validation error", async () => {
    const client = events();
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({ name: "ValidationException" });
    client.destroy();
  });
});
