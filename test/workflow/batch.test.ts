/**
 * The batch workflow as synthesized, on the local engine: a Map of child generation
 * executions against the simulator, one outcome per item, events on the bus.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_EVENTS, type BatchSummary, MAX_BATCH_ITEMS } from "#lambdas/batch/batch";
import { DEFAULTS } from "#lambdas/common/settings";
import { MODELS } from "#lambdas/schemas/models";
import { priceUnits } from "#lambdas/schemas/pricing";
import { jsonBytes, PUT_EVENTS_ENTRY_LIMIT_BYTES, STATE_PAYLOAD_LIMIT_BYTES } from "#local/runner/quotas";
import type { ScenarioName } from "#local/simulator/index";
import { type BatchRun, WorkflowHarness } from "./harness";

let harness: WorkflowHarness;
beforeAll(() => {
  harness = new WorkflowHarness(0.002, { klingConcurrency: 5 });
});
afterAll(() => harness.close());

const MIX: readonly ScenarioName[] = ["happy", "rate-limit", "content-policy", "generation-failed", "lost-create-response"];
const item = (index: number) => ({ prompt: `shot ${index} of a corgi surfing [scenario:${MIX[index % MIX.length]}]` });
const expectedStatus = (index: number) =>
  ["content-policy", "generation-failed"].includes(MIX[index % MIX.length] ?? "") ? "FAILED" : "SUCCEEDED";

describe("a batch of 20 items mixing scenarios", () => {
  let summary: BatchSummary;
  let run: Awaited<ReturnType<WorkflowHarness["runBatch"]>>;

  beforeAll(async () => {
    run = await harness.runBatch({ batchId: "mixed-20", items: Array.from({ length: 20 }, (_, index) => item(index)) });
    summary = run.report.output as BatchSummary;
  }, 120_000);

  it("succeeds as a batch, with counts that match the items", () => {
    expect(run.report.status).toBe("SUCCEEDED");
    expect(summary).toMatchObject({ batchId: "mixed-20", total: 20, succeeded: 12, failed: 8, recoverable: 4, duplicates: 0 });
  });

  it("gives every item exactly one outcome, in order, named from the batch id and index", () => {
    expect(summary.items.map((outcome) => outcome.index)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    for (const outcome of summary.items) {
      expect(outcome.executionName).toBe(`batch-mixed-20-${outcome.index}`);
      expect(outcome.status).toBe(expectedStatus(outcome.index));
      if (outcome.status === "SUCCEEDED") {
        expect(outcome.videoUrl).toMatch(/\.mp4$/);
        expect(outcome.videoKey).toMatch(new RegExp(`^videos/${outcome.executionName}/[^/]+\\.mp4$`));
        expect(outcome.diagnosis).toBeUndefined();
      } else {
        expect(outcome.diagnosis?.jobId).toBe(outcome.executionName);
        expect(outcome.videoUrl).toBeUndefined();
      }
    }
    const failures = summary.items.filter((outcome) => outcome.status === "FAILED");
    expect(new Set(failures.map((outcome) => outcome.diagnosis?.errorCode))).toEqual(
      new Set(["Kling.ContentPolicy", "Kling.GenerationFailed"]),
    );
  });

  it("never creates two Kling tasks for one item", () => {
    expect([...run.tasksCreatedPerExternalId.values()].every((count) => count === 1)).toBe(true);
    // content-policy items are refused at create; every other item has exactly one task.
    expect(run.tasksCreated).toBe(16);
  });

  it("puts one outcome event per item and one completion event on the bus", () => {
    const byType = (type: string) => run.events.filter((event) => event.detailType === type);
    expect(byType(BATCH_EVENTS.generated)).toHaveLength(12);
    expect(byType(BATCH_EVENTS.failed)).toHaveLength(8);
    expect(byType(BATCH_EVENTS.failed).every((event) => (event.detail as { diagnosis?: unknown }).diagnosis)).toBe(true);
    expect(byType(BATCH_EVENTS.completed)).toEqual([
      { source: "kling-pipeline", detailType: BATCH_EVENTS.completed, detail: summary },
    ]);
  });

  it("a batch event delivered twice starts no new generation: the repeat reports duplicates", async () => {
    const again = await harness.runBatch({ batchId: "mixed-20", items: Array.from({ length: 20 }, (_, index) => item(index)) });
    expect(again.tasksCreated).toBe(0);
    expect(again.report.output).toMatchObject({ total: 20, succeeded: 0, failed: 0, duplicates: 20 });
  }, 60_000);
});

describe("a batch with an item that is not a JSON object", () => {
  it("fails that item alone as an invalid request and runs the others", async () => {
    const run = await harness.runBatch({ batchId: "odd-items", items: ["a corgi surfing", { prompt: "a paper boat" }, [], null] });
    expect(run.report.status).toBe("SUCCEEDED");
    const summary = run.report.output as BatchSummary;
    expect(summary.items.map((outcome) => outcome.status)).toEqual(["FAILED", "SUCCEEDED", "FAILED", "FAILED"]);
    const failed = run.events.filter((event) => event.detailType === BATCH_EVENTS.failed);
    expect(failed.map((event) => (event.detail as { diagnosis: { errorCode: string; errorMessage: string } }).diagnosis)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ errorCode: "Kling.InvalidRequest", errorMessage: "the item is not a generation request: it must be a JSON object" })),
    );
    expect(run.tasksCreated).toBe(1);
  }, 60_000);
});

describe("a scheduled batch", () => {
  it("runs its items under the batch id stamped with the schedule's time", async () => {
    const run = await harness.runBatch({ batchId: "nightly", items: [{ prompt: "a paper boat" }], scheduledAt: "2026-11-25T06:00:00Z" });
    expect(run.report.output).toMatchObject({ batchId: "nightly-202611250600", succeeded: 1 });
    expect((run.report.output as BatchSummary).items[0]?.executionName).toBe("batch-nightly-202611250600-0");
  }, 60_000);
});

describe("a batch that is not valid", () => {
  it("without items fails with Kling.InvalidRequest naming what is missing, before any generation starts", async () => {
    const run = await harness.runBatch({ batchId: "no-items" });
    expect(run.report).toMatchObject({ status: "FAILED", error: "Kling.InvalidRequest", cause: "the batch is not valid: the batch must be an object with batchId and items" });
    expect(run.tasksCreated).toBe(0);
  });

  it("fails at ValidateBatch with every problem named, before any generation starts", async () => {
    const run = await harness.runBatch({ batchId: "has spaces", items: [] });
    expect(run.report.status).toBe("FAILED");
    expect(run.report.error).toBe("Kling.InvalidRequest");
    expect(run.report.cause).toContain("batchId must be 1 to 64 letters");
    expect(run.report.cause).toContain("items must hold at least one");
    expect(run.tasksCreated).toBe(0);
  });
});

describe("a batch event delivered again while the first delivery is still running", () => {
  const detail = (batchId: string) => ({ batchId, items: Array.from({ length: 3 }, (_, index) => ({ prompt: `shot ${index} of a paper boat` })) });

  /** Resolves once the first delivery's child for item 0 is running, so the repeat meets it running. */
  async function childRunning(executionName: string): Promise<void> {
    while ((await harness.pipeline.executions.describe(executionName))?.status !== "RUNNING") {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  function expectEachOutcomeOnce(runs: readonly BatchRun[], batchId: string): void {
    const events = runs[0]?.events ?? [];
    for (let index = 0; index < 3; index += 1) {
      const ofItem = events.filter((event) => (event.detail as { batchId?: string; index?: number }).batchId === batchId && (event.detail as { index?: number }).index === index);
      const types = ofItem.map((event) => event.detailType).sort();
      expect(types, `item ${index}`).toEqual([BATCH_EVENTS.generated, BATCH_EVENTS.skipped].sort());
    }
    const summaries = runs.map((run) => run.report.output as BatchSummary);
    expect(summaries.map((summary) => summary.succeeded).reduce((a, b) => a + b)).toBe(3);
    expect(summaries.map((summary) => summary.duplicates).reduce((a, b) => a + b)).toBe(3);
    expect(runs[0]?.tasksCreated).toBe(3);
  }

  it("the repeat that meets the children running reports them as duplicates: each outcome is published once", async () => {
    const runs = await harness.runDeliveries([() => detail("repeat-running"), async () => {
      await childRunning("batch-repeat-running-0");
      return detail("repeat-running");
    }]);
    expect(runs.map((run) => run.report.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expectEachOutcomeOnce(runs, "repeat-running");
  }, 60_000);

  it("two deliveries that start at the same instant publish each item's outcome once between them", async () => {
    const runs = await harness.runDeliveries([() => detail("repeat-same-instant"), () => detail("repeat-same-instant")]);
    expectEachOutcomeOnce(runs, "repeat-same-instant");
  }, 60_000);
});

describe("the largest batch one event can carry", () => {
  /** What PutEvents counts for the batch's event: its Source, DetailType and Detail in UTF-8 bytes. */
  const entryBytes = (detail: unknown) =>
    Buffer.byteLength(harness.pipeline.batchRequestSource + BATCH_EVENTS.requested + JSON.stringify(detail), "utf8");

  /** The longest prompt the default model takes (the items name no model). */
  const MAX_PROMPT_CHARACTERS = MODELS[DEFAULTS.defaultModel].promptCharacters.text;

  /** 100 items of the longest prompts, with enough 2-byte characters that the event is `bytes` long. */
  function batchOfBytes(batchId: string, bytes: number) {
    const text = "a paper boat drifting on a calm lake at dawn, ".repeat(60).slice(0, MAX_PROMPT_CHARACTERS);
    const items = Array.from({ length: MAX_BATCH_ITEMS }, () => ({ prompt: text }));
    let missing = bytes - entryBytes({ batchId, items });
    for (const item of items) {
      const twoByte = Math.min(missing, MAX_PROMPT_CHARACTERS);
      item.prompt = text.slice(0, MAX_PROMPT_CHARACTERS - twoByte) + "é".repeat(twoByte);
      missing -= twoByte;
    }
    if (missing !== 0) throw new Error(`cannot fill ${bytes} bytes with ${MAX_BATCH_ITEMS} prompts`);
    const detail = { batchId, items };
    expect(entryBytes(detail)).toBe(bytes);
    return detail;
  }

  it("runs to a summary and one event per item: no state passes 256 KiB", async () => {
    const run = await harness.runBatch(batchOfBytes("largest", PUT_EVENTS_ENTRY_LIMIT_BYTES));
    expect(run.report.error).toBeNull();
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.report.output).toMatchObject({ batchId: "largest", total: MAX_BATCH_ITEMS, succeeded: MAX_BATCH_ITEMS, failed: 0 });
    expect(run.events.filter((event) => event.detailType === BATCH_EVENTS.generated)).toHaveLength(MAX_BATCH_ITEMS);
    expect(run.events.filter((event) => event.detailType === BATCH_EVENTS.completed)).toHaveLength(1);
    // It did press on the limit: the batch's largest state is within a few bytes of it.
    const largest = Math.max(...run.report.events.map((event) => jsonBytes(event.input ?? event.output ?? null)));
    expect(largest).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
    expect(largest).toBeGreaterThan(STATE_PAYLOAD_LIMIT_BYTES - 100);
  }, 300_000);

  it("one byte more is refused as PutEvents refuses it, before any execution starts", async () => {
    await expect(harness.runBatch(batchOfBytes("too-large", PUT_EVENTS_ENTRY_LIMIT_BYTES + 1))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("Total size of the entries in the request is over the limit"),
    });
    expect(await harness.pipeline.executions.describe("batch-too-large-0")).toBeUndefined();
  });
});

