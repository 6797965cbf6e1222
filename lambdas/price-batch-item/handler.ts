/**
 * PriceItem: one batch item's price, with the defaults and rules Validate applies (the same
 * configuration), from the one pricing table. An item Validate would refuse is not priced (null):
 * it fails alone later, in its own generation, and costs nothing.
 */
import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { observed } from "../observability/logger";
import { priceUnits } from "../schemas/pricing";
import { validateGenerationRequest } from "../schemas/validation";

const priceItemEventSchema = z.object({ item: z.unknown() });

export function priceItemHandler({ settings }: Pick<HandlerPorts, "settings">) {
  return observed(async (event: unknown): Promise<number | null> => {
    const { item } = parseEvent(priceItemEventSchema, event, "PriceItem");
    const result = validateGenerationRequest(item, settings.validate());
    return result.ok ? priceUnits(result.request) : null;
  });
}

export const handler = priceItemHandler({ settings: settingsFrom(process.env) });
