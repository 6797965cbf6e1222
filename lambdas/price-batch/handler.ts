/**
 * PriceBatch: prices every item with the defaults and rules Validate applies (the same
 * configuration) from the one pricing table, and holds the total against what the online
 * resource packs hold (Kling's `GET /account/costs`, as CheckCredits reads them) less what the
 * ledger's reservations hold. Too dear, it throws `Kling.InsufficientCredits` whose message is the
 * pricing as JSON, and the batch starts nothing. An item Validate would refuse is not priced: it
 * fails alone later, in its own generation, and costs nothing. Advisory, not a reservation of the
 * whole batch: each item still reserves its own price in CheckCredits.
 */
import * as z from "zod";
import type { BatchPricing } from "../batch/batch";
import { wallClock } from "../common/clock";
import { klingAccountFrom } from "../common/kling-api";
import { cachedOnlineUnits } from "../common/online-units";
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import type { KlingAccount } from "../kling/port";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { logger, observed } from "../observability/logger";
import { priceUnits, sumUnits } from "../schemas/pricing";
import { validateGenerationRequest } from "../schemas/validation";

const priceBatchEventSchema = z.object({ items: z.array(z.unknown()) });

/** Too dear: its message is the pricing as JSON, nothing else, which SummarizeNotStarted reads back. */
class BatchTooDear extends Error {
  override readonly name = "Kling.InsufficientCredits";
}

/** It reads only the account's packs of Kling (the legacy client's account endpoint, shared by both standards). */
type PriceBatchPorts = Pick<HandlerPorts, "clock" | "ledger" | "settings"> & { readonly kling: () => Promise<KlingAccount> };

export function priceBatchHandler(ports: PriceBatchPorts) {
  const onlineUnits = cachedOnlineUnits(ports);
  return observed((event: unknown) => priceBatch(ports, onlineUnits, event));
}

async function priceBatch(ports: PriceBatchPorts, onlineUnits: () => Promise<number>, event: unknown): Promise<BatchPricing> {
  const { items } = parseEvent(priceBatchEventSchema, event, "PriceBatch");
  const validate = ports.settings.validate();
  const prices = items.flatMap((item) => {
    const result = validateGenerationRequest(item, validate);
    return result.ok ? [priceUnits(result.request)] : [];
  });
  const price = sumUnits(prices);
  const [online, holdings] = await Promise.all([onlineUnits(), ports.ledger().holdings()]);
  const available = sumUnits([online, -holdings.reservedUnits]);
  const affordable = price <= available;
  const reserved = holdings.reservedUnits > 0 ? ` less ${holdings.reservedUnits} reserved by jobs in flight` : "";
  const reason = affordable
    ? `the batch's ${prices.length} valid items cost ${price} units; ${available} are available`
    : `the batch's ${prices.length} valid items cost ${price} units but only ${available} are available (the online resource packs hold ${online}${reserved}); nothing was started`;
  const pricing: BatchPricing = {
    itemCount: items.length,
    priceUnits: price,
    availableUnits: available,
    onlineUnits: online,
    reservedUnits: holdings.reservedUnits,
    unpricedItems: items.length - prices.length,
    reason,
  };
  logger().info("batch priced", { ...pricing });
  if (!affordable) throw new BatchTooDear(JSON.stringify(pricing));
  return pricing;
}

export const handler = priceBatchHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingAccountFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
});
