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
}

export const ERROR_KINDS: Readonly<Record<KlingErrorName, ErrorKind>> = {
  "Kling.RateLimited": {
    retriedByStateMachine: true,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling's rate or concurrency limit was hit (also a 429 with an unknown code)",
  },
  "Kling.ServerError": {
    retriedByStateMachine: true,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling failed or did not answer properly: a 5xx, a network failure, a timeout, a malformed answer",
  },
  "Kling.AuthFailed": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "fix-credentials",
    meaning: "the credentials were missing, unreadable or refused (1003/1004 are re-signed once first)",
  },
  "Kling.InsufficientCredits": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "buy-credits",
    meaning: "the account has too few units for this video: a 402, or the credit check before Submit",
  },
  "Kling.AccountSuspended": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "contact-support",
    meaning: "Kling reports the account as abnormal",
  },
  "Kling.Forbidden": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "contact-support",
    meaning: "the plan does not include this API or model, or the IP is not whitelisted (also a 403 without a code)",
  },
  "Kling.ContentPolicy": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "change-prompt",
    meaning: "a content policy refused the prompt or image: Kling's, the blocked terms, or a failed task whose reason says content",
  },
  "Kling.InvalidRequest": {
    retriedByStateMachine: false,
    recoverable: false,
    action: "fix-request",
    meaning: "the request is not valid: Kling says so, or Validate did",
  },
  "Kling.GenerationFailed": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "retry-later",
    meaning: "Kling accepted the task but it ended with status failed",
  },
  "Kling.PollTimeout": {
    retriedByStateMachine: false,
    recoverable: true,
    action: "retry-later",
    meaning: "the video was not ready before the polling deadline",
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
