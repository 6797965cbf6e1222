import * as z from "zod";
import { summarizeBatch, type BatchSummary, type ItemOutcome } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";

const summarizeEventSchema = z.object({
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
});

/** SummarizeBatch: the batch's counts and every item's outcome, in item order. */
async function summarize(event: unknown): Promise<BatchSummary> {
  const { batchId, items } = parseEvent(summarizeEventSchema, event, "SummarizeBatch");
  return summarizeBatch(batchId, items as ItemOutcome[]);
}

export const handler = observed(summarize);
