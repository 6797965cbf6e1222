import * as z from "zod";
import { type CaughtError, diagnose, diagnosisOfEndedExecution, parseExecutionJson, type Diagnosis } from "../diagnose/diagnosis";
import { BATCH_EVENTS, type BatchUnits, type ItemOutcome, MAX_DIAGNOSIS_MESSAGE_BYTES } from "../batch/batch";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";

/** The state whose failure the batch diagnoses when the child's own diagnosis is missing. */
const STATE_NAME = "StartGeneration";

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

export interface RecordedItem {
  readonly detailType: string;
  readonly detail: ItemOutcome & { readonly batchId: string };
}

/**
 * What `states:startExecution.sync:2` puts in the Cause when the child did not succeed: the
 * child's DescribeExecution, whatever its status. `Error` and `Cause` are there only when the
 * child has them: a FAILED child's from its Fail state, an ABORTED one's from StopExecution
 * (often none), a TIMED_OUT one never.
 */
const describedChildSchema = z.object({
  Status: z.enum(["FAILED", "TIMED_OUT", "ABORTED"]),
  Error: z.string().optional(),
  Cause: z.string().optional(),
});

/**
 * A child that failed reports `States.TaskFailed` with its DescribeExecution as Cause; the
 * generation workflow's own Cause inside it is the diagnosis. Anything else is diagnosed here.
 */
function diagnosisOf(executionName: string, failure: CaughtError): Diagnosis {
  const child = describedChildSchema.safeParse(parseExecutionJson(failure.Cause));
  if (!child.success) return diagnose(executionName, STATE_NAME, failure);
  return diagnosisOfEndedExecution(executionName, child.data.Status, child.data.Error, child.data.Cause, STATE_NAME);
}

/** The diagnosis with its errorMessage cut to MAX_DIAGNOSIS_MESSAGE_BYTES (Kling's or Validate's text can be long). */
function bounded(diagnosis: Diagnosis): Diagnosis {
  const bytes = (text: string) => Buffer.byteLength(JSON.stringify(text), "utf8");
  if (bytes(diagnosis.errorMessage) <= MAX_DIAGNOSIS_MESSAGE_BYTES) return diagnosis;
  const characters = [...diagnosis.errorMessage];
  let kept = Math.min(characters.length, MAX_DIAGNOSIS_MESSAGE_BYTES);
  while (kept > 0 && bytes(`${characters.slice(0, kept).join("")}…`) > MAX_DIAGNOSIS_MESSAGE_BYTES) kept -= 1;
  return { ...diagnosis, errorMessage: `${characters.slice(0, kept).join("")}…` };
}

/** What the generation reserved in CheckCredits and what Kling charged (Poll settled it): read from the child's output, when it says. */
const childUnitsSchema = z.object({
  credits: z.object({ priceUnits: z.number() }),
  task: z.object({ unitsSpent: z.number() }),
});

function unitsOf(output: unknown): { units?: BatchUnits } {
  const units = childUnitsSchema.safeParse(output);
  return units.success ? { units: { reservedUnits: units.data.credits.priceUnits, spentUnits: units.data.task.unitsSpent } } : {};
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
    const diagnosis = bounded(diagnosisOf(executionName, failure ?? { Error: "States.Runtime", Cause: "no outcome was recorded" }));
    return { detailType: BATCH_EVENTS.failed, detail: { ...base, status: "FAILED", diagnosis } };
  }
  // An execution of a definition from before Archive (a redrive keeps its definition) has no archive.
  const url = z
    .object({
      task: z.object({ video: z.object({ url: z.string() }) }),
      archive: z.object({ bucket: z.string(), video: z.object({ key: z.string() }) }).optional(),
    })
    .safeParse(execution.output);
  if (!url.success) {
    const diagnosis = diagnose(executionName, STATE_NAME, { Error: "States.Runtime", Cause: "the generation succeeded without a video URL" });
    return { detailType: BATCH_EVENTS.failed, detail: { ...base, status: "FAILED", diagnosis } };
  }
  const { task, archive } = url.data;
  return {
    detailType: BATCH_EVENTS.generated,
    detail: {
      ...base,
      status: "SUCCEEDED",
      videoUrl: task.video.url,
      ...(archive ? { videoBucket: archive.bucket, videoKey: archive.video.key } : {}),
      ...unitsOf(execution.output),
    },
  };
}

export const handler = observed(recordItemOutcome);
