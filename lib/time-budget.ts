/**
 * The generation workflow's time budget: the longest a generation can take, state by state, with
 * every retry its policies allow (lib/retry-policies.ts) and every attempt running to its
 * function's timeout (defined here, and set on the functions from here). Synthesis refuses an
 * execution timeout shorter than that: a generation that times out after Submit has been charged
 * for a video it may never store.
 */
import { Duration } from "aws-cdk-lib";
import type { PipelineConfig } from "./pipeline-config";
import { DEFAULT_FUNCTION_TIMEOUT } from "./pipeline-function";
import { GENERATION_STATE_RETRIES, RETRY_POLICIES, type RetryPolicyName } from "./retry-policies";

/** AwaitRedrive's function answers its token at once: this bounds one that never does. */
export const AWAIT_REDRIVE_TIMEOUT = Duration.minutes(5);
/** The gap between WaitForSlot's parks: the retry of a park that timed out comes at once. */
export const PARK_RETRY_INTERVAL = Duration.seconds(1);

/** The timeouts of the functions whose time the budget counts, from the configuration. */
export function functionTimeouts(config: Pick<PipelineConfig, "klingRequestTimeoutMs">) {
  return {
    /** A Kling call's timeout, twice (a JWT re-sign repeats one), plus room for the rest. */
    klingCall: Duration.millis(config.klingRequestTimeoutMs * 2 + 10_000),
    /** Submit may look up, create and look up again. */
    submit: Duration.millis(config.klingRequestTimeoutMs * 4 + 10_000),
    /** A long video over a slow CDN: the stall timeout catches a dead download long before this. */
    archive: Duration.minutes(10),
    /** Every other function. */
    other: DEFAULT_FUNCTION_TIMEOUT,
  } as const;
}

/** How many times WaitForSlot's park may time out and look again: every park of the queue deadline, and one more. */
export function parkRetries(slotQueue: PipelineConfig["slotQueue"]): number {
  return Math.ceil(slotQueue.deadlineSeconds / slotQueue.parkSeconds) + 1;
}

const retriesOf = (policies: readonly RetryPolicyName[]) => policies.reduce((sum, name) => sum + RETRY_POLICIES[name].maxAttempts, 0);

/** Every backoff the policies allow, each at its longest (full jitter waits at most the computed delay). */
function backoffSeconds(policies: readonly RetryPolicyName[]): number {
  let seconds = 0;
  for (const name of policies) {
    const { interval, backoffRate, maxDelay, maxAttempts } = RETRY_POLICIES[name];
    for (let retry = 0; retry < maxAttempts; retry++) {
      seconds += Math.min(interval.toSeconds() * backoffRate ** retry, maxDelay.toSeconds());
    }
  }
  return seconds;
}

/** The policies of Kling's own answers (429s, 5xx, a request that timed out): each comes once Kling has answered. */
const KLING_ANSWER_POLICIES: ReadonlySet<RetryPolicyName> = new Set(["rateLimited", "concurrencyLimited", "serverError"]);

/**
 * A Lambda Task at its longest: each retrier counts its own attempts (a state that fails with one
 * error after another can use them all), every attempt runs to the function's timeout, but an
 * attempt failed by Kling's answer, which lasts at most `klingAttempt` (the Kling calls the
 * function makes before that answer, each to its request timeout).
 */
function taskSeconds(attemptTimeout: Duration, policies: readonly RetryPolicyName[], klingAttempt: Duration = attemptTimeout): number {
  const klingSeconds = Math.min(klingAttempt.toSeconds(), attemptTimeout.toSeconds());
  const attempts = policies.reduce(
    (sum, name) => sum + RETRY_POLICIES[name].maxAttempts * (KLING_ANSWER_POLICIES.has(name) ? klingSeconds : attemptTimeout.toSeconds()),
    0,
  );
  return attemptTimeout.toSeconds() + attempts + backoffSeconds(policies);
}

/** The faults a waitForTaskToken Task retries: each fails its invocation, so it lasts no longer than the function. */
function faultSeconds(functionTimeout: Duration, policies: readonly RetryPolicyName[]): number {
  return retriesOf(policies) * functionTimeout.toSeconds() + backoffSeconds(policies);
}

export interface BudgetPart {
  /** The state (or stretch of states), as the console names it. */
  readonly state: string;
  readonly seconds: number;
  /** The settings its length follows, for the message that refuses a configuration. */
  readonly settings: readonly string[];
  /** Whether it comes after Submit, when Kling has charged. */
  readonly afterSubmit: boolean;
}

