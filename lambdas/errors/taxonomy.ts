/**
 * The error taxonomy: the one place that says what each failure is called, whether the state
 * machine retries it, whether a later attempt can ever succeed and whether it passes by itself,
 * what the requester is told and what an operator does. Kling's errors first, then the
 * platform's (Lambda and Step Functions). lib/retry-policies.ts, the diagnosis, the redrives
 * and the README's error table and runbook all read it.
 * Source: Kling's API documentation ("Error codes") and the design ("Errors").
 */

export const ERROR_NAMES = [
  "Kling.RateLimited",
  "Kling.ConcurrencyLimited",
  "Kling.ServerError",
  "Kling.AuthFailed",
  "Kling.InsufficientCredits",
  "Kling.AccountSuspended",
  "Kling.Forbidden",
  "Kling.ContentPolicy",
  "Kling.InvalidRequest",
  "Kling.GenerationFailed",
  "Kling.PollTimeout",
  "Kling.QueueTimeout",
] as const;

export type KlingErrorName = (typeof ERROR_NAMES)[number];

/**
 * The errors Lambda and Step Functions raise themselves that the pipeline knows. Any other
 * name that is not Kling's is unexpected: a bug to report ({@link UNEXPECTED_ERROR}).
 */
export const PLATFORM_ERROR_NAMES = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
  "Sandbox.Timedout",
  "Lambda.Unknown",
  "Runtime.ExitError",
  "States.Timeout",
  "Execution.Stopped",
  // The account ledger's DynamoDB table, past the SDK's own retries.
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
] as const;

export type PlatformErrorName = (typeof PLATFORM_ERROR_NAMES)[number];

/** What the person who asked for the video should do next. */
export const DIAGNOSIS_ACTIONS = [
  "retry-later",
  "buy-credits",
  "fix-credentials",
  "change-prompt",
  "fix-request",
  "contact-support",
] as const;
export type DiagnosisAction = (typeof DIAGNOSIS_ACTIONS)[number];

/**
 * How the state machine retries an error (lib/retry-policies.ts has one policy for each class
 * but `none`): Lambda's service faults, a function stopped before it answered, Kling's rate
 * limits, Kling's account full (1303: not retried at Submit, which goes back to the queue
 * instead), Kling's server errors, the account ledger's table throttled or faltering, a video
 * download from Kling's CDN that broke off.
 */
export type RetryClass =
  | "none"
  | "lambda-service"
  | "function-stopped"
  | "rate-limited"
  | "concurrency-limited"
  | "server-error"
  | "ledger-busy"
  | "download-failed";

export interface ErrorKind {
  /** Which of the state machine's Retry blocks retries it (see lib/retry-policies.ts). */
  readonly retry: RetryClass;
  /** Whether a later attempt can ever succeed (possibly after someone acts). */
  readonly recoverable: boolean;
  /**
   * Whether it goes away without anyone acting, so that a redrive a while later may succeed
   * and costs nothing when it does not: what the scheduled redrive takes.
   */
  readonly passesByItself: boolean;
  /** Whether a redrive after it pays for a new Kling task (the old one ended for good). */
  readonly redriveCreatesTask: boolean;
  /**
   * At Submit, what it does instead of failing once its retries there are spent: the generation
   * gives its slot back and waits in the queue again, keeping its place (BackToQueue), until the
   * queue deadline. `concurrency`: the account is full (1303), which also lowers the ledger's
   * effective limit; `rate`: Kling's request rate, which does not.
   */
  readonly backToQueue?: "concurrency" | "rate";
  readonly action: DiagnosisAction;
  /** The one line the person who asked for the video reads. */
  readonly suggestion: string;
}

