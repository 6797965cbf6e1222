/**
 * PriceBatch, made by its factory with the ledger on dynalite and a Kling whose account answer
 * each test sets: the batch's price against what the packs hold, and a refusal whose message is
 * the pricing SummarizeNotStarted reads.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { batchPricingSchema } from "#lambdas/batch/batch";
import { settingsFrom } from "#lambdas/common/ports";
import type { KlingApi } from "#lambdas/kling/port";
import type { ResourcePack } from "#lambdas/kling/wire";
import { priceBatchHandler } from "#lambdas/price-batch/handler";
import { priceUnits } from "#lambdas/schemas/pricing";
import { manualClock } from "#local/simulator/test-support";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const clock = manualClock(Date.UTC(2026, 10, 26, 12));
const ITEM = { prompt: "a corgi", model: "kling-v2-6", mode: "std", duration: "5" } as const;
const PRICE = priceUnits({ ...ITEM, sound: "off" });

let packs: readonly ResourcePack[];
const kling: KlingApi = {
  async getResourcePacks() {
    return [...packs];
  },
  getTask: () => Promise.reject(new Error("not used here")),
  createTask: () => Promise.reject(new Error("not used here")),
  findTaskByExternalId: () => Promise.reject(new Error("not used here")),
  listTasks: () => Promise.reject(new Error("not used here")),
};
const pack = (remaining: number): ResourcePack =>
  ({ resource_pack_name: "pack", resource_pack_id: "p-1", resource_pack_type: "decreasing_total", total_quantity: 1000, remaining_quantity: remaining, purchase_time: 0, effective_time: 0, invalid_time: 0, status: "online" }) as ResourcePack;

const priceBatch = () => priceBatchHandler({ clock, settings: settingsFrom({}), kling: async () => kling, ledger: () => dynalite.ledger });

/** The refusal's pricing, as SummarizeNotStarted reads it from the message. */
async function refusalOf(items: unknown[]) {
  const error = await priceBatch()({ items }).then(
    () => undefined,
    (thrown: unknown) => thrown as Error,
  );
  expect(error?.name).toBe("Kling.InsufficientCredits");
  return batchPricingSchema.parse(JSON.parse(error?.message ?? ""));
}

beforeEach(() => {
  packs = [pack(1000)];
});

describe("PriceBatch", () => {
  it("prices the valid items, leaves the invalid ones unpriced, and lets a batch the packs cover run", async () => {
    await expect(priceBatch()({ items: [ITEM, ITEM, { prompt: "" }] })).resolves.toMatchObject({ itemCount: 3, unpricedItems: 1, priceUnits: 2 * PRICE, availableUnits: 1000 });
  });

  it("refuses a batch the packs cannot cover, with the pricing as its message", async () => {
    packs = [pack(PRICE)];
    expect(await refusalOf([ITEM, ITEM])).toMatchObject({ priceUnits: 2 * PRICE, onlineUnits: PRICE, availableUnits: PRICE });
  });
});
