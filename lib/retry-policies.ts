/**
 * The retry policies of the generation workflow: each declared once here and applied to the
 * states by name, so the console's Retry blocks and this table can never disagree.
 * Which errors each policy retries is the taxonomy's call (lambdas/errors/taxonomy.ts): every
 * name whose retry class is the policy's.
 */
import { Duration } from "aws-cdk-lib";
import { JitterType, type RetryProps, type TaskStateBase } from "aws-cdk-lib/aws-stepfunctions";
import { errorNamesRetriedAs } from "../lambdas/errors/taxonomy";

/** How Kling's 429s are backed off: exponentially from 2 s, full jitter, capped at 60 s. */
const RATE_LIMIT_BACKOFF = {
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxDelay: Duration.seconds(60),
  maxAttempts: 6,
  jitterStrategy: JitterType.FULL,
} as const;

export const RETRY_POLICIES = {
  /** Lambda's own passing faults, on every task. */
  lambdaService: {
    errors: errorNamesRetriedAs("lambda-service"),
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxDelay: Duration.seconds(30),
    maxAttempts: 6,
    jitterStrategy: JitterType.FULL,
  },
  /**
   * The function was stopped by its timeout or crashed (out of memory, exit) before it could
   * answer. Every handler is safe to repeat (Submit finds the task it may have created), so
   * one more attempt is worth it.
   */
  lambdaStopped: {
    errors: errorNamesRetriedAs("function-stopped"),
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxDelay: Duration.seconds(30),
    maxAttempts: 2,
    jitterStrategy: JitterType.FULL,
  },
  /** 429 with 1302 (or an unknown code): back off exponentially from 2 s, full jitter, capped at 60 s. */
  rateLimited: {
    errors: errorNamesRetriedAs("rate-limited"),
    ...RATE_LIMIT_BACKOFF,
  },
  /**
   * 429 with 1303 on a call other than a create (Kling's QPS share of the code): as a rate
   * limit. Submit has no such retry: it goes back to the queue (see SUBMIT_RETRIES).
   */
  concurrencyLimited: {
    errors: errorNamesRetriedAs("concurrency-limited"),
    ...RATE_LIMIT_BACKOFF,
  },
  /** 5xx, network failures, malformed answers: fewer, longer waits. */
  serverError: {
    errors: errorNamesRetriedAs("server-error"),
    interval: Duration.seconds(10),
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    maxAttempts: 3,
    jitterStrategy: JitterType.FULL,
  },
  /** The ledger's table throttled or faltered, after the SDK's own retries: it clears in moments. */
  ledgerBusy: {
    errors: errorNamesRetriedAs("ledger-busy"),
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxDelay: Duration.seconds(20),
    maxAttempts: 6,
    jitterStrategy: JitterType.FULL,
  },
  /**
   * A video download from Kling's CDN that broke off: the next attempt starts the download (and
   * the upload) over, and nothing half-written is ever kept (lambdas/archive/archive.ts).
   */
  downloadFailed: {
    errors: errorNamesRetriedAs("download-failed"),
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    maxAttempts: 4,
    jitterStrategy: JitterType.FULL,
  },
  /** Putting an outcome event on the bus: cheap to repeat, and an outcome must not be lost. */
  publishEvent: {
    errors: ["States.ALL"],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxDelay: Duration.seconds(20),
    maxAttempts: 4,
    jitterStrategy: JitterType.FULL,
  },
} as const satisfies Record<string, RetryProps>;

export type RetryPolicyName = keyof typeof RETRY_POLICIES;

/** Policies for a task that calls Kling. */
export const KLING_CALL_RETRIES: readonly RetryPolicyName[] = ["lambdaService", "lambdaStopped", "rateLimited", "concurrencyLimited", "serverError"];
/**
 * Submit's: a 1303 is not retried there, holding a slot Kling says it does not have; it goes
 * back to the queue at once (the taxonomy's `backToQueue`, lib/generation-workflow.ts).
 */
export const SUBMIT_RETRIES: readonly RetryPolicyName[] = KLING_CALL_RETRIES.filter((name) => name !== "concurrencyLimited");
/** Policies for a task that does not call Kling. */
export const LOCAL_WORK_RETRIES: readonly RetryPolicyName[] = ["lambdaService", "lambdaStopped"];

/** Policies for a task that works on the account ledger (and may call Kling). */
export const LEDGER_WORK_RETRIES: readonly RetryPolicyName[] = [...LOCAL_WORK_RETRIES, "ledgerBusy"];
export const KLING_AND_LEDGER_RETRIES: readonly RetryPolicyName[] = [...KLING_CALL_RETRIES, "ledgerBusy"];

/** Policies for Archive, which asks Kling for the task's video first: Lambda's faults, Kling's passing ones, and a download that broke off. */
export const DOWNLOAD_RETRIES: readonly RetryPolicyName[] = [...KLING_CALL_RETRIES, "downloadFailed"];

/**
 * Each Lambda Task of the generation workflow and its policies: what the workflow applies and
 * what the time budget (lib/time-budget.ts) counts. AwaitRedrive has none (its own failure
 * carries the diagnosed error's name, which a Retry could match).
 */
export const GENERATION_STATE_RETRIES = {
  Validate: LOCAL_WORK_RETRIES,
  CheckCredits: KLING_AND_LEDGER_RETRIES,
  WaitForSlot: LEDGER_WORK_RETRIES,
  BackToQueue: LEDGER_WORK_RETRIES,
  Submit: SUBMIT_RETRIES,
  WaitForVideo: LEDGER_WORK_RETRIES,
  Poll: KLING_AND_LEDGER_RETRIES,
  Archive: DOWNLOAD_RETRIES,
  ReleaseSlot: LEDGER_WORK_RETRIES,
  Diagnose: LOCAL_WORK_RETRIES,
} as const satisfies Record<string, readonly RetryPolicyName[]>;

/** Adds the named policies to a state, in order: the first whose errors match decides. */
export function applyRetries(state: TaskStateBase, policies: readonly RetryPolicyName[]): void {
  for (const name of policies) state.addRetry({ ...RETRY_POLICIES[name], errors: [...RETRY_POLICIES[name].errors] });
}