export const ERROR_KINDS: Readonly<Record<KlingErrorName, ErrorKind>> = {
  "Kling.RateLimited": {
    retry: "rate-limited",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    backToQueue: "rate",
    action: "retry-later",
    suggestion: "Kling is busy right now; retry later.",
  },
  "Kling.ConcurrencyLimited": {
    retry: "concurrency-limited",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    backToQueue: "concurrency",
    action: "retry-later",
    suggestion: "The Kling account is busy right now; retry later.",
  },
  "Kling.ServerError": {
    retry: "server-error",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: "Kling had a temporary problem; retry later.",
  },
  "Kling.AuthFailed": {
    retry: "none",
    recoverable: true,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "fix-credentials",
    suggestion: "The pipeline's Kling credentials were refused or missing; an operator must fix the secret, then retry.",
  },
  "Kling.InsufficientCredits": {
    retry: "none",
    recoverable: true,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "buy-credits",
    suggestion: "The Kling account has too few units for this video; buy a resource pack, then retry.",
  },
  "Kling.AccountSuspended": {
    retry: "none",
    recoverable: false,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "contact-support",
    suggestion: "Kling reports the account as abnormal; contact Kling support.",
  },
  "Kling.Forbidden": {
    retry: "none",
    recoverable: false,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "contact-support",
    suggestion: "The Kling plan does not allow this model or API, or this IP; choose another model or contact Kling.",
  },
  "Kling.ContentPolicy": {
    retry: "none",
    recoverable: false,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "change-prompt",
    suggestion: "The prompt or image was refused by a content policy; change the prompt.",
  },
  "Kling.InvalidRequest": {
    retry: "none",
    recoverable: false,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "fix-request",
    suggestion: "The request is not valid; fix what the message names and send it again.",
  },
  "Kling.GenerationFailed": {
    retry: "none",
    recoverable: true,
    // The same request may fail the same way every time, and each redrive pays for a new task.
    passesByItself: false,
    redriveCreatesTask: true,
    action: "retry-later",
    suggestion: "Kling could not generate this video; try again, or simplify the prompt.",
  },
  "Kling.PollTimeout": {
    retry: "none",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: "The video was not ready in time; retry with a shorter duration or a simpler prompt.",
  },
  "Kling.QueueTimeout": {
    retry: "none",
    recoverable: true,
    // The account's slots were busy for a while: that passes, and a redrive spends nothing until it has a slot.
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: "Too many videos were waiting for Kling; nothing was spent, retry later.",
  },
};

const PASSING_AWS_FAULT = "The pipeline hit a passing AWS fault; retry later.";

/** A fault of the platform that passes by itself: retried under its class, recoverable, nothing for the requester to do. */
const passingFault = (retry: RetryClass): ErrorKind => ({
  retry,
  recoverable: true,
  passesByItself: true,
  redriveCreatesTask: false,
  action: "retry-later",
  suggestion: PASSING_AWS_FAULT,
});

/** Lambda's own passing faults, as AWS's Step Functions docs name them for the Lambda integration. */
const lambdaServiceFault = passingFault("lambda-service");

/** The account ledger's DynamoDB table throttled or failed a request, after the SDK's own retries: it clears in moments. */
const ledgerBusy = passingFault("ledger-busy");

export const PLATFORM_ERROR_KINDS: Readonly<Record<PlatformErrorName, ErrorKind>> = {
  ThrottlingException: ledgerBusy,
  ProvisionedThroughputExceededException: ledgerBusy,
  RequestLimitExceeded: ledgerBusy,
  InternalServerError: ledgerBusy,
  "Lambda.ServiceException": lambdaServiceFault,
  "Lambda.AWSLambdaException": lambdaServiceFault,
  "Lambda.SdkClientException": lambdaServiceFault,
  "Lambda.TooManyRequestsException": lambdaServiceFault,
  "Sandbox.Timedout": {
    retry: "function-stopped",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: PASSING_AWS_FAULT,
  },
  "Lambda.Unknown": {
    retry: "function-stopped",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: PASSING_AWS_FAULT,
  },
  "Runtime.ExitError": {
    // Retried once, in case the crash was the container's (memory left over); a second crash is
    // the function's own, for an operator to fix before a redrive can succeed.
    retry: "function-stopped",
    recoverable: true,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "contact-support",
    suggestion: "A pipeline function crashed on this job; report the job id to the operators, who can redrive it once it is fixed.",
  },
  "Execution.Stopped": {
    // Not an error name AWS raises: the diagnosis of an ABORTED execution, whose Error and Cause
    // are whatever its StopExecution gave, if anything (they travel in the errorMessage).
    retry: "none",
    recoverable: true,
    // Someone stopped it (an operator, or the stop of the batch that started it): a schedule
    // must not undo that; an operator redrives it, which resumes the state it was stopped in.
    passesByItself: false,
    redriveCreatesTask: false,
    action: "contact-support",
    suggestion: "The generation was stopped before it finished; ask the operators to redrive it, or send it again.",
  },
  "States.Timeout": {
    retry: "none",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: PASSING_AWS_FAULT,
  },
};

