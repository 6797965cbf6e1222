import { afterEach, describe, expect, it } from "vitest";
import { accountCostsSchema, envelopeSchema, taskListSchema, taskSchema } from "#lambdas/kling/wire";
import { priceUnits } from "#lambdas/schemas/pricing";
import { startSimulator, type Simulator, type SimulatorOptions } from "#local/simulator/index";
import { call, manualClock, signJwt, type CallResult, type ManualClock } from "#local/simulator/test-support";

const ACCESS_KEY = "test-access-key";
const SECRET_KEY = "test-secret-key";
const API_KEY = "test-api-key";
const TEXT = "/v1/videos/text2video";

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = manualClock();
  simulator = await startSimulator({ credentials: [{ apiKey: API_KEY }], clock, ...options });
  return { sim: simulator, clock };
}

function okData(result: CallResult): unknown {
  const envelope = envelopeSchema.parse(result.json);
  expect({ status: result.status, code: envelope.code, message: envelope.message }).toEqual({
    status: 200,
    code: 0,
    message: "SUCCEED",
  });
  return envelope.data;
}

function expectError(result: CallResult, status: number, code: number, message?: string | RegExp): void {
  const envelope = envelopeSchema.parse(result.json);
  expect(result.status).toBe(status);
  expect(envelope.code).toBe(code);
  expect(envelope.data).toBeUndefined();
  expect(envelope.request_id).not.toBe("");
  if (message !== undefined) expect(envelope.message).toMatch(message);
}

const prompt = (extra: Record<string, unknown> = {}) => ({ model_name: "kling-v2-5-turbo", prompt: "a red fox in the snow", ...extra });

async function accountPacks(sim: Simulator) {
  const result = await call(sim, "/account/costs?start_time=0&end_time=9999999999999");
  return accountCostsSchema.parse(okData(result)).resource_pack_subscribe_infos;
}

describe("a task's lifecycle", () => {
  it("goes submitted -> processing -> succeed, and its video URL is served by the simulator", async () => {
    const { sim, clock } = await start({ generationSeconds: 100 });
    const createdAt = clock.now();

    const created = taskSchema.parse(okData(await call(sim, TEXT, { body: prompt({ external_task_id: "job-1" }) })));
    expect(created).toMatchObject({ task_status: "submitted", created_at: createdAt, updated_at: createdAt });
    expect(created.task_info).toEqual({ external_task_id: "job-1" });

    const query = async () => taskSchema.parse(okData(await call(sim, `${TEXT}/${created.task_id}`)));
    clock.advanceSeconds(9);
    expect((await query()).task_status).toBe("submitted");
    clock.advanceSeconds(2);
    expect(await query()).toMatchObject({ task_status: "processing", updated_at: createdAt + 10_000 });
    clock.advanceSeconds(88);
    expect((await query()).task_status).toBe("processing");
    clock.advanceSeconds(1);

    const done = await query();
    expect(done).toMatchObject({ task_status: "succeed", updated_at: createdAt + 100_000, task_info: { external_task_id: "job-1" } });
    expect(done.final_unit_deduction).toBe(String(priceUnits({ model: "kling-v2-5-turbo", mode: "std", duration: "5" })));
    const [video] = done.task_result?.videos ?? [];
    expect(video?.duration).toBe("5");
    expect(video?.url.startsWith(`${sim.baseUrl}/videos/`)).toBe(true);

    const download = await fetch(video!.url);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("video/mp4");
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect((await fetch(video!.watermark_url!)).status).toBe(200);
  });

  it("does not serve a video before the task has succeeded", async () => {
    const { sim } = await start();
    const created = taskSchema.parse(okData(await call(sim, TEXT, { body: prompt() })));
    const videoId = sim.tasks().find((task) => task.taskId === created.task_id)?.videoId;
    expect((await fetch(`${sim.baseUrl}/videos/${videoId}.mp4`)).status).toBe(404);
  });

  it("finds a task by its external_task_id as well as by its task_id", async () => {
    const { sim } = await start();
    const created = taskSchema.parse(okData(await call(sim, TEXT, { body: prompt({ external_task_id: "exec-42" }) })));
    const byExternal = taskSchema.parse(okData(await call(sim, `${TEXT}/exec-42`)));
    expect(byExternal.task_id).toBe(created.task_id);
  });

  it("answers HTTP 400, code 1201, Task not found for an unknown id or a task of the other kind", async () => {
    const { sim } = await start();
    expectError(await call(sim, `${TEXT}/no-such-task`), 400, 1201, "Task not found");
    okData(await call(sim, TEXT, { body: prompt({ external_task_id: "text-only" }) }));
    expectError(await call(sim, "/v1/videos/image2video/text-only"), 400, 1201, "Task not found");
  });

  it("lists a kind's tasks newest first, one page at a time, and validates the page", async () => {
    const { sim } = await start();
    for (const id of ["a", "b", "c"]) okData(await call(sim, TEXT, { body: prompt({ external_task_id: id }) }));

    const firstPage = taskListSchema.parse(okData(await call(sim, `${TEXT}?pageNum=1&pageSize=2`)));
    expect(firstPage.map((task) => task.task_info?.external_task_id)).toEqual(["c", "b"]);
    const secondPage = taskListSchema.parse(okData(await call(sim, `${TEXT}?pageNum=2&pageSize=2`)));
    expect(secondPage.map((task) => task.task_info?.external_task_id)).toEqual(["a"]);
    expect(taskListSchema.parse(okData(await call(sim, "/v1/videos/image2video")))).toEqual([]);

    expectError(await call(sim, `${TEXT}?pageNum=0`), 400, 1201, /pageNum/);
    expectError(await call(sim, `${TEXT}?pageNum=1001`), 400, 1201, /pageNum/);
    expectError(await call(sim, `${TEXT}?pageSize=501`), 400, 1201, /pageSize/);
    expectError(await call(sim, `${TEXT}?pageSize=x`), 400, 1201, /pageSize/);
  });
});

