/**
 * Turns a caught `{Error, Cause}` into the diagnosis of the design: what went wrong,
 * where, whether a retry can ever succeed, and one line for the person who asked for the video.
 */
import * as z from "zod";
import {
  DIAGNOSIS_ACTIONS,
  ERROR_KINDS,
  errorKindOf,
  FAILED_GENERATION_SUGGESTIONS,
  parseErrorMessage,
  UNEXPECTED_ERROR,
} from "../errors";

/** The diagnosis, as the Failed state's Cause carries it and as readers parse it back. */
export const diagnosisSchema = z.object({
  jobId: z.string(),
  errorCode: z.string(),
  errorMessage: z.string(),
  httpStatus: z.number().nullable(),
  klingCode: z.number().nullable(),
  requestId: z.string().nullable(),
  failedState: z.string(),
  recoverable: z.boolean(),
  action: z.enum(DIAGNOSIS_ACTIONS),
  suggestion: z.string(),
});
export type Diagnosis = z.infer<typeof diagnosisSchema>;

export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string | undefined;
}

/** The suggestion for a failed generation, chosen by Kling's reason (the taxonomy's words). */
export function suggestionForFailedGeneration(message: string): string {
  const byReason = FAILED_GENERATION_SUGGESTIONS.find((candidate) => candidate.words.test(message));
  return byReason?.suggestion ?? ERROR_KINDS["Kling.GenerationFailed"].suggestion;
}

/** Lambda reports a function error as a JSON Cause; other failures carry plain text. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return "";
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === "object" && "errorMessage" in parsed && typeof parsed.errorMessage === "string") {
      return parsed.errorMessage;
    }
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return cause;
}

export function diagnose(jobId: string, failedState: string, caught: CaughtError): Diagnosis {
  const { message, httpStatus, klingCode, requestId } = parseErrorMessage(causeMessage(caught.Cause));
  const details = {
    jobId,
    errorCode: caught.Error,
    errorMessage: message,
    httpStatus: httpStatus ?? null,
    klingCode: klingCode ?? null,
    requestId: requestId ?? null,
    failedState,
  };
  const kind = errorKindOf(caught.Error);
  if (!kind) {
    return { ...details, recoverable: UNEXPECTED_ERROR.recoverable, action: UNEXPECTED_ERROR.action, suggestion: UNEXPECTED_ERROR.suggestion(failedState) };
  }
  const suggestion = caught.Error === "Kling.GenerationFailed" ? suggestionForFailedGeneration(message) : kind.suggestion;
  return { ...details, recoverable: kind.recoverable, action: kind.action, suggestion };
}

/** An execution's JSON text (its Cause, its output) parsed, or undefined when it is not JSON. */
export function parseExecutionJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The failed state of a diagnosis made from an execution's outcome alone, which does not say. */
export const UNKNOWN_STATE = "unknown";

/**
 * The diagnosis of a failed execution from its Error and Cause. One that failed without
 * reaching Diagnose (Diagnose itself failed, or Step Functions stopped or timed it out) has a
 * plain Error and Cause: it is diagnosed here the same way, so readers always get one shape.
 */
export function diagnosisOfExecution(executionName: string, error: string | undefined, cause: string | undefined, failedState = UNKNOWN_STATE): Diagnosis {
  const parsed = diagnosisSchema.safeParse(parseExecutionJson(cause));
  if (parsed.success) return parsed.data;
  return diagnose(executionName, failedState, { Error: error ?? "unknown", Cause: cause });
}

/**
 * The failure of an execution StopExecution stopped (ABORTED): `Execution.Stopped` in the
 * taxonomy. Whatever error and cause the stop was given, if any, are kept as the message and
 * never read as an error name: anyone may pass any text to StopExecution.
 */
export function stoppedExecutionFailure(error: string | undefined, cause: string | undefined): CaughtError {
  const given = [error, cause].filter((text) => text !== undefined && text !== "").join(": ");
  return { Error: "Execution.Stopped", Cause: given === "" ? "the execution was stopped (ABORTED) before it finished" : given };
}

/**
 * The diagnosis of an execution that ended without succeeding, from its status, Error and Cause:
 * a stopped one is `Execution.Stopped` whatever text the stop carried; a timed-out one never
 * reached Diagnose and may carry no Error. `failedState`: where its reader saw it fail, when the
 * execution does not say.
 */
export function diagnosisOfEndedExecution(
  executionName: string,
  status: "FAILED" | "TIMED_OUT" | "ABORTED",
  error: string | undefined,
  cause: string | undefined,
  failedState = UNKNOWN_STATE,
): Diagnosis {
  if (status === "ABORTED") return diagnose(executionName, failedState, stoppedExecutionFailure(error, cause));
  if (status === "TIMED_OUT") {
    // The ExecutionTimedOut event's error; a redrive starts the timeout again.
    return diagnosisOfExecution(executionName, error ?? "States.Timeout", cause ?? "the execution ended TIMED_OUT: it ran past its state machine's timeout", failedState);
  }
  return diagnosisOfExecution(executionName, error ?? "States.TaskFailed", cause, failedState);
}