/** The longest path through the generation workflow: to Submit, then Submit to the end of a failure after Archive. */
export function generationWorstCase(config: PipelineConfig): readonly BudgetPart[] {
  const timeouts = functionTimeouts(config);
  const { slotQueue, pollSchedule } = config;
  // The callback wait is a Task whose function may fault; with callbacks off it is a Wait state. Unknown here (on with the API): counted.
  const callbacksMayBeOn = config.callbacks.enabled !== false;
  const parks = parkRetries(slotQueue);
  const slotFaults = faultSeconds(timeouts.other, GENERATION_STATE_RETRIES.WaitForSlot);
  // Bounded twice: by its parks (each at most parkSeconds), and by the function, which fails a
  // waiter invoked past the queue deadline (a slot may be handed over until the last park ends).
  const byParks = (1 + parks) * slotQueue.parkSeconds + parks * PARK_RETRY_INTERVAL.toSeconds();
  const byDeadline = slotQueue.deadlineSeconds + slotQueue.parkSeconds + parks * PARK_RETRY_INTERVAL.toSeconds() + timeouts.other.toSeconds();
  return [
    { state: "Validate", seconds: taskSeconds(timeouts.other, GENERATION_STATE_RETRIES.Validate), settings: [], afterSubmit: false },
    {
      state: "CheckCredits",
      seconds: taskSeconds(timeouts.klingCall, GENERATION_STATE_RETRIES.CheckCredits),
      settings: ["klingRequestTimeoutMs"],
      afterSubmit: false,
    },
    {
      state: "WaitForSlot",
      seconds: Math.min(byParks, byDeadline) + slotFaults,
      settings: ["slotQueue.deadlineSeconds", "slotQueue.parkSeconds"],
      afterSubmit: false,
    },
    {
      state: "Submit",
      seconds: taskSeconds(timeouts.submit, GENERATION_STATE_RETRIES.Submit),
      settings: ["klingRequestTimeoutMs"],
      afterSubmit: true,
    },
    // Poll fails the task past the deadline, counted from Submit; the last wait and the last Poll may run beyond it.
    {
      state: "WaitForVideo and Poll",
      seconds:
        pollSchedule.deadlineSeconds +
        (callbacksMayBeOn ? faultSeconds(timeouts.other, GENERATION_STATE_RETRIES.WaitForVideo) : 0) +
        taskSeconds(timeouts.klingCall, GENERATION_STATE_RETRIES.Poll),
      settings: ["pollSchedule.deadlineSeconds", "klingRequestTimeoutMs"],
      afterSubmit: true,
    },
    // Archive asks Kling for the task before it downloads: Kling's refusals come within that one call.
    { state: "Archive", seconds: taskSeconds(timeouts.archive, GENERATION_STATE_RETRIES.Archive, timeouts.klingCall), settings: ["klingRequestTimeoutMs"], afterSubmit: true },
    { state: "ReleaseSlot", seconds: taskSeconds(timeouts.other, GENERATION_STATE_RETRIES.ReleaseSlot), settings: [], afterSubmit: true },
    { state: "Diagnose", seconds: taskSeconds(timeouts.other, GENERATION_STATE_RETRIES.Diagnose), settings: [], afterSubmit: true },
    { state: "AwaitRedrive", seconds: AWAIT_REDRIVE_TIMEOUT.toSeconds(), settings: [], afterSubmit: true },
  ];
}

/**
 * Why the execution timeout does not fit, naming the settings that make up the worst case and how
 * long it is: a generation could reach the timeout after Submit. Undefined when it fits.
 */
export function timeBudgetProblem(config: PipelineConfig): string | undefined {
  const parts = generationWorstCase(config);
  const worst = Math.ceil(parts.reduce((sum, part) => sum + part.seconds, 0));
  const timeoutSeconds = config.executionTimeoutMinutes * 60;
  if (worst <= timeoutSeconds) return undefined;
  const settings = [...new Set(parts.flatMap((part) => part.settings))];
  const breakdown = parts.map((part) => `${part.state} ${Math.ceil(part.seconds)} s`).join(", ");
  return (
    `executionTimeoutMinutes (${config.executionTimeoutMinutes} min = ${timeoutSeconds} s) ` +
    `is shorter than the longest a generation can take (${worst} s: ${breakdown}), so it could time out after Submit, once Kling has charged: ` +
    `raise executionTimeoutMinutes to at least ${Math.ceil(worst / 60)}, or lower ${settings.join(", ")}`
  );
}
