import * as z from "zod";
import { KlingError } from "../errors";
import { batchRequestSchema } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";

/** The batch request as it arrived, beside the log context the state machine adds. */
const validateBatchEventSchema = z.object({ batch: z.unknown() });

interface ValidatedBatch {
  readonly batchId: string;
  readonly items: readonly unknown[];
}

/**
 * ValidateBatch: checks the batch's own shape (each item is validated by its generation's
 * Validate state, so one bad item never fails the batch). A scheduled run gets its own
 * batch id from the schedule's time, so its items are new executions.
 */
async function validateBatch(event: unknown): Promise<ValidatedBatch> {
  const result = batchRequestSchema.safeParse(parseEvent(validateBatchEventSchema, event, "ValidateBatch").batch);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length === 0 ? "the batch must be an object with batchId and items" : issue.message,
    );
    throw new KlingError("Kling.InvalidRequest", `the batch is not valid: ${problems.join("; ")}`);
  }
  const { batchId, items, scheduledAt } = result.data;
  const runStamp = scheduledAt?.replace(/\D/g, "").slice(0, 12);
  return { batchId: runStamp ? `${batchId.slice(0, 51)}-${runStamp}` : batchId, items };
}

export const handler = observed(validateBatch);
