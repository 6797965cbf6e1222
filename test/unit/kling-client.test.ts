import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Clock, wallClock } from "#lambdas/common/clock";
import { KLING_ERROR_CODES, KlingError } from "#lambdas/errors/index";
import { KlingClient, type KlingCredentials, type Task } from "#lambdas/kling/index";
import { FakeKling, type ReceivedRequest, type Reply } from "./fake-kling";

const kling = new FakeKling();
beforeAll(() => kling.start());
afterAll(() => kling.stop());
beforeEach(() => kling.reset());

/** The clock the next client() signs its JWTs with. */
let clock: Clock = wallClock;
afterEach(() => {
  clock = wallClock;
});

// ---------------------------------------------------------------------------------------------

const API_KEY = "test-api-key-7f3a9c2e51d8";
const ACCESS_KEY = "test-access-key";
const SECRET_KEY = "test-secret-key-b41e0d9a77";

const TASK: Task = {
  task_id: "task-1",
  task_status: "succeed",
  task_info: { external_task_id: "job-1" },
  task_result: { videos: [{ id: "video-1", url: "https://cdn.example/video-1.mp4", duration: "5" }] },
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_060_000,
};

function succeed(data: unknown): Reply {
  return { status: 200, json: { code: 0, message: "SUCCEED", request_id: "req-ok", data } };
}

function refuse(status: number, code: number, message: string, requestId = "req-err"): Reply {
  return { status, json: { code, message, request_id: requestId } };
}

