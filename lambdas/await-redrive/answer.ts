/**
 * AwaitRedrive: where a recoverable failure ends, so that a redrive retries the work.
 *
 * Redrive resumes an execution at the state that did not exit, with that state's input, and
 * evaluates its Parameters again, so `$$.Execution.RedriveCount` then reads one more than it
 * did when the failure was diagnosed. A Fail state would only fail again; this Task fails the
 * first time (with the diagnosis as Cause, through SendTaskFailure, which sets Error and Cause
 * exactly, unlike a thrown error whose Cause is Lambda's error JSON) and succeeds when
 * resumed, and the workflow goes back to the work that failed.
 */
import * as z from "zod";
import type { TaskResponses } from "../common/task-responses";

export const awaitRedriveEventSchema = z.object({
  taskToken: z.string().min(1),
  /** `$$.Execution.RedriveCount` when Diagnose ran. */
  diagnosedAtRedriveCount: z.number().int().min(0),
  /** `$$.Execution.RedriveCount` now: higher only when a redrive resumed this state. */
  redriveCount: z.number().int().min(0),
  errorCode: z.string().min(1),
  cause: z.string(),
});
export type AwaitRedriveEvent = z.infer<typeof awaitRedriveEventSchema>;

/** The Task's result when a redrive resumed it: an empty record of failures, for the next one. */
const RESUMED_OUTPUT = "{}";

export async function answerAwaitRedrive(event: AwaitRedriveEvent, responses: TaskResponses): Promise<"failed" | "resumed"> {
  if (event.redriveCount > event.diagnosedAtRedriveCount) {
    await responses.succeed(event.taskToken, RESUMED_OUTPUT);
    return "resumed";
  }
  await responses.fail(event.taskToken, event.errorCode, event.cause);
  return "failed";
}
