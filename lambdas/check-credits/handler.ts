import * as z from "zod";
import { KlingError } from "../errors";
import { parseEvent } from "../common/parse-event";
import { logger, observed } from "../observability/logger";
import { recordCreditsRemaining } from "../observability/metrics";
import { generationRequestSchema } from "../schemas/generation-request";
import { priceUnits } from "../schemas/pricing";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { klingApiFrom } from "../common/kling-api";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { cachedOnlineUnits } from "../common/online-units";

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

type CheckCreditsPorts = Pick<HandlerPorts, "kling" | "clock" | "ledger" | "settings">;

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