function client(credentials: KlingCredentials = { apiKey: API_KEY }, timeoutMs?: number): KlingClient {
  return new KlingClient({ baseUrl: kling.url, credentials, clock, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

async function failureOf(promise: Promise<unknown>): Promise<KlingError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  );
  if (!("rejected" in outcome)) throw new Error(`expected a KlingError, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.rejected).toBeInstanceOf(KlingError);
  return outcome.rejected as KlingError;
}

/** Everything a thrown error exposes: message, stack, string form, own properties. */
function everythingIn(error: KlingError): string {
  return [String(error), error.message, error.stack ?? "", error.klingMessage, error.requestId ?? "", JSON.stringify(error)].join("\n");
}

function bearerOf(request: ReceivedRequest | undefined): string {
  const header = request?.headers.authorization ?? "";
  expect(header).toMatch(/^Bearer [^ ]+$/);
  return header.slice("Bearer ".length);
}

function verifiedClaims(jwt: string): { iss: string; exp: number; nbf: number } {
  const [header, payload, signature] = jwt.split(".");
  expect(createHmac("sha256", SECRET_KEY).update(`${header}.${payload}`).digest("base64url")).toBe(signature);
  return JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as { iss: string; exp: number; nbf: number };
}

// ---------------------------------------------------------------------------------------------

describe("requests as Kling documents them", () => {
  it("creates a task with POST /v1/videos/{kind}, a JSON body and the API key as bearer token", async () => {
    kling.script(succeed({ task_id: "task-1", task_status: "submitted", task_info: { external_task_id: "job-1" }, created_at: 1, updated_at: 1 }));
    const body = { model_name: "kling-v2-6", prompt: "a red fox in snow", duration: "5" as const, external_task_id: "job-1" };

    const task = await client().createTask("image2video", body);

    expect(task).toMatchObject({ task_id: "task-1", task_status: "submitted" });
    const [request] = kling.received;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/v1/videos/image2video");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual(body);
  });

  it("queries a task with GET /v1/videos/{kind}/{id}, the id percent-encoded", async () => {
    kling.script(succeed(TASK));
    const task = await client().getTask("text2video", "job/1 ?#x");
    expect(task).toEqual(TASK);
    expect(kling.received[0]?.method).toBe("GET");
    expect(kling.received[0]?.url).toBe("/v1/videos/text2video/job%2F1%20%3F%23x");
  });

  it("tolerates a trailing slash on the base URL", async () => {
    kling.script(succeed(TASK));
    await new KlingClient({ baseUrl: `${kling.url}/`, credentials: { apiKey: API_KEY } }).getTask("text2video", "task-1");
    expect(kling.received[0]?.url).toBe("/v1/videos/text2video/task-1");
  });

  it("lists tasks with pageNum and pageSize", async () => {
    kling.script(succeed([TASK, { ...TASK, task_id: "task-2", task_status: "processing" }]));
    const tasks = await client().listTasks("image2video", { pageNum: 2, pageSize: 30 });
    expect(tasks.map((task) => task.task_id)).toEqual(["task-1", "task-2"]);
    expect(kling.received[0]?.url).toBe("/v1/videos/image2video?pageNum=2&pageSize=30");
  });

  it("reads the resource packs from GET /account/costs with start_time and end_time", async () => {
    const pack = {
      resource_pack_name: "Video pack",
      resource_pack_id: "pack-1",
      resource_pack_type: "decreasing_total",
      total_quantity: 100,
      remaining_quantity: 42.5,
      purchase_time: 1,
      effective_time: 2,
      invalid_time: 3,
      status: "online",
    };
    kling.script(succeed({ resource_pack_subscribe_infos: [pack] }));
    const packs = await client().getResourcePacks({ startTime: 1_000, endTime: 2_000 });
    expect(packs).toEqual([pack]);
    expect(kling.received[0]?.url).toBe("/account/costs?start_time=1000&end_time=2000");
  });

  it("a failed generation is a successful answer whose task says failed", async () => {
    kling.script(succeed({ ...TASK, task_status: "failed", task_status_msg: "Image pixel is invalid", task_result: undefined }));
    const task = await client().getTask("image2video", "task-1");
    expect(task.task_status).toBe("failed");
    expect(task.task_status_msg).toBe("Image pixel is invalid");
  });

  it("an empty task id is refused before anything is sent (it would address the list endpoint)", async () => {
    const error = await failureOf(client().getTask("text2video", ""));
    expect(error.name).toBe("Kling.InvalidRequest");
    expect(kling.received).toHaveLength(0);
  });

  it("a page outside Kling's range is refused before anything is sent", async () => {
    const error = await failureOf(client().listTasks("text2video", { pageNum: 1, pageSize: 501 }));
    expect(error.name).toBe("Kling.InvalidRequest");
    expect(kling.received).toHaveLength(0);
  });
});

describe("error answers, classified by business code first", () => {
  const rows = KLING_ERROR_CODES.flatMap((row) => row.codes.map((code) => ({ ...row, code })));

  it.each(rows)("HTTP $httpStatus with code $code is $name", async ({ httpStatus, code, name }) => {
    const message = `Kling says ${code}`;
    kling.script(refuse(httpStatus, code, message, `req-${code}`));

    const error = await failureOf(client().createTask("text2video", { model_name: "kling-v1", prompt: "p" }));

    expect(error.name).toBe(name);
    expect(error.httpStatus).toBe(httpStatus);
    expect(error.klingCode).toBe(code);
    expect(error.requestId).toBe(`req-${code}`);
    expect(error.klingMessage).toBe(message);
    expect(kling.received).toHaveLength(1);
  });

  it("a 429 with code 1102 is insufficient credits, not a rate limit", async () => {
    kling.script(refuse(429, 1102, "resource pack exhausted"));
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.InsufficientCredits");
    expect(error.retriedByStateMachine).toBe(false);
  });

  it("a 402 without a code is insufficient credits", async () => {
    kling.script({ status: 402, json: { message: "Payment Required" } });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.InsufficientCredits", httpStatus: 402, klingCode: undefined, klingMessage: "Payment Required" });
  });

  it("a 403 without a code (and without a body) is forbidden", async () => {
    kling.script({ status: 403, text: "" });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.Forbidden", httpStatus: 403, klingCode: undefined });
    expect(error.klingMessage).toBe("Kling answered HTTP 403 with an empty body");
  });

  it("a non-zero code under HTTP 200 is an error classified by the code", async () => {
    kling.script(refuse(200, 1301, "content safety policy"));
    const error = await failureOf(client().createTask("text2video", { model_name: "kling-v1", prompt: "p" }));
    expect(error).toMatchObject({ name: "Kling.ContentPolicy", httpStatus: 200, klingCode: 1301 });
  });

  it("a 502 HTML page from a proxy is a server error quoting the start of the page", async () => {
    kling.script({ status: 502, text: `<html><body>Bad Gateway</body></html>${" ".repeat(50)}${"x".repeat(5_000)}` });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: 502, klingCode: undefined });
    expect(error.klingMessage).toMatch(/^Kling answered HTTP 502 with a body that is not JSON: <html><body>Bad Gateway/);
    expect(error.klingMessage.length).toBeLessThan(200);
  });

  it("a very long Kling message is truncated", async () => {
    kling.script(refuse(400, 1200, `invalid parameter ${"y".repeat(10_000)}`));
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error.klingMessage).toMatch(/^invalid parameter y+…$/);
    expect(error.klingMessage.length).toBeLessThanOrEqual(301);
  });
});

describe("answers that are not what Kling documents are server errors, never crashes", () => {
  it("a body that is not JSON is a server error with a clear message", async () => {
    kling.script({ status: 200, text: "Service temporarily overloaded, please retry" });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.ServerError");
    expect(error.httpStatus).toBe(200);
    expect(error.klingMessage).toBe("Kling answered HTTP 200 with a body that is not JSON: Service temporarily overloaded, please retry");
  });

  it("truncated JSON is a server error", async () => {
    kling.script({ status: 200, text: '{"code":0,"message":"SUCCEED","request_id":"r","data":{"task_id":' });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.ServerError");
    expect(error.klingMessage).toMatch(/not JSON: \{"code":0/);
  });

  it("JSON that is not the response envelope is a server error", async () => {
    kling.script({ status: 200, json: { hello: "world" } });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.ServerError");
    expect(error.klingMessage).toMatch(/not its response envelope.*\{"hello":"world"\}/);
  });

  it("data that does not match the task schema is a server error naming the field", async () => {
    kling.script({ status: 200, json: { code: 0, message: "SUCCEED", request_id: "req-bad", data: { ...TASK, task_status: "done" } } });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: 200, requestId: "req-bad" });
    expect(error.klingMessage).toMatch(/not the documented task: task_status:/);
  });

  it("a success without data is a server error", async () => {
    kling.script({ status: 200, json: { code: 0, message: "SUCCEED", request_id: "req-empty" } });
    const error = await failureOf(client().getResourcePacks({ startTime: 0, endTime: 1 }));
    expect(error.name).toBe("Kling.ServerError");
    expect(error.klingMessage).toMatch(/not the documented account costs/);
  });
});

describe("network failures are server errors without an HTTP status", () => {
  it("a request that outlasts the timeout is a server error", async () => {
    kling.script({ hang: "before-headers" });
    const error = await failureOf(client({ apiKey: API_KEY }, 200).getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: undefined, klingCode: undefined });
    expect(error.klingMessage).toMatch(/did not answer GET \/v1\/videos\/text2video\/task-1 within the timeout of 200 ms/);
  });

  it("an answer whose body stalls past the timeout is a server error", async () => {
    kling.script({ hang: "after-headers" });
    const error = await failureOf(client({ apiKey: API_KEY }, 200).getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: undefined });
    expect(error.klingMessage).toMatch(/within the timeout of 200 ms while reading its HTTP 200 answer/);
  });

  it("a create that times out warns that the task may exist", async () => {
    kling.script({ hang: "before-headers" });
    const error = await failureOf(client({ apiKey: API_KEY }, 200).createTask("text2video", { model_name: "kling-v1", prompt: "p" }));
    expect(error.klingMessage).toMatch(/look it up by its external_task_id before creating it again/);
  });

  it("a connection reset is a server error saying so", async () => {
    kling.script({ reset: true });
    const error = await failureOf(client().getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: undefined });
    expect(error.klingMessage).toMatch(/could not be reached .*: connection reset$/);
  });

  it("a refused connection is a server error saying so", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const unreachable = new KlingClient({ baseUrl: `http://127.0.0.1:${port}`, credentials: { apiKey: API_KEY } });
    const error = await failureOf(unreachable.getTask("text2video", "task-1"));
    expect(error).toMatchObject({ name: "Kling.ServerError", httpStatus: undefined });
    expect(error.klingMessage).toMatch(/connection refused/);
  });
});

