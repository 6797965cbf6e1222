/**
 * The account ledger under load, on the local engine with the ledger on dynalite: generations
 * started all at once queue for the account's Kling slots instead of failing on Kling's 1303.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleApiRequest } from "#lambdas/api/routes";
import { BATCH_EVENTS, type BatchSummary } from "#lambdas/batch/batch";
import { LedgerQueuePositions } from "#lambdas/ledger/queue-position";
import { priceUnits } from "#lambdas/schemas/pricing";
import { apiGatewayEvent } from "../support/api-gateway-event";
import { DEV_API_KEY, type Simulator, startSimulator } from "#local/simulator/index";
import type { BusEvent } from "#local/runner/event-bus";
import type { ExecutionReport } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { synthesizedPlan } from "#local/runner/synthesize";

const SLOTS = 5;
/** Long enough that all 40 have arrived before the first five are done, on a busy machine too. */
const GENERATION_SECONDS = 120;

let clock: ScaledClock;
let pipeline: LocalPipeline;
let simulator: Simulator;
let concurrencyRefusals = 0;
/** While set, the failure path's ReleaseSlot fails as if its function had crashed every time. */
let releaseLost = false;

beforeAll(async () => {
  clock = new ScaledClock(0.01);
  pipeline = new LocalPipeline({
    clock,
    // Parks long enough that none times out while the queue drains: each is woken by a release.
    plan: synthesizedPlan({ klingConcurrency: SLOTS, slotQueue: { parkSeconds: 3600, deadlineSeconds: 3600 } }),
    aroundInvoke: (stateName, invoke) => {
      if (stateName === "ReleaseSlot" && releaseLost) return Promise.reject(Object.assign(new Error("the function crashed"), { name: "ReleaseLost" }));
      return invoke();
    },
  });
  simulator = await startSimulator({
    clock,
    credentials: { apiKey: DEV_API_KEY },
    maxConcurrentTasks: SLOTS,
    generationSeconds: GENERATION_SECONDS,
    onRequest: (entry) => {
      if (entry.code === 1303) concurrencyRefusals += 1;
    },
  });
  pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
  await pipeline.ledger.ready;
});
afterAll(async () => {
  await simulator?.close();
  await pipeline?.close();
});

/** The most tasks that were unfinished at Kling at one time. */
function peakActiveTasks(): number {
  const edges = simulator.tasks().flatMap((task) => [
    { at: task.createdAt, change: 1 },
    { at: task.createdAt + task.generationMs, change: -1 },
  ]);
  // An end and a start at the same instant: the slot was free first.
  edges.sort((a, b) => a.at - b.at || a.change - b.change);
  let active = 0;
  let peak = 0;
  for (const edge of edges) {
    active += edge.change;
    peak = Math.max(peak, active);
  }
  return peak;
}

describe("40 generations started at once on an account with 5 Kling slots", () => {
  let reports: ExecutionReport[];
  /** What GET /generations/{id} said about the last in the queue, and how many were ahead of it then. */
  let seenWhileWaiting: { status?: string; queuePosition?: number } = {};
  let queuedBehind = 0;

  beforeAll(async () => {
    const names = Array.from({ length: 40 }, (_, index) => `api-at-once-${index}`);
    for (const name of names) {
      await pipeline.executions.start(name, JSON.stringify({ prompt: `shot ${name} of a corgi surfing a wave` }));
    }
    const queue = new LedgerQueuePositions(pipeline.ledger.ledger, (name) => pipeline.executions.arnOf(name));
    // Once the queue is long, ask the API about its last waiter.
    let waiters = await pipeline.ledger.ledger.waiters();
    while (waiters.length < 20) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      waiters = await pipeline.ledger.ledger.waiters();
    }
    queuedBehind = waiters.length - 1;
    const id = waiters.at(-1)?.executionArn.split(":").at(-1) ?? "";
    const get = apiGatewayEvent({ httpMethod: "GET", resource: "/generations/{id}", path: `/generations/${id}`, pathParameters: { id } });
    seenWhileWaiting = JSON.parse((await handleApiRequest(get, pipeline.executions, {}, { queue })).body) as typeof seenWhileWaiting;
    reports = await Promise.all(names.map((name) => pipeline.executions.finished(name)));
  }, 240_000);

  it("report QUEUED with their place in the queue while they wait (GET /generations/{id})", () => {
    expect(seenWhileWaiting).toMatchObject({ status: "QUEUED", queuePosition: expect.any(Number), video: null, diagnosis: null });
    // The queue only moves forward while we ask: at most as far back as it was.
    expect(seenWhileWaiting.queuePosition).toBeLessThanOrEqual(queuedBehind + 1);
    expect(seenWhileWaiting.queuePosition).toBeGreaterThan(queuedBehind - 5);
  });

  it("all succeed, each with one Kling task", () => {
    expect(reports.filter((report) => report.status !== "SUCCEEDED").map((report) => `${report.executionName}: ${report.error}`)).toEqual([]);
    expect(simulator.stats.tasksCreated).toBe(40);
  });

  it("never have more than 5 tasks running at Kling, which never answers 1303", () => {
    expect(peakActiveTasks()).toBeLessThanOrEqual(SLOTS);
    expect(concurrencyRefusals).toBe(0);
  });

  it("queue for their slots in WaitForSlot: most of them wait there, without a transition while they wait", () => {
    const waited = reports.filter((report) => {
      const granted = report.events.find((event) => event.type === "StateExited" && event.stateName === "WaitForSlot");
      return ((granted?.output as { slot?: { queuedSeconds?: number } } | undefined)?.slot?.queuedSeconds ?? 0) > 0;
    });
    expect(waited.length).toBeGreaterThanOrEqual(30);
    // Entered once each: a release woke them, not a timeout and a second look.
    for (const report of reports) {
      expect(report.events.filter((event) => event.type === "StateEntered" && event.stateName === "WaitForSlot")).toHaveLength(1);
    }
  });

  it("leave nothing held in the ledger: no slot, no waiter, no reserved unit", async () => {
    expect(await pipeline.ledger.ledger.holdings()).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });
});