describe("authentication", () => {
  const credentials: SimulatorOptions["credentials"] = [{ apiKey: API_KEY }, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }];
  const jwt = (clock: ManualClock, overrides: Partial<Parameters<typeof signJwt>[0]> = {}) =>
    signJwt({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, issuedAt: Math.floor(clock.now() / 1000), ...overrides });

  it("accepts the API key and a JWT signed with the SecretKey whose iss is the AccessKey", async () => {
    const { sim, clock } = await start({ credentials });
    okData(await call(sim, `${TEXT}?pageNum=1`, { token: API_KEY }));
    okData(await call(sim, `${TEXT}?pageNum=1`, { token: jwt(clock) }));
  });

  it("answers 401/1001 without an Authorization header", async () => {
    const { sim } = await start({ credentials });
    expectError(await call(sim, TEXT, { token: null }), 401, 1001);
    expectError(await call(sim, TEXT, { token: null, body: prompt() }), 401, 1001);
    expect(sim.stats.tasksCreated).toBe(0);
  });

  it("answers 401/1002 for an unknown key, a bad signature, a wrong iss or a malformed token", async () => {
    const { sim, clock } = await start({ credentials });
    expectError(await call(sim, TEXT, { token: "not-the-key" }), 401, 1002);
    expectError(await call(sim, TEXT, { token: jwt(clock, { secretKey: "another-secret" }) }), 401, 1002);
    expectError(await call(sim, TEXT, { token: jwt(clock, { accessKey: "someone-else" }) }), 401, 1002);
    expectError(await call(sim, TEXT, { token: "a.b.c" }), 401, 1002);
    const unsigned = jwt(clock).split(".").slice(0, 2).join(".") + ".";
    expectError(await call(sim, TEXT, { token: unsigned }), 401, 1002);

    expectError(await call(sim, TEXT, { authorization: `Basic ${API_KEY}` }), 401, 1002);
    expectError(await call(sim, TEXT, { authorization: `Bearer  ${API_KEY}` }), 401, 1002);
  });

  it("answers 401/1003 for a JWT whose nbf is in the future", async () => {
    const { sim, clock } = await start({ credentials });
    expectError(await call(sim, TEXT, { token: jwt(clock, { notBeforeOffset: 60 }) }), 401, 1003);
  });

  it("answers 401/1004 once the JWT expires by the simulator's clock", async () => {
    const { sim, clock } = await start({ credentials });
    const token = jwt(clock);
    okData(await call(sim, TEXT, { token }));
    clock.advanceSeconds(1800);
    expectError(await call(sim, TEXT, { token }), 401, 1004);
  });

  it("accepts only the dev API key when no credentials are configured", async () => {
    simulator = await startSimulator({ clock: manualClock() });
    okData(await call(simulator, TEXT, { token: "sim-dev-api-key" }));
    expectError(await call(simulator, TEXT, { token: API_KEY }), 401, 1002);
  });
});

describe("concurrency", () => {
  it("answers 429/1303 with no data past maxConcurrentTasks, until a task ends and frees its slot", async () => {
    const { sim, clock } = await start({ maxConcurrentTasks: 2, generationSeconds: 60 });
    okData(await call(sim, TEXT, { body: prompt() }));
    clock.advanceSeconds(30);
    okData(await call(sim, TEXT, { body: prompt() }));
    expectError(await call(sim, TEXT, { body: prompt() }), 429, 1303, "parallel task over resource pack limit");
    okData(await call(sim, `${TEXT}?pageNum=1`));

    clock.advanceSeconds(30);
    okData(await call(sim, TEXT, { body: prompt() }));
    expectError(await call(sim, TEXT, { body: prompt() }), 429, 1303);
    expect(sim.stats.tasksCreated).toBe(3);
  });
});

