/**
 * Turns a caught `{Error, Cause}` into the diagnosis of ARCHITECTURE.md: what went wrong,
 * where, whether a retry can ever succeed, and one line for the person who asked for the video.
 */
import * as z from "zod";
import { DIAGNOSIS_ACTIONS, ERROR_KINDS, isKlingErrorName, parseErrorMessage, type KlingErrorName } from "../errors";

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

/** Step Functions and Lambda failures that are not Kling's: passing faults of the platform. */
const PLATFORM_TRANSIENT = /^(States\.Timeout|States\.HeartbeatTimeout|Sandbox\.Timedout|Lambda\.)/;

/** The one line the person who asked for the video reads, by error name. */
export const SUGGESTIONS: Record<Exclude<KlingErrorName, "Kling.GenerationFailed">, string> = {
  "Kling.RateLimited": "Kling is busy right now; retry later.",
  "Kling.ServerError": "Kling had a temporary problem; retry later.",
  "Kling.AuthFailed": "The pipeline's Kling credentials were refused or missing; an operator must fix the secret, then retry.",
  "Kling.InsufficientCredits": "The Kling account has too few units for this video; buy a resource pack, then retry.",
  "Kling.AccountSuspended": "Kling reports the account as abnormal; contact Kling support.",
  "Kling.Forbidden": "The Kling plan does not allow this model or API, or this IP; choose another model or contact Kling.",
  "Kling.ContentPolicy": "The prompt or image was refused by a content policy; change the prompt.",
  "Kling.InvalidRequest": "The request is not valid; fix what the message names and send it again.",
  "Kling.PollTimeout": "The video was not ready in time; retry with a shorter duration or a simpler prompt.",
  "Kling.QueueTimeout": "Too many videos were waiting for Kling; nothing was spent, retry later.",
};

/** The seed's suggestions for a failed generation, chosen by Kling's reason. */
export function suggestionForFailedGeneration(message: string): string {
  if (/time ?out|timed out/i.test(message)) return "Generation timed out; try a shorter duration or a simpler prompt.";
  if (/content|safety|sensitive|policy/i.test(message)) return "The content was refused; change the prompt.";
  if (/complex/i.test(message)) return "The scene was too complex; try a simpler scene with fewer subjects and less motion.";
  return "Kling could not generate this video; try again, or simplify the prompt.";
}

/** Lambda reports a function error as a JSON Cause; other failures carry plain text. */
function causeMessage(cause: string | undefined): string {
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
  if (isKlingErrorName(caught.Error)) {
    const kind = ERROR_KINDS[caught.Error];
    const suggestion =
      caught.Error === "Kling.GenerationFailed" ? suggestionForFailedGeneration(message) : SUGGESTIONS[caught.Error];
    return { ...details, recoverable: kind.recoverable, action: kind.action, suggestion };
  }
  if (PLATFORM_TRANSIENT.test(caught.Error)) {
    return {
      ...details,
      recoverable: true,
      action: "retry-later",
      suggestion: "The pipeline hit a passing AWS fault; retry later.",
    };
  }
  return {
    ...details,
    recoverable: false,
    action: "contact-support",
    suggestion: `The pipeline failed unexpectedly in ${failedState}; report the job id to the operators.`,
  };
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

/**
 * The diagnosis of a failed execution from its Error and Cause. One that failed without
 * reaching Diagnose (Diagnose itself failed, or Step Functions stopped or timed it out) has a
 * plain Error and Cause: it is diagnosed here the same way, so readers always get one shape.
 */
export function diagnosisOfExecution(executionName: string, error: string | undefined, cause: string | undefined): Diagnosis {
  const parsed = diagnosisSchema.safeParse(parseExecutionJson(cause));
  if (parsed.success) return parsed.data;
  return diagnose(executionName, "unknown", { Error: error ?? "unknown", Cause: cause });
}
