import * as z from "zod";
import { logger, observed } from "../observability/logger";
import { recordGenerationFailed } from "../observability/metrics";
import { diagnose, type Diagnosis } from "./diagnosis";

/**
 * The Catch of every task writes `{Error, Cause}` under `$.failure.<state name>`, so the one
 * key of `failure` says which state failed.
 */
const diagnoseEventSchema = z.object({
  jobId: z.string(),
  failure: z.record(z.string(), z.object({ Error: z.string(), Cause: z.string().optional() })),
});

/**
 * What the workflow reads: the error name and the diagnosis as JSON (the execution's Error and
 * Cause), and where the failure happened and whether a redrive can fix it (the routing).
 */
export interface DiagnoseResult {
  readonly errorCode: string;
  readonly cause: string;
  readonly failedState: string;
  readonly recoverable: boolean;
}

/**
 * Before AwaitRedrive had a function of its own, its Task invoked this one with a task token.
 * A redrive keeps an execution's definition, so an execution of such a definition that reaches
 * AwaitRedrive again (redriven, or failing now) still invokes this function, which may not
 * answer a token. Rather than leave the Task to time out (States.Timeout, which a scheduled
 * redrive would retry for as long as the execution can be redriven), it fails the Task at once,
 * with the diagnosis, under a name no redrive retries.
 */
const olderAwaitRedriveEventSchema = z.object({ taskToken: z.string(), errorCode: z.string(), cause: z.string() });

function notResumable({ errorCode, cause }: z.infer<typeof olderAwaitRedriveEventSchema>): Error {
  const error = new Error(
    `this execution's definition predates AwaitRedrive's own function, so a redrive cannot resume it: start the request again. It failed with ${errorCode}: ${cause}`,
  );
  error.name = "AwaitRedrive.NotResumable";
  return error;
}

/** Diagnose: records why a job failed. It never throws for a failure: a diagnosis is the job's last word. */
async function diagnoseFailure(event: unknown): Promise<DiagnoseResult> {
  const older = olderAwaitRedriveEventSchema.safeParse(event);
  if (older.success) throw notResumable(older.data);
  const parsed = diagnoseEventSchema.safeParse(event);
  const diagnosis = parsed.success
    ? diagnoseEvent(parsed.data)
    : diagnose("unknown", "unknown", { Error: "States.Runtime", Cause: "Diagnose received an event it cannot read" });
  logger().error("generation failed", { diagnosis });
  recordGenerationFailed(diagnosis);
  // Serialized here rather than with States.JsonToString: the local engine strips every
  // backslash from an intrinsic's result, which breaks any message holding a quote.
  return {
    errorCode: diagnosis.errorCode,
    cause: JSON.stringify(diagnosis),
    failedState: diagnosis.failedState,
    recoverable: diagnosis.recoverable,
  };
}

function diagnoseEvent({ jobId, failure }: z.infer<typeof diagnoseEventSchema>): Diagnosis {
  const [entry] = Object.entries(failure);
  if (!entry) return diagnose(jobId, "unknown", { Error: "States.Runtime", Cause: "no failure was recorded" });
  const [failedState, caught] = entry;
  return diagnose(jobId, failedState, caught);
}

export const handler = observed(diagnoseFailure);
