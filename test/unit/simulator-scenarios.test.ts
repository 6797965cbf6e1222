import { afterEach, describe, expect, it } from "vitest";
import { accountCostsSchema, envelopeSchema, taskSchema, type Task } from "#lambdas/kling/wire";
import { priceUnits } from "#lambdas/schemas/pricing";
import {
  SCENARIOS,
  SCENARIO_NAMES,
  errorFault,
  noFaults,
  startSimulator,
  type FaultPlan,
  type ScenarioName,
  type Simulator,
} from "#local/simulator/index";
import { call, manualClock, type CallResult, type ManualClock } from "#local/simulator/test-support";

const TEXT = "/v1/videos/text2video";
const body = (externalTaskId?: string) => ({
  model_name: "kling-v2-5-turbo",
  prompt: "a lighthouse in a storm",
  ...(externalTaskId === undefined ? {} : { external_task_id: externalTaskId }),
});
const PRICE = priceUnits({ model: "kling-v2-5-turbo", mode: "std", duration: "5" });

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function run(scenario: ScenarioName, options: { maxConcurrentTasks?: number } = {}): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = manualClock();
  simulator = await startSimulator({ scenario, clock, generationSeconds: 60, ...options });
  return { sim: simulator, clock };
}

function answer(result: CallResult): { status: number; code: number; message: string } {
  const envelope = envelopeSchema.parse(result.json);
  return { status: result.status, code: envelope.code, message: envelope.message };
}

function task(result: CallResult): Task {
  expect(answer(result).code).toBe(0);
  return taskSchema.parse(envelopeSchema.parse(result.json).data);
}

async function packs(sim: Simulator) {
  const result = await call(sim, "/account/costs?start_time=0&end_time=9999999999999");
  expect(answer(result).code).toBe(0);
  return accountCostsSchema.parse(envelopeSchema.parse(result.json).data).resource_pack_subscribe_infos;
}

describe("the scenario list", () => {
  it("describes every named scenario in one line, for the CLI and runners to print", () => {
    expect(SCENARIOS.map((scenario) => scenario.name)).toEqual([...SCENARIO_NAMES]);
    for (const scenario of SCENARIOS) expect(scenario.description).toMatch(/^[^\n]{10,}$/);
  });

  it("refuses a name that is not a scenario", async () => {
    await expect(startSimulator({ scenario: "chaos" as ScenarioName })).rejects.toThrow(/chaos/);
  });
});

describe("scenario happy", () => {
  it("creates, finishes and counts the task without any fault", async () => {
    const { sim, clock } = await run("happy");
    task(await call(sim, TEXT, { body: body("h-1") }));
    clock.advanceSeconds(60);
    expect(task(await call(sim, `${TEXT}/h-1`)).task_status).toBe("succeed");
    expect(sim.stats.faultsInjected).toBe(0);
  });
});

describe("scenario rate-limit", () => {
  it("answers two creates with 429/1302, then creates", async () => {
    const { sim } = await run("rate-limit");
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 429, code: 1302 });
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 429, code: 1302 });
    task(await call(sim, TEXT, { body: body() }));
    expect(sim.stats).toMatchObject({ tasksCreated: 1, faultsInjected: 2 });
  });
});

describe("scenario concurrency-limit", () => {
  it("answers the first creates with 429/1303 as if every slot were taken, then creates", async () => {
    const { sim } = await run("concurrency-limit");
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(answer(await call(sim, TEXT, { body: body() }))).toEqual({ status: 429, code: 1303, message: "parallel task over resource pack limit" });
    }
    task(await call(sim, TEXT, { body: body() }));
    expect(sim.stats.tasksCreated).toBe(1);
  });
});

describe("scenario server-error", () => {
  it("answers two creates and one query with 500/5000, then succeeds", async () => {
    const { sim } = await run("server-error");
    expect(answer(await call(sim, TEXT, { body: body("s-1") }))).toMatchObject({ status: 500, code: 5000 });
    expect(answer(await call(sim, TEXT, { body: body("s-1") }))).toMatchObject({ status: 500, code: 5000 });
    expect(sim.stats.tasksCreated).toBe(0);
    task(await call(sim, TEXT, { body: body("s-1") }));
    expect(answer(await call(sim, `${TEXT}/s-1`))).toMatchObject({ status: 500, code: 5000 });
    expect(task(await call(sim, `${TEXT}/s-1`)).task_info?.external_task_id).toBe("s-1");
    expect(sim.stats.faultsInjected).toBe(3);
  });
});

describe("scenario unauthorized", () => {
  it("rejects the valid credential with 401/1002 on every endpoint", async () => {
    const { sim } = await run("unauthorized");
    for (const result of [await call(sim, TEXT, { body: body() }), await call(sim, `${TEXT}/x`), await call(sim, TEXT), await call(sim, "/account/costs?start_time=0&end_time=1")]) {
      expect(answer(result)).toMatchObject({ status: 401, code: 1002 });
    }
    expect(sim.stats.tasksCreated).toBe(0);
  });
});

describe("scenario insufficient-credits", () => {
  it("shows online packs holding less than the price, and create answers 429/1102", async () => {
    const { sim } = await run("insufficient-credits");
    const [pack] = await packs(sim);
    expect(pack?.status).toBe("online");
    expect(pack?.remaining_quantity).toBeLessThan(PRICE);
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 429, code: 1102 });
    expect(sim.stats.tasksCreated).toBe(0);
  });
});