describe("an execution whose own release is lost on its failure path", () => {
  it("still ends holding nothing: the status-change rule releases its slot when it ends", async () => {
    releaseLost = true;
    try {
      // Refused by Kling at create, after it took its slot.
      const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave [scenario:content-policy]" }, "lost-release");
      expect(report.status).toBe("FAILED");
      expect(report.events.some((event) => event.type === "StateFailed" && event.stateName === "ReleaseSlot")).toBe(true);
    } finally {
      releaseLost = false;
    }
    await pipeline.statusChangesDelivered();
    expect(await pipeline.ledger.ledger.holdings()).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });
});

describe("six generations at once on resource packs that pay for three", () => {
  const request = { prompt: "a corgi surfing a wave", model: "kling-v2-6", mode: "std", duration: "5" } as const;
  let reports: ExecutionReport[];
  let refusedCreates = 0;
  let poor: Simulator | undefined;

  beforeAll(async () => {
    poor = await startSimulator({
      clock,
      credentials: { apiKey: DEV_API_KEY },
      units: priceUnits(request) * 3,
      generationSeconds: GENERATION_SECONDS,
      onRequest: (entry) => {
        if (entry.code === 1102) refusedCreates += 1;
      },
    });
    pipeline.connect(poor.baseUrl, { apiKey: DEV_API_KEY });
    const names = Array.from({ length: 6 }, (_, index) => `poor-${index}`);
    for (const name of names) await pipeline.executions.start(name, JSON.stringify(request));
    reports = await Promise.all(names.map((name) => pipeline.executions.finished(name)));
  }, 120_000);
  afterAll(async () => {
    pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
    await poor?.close();
  });

  it("reserve the price of three: the other three stop at CheckCredits before anything is spent, and Kling never refuses a create", () => {
    expect(reports.filter((report) => report.status === "SUCCEEDED")).toHaveLength(3);
    const refused = reports.filter((report) => report.status === "FAILED");
    expect(refused.map((report) => report.error)).toEqual(Array(3).fill("Kling.InsufficientCredits"));
    for (const report of refused) {
      expect(report.events.filter((event) => event.type === "StateEntered").map((event) => event.stateName)).not.toContain("Submit");
      expect(report.cause).toMatch(/reserved by jobs in flight/);
    }
    expect(poor?.stats.tasksCreated).toBe(3);
    expect(refusedCreates).toBe(0);
  });

  it("settle every reservation when the jobs end", async () => {
    expect(await pipeline.ledger.ledger.holdings()).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });
});

describe("two batches and a stream of API requests at once, on the same 5 slots", () => {
  let summaries: BatchSummary[];
  let apiReports: ExecutionReport[];
  let outcomeEvents: BusEvent[];
  const refusalsBefore = { count: 0 };

  beforeAll(async () => {
    refusalsBefore.count = concurrencyRefusals;
    const events: BusEvent[] = [];
    const unsubscribe = pipeline.bus.subscribe((event) => events.push(event));
    const batch = (batchId: string) => ({ batchId, items: Array.from({ length: 12 }, (_, index) => ({ prompt: `${batchId} shot ${index}` })) });
    const batches = Promise.all([pipeline.runBatch(batch("side-a"), "side-a"), pipeline.runBatch(batch("side-b"), "side-b")]);
    const names = Array.from({ length: 10 }, (_, index) => `api-stream-${index}`);
    for (const name of names) {
      await pipeline.executions.start(name, JSON.stringify({ prompt: `${name}: a corgi surfing a wave` }));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    summaries = (await batches).map((report) => report.output as BatchSummary);
    apiReports = await Promise.all(names.map((name) => pipeline.executions.finished(name)));
    unsubscribe();
    outcomeEvents = events.filter((event) => event.detailType !== BATCH_EVENTS.completed);
  }, 240_000);

  it("give every item and every request exactly one outcome, all of them videos", () => {
    for (const summary of summaries) {
      expect(summary).toMatchObject({ total: 12, succeeded: 12, failed: 0, duplicates: 0 });
      expect(summary.items.map((item) => item.index)).toEqual(Array.from({ length: 12 }, (_, index) => index));
    }
    const perItem = new Map<string, number>();
    for (const event of outcomeEvents) {
      const { batchId, index } = event.detail as { batchId: string; index: number };
      perItem.set(`${batchId}/${index}`, (perItem.get(`${batchId}/${index}`) ?? 0) + 1);
    }
    expect(perItem.size).toBe(24);
    expect([...perItem.values()].every((count) => count === 1)).toBe(true);
    expect(apiReports.map((report) => report.status)).toEqual(Array(10).fill("SUCCEEDED"));
  });

  it("never get a 1303 from Kling, and leave nothing held", async () => {
    expect(concurrencyRefusals - refusalsBefore.count).toBe(0);
    await pipeline.statusChangesDelivered();
    expect(await pipeline.ledger.ledger.holdings()).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });
});
