/**
 * The names the Lambdas and CloudWatch agree on: the metrics namespace, each metric and its
 * dimensions, the Powertools settings and the payload field that carries the log context. One
 * source for the code that emits them, the stack that configures Powertools, and the dashboard
 * and alarms that read them (lib/pipeline-observability.ts).
 */

export const METRICS_NAMESPACE = "KlingPipeline";

export const METRIC = {
  /** A generation whose video is ready (Poll saw `succeed`). */
  generationsSucceeded: "GenerationsSucceeded",
  /** A generation that failed, diagnosed: dimensions errorCode and recoverable. */
  generationsFailed: "GenerationsFailed",
  /** Every HTTP request to Kling: the denominator of the rate-limit share. */
  klingRequests: "KlingRequests",
  /** A Kling request that failed with an error the state machine retries: dimension errorName. */
  klingRetries: "KlingRetries",
  /** The units the online resource packs hold, as CheckCredits read them. */
  creditsRemaining: "CreditsRemaining",
  /** The account's Kling slots held, as the ledger said after a wait or a release. */
  slotsInUse: "KlingSlotsInUse",
  /** The effective limit the ledger grants up to (at most `klingConcurrency`), at the same moments. */
  slotLimit: "KlingSlotLimit",
  /** A generation Kling refused at Submit that went back to the queue: dimension errorName (1303 or 1302). */
  slotRequeues: "SlotRequeues",
  /** Generations waiting for a slot, at the same moments. */
  slotQueueLength: "SlotQueueLength",
  /** How long the oldest waiter has waited, in seconds (the alarm's metric). */
  oldestWaiterSeconds: "OldestWaiterSeconds",
  /** How long a generation waited for its slot, in seconds, when it got it. */
  timeQueuedSeconds: "TimeQueuedSeconds",
} as const;

/** The metrics of Kling's callbacks (a constant of their own: only the code that emits or reads them carries them). */
export const CALLBACK_METRIC = {
  /** A call on the Kling callback route whose capability token (and signature, when configured) checked out. */
  received: "KlingCallbacksReceived",
  /** A call on the callback route refused: a bad capability token or signature (401), or a body it cannot read (400). Dimension reason. */
  refused: "KlingCallbacksRefused",
  /** A callback whose end Kling confirmed and that ended the wait first (the slot released at that moment). */
  confirmed: "KlingCallbacksConfirmed",
  /** With callbacks on, a task end the fallback poll found first: a callback lost, late or refused. */
  endsFoundByPoll: "EndsFoundByPoll",
} as const;

/** The scheduled redrive's metric (a constant of its own: only the code that emits or reads it carries it). */
export const REDRIVE_METRIC = {
  /**
   * At each run, the failures that pass by themselves and are still failed after the schedule's
   * last redrive (maxScheduledRedrives reached), or that Step Functions will not redrive: an
   * operator's now.
   */
  leftFailed: "GenerationsLeftFailed",
} as const;

export const DIMENSION = {
  /** Powertools adds it to every metric from POWERTOOLS_SERVICE_NAME: it keeps two pipelines apart. */
  service: "service",
  errorCode: "errorCode",
  /** "true" or "false", as the diagnosis says. */
  recoverable: "recoverable",
  errorName: "errorName",
  /** Why a callback was refused: "capability-token", "capability-token-expired", "signature" or "body". */
  reason: "reason",
} as const;

/**
 * The dimension sets (besides `service`) each dimensioned metric is emitted with. An alarm must
 * name one of them exactly: CloudWatch alarms cannot aggregate across a dimension.
 */
export const DIMENSION_SETS = {
  generationsFailed: {
    byErrorCode: [DIMENSION.errorCode, DIMENSION.recoverable],
    byRecoverable: [DIMENSION.recoverable],
  },
  klingRetries: { byErrorName: [DIMENSION.errorName] },
  slotRequeues: { byErrorName: [DIMENSION.errorName] },
  callbacksRefused: { byReason: [DIMENSION.reason] },
} as const;

/** The Powertools settings the stack sets on every function (and the local runner overrides). */
export const POWERTOOLS_ENV = {
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  logLevel: "POWERTOOLS_LOG_LEVEL",
  /** Dev mode: logs go through the global console and metrics are off unless enabled. */
  devMode: "POWERTOOLS_DEV",
} as const;

/** The payload field the state machines fill with `{executionName, stateName}` for every Lambda. */
export const LOG_CONTEXT_FIELD = "logContext";