describe("scenario resource-pack-exhausted", () => {
  it("shows enough units on the (lagging) account, yet create answers 429/1102", async () => {
    const { sim } = await run("resource-pack-exhausted");
    const [pack] = await packs(sim);
    expect(pack?.status).toBe("online");
    expect(pack?.remaining_quantity).toBeGreaterThan(PRICE);
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 429, code: 1102 });
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 429, code: 1102 });
    expect(sim.stats.tasksCreated).toBe(0);
  });
});

describe("scenario content-policy", () => {
  it("answers create with 400/1301", async () => {
    const { sim } = await run("content-policy");
    expect(answer(await call(sim, TEXT, { body: body() }))).toMatchObject({ status: 400, code: 1301 });
    expect(sim.stats.tasksCreated).toBe(0);
  });
});

describe("scenario invalid-params", () => {
  it("answers create with 400/1201 naming a parameter", async () => {
    const { sim } = await run("invalid-params");
    const refused = answer(await call(sim, TEXT, { body: body() }));
    expect(refused).toMatchObject({ status: 400, code: 1201 });
    expect(refused.message).toMatch(/aspect_ratio/);
  });
});

describe("scenario generation-failed", () => {
  it("ends the task failed with a reason (code 0), refunds its units and frees its slot", async () => {
    const { sim, clock } = await run("generation-failed", { maxConcurrentTasks: 1 });
    const before = (await packs(sim))[0]?.remaining_quantity;
    task(await call(sim, TEXT, { body: body("f-1") }));
    clock.advanceSeconds(60);

    const failed = task(await call(sim, `${TEXT}/f-1`));
    expect(failed.task_status).toBe("failed");
    expect(failed.task_status_msg).toMatch(/too complex/);
    expect(failed.task_result).toBeUndefined();
    expect((await packs(sim))[0]?.remaining_quantity).toBe(before);
    task(await call(sim, TEXT, { body: body("f-2") }));
  });
});

describe("scenario poll-timeout", () => {
  it("keeps the task processing forever, holding its slot", async () => {
    const { sim, clock } = await run("poll-timeout", { maxConcurrentTasks: 1 });
    task(await call(sim, TEXT, { body: body("p-1") }));
    clock.advanceSeconds(24 * 60 * 60);
    expect(task(await call(sim, `${TEXT}/p-1`)).task_status).toBe("processing");
    expect(answer(await call(sim, TEXT, { body: body("p-2") }))).toMatchObject({ status: 429, code: 1303 });
  });
});

describe("scenario lost-create-response", () => {
  it("creates and charges the task but answers 504/5002; the task is found by external_task_id, and a blind repeat is refused", async () => {
    const { sim } = await run("lost-create-response");
    expect(answer(await call(sim, TEXT, { body: body("l-1") }))).toMatchObject({ status: 504, code: 5002 });
    expect(sim.stats.tasksCreatedByExternalId("l-1")).toBe(1);
    expect((await packs(sim))[0]?.remaining_quantity).toBeLessThan((await packs(sim))[0]!.total_quantity);

    expect(task(await call(sim, `${TEXT}/l-1`)).task_info?.external_task_id).toBe("l-1");
    expect(answer(await call(sim, TEXT, { body: body("l-1") }))).toMatchObject({ status: 400, code: 1201 });
    expect(sim.stats.tasksCreatedByExternalId("l-1")).toBe(1);
    expect(sim.stats.createAttemptsByExternalId("l-1")).toBe(2);
  });
});

describe("scenario lost-create-connection", () => {
  it("creates the task but drops the connection without an answer", async () => {
    const { sim } = await run("lost-create-connection");
    await expect(call(sim, TEXT, { body: body("c-1") })).rejects.toThrow();
    expect(sim.stats.tasksCreated).toBe(1);
    expect(task(await call(sim, `${TEXT}/c-1`)).task_status).toBe("submitted");
  });
});

describe("scenario malformed-response", () => {
  it("answers one query with HTTP 200 and a body that is not JSON", async () => {
    const { sim } = await run("malformed-response");
    task(await call(sim, TEXT, { body: body("m-1") }));
    const malformed = await call(sim, `${TEXT}/m-1`);
    expect(malformed.status).toBe(200);
    expect(malformed.json).toBeUndefined();
    expect(() => JSON.parse(malformed.text)).toThrow();
    expect(task(await call(sim, `${TEXT}/m-1`)).task_info?.external_task_id).toBe("m-1");
  });
});

describe("a custom fault plan", () => {
  it("is consulted for every authenticated API request, so faults can be injected per request", async () => {
    let queries = 0;
    const everyOtherQuery: FaultPlan = {
      ...noFaults,
      onRequest: (request) =>
        request.kind === "query" && ++queries % 2 === 0 ? errorFault("flaky", 503, 5001, "Service unavailable") : undefined,
    };
    simulator = await startSimulator({ faultPlan: everyOtherQuery, clock: manualClock() });
    task(await call(simulator, TEXT, { body: body("q-1") }));
    const codes = [];
    for (let index = 0; index < 4; index++) codes.push(answer(await call(simulator, `${TEXT}/q-1`)).code);
    expect(codes).toEqual([0, 5001, 0, 5001]);
    expect(simulator.stats.faultsInjected).toBe(2);
  });
});
