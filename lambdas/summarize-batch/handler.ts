import * as z from "zod";
import { batchPricingSchema, summarizeBatch, summarizeNotStarted, type BatchSummary, type ItemOutcome } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { causeMessage, parseExecutionJson } from "../diagnose/diagnosis";
import { observed } from "../observability/logger";

const summarizeEventSchema = z.union([
  z.object({
    batchId: z.string(),
    items: z.array(
      z
        .object({
          index: z.number().int(),
          executionName: z.string(),
          status: z.enum(["SUCCEEDED", "FAILED", "DUPLICATE"]),
        })
        .loose(),
    ),
  }),
  /** A batch PriceBatch refused: the caught error, whose message is the pricing as JSON. */
  z.object({ batchId: z.string(), notStarted: z.object({ Error: z.string(), Cause: z.string() }) }),
]);

/** SummarizeBatch: the batch's counts, units and every item's outcome in item order; or why it started nothing. */
async function summarize(event: unknown): Promise<BatchSummary> {
  const parsed = parseEvent(summarizeEventSchema, event, "SummarizeBatch");
  if ("items" in parsed) return summarizeBatch(parsed.batchId, parsed.items as ItemOutcome[]);
  const { Error: errorCode, Cause } = parsed.notStarted;
  const pricing = batchPricingSchema.safeParse(parseExecutionJson(causeMessage(Cause)));
  if (!pricing.success) throw new Error(`the batch started nothing with ${errorCode}, whose cause is not the batch's pricing: ${Cause.slice(0, 500)}`);
  return summarizeNotStarted(parsed.batchId, { errorCode, ...pricing.data });
}

export const handler = observed(summarize);
