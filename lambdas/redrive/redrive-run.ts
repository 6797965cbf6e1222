/**
 * One pass over the failed generations: what to do with each (redrive it, leave it to an
 * operator, or report it can never succeed or cannot be redriven), and doing it. Shared by
 * `npm start -- redrive` and the scheduled redrive Lambda; they differ in what they redrive.
 */
import { diagnosisOfEndedExecution, type Diagnosis } from "../diagnose/diagnosis";
import { errorKindOf } from "../errors";
import type { FailedExecution, FailedExecutions } from "./failed-executions";

export type RedriveResultKind = "redriven" | "would-redrive" | "needs-operator" | "unrecoverable" | "not-redrivable";

export interface RedriveResult {
  readonly kind: RedriveResultKind;
  readonly execution: FailedExecution;
  readonly diagnosis: Diagnosis;
  /** Why Step Functions will not redrive it (not-redrivable), or why it is left to an operator (needs-operator). */
  readonly reason?: string;
}

/** Whether a recoverable failure is redriven now, or why it is left to an operator. */
type RedriveDecision = { readonly redrive: true } | { readonly redrive: false; readonly reason: string };

export const REDRIVE: RedriveDecision = { redrive: true };

export interface RedrivePolicy {
  /** Executions started before this are left alone. */
  readonly since: Date;
  /** List what would be redriven; redrive nothing. */
  readonly dryRun: boolean;
  /** Decides each recoverable failure that Step Functions would redrive, just before it is redriven. */
  readonly decide: (execution: FailedExecution, diagnosis: Diagnosis) => Promise<RedriveDecision>;
}

/**
 * The schedule redrives only a failure that passes by itself (the taxonomy says which: never a
 * failed generation, whose redrive pays for a new task and may fail the same way), and one
 * execution at most `maxRedrives` times in all: past that, a failure that keeps coming back
 * waits for an operator.
 */
export function scheduledRedriveDecision(maxRedrives: number): RedrivePolicy["decide"] {
  return async (execution, diagnosis) => {
    if (!errorKindOf(diagnosis.errorCode)?.passesByItself) {
      return { redrive: false, reason: `${diagnosis.errorCode} does not pass by itself: an operator redrives it (npm start -- redrive)` };
    }
    if (execution.redriveCount >= maxRedrives) {
      return { redrive: false, reason: `redriven ${execution.redriveCount} times already, the schedule's most (maxScheduledRedrives ${maxRedrives})` };
    }
    return REDRIVE;
  };
}

function diagnosisOfFailure(execution: FailedExecution): Diagnosis {
  return diagnosisOfEndedExecution(execution.name, execution.status, execution.error, execution.cause);
}

/** Decides, and unless dry-running redrives, each execution in turn. */
export async function* redriveFailedExecutions(executions: FailedExecutions, policy: RedrivePolicy): AsyncIterable<RedriveResult> {
  for await (const execution of executions.list(policy.since)) {
    const diagnosis = diagnosisOfFailure(execution);
    if (execution.notRedrivableReason !== undefined) {
      yield { kind: "not-redrivable", execution, diagnosis, reason: execution.notRedrivableReason };
      continue;
    }
    if (!diagnosis.recoverable) {
      yield { kind: "unrecoverable", execution, diagnosis };
      continue;
    }
    const decision = await policy.decide(execution, diagnosis);
    if (!decision.redrive) {
      yield { kind: "needs-operator", execution, diagnosis, reason: decision.reason };
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