describe("resource packs", () => {
  it("shrink by the price of each create and answer 429/1102 when they cannot pay", async () => {
    const { sim } = await start({ units: 10 });
    const [initial] = await accountPacks(sim);
    expect(initial).toMatchObject({ total_quantity: 10, remaining_quantity: 10, status: "online" });

    okData(await call(sim, TEXT, { body: prompt() }));
    okData(await call(sim, TEXT, { body: prompt({ mode: "pro", duration: "10" }) }));
    const spent = priceUnits({ model: "kling-v2-5-turbo", mode: "std", duration: "5" }) + priceUnits({ model: "kling-v2-5-turbo", mode: "pro", duration: "10" });
    expect((await accountPacks(sim))[0]?.remaining_quantity).toBeCloseTo(10 - spent, 5);

    expectError(await call(sim, TEXT, { body: prompt({ model_name: "kling-v2-1-master", mode: "pro", duration: "10" }) }), 429, 1102);
    expect((await accountPacks(sim))[0]?.remaining_quantity).toBeCloseTo(10 - spent, 5);
    expect(sim.stats.tasksCreated).toBe(2);
  });

  it("show runOut once empty", async () => {
    const { sim } = await start({ units: 3 });
    okData(await call(sim, TEXT, { body: prompt() }));
    okData(await call(sim, TEXT, { body: prompt() }));
    expect(await accountPacks(sim)).toMatchObject([{ remaining_quantity: 0, status: "runOut" }]);
    expectError(await call(sim, TEXT, { body: prompt() }), 429, 1102);
  });

  it("are paid from several packs and reported with every documented field", async () => {
    const { sim } = await start({ resourcePacks: [{ total: 1, name: "small" }, { total: 100, type: "constant_period" }] });
    okData(await call(sim, TEXT, { body: prompt() }));
    const packs = await accountPacks(sim);
    expect(packs.map((pack) => pack.remaining_quantity)).toEqual([0, 99.5]);
    expect(packs[1]?.resource_pack_type).toBe("constant_period");
    const named = await call(sim, "/account/costs?start_time=0&end_time=9999999999999&resource_pack_name=small");
    expect(accountCostsSchema.parse(okData(named)).resource_pack_subscribe_infos.map((pack) => pack.resource_pack_name)).toEqual(["small"]);
  });

  it("require start_time and end_time in ms", async () => {
    const { sim } = await start();
    expectError(await call(sim, "/account/costs?end_time=1"), 400, 1201, /start_time/);
    expectError(await call(sim, "/account/costs?start_time=0"), 400, 1201, /end_time/);
    expectError(await call(sim, "/account/costs?start_time=5&end_time=1"), 400, 1201, /end_time/);
  });
});

describe("external_task_id", () => {
  it("is unique: a second create with it answers 400/1201 and creates nothing", async () => {
    const { sim } = await start();
    okData(await call(sim, TEXT, { body: prompt({ external_task_id: "exec-7" }) }));
    expectError(await call(sim, TEXT, { body: prompt({ external_task_id: "exec-7" }) }), 400, 1201, /external_task_id/);
    expectError(await call(sim, "/v1/videos/image2video", { body: { image: "https://example.com/a.png", external_task_id: "exec-7" } }), 400, 1201, /external_task_id/);

    expect(sim.stats.tasksCreated).toBe(1);
    expect(sim.stats.tasksCreatedByExternalId("exec-7")).toBe(1);
    expect(sim.stats.createAttemptsByExternalId("exec-7")).toBe(3);
    expect(sim.stats.tasksCreatedByExternalId("never-used")).toBe(0);
    expect([...sim.stats.tasksCreatedPerExternalId]).toEqual([["exec-7", 1]]);
  });
});

describe("routing and request counts", () => {
  it("answers 404/1203 for an unknown path and 404/1202 for a wrong method", async () => {
    const { sim } = await start();
    expectError(await call(sim, "/v1/videos/text3video"), 404, 1203);
    expectError(await call(sim, "/v2/anything"), 404, 1203);
    expectError(await call(sim, TEXT, { method: "DELETE" }), 404, 1202);
    expectError(await call(sim, `${TEXT}/some-id`, { method: "POST", body: {} }), 404, 1202);
    expectError(await call(sim, "/account/costs", { method: "POST", body: {} }), 404, 1202);
  });

  it("answers 400/1200 for a body that is not JSON", async () => {
    const { sim } = await start();
    expectError(await call(sim, TEXT, { body: "{not json" }), 400, 1200);
  });

  it("counts requests by kind", async () => {
    const { sim } = await start();
    okData(await call(sim, TEXT, { body: prompt({ external_task_id: "x" }) }));
    okData(await call(sim, `${TEXT}/x`));
    okData(await call(sim, `${TEXT}/x`));
    okData(await call(sim, TEXT));
    await accountPacks(sim);
    await call(sim, "/nowhere");
    expect(sim.stats.requests).toBe(6);
    expect(sim.stats.requestsByKind).toEqual({ create: 1, query: 2, list: 1, account: 1, video: 0, other: 1 });
    expect(sim.stats.faultsInjected).toBe(0);
  });
});