/** The errors of Archive, which copies a finished video from Kling's URL into the pipeline's bucket. */
const ARCHIVE_ERROR_NAMES = ["Archive.DownloadFailed", "Archive.VideoPurged"] as const;

export type ArchiveErrorName = (typeof ARCHIVE_ERROR_NAMES)[number];

const ARCHIVE_ERROR_KINDS: Readonly<Record<ArchiveErrorName, ErrorKind>> = {
  "Archive.DownloadFailed": {
    retry: "download-failed",
    recoverable: true,
    passesByItself: true,
    redriveCreatesTask: false,
    action: "retry-later",
    suggestion: "The video is made but could not be saved yet; retry later.",
  },
  "Archive.VideoPurged": {
    retry: "none",
    recoverable: false,
    passesByItself: false,
    redriveCreatesTask: false,
    action: "contact-support",
    suggestion: "Kling deleted the video before it could be saved; send the request again to make a new one.",
  },
};

/** Any other error that is not Kling's: a bug in the pipeline, nothing a redrive can mend. */
export const UNEXPECTED_ERROR = {
  recoverable: false,
  action: "contact-support",
  suggestion: (failedState: string) => `The pipeline failed unexpectedly in ${failedState}; report the job id to the operators.`,
} as const satisfies Pick<ErrorKind, "recoverable" | "action"> & { suggestion: (failedState: string) => string };

/** Every error the taxonomy knows: Kling's, the platform's, then Archive's. */
export const KNOWN_ERROR_KINDS: readonly (readonly [string, ErrorKind])[] = [
  ...Object.entries(ERROR_KINDS),
  ...Object.entries(PLATFORM_ERROR_KINDS),
  ...Object.entries(ARCHIVE_ERROR_KINDS),
];

/** What the taxonomy knows of an error name; undefined for any other. */
export function errorKindOf(name: string): ErrorKind | undefined {
  return KNOWN_ERROR_KINDS.find(([known]) => known === name)?.[1];
}

/** Every known name retried under this class: what a retry policy matches. */
export function errorNamesRetriedAs(retry: Exclude<RetryClass, "none">): string[] {
  return KNOWN_ERROR_KINDS.filter(([, kind]) => kind.retry === retry).map(([name]) => name);
}

/** Every name Submit sends back to the queue instead of failing (its `backToQueue`): what Submit's Catch to BackToQueue matches. */
export function errorNamesSentBackToQueue(): string[] {
  return KNOWN_ERROR_KINDS.filter(([, kind]) => kind.backToQueue !== undefined).map(([name]) => name);
}

/** Words in Kling's reason for a failed task that make it a content problem (the design). */
export const CONTENT_PROBLEM_WORDS = /\b(content|safety|sensitive|policy|moderation)\b/i;

/**
 * The requester's suggestion for a failed generation, by Kling's reason; the first whose words
 * match decides, and none matching gives Kling.GenerationFailed's own suggestion.
 */
export const FAILED_GENERATION_SUGGESTIONS: readonly { readonly reason: string; readonly words: RegExp; readonly suggestion: string }[] = [
  { reason: "a timeout", words: /time ?out|timed out/i, suggestion: "Generation timed out; try a shorter duration or a simpler prompt." },
  {
    reason: "complexity",
    words: /complex/i,
    suggestion: "The scene was too complex; try a simpler scene with fewer subjects and less motion.",
  },
];

