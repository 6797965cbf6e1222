import * as z from "zod";
import { KlingError } from "../errors";
import { batchHeaderSchema, NOT_SCHEDULED } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";

/** What the state machine sends: the batch's id, its item count, its schedule time, beside the log context. */
const validateBatchEventSchema = z.object({ batch: z.unknown() });

/**
 * ValidateBatch: checks the batch's own shape (each item is validated by its generation's
 * Validate state, so one bad item never fails the batch) and returns the id its items run
 * under. A scheduled run gets its own batch id from the schedule's time, so its items are new
 * executions.
 */
async function validateBatch(event: unknown): Promise<string> {
  const result = batchHeaderSchema.safeParse(parseEvent(validateBatchEventSchema, event, "ValidateBatch").batch);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length === 0 ? "the batch must be an object with batchId and items" : issue.message,
    );
    throw new KlingError("Kling.InvalidRequest", `the batch is not valid: ${problems.join("; ")}`);
  }
  const { batchId, scheduledAt } = result.data;
  const runStamp = scheduledAt === NOT_SCHEDULED ? "" : scheduledAt.replace(/\D/g, "").slice(0, 12);
  return runStamp ? `${batchId.slice(0, 51)}-${runStamp}` : batchId;
}

export const handler = observed(validateBatch);
