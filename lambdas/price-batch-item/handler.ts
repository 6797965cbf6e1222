/**
 * PriceItem: one batch item's price, with the defaults and rules Validate applies (the same
 * configuration), from the one pricing table. An item Validate would refuse is not priced (null):
 * it fails alone later, in its own generation, and costs nothing.
 */
import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";
import { priceUnits } from "../schemas/pricing";
import { validateGenerationRequest } from "../schemas/validation";
import { readValidateConfig } from "../validate/config";

const priceItemEventSchema = z.object({ item: z.unknown() });

async function priceItem(event: unknown): Promise<number | null> {
  const { item } = parseEvent(priceItemEventSchema, event, "PriceItem");
  const result = validateGenerationRequest(item, readValidateConfig(process.env));
  return result.ok ? priceUnits(result.request) : null;
}

export const handler = observed(priceItem);
