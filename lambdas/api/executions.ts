/**
 * The API's view of the generation state machine's executions: a port with one adapter on
 * AWS (client-sfn, sfn-executions.ts) and one on this machine (the local engine), so the
 * same handler serves both.
 */

export const EXECUTION_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface ExecutionDescription {
  readonly name: string;
  readonly status: ExecutionStatus;
  /** The execution's input, as the JSON text it was started with. */
  readonly input: string;
  /** The output JSON text, once SUCCEEDED. */
  readonly output?: string | undefined;
  /** The Fail state's Error and Cause, once FAILED. */
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
}

export type StartOutcome =
  /** Started now, or the running execution with this name and this same input (Step Functions' idempotency). */
  | { readonly kind: "started"; readonly name: string }
  /** An execution with this name exists already (closed, or with another input): ExecutionAlreadyExists. */
  | { readonly kind: "exists"; readonly name: string };

export interface GenerationExecutions {
  start(name: string, input: string): Promise<StartOutcome>;
  /** Undefined when no execution has this name. */
  describe(name: string): Promise<ExecutionDescription | undefined>;
}
