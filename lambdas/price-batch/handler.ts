/**
 * CheckBatchCredits: adds up the prices PriceItem found and holds them against what the online
 * resource packs hold (Kling's `GET /account/costs`, as CheckCredits reads them) less what the
 * ledger's reservations hold. Advisory, not a reservation of the whole batch: each item still
 * reserves its own price in CheckCredits, so concurrent work can still stop a later item there.
 */
import * as z from "zod";
import type { BatchPricing } from "../batch/batch";
import { wallClock } from "../common/clock";
import { klingApiFrom } from "../common/kling-api";
import { cachedOnlineUnits } from "../common/online-units";
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { logger, observed } from "../observability/logger";

/** Each item's price, in item order; null for an item Validate would refuse. */
const checkBatchCreditsEventSchema = z.object({ prices: z.array(z.number().min(0).nullable()) });

export interface BatchCreditCheck {
  readonly affordable: boolean;
  /** The pricing as JSON: the Cause of the batch's Kling.InsufficientCredits when it is not affordable. */
  readonly pricing: string;
}

type CheckBatchCreditsPorts = Pick<HandlerPorts, "kling" | "clock" | "ledger" | "settings">;

export function checkBatchCreditsHandler(ports: CheckBatchCreditsPorts) {
  const onlineUnits = cachedOnlineUnits(ports);
  return observed((event: unknown) => checkBatchCredits(ports, onlineUnits, event));
}

async function checkBatchCredits(ports: CheckBatchCreditsPorts, onlineUnits: () => Promise<number>, event: unknown): Promise<BatchCreditCheck> {
  const { prices } = parseEvent(checkBatchCreditsEventSchema, event, "CheckBatchCredits");
  const priced = prices.filter((price): price is number => price !== null);
  const price = Math.round(priced.reduce((sum, units) => sum + units, 0) * 100) / 100;
  const [online, holdings] = await Promise.all([onlineUnits(), ports.ledger().holdings()]);
  const available = Math.round((online - holdings.reservedUnits) * 100) / 100;
  const affordable = price <= available;
  const reserved = holdings.reservedUnits > 0 ? ` less ${holdings.reservedUnits} reserved by jobs in flight` : "";
  const reason = affordable
    ? `the batch's ${priced.length} valid items cost ${price} units; ${available} are available`
    : `the batch's ${priced.length} valid items cost ${price} units but only ${available} are available (the online resource packs hold ${online}${reserved}); nothing was started`;
  const pricing: BatchPricing = {
    itemCount: prices.length,
    priceUnits: price,
    availableUnits: available,
    onlineUnits: online,
    reservedUnits: holdings.reservedUnits,
    unpricedItems: prices.length - priced.length,
    reason,
  };
  logger().info("batch priced", { ...pricing });
  return { affordable, pricing: JSON.stringify(pricing) };
}

export const handler = checkBatchCreditsHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
});
