import * as z from "zod";
import { KlingError } from "../errors";
import { parseEvent } from "../common/parse-event";
import type { KlingApi } from "../kling/port";
import { logger, observed } from "../observability/logger";
import { recordCreditsRemaining } from "../observability/metrics";
import type { ResourcePack } from "../kling/wire";
import { generationRequestSchema } from "../schemas/generation-request";
import { priceUnits } from "../schemas/pricing";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { klingApiFrom } from "../common/kling-api";
import { dynamoDbLedgerFrom } from "../ledger/ports";

/** The validated request as it travels in the state; CheckCredits reads only what sets the price. */
const checkCreditsEventSchema = z.object({
  request: generationRequestSchema.pick({ model: true, mode: true, duration: true, sound: true }).strip(),
  /** Absent in executions started before the account ledger was deployed: they reserve nothing. */
  executionArn: z.string().min(1).optional(),
});

interface CreditCheck {
  readonly priceUnits: number;
  /** What the online packs hold, less what the other jobs in flight reserved. */
  readonly availableUnits: number;
}

/** Packs bought up to this long ago can still be online (constant_period packs run for a year). */
const PACK_LOOKBACK_MS = 400 * 24 * 3600 * 1000;

function availableUnits(packs: readonly ResourcePack[]): number {
  return packs.filter((pack) => pack.status === "online").reduce((sum, pack) => sum + pack.remaining_quantity, 0);
}

type CheckCreditsPorts = Pick<HandlerPorts, "kling" | "clock" | "ledger" | "settings">;

/**
 * The account endpoint wants at most one call a second and its figure lags up to 12 hours,
 * so a container reuses a recent answer (for the same client) for a while.
 */
function cachedOnlineUnits({ kling, clock, settings }: CheckCreditsPorts): () => Promise<number> {
  let cached: { kling: KlingApi; units: number; fetchedAt: number } | undefined;
  return async () => {
    const client = await kling();
    const at = clock.now();
    const maxAgeMs = settings.creditCacheSeconds() * 1000;
    if (cached && cached.kling === client && at - cached.fetchedAt < maxAgeMs) return cached.units;
    const packs = await client.getResourcePacks({ startTime: at - PACK_LOOKBACK_MS, endTime: at });
    cached = { kling: client, units: availableUnits(packs), fetchedAt: at };
    return cached.units;
  };
}

/**
 * CheckCredits: prices the request and reserves the price in the account ledger against what
 * the online resource packs hold less what the jobs in flight reserved, so concurrent jobs never
 * jointly count on the same units; stops the job before anything is spent when that cannot pay.
 * The reservation is settled when the task ends or the job fails (lambdas/ledger/slots.ts).
 * Advisory all the same: the create call's answer (1101/1102) is the final word.
 */
export function checkCreditsHandler(ports: CheckCreditsPorts) {
  const onlineUnits = cachedOnlineUnits(ports);
  return observed(async (event: unknown): Promise<CreditCheck> => {
    const { request, executionArn } = parseEvent(checkCreditsEventSchema, event, "CheckCredits");
    const price = priceUnits(request);
    const online = await onlineUnits();
    recordCreditsRemaining(online);
    const reservation =
      executionArn === undefined ? { reserved: online >= price, reservedByOthers: 0 } : await ports.ledger().reserveCredits(executionArn, price, online, ports.clock.now());
    const available = online - reservation.reservedByOthers;
    logger().info("credits checked", { priceUnits: price, onlineUnits: online, reservedByOthers: reservation.reservedByOthers });
    if (!reservation.reserved) {
      const others = reservation.reservedByOthers > 0 ? `, ${reservation.reservedByOthers} of them reserved by jobs in flight` : "";
      throw new KlingError(
        "Kling.InsufficientCredits",
        `this video costs ${price} units but the online resource packs hold ${online}${others} (Kling's figure can lag up to 12 hours)`,
      );
    }
    return { priceUnits: price, availableUnits: available };
  });
}

export const handler = checkCreditsHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
});
