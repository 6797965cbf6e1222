import * as z from "zod";
import { diagnose, diagnosisSchema, type Diagnosis } from "../diagnose/diagnosis";
import { BATCH_EVENTS, type ItemOutcome } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";

const batchItemSchema = z.object({
  batchId: z.string(),
  index: z.number().int().min(0),
  executionName: z.string(),
  /** The finished child execution (startExecution.sync:2): its output is JSON already. */
  execution: z.object({ output: z.unknown() }).optional(),
  /** The caught error when the child failed, timed out, or could not start. */
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});

/** The Map iteration's state, beside the log context the state machine adds. */
const recordItemEventSchema = z.object({ item: batchItemSchema });

interface RecordedItem {
  readonly detailType: string;
  readonly detail: ItemOutcome & { readonly batchId: string };
}

const describeSchema = z.object({ Error: z.string().optional(), Cause: z.string().optional() });

/**
 * A child that failed reports `States.TaskFailed` with its DescribeExecution as Cause; the
 * generation workflow's own Cause inside it is the diagnosis. Anything else is diagnosed here.
 */
function diagnosisOf(executionName: string, failure: { Error: string; Cause?: string | undefined }): Diagnosis {
  try {
    const described = describeSchema.parse(JSON.parse(failure.Cause ?? ""));
    const parsed = diagnosisSchema.safeParse(JSON.parse(described.Cause ?? ""));
    if (parsed.success) return parsed.data;
    return diagnose(executionName, "StartGeneration", { Error: described.Error ?? failure.Error, Cause: described.Cause });
  } catch {
    return diagnose(executionName, "StartGeneration", failure);
  }
}

/** RecordItemOutcome: one batch item's outcome, and the event that announces it. */
async function recordItemOutcome(event: unknown): Promise<RecordedItem> {
  const { item } = parseEvent(recordItemEventSchema, event, "RecordItemOutcome");
  const { batchId, index, executionName, execution, failure } = item;
  const base = { batchId, index, executionName };
  if (failure && /ExecutionAlreadyExists/.test(failure.Error)) {
    return { detailType: BATCH_EVENTS.skipped, detail: { ...base, status: "DUPLICATE" } };
  }
  if (failure || !execution) {
    const diagnosis = diagnosisOf(executionName, failure ?? { Error: "States.Runtime", Cause: "no outcome was recorded" });
    return { detailType: BATCH_EVENTS.failed, detail: { ...base, status: "FAILED", diagnosis } };
  }
  const url = z.object({ task: z.object({ video: z.object({ url: z.string() }) }) }).safeParse(execution.output);
  if (!url.success) {
    const diagnosis = diagnose(executionName, "StartGeneration", { Error: "States.Runtime", Cause: "the generation succeeded without a video URL" });
    return { detailType: BATCH_EVENTS.failed, detail: { ...base, status: "FAILED", diagnosis } };
  }
  return { detailType: BATCH_EVENTS.generated, detail: { ...base, status: "SUCCEEDED", videoUrl: url.data.task.video.url } };
}

export const handler = observed(recordItemOutcome);
