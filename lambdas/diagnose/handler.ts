import * as z from "zod";
import { logger, observed } from "../observability/logger";
import { recordGenerationFailed } from "../observability/metrics";
import { answerAwaitRedrive, awaitRedriveEventSchema } from "./await-redrive";
import { diagnose, type Diagnosis } from "./diagnosis";
import { taskResponses } from "./task-responses";

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

/** What AwaitRedrive's invocation returns; the Task's own outcome went through its task token. */
export interface AwaitRedriveResult {
  readonly answered: "failed" | "resumed";
}

/** Diagnose: records why a job failed. It never throws: a diagnosis is the job's last word. */
async function diagnoseFailure(event: unknown): Promise<DiagnoseResult | AwaitRedriveResult> {
  // This function also serves AwaitRedrive (lib/generation-workflow.ts): its event carries a task token.
  const awaiting = awaitRedriveEventSchema.safeParse(event);
  if (awaiting.success) return { answered: await answerAwaitRedrive(awaiting.data, taskResponses()) };
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