describe("JWT credentials", () => {
  const credentials = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };
  let clockMs = 0;
  beforeEach(() => {
    clockMs = 1_700_000_000_000;
    clock = { now: () => clockMs };
  });

  it("sends a JWT signed with the SecretKey, and reuses it while it is fresh", async () => {
    kling.script(succeed(TASK), succeed(TASK));
    const jwtClient = client(credentials);
    await jwtClient.getTask("text2video", "task-1");
    clockMs += 60_000;
    await jwtClient.getTask("text2video", "task-1");

    const [first, second] = kling.received.map(bearerOf);
    expect(verifiedClaims(first ?? "")).toEqual({ iss: ACCESS_KEY, exp: 1_700_000_000 + 1800, nbf: 1_700_000_000 - 5 });
    expect(second).toBe(first);
  });

  it.each([
    [1004, "expired"],
    [1003, "not yet valid"],
  ])("a JWT refused with %i (%s) is re-signed once and the request repeated", async (code) => {
    kling.script(refuse(401, code, "token rejected"), succeed(TASK));
    kling.onRequest = () => {
      clockMs += 10_000;
    };
    expect(await client(credentials).getTask("text2video", "task-1")).toEqual(TASK);

    expect(kling.received).toHaveLength(2);
    const [rejected, resigned] = kling.received.map(bearerOf);
    expect(resigned).not.toBe(rejected);
    expect(verifiedClaims(resigned ?? "").exp).toBe(1_700_000_010 + 1800);
  });

  it("a JWT refused again after re-signing is Kling.AuthFailed, after exactly two requests", async () => {
    kling.script(refuse(401, 1004, "token expired", "req-1"), refuse(401, 1004, "token expired", "req-2"));
    const error = await failureOf(client(credentials).createTask("text2video", { model_name: "kling-v1", prompt: "p" }));
    expect(error).toMatchObject({ name: "Kling.AuthFailed", httpStatus: 401, klingCode: 1004, requestId: "req-2" });
    expect(error.klingMessage).toMatch(/^token expired .*check the system clock/);
    expect(kling.received).toHaveLength(2);
  });

  it("other authorization failures are not repeated", async () => {
    kling.script(refuse(401, 1002, "invalid token"));
    const error = await failureOf(client(credentials).getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.AuthFailed");
    expect(kling.received).toHaveLength(1);
  });

  it("an API key refused with 1004 is not repeated: it cannot be re-signed", async () => {
    kling.script(refuse(401, 1004, "token expired"));
    const error = await failureOf(client({ apiKey: API_KEY }).getTask("text2video", "task-1"));
    expect(error.name).toBe("Kling.AuthFailed");
    expect(kling.received).toHaveLength(1);
  });
});