export interface ErrorCodeRow {
  readonly httpStatus: number;
  readonly codes: readonly number[];
  readonly name: KlingErrorName;
  readonly meaning: string;
}

/** The error code table of Kling's API documentation, row for row. Classification looks the code up here first. */
export const KLING_ERROR_CODES: readonly ErrorCodeRow[] = [
  { httpStatus: 401, codes: [1000, 1001, 1002], name: "Kling.AuthFailed", meaning: "authorization failed / empty / invalid" },
  { httpStatus: 401, codes: [1003, 1004], name: "Kling.AuthFailed", meaning: "token not yet valid / expired" },
  { httpStatus: 429, codes: [1100], name: "Kling.AccountSuspended", meaning: "account abnormal" },
  { httpStatus: 429, codes: [1101], name: "Kling.InsufficientCredits", meaning: "account in arrears (postpaid)" },
  { httpStatus: 429, codes: [1102], name: "Kling.InsufficientCredits", meaning: "resource pack exhausted or expired" },
  { httpStatus: 403, codes: [1103], name: "Kling.Forbidden", meaning: "no permission for this API or model" },
  { httpStatus: 400, codes: [1200, 1201], name: "Kling.InvalidRequest", meaning: "invalid parameters" },
  { httpStatus: 404, codes: [1202, 1203], name: "Kling.InvalidRequest", meaning: "wrong method / resource not found" },
  { httpStatus: 400, codes: [1300], name: "Kling.ContentPolicy", meaning: "blocked by platform policy" },
  { httpStatus: 400, codes: [1301], name: "Kling.ContentPolicy", meaning: "content safety policy" },
  { httpStatus: 429, codes: [1302], name: "Kling.RateLimited", meaning: "rate limit" },
  { httpStatus: 429, codes: [1303], name: "Kling.ConcurrencyLimited", meaning: "concurrency or QPS over the resource pack's limit" },
  { httpStatus: 429, codes: [1304], name: "Kling.Forbidden", meaning: "IP whitelist policy" },
  { httpStatus: 500, codes: [5000], name: "Kling.ServerError", meaning: "internal error" },
  { httpStatus: 503, codes: [5001], name: "Kling.ServerError", meaning: "unavailable (maintenance)" },
  { httpStatus: 504, codes: [5002], name: "Kling.ServerError", meaning: "internal timeout" },
];

const NAME_BY_CODE: ReadonlyMap<number, KlingErrorName> = new Map(
  KLING_ERROR_CODES.flatMap((row) => row.codes.map((code) => [code, row.name] as const)),
);

/** Statuses that have a meaning of their own when the code is missing or unknown. */
const NAME_BY_STATUS: ReadonlyMap<number, KlingErrorName> = new Map([
  [400, "Kling.InvalidRequest"],
  [401, "Kling.AuthFailed"],
  [402, "Kling.InsufficientCredits"],
  [403, "Kling.Forbidden"],
  [404, "Kling.InvalidRequest"],
  [429, "Kling.RateLimited"],
]);

/**
 * Classifies a Kling error answer: by business code first (1102 under HTTP 429 is
 * insufficient credits, never a rate limit), then by HTTP status class.
 */
export function classifyKlingError(httpStatus: number, klingCode: number | undefined): KlingErrorName {
  const byCode = klingCode === undefined ? undefined : NAME_BY_CODE.get(klingCode);
  if (byCode) return byCode;
  const byStatus = NAME_BY_STATUS.get(httpStatus);
  if (byStatus) return byStatus;
  if (httpStatus >= 500) return "Kling.ServerError";
  if (httpStatus >= 400) return "Kling.InvalidRequest";
  // A non-zero code under a 2xx status: the envelope says the request failed without saying how.
  return "Kling.ServerError";
}

export function isKlingErrorName(value: string): value is KlingErrorName {
  return (ERROR_NAMES as readonly string[]).includes(value);
}

