/**
 * One pass over the failed generations: what to do with each (redrive it, leave it to an
 * operator, or report it can never succeed or cannot be redriven), and doing it. Shared by
 * `npm start -- redrive` and the scheduled redrive Lambda; they differ in what they redrive.
 */
import { diagnosisOfExecution, type Diagnosis } from "../diagnose/diagnosis";
import type { FailedExecution, FailedExecutions } from "./failed-executions";

export type RedriveResultKind = "redriven" | "would-redrive" | "needs-operator" | "unrecoverable" | "not-redrivable";

export interface RedriveResult {
  readonly kind: RedriveResultKind;
  readonly execution: FailedExecution;
  readonly diagnosis: Diagnosis;
  /** Why Step Functions will not redrive it (kind not-redrivable). */
  readonly reason?: string;
}

interface RedrivePolicy {
  /** Executions started before this are left alone. */
  readonly since: Date;
  /** List what would be redriven; redrive nothing. */
  readonly dryRun: boolean;
  /** Which recoverable failures to redrive; the others wait for an operator (kind needs-operator). */
  readonly redrives: (diagnosis: Diagnosis) => boolean;
}

/** An operator redrives every recoverable failure: they fixed what it needed first. */
export const EVERY_RECOVERABLE = (diagnosis: Diagnosis): boolean => diagnosis.recoverable;
/** A schedule redrives only what needs no one: credentials and credits wait for an operator. */
export const NEEDS_NO_OPERATOR = (diagnosis: Diagnosis): boolean => diagnosis.recoverable && diagnosis.action === "retry-later";

function diagnosisOfFailure(execution: FailedExecution): Diagnosis {
  // A timed-out execution never reached Diagnose and may carry no Error; a redrive resets its timeout.
  const error = execution.error ?? (execution.status === "TIMED_OUT" ? "States.Timeout" : undefined);
  return diagnosisOfExecution(execution.name, error, execution.cause);
}

/** Decides, and unless dry-running redrives, each execution in turn. */
export async function* redriveFailedExecutions(executions: FailedExecutions, policy: RedrivePolicy): AsyncIterable<RedriveResult> {
  for await (const execution of executions.list(policy.since)) {
    const diagnosis = diagnosisOfFailure(execution);
    if (execution.notRedrivableReason !== undefined) {
      yield { kind: "not-redrivable", execution, diagnosis, reason: execution.notRedrivableReason };
    } else if (!diagnosis.recoverable) {
      yield { kind: "unrecoverable", execution, diagnosis };
    } else if (!policy.redrives(diagnosis)) {
      yield { kind: "needs-operator", execution, diagnosis };
    } else if (policy.dryRun) {
      yield { kind: "would-redrive", execution, diagnosis };
    } else {
      const outcome = await executions.redrive(execution.arn);
      yield outcome.kind === "redriven"
        ? { kind: "redriven", execution, diagnosis }
        : { kind: "not-redrivable", execution, diagnosis, reason: outcome.reason };
    }
  }
}

export type RedriveTally = Record<RedriveResultKind, number>;

export function emptyTally(): RedriveTally {
  return { redriven: 0, "would-redrive": 0, "needs-operator": 0, unrecoverable: 0, "not-redrivable": 0 };
}