describe("credentials never leave the client", () => {
  it("the API key never appears in an error, even when Kling echoes it", async () => {
    kling.script(
      refuse(401, 1002, `invalid key ${API_KEY}`, `req-${API_KEY}`),
      { status: 500, text: `<pre>Authorization: Bearer ${API_KEY}\nAccept: */*</pre>` },
      { status: 200, json: { code: 0, message: "SUCCEED", request_id: "r", data: { task_id: API_KEY } } },
    );
    const apiClient = client({ apiKey: API_KEY });
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await failureOf(apiClient.getTask("text2video", "task-1"));
      expect(everythingIn(error)).not.toContain(API_KEY);
      expect(everythingIn(error)).not.toContain(API_KEY.slice(0, 12));
    }
    expect(kling.received).toHaveLength(3);
  });

  it("neither the SecretKey nor a JWT appears in an error, even when Kling echoes them", async () => {
    clock = { now: () => 1_700_000_000_000 };
    const jwtClient = client({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    kling.script(succeed(TASK));
    await jwtClient.getTask("text2video", "task-1");
    const jwt = bearerOf(kling.received[0]);

    kling.script(
      refuse(400, 1200, `bad secret ${SECRET_KEY}, token ${jwt}`),
      { status: 502, text: `authorization=${jwt}` },
      { status: 403, json: { message: `Bearer ${jwt} not allowed` } },
    );
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = await failureOf(jwtClient.getTask("text2video", "task-1"));
      const exposed = everythingIn(error);
      expect(exposed).not.toContain(SECRET_KEY);
      expect(exposed).not.toContain(jwt);
      expect(exposed).not.toContain(jwt.split(".")[2]);
    }
  });

  it("an earlier JWT quoted in the answer to the re-signed request does not leak", async () => {
    let clockMs = 1_700_000_000_000;
    clock = { now: () => clockMs };
    kling.onRequest = () => {
      clockMs += 10_000;
    };
    const jwtClient = client({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    kling.script(refuse(401, 1004, "token expired"), {
      status: 500,
      // Read when the answer is sent, once the first request (and its token) has arrived.
      get text(): string {
        return `earlier token ${bearerOf(kling.received[0])} was rejected`;
      },
    });
    const error = await failureOf(jwtClient.getTask("text2video", "task-1"));
    expect(kling.received).toHaveLength(2);
    expect(error.klingMessage).toMatch(/not JSON: earlier token \[redacted\] was rejected$/);
    for (const request of kling.received) expect(everythingIn(error)).not.toContain(bearerOf(request));
  });

  it("a network failure does not expose the token either", async () => {
    kling.script({ reset: true });
    const error = await failureOf(client({ apiKey: API_KEY }).getTask("text2video", "task-1"));
    expect(everythingIn(error)).not.toContain(API_KEY);
  });
});

describe("findTaskByExternalId", () => {
  it("returns the task Kling finds under the external id", async () => {
    kling.script(succeed(TASK));
    expect(await client().findTaskByExternalId("text2video", "job-1")).toEqual(TASK);
    expect(kling.received[0]?.url).toBe("/v1/videos/text2video/job-1");
  });

  it.each(["Task not found", "task NOT FOUND: job-1"])("returns undefined for 400/1201 %j", async (message) => {
    kling.script(refuse(400, 1201, message));
    expect(await client().findTaskByExternalId("image2video", "job-1")).toBeUndefined();
  });

  it("propagates a 400/1201 that is not about a missing task", async () => {
    kling.script(refuse(400, 1201, "external_task_id is invalid"));
    const error = await failureOf(client().findTaskByExternalId("text2video", "job-1"));
    expect(error).toMatchObject({ name: "Kling.InvalidRequest", klingCode: 1201 });
  });

  it.each([
    [400, 1200, "Kling.InvalidRequest"],
    [404, 1203, "Kling.InvalidRequest"],
    [500, 5000, "Kling.ServerError"],
  ] as const)("propagates a %i/%i whose message says not found", async (status, code, name) => {
    kling.script(refuse(status, code, "Task not found"));
    const error = await failureOf(client().findTaskByExternalId("text2video", "job-1"));
    expect(error).toMatchObject({ name, httpStatus: status, klingCode: code });
  });

  it("propagates a concurrency refusal (1303) as Kling.ConcurrencyLimited", async () => {
    kling.script(refuse(429, 1303, "parallel task over resource pack limit"));
    expect((await failureOf(client().findTaskByExternalId("text2video", "job-1"))).name).toBe("Kling.ConcurrencyLimited");
  });
});