describe("a batch is priced before anything is spent", () => {
  const request = { prompt: "a paper boat on a lake", model: "kling-v2-6", mode: "std", duration: "5" } as const;
  const price = priceUnits(request);
  /** Four priced items and two that Validate refuses: those are not priced and do not break the pricing. */
  const items = [request, request, "not a request", request, { prompt: "" }, request];

  it("whose price exceeds what the packs hold less the ledger's reservations starts nothing, and its summary and completion event say why", async () => {
    // Another job holds a reservation: the packs alone (5 prices) would cover the batch (4), less it (2) they cannot.
    const inFlight = "arn:aws:states:us-east-1:000000000000:execution:elsewhere:holding";
    await harness.pipeline.ledger.ready;
    const ledger = harness.pipeline.ledger.ledger;
    expect((await ledger.reserveCredits(inFlight, 2 * price, 100, Date.now())).reserved).toBe(true);
    try {
      const run = await harness.runBatch({ batchId: "too-dear", items }, { units: 5 * price });
      expect(run.report.status).toBe("SUCCEEDED");
      const summary = run.report.output as BatchSummary;
      expect(summary).toMatchObject({
        batchId: "too-dear",
        total: 6,
        succeeded: 0,
        failed: 0,
        items: [],
        units: { reservedUnits: 0, spentUnits: 0 },
        notStarted: {
          errorCode: "Kling.InsufficientCredits",
          itemCount: 6,
          unpricedItems: 2,
          priceUnits: 4 * price,
          onlineUnits: 5 * price,
          reservedUnits: 2 * price,
          availableUnits: 3 * price,
        },
      });
      expect(summary.notStarted?.reason).toContain(`cost ${4 * price} units but only ${3 * price} are available`);
      expect(run.tasksCreated).toBe(0);
      expect(await harness.pipeline.executions.describe("batch-too-dear-0")).toBeUndefined();
      expect(run.events).toEqual([{ source: "kling-pipeline", detailType: BATCH_EVENTS.completed, detail: summary }]);
    } finally {
      await ledger.settleCredits(inFlight);
    }
  }, 60_000);

  it("that fits runs every item; its summary's units reserved and spent are what the simulator charged", async () => {
    const run = await harness.runBatch({ batchId: "fits", items }, { units: 4 * price });
    const summary = run.report.output as BatchSummary;
    expect(summary).toMatchObject({ total: 6, succeeded: 4, failed: 2 });
    expect(summary.notStarted).toBeUndefined();
    // Priced, not waved through: PriceBatch succeeded (its catch-all would run the items too).
    expect(run.report.events.filter((event) => event.stateName === "PriceBatch").map((event) => event.type)).toEqual(["StateEntered", "StateExited"]);
    expect(run.tasksCreated).toBe(4);
    expect(run.unitsCharged).toBe(4 * price);
    expect(summary.units).toEqual({ reservedUnits: 4 * price, spentUnits: run.unitsCharged });
    for (const outcome of summary.items.filter((item) => item.status === "SUCCEEDED")) {
      expect(outcome.units).toEqual({ reservedUnits: price, spentUnits: price });
    }
  }, 60_000);
});
