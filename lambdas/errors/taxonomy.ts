/**
 * The error taxonomy: the one place that says what each Kling failure is called, whether the
 * state machine retries it, and whether a later attempt can ever succeed.
 * Source: ../shared/KLING_API.md ("Error codes") and ARCHITECTURE.md ("Errors").
 */

export const ERROR_NAMES = [
  "Kling.RateLimited",
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

export interface ErrorKind {
  /** Whether the state machine's Retry blocks retry it (see lib/retry-policies.ts). */
  readonly retriedByStateMachine: boolean;
  /** Whether a later attempt can ever succeed (possibly after the user acts). */
  readonly recoverable: boolean;
  readonly action: DiagnosisAction;
  readonly meaning: string;
  /** What an operator looks at or does when it shows up (the runbook in the README). */
  readonly operator: string;
}

export const ERROR_KINDS: Readonly<Record<KlingErrorName, ErrorKind>> = {
  "Kling.RateLimited": {
    retriedByStateMachine: true,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling's rate or concurrency limit was hit (also a 429 with an unknown code)",
    operator:
      "Nothing for one; many mean the batch concurrency is above the account's Kling limit: lower `klingConcurrency`.",
  },
  "Kling.ServerError": {
    retriedByStateMachine: true,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling failed or did not answer properly: a 5xx, a network failure, a timeout, a malformed answer",
    operator:
      "Nothing for one; a run of them is a Kling outage: check Kling's status, then start the failed requests again.",
  },
  "Kling.AuthFailed": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "fix-credentials",
    meaning: "the credentials were missing, unreadable or refused (1003/1004 are re-signed once first)",
    operator:
      "Put valid credentials in the KlingCredentials secret (`{\"apiKey\"}` or `{\"accessKey\",\"secretKey\"}`); for 1003/1004 check the Lambdas' clock.",
  },
  "Kling.InsufficientCredits": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "buy-credits",
    meaning: "the account has too few units for this video: a 402, or the credit check before Submit",
    operator:
      "Buy or renew a resource pack in Kling's console; the credit figure can lag 12 h, the create answer is the final word.",
  },
  "Kling.AccountSuspended": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "contact-support",
    meaning: "Kling reports the account as abnormal",
    operator:
      "Contact Kling support: the account is flagged; nothing succeeds until they clear it.",
  },
  "Kling.Forbidden": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "contact-support",
    meaning: "the plan does not include this API or model, or the IP is not whitelisted (also a 403 without a code)",
    operator:
      "Check the plan includes the model (1103) and the Lambdas' egress IPs are whitelisted (1304), or change `defaultModel`.",
  },
  "Kling.ContentPolicy": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "change-prompt",
    meaning: "a content policy refused the prompt or image: Kling's, the blocked terms, or a failed task whose reason says content",
    operator:
      "Nothing to fix in the pipeline; widen or narrow `blockedTerms` if the pre-check refuses what Kling accepts.",
  },
  "Kling.InvalidRequest": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "fix-request",
    meaning: "the request is not valid: Kling says so, or Validate did",
    operator:
      "Read the message: from Validate it is the caller's request; from Kling (1201) after Validate passed, the model rules in lambdas/schemas/models.ts may be out of date.",
  },
  "Kling.GenerationFailed": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling accepted the task but it ended with status failed",
    operator:
      "Nothing for one; Kling's reason is in errorMessage. Many for one model may mean a Kling incident.",
  },
  "Kling.PollTimeout": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "retry-later",
    meaning: "the video was not ready before the polling deadline",
    operator:
      "Check the task in Kling's console by its external_task_id; raise `pollSchedule.deadlineSeconds` if videos routinely take longer.",
  },
  "Kling.QueueTimeout": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "retry-later",
    meaning: "the generation waited for one of the account's Kling slots past the queue deadline; nothing was spent",
    operator:
      "The account's slots are busy for longer than `slotQueue.deadlineSeconds`: look at the queue length and time queued; raise `klingConcurrency` if Kling allows more, or the deadline.",
  },
};

export interface ErrorCodeRow {
  readonly httpStatus: number;
  readonly codes: readonly number[];
  readonly name: KlingErrorName;
  readonly meaning: string;
}

/** KLING_API.md's error code table, row for row. Classification looks the code up here first. */
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
  { httpStatus: 429, codes: [1303], name: "Kling.RateLimited", meaning: "concurrency or QPS over the resource pack's limit" },
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
