/**
 * The error taxonomy against Kling's API documentation ("Error codes") and the design ("Errors"):
 * the expectations below are copied from those tables by hand, not derived from the code.
 */
import { describe, expect, it } from "vitest";
import {
  classifyKlingError,
  ERROR_KINDS,
  ERROR_NAMES,
  failedTaskError,
  formatErrorMessage,
  isKlingErrorName,
  KLING_ERROR_CODES,
  KlingError,
  klingErrorFromAnswer,
  parseErrorMessage,
  KNOWN_ERROR_KINDS,
  type KlingErrorName,
  type RetryClass,
} from "#lambdas/errors/index";
import { diagnose } from "#lambdas/diagnose/diagnosis";
import { RETRY_POLICIES, type RetryPolicyName } from "#lib/retry-policies";
import { errorProse } from "#lambdas/errors/runbook";

interface DocumentedCode {
  readonly http: number;
  readonly code: number;
  readonly name: KlingErrorName;
  readonly retried: boolean;
  readonly recoverable: boolean;
}

/** Kling's API documentation "Error codes", one line per code, with the design's name and decisions. */
const DOCUMENTED_CODES: readonly DocumentedCode[] = [
  { http: 401, code: 1000, name: "Kling.AuthFailed", retried: false, recoverable: true },
  { http: 401, code: 1001, name: "Kling.AuthFailed", retried: false, recoverable: true },
  { http: 401, code: 1002, name: "Kling.AuthFailed", retried: false, recoverable: true },
  { http: 401, code: 1003, name: "Kling.AuthFailed", retried: false, recoverable: true },
  { http: 401, code: 1004, name: "Kling.AuthFailed", retried: false, recoverable: true },
  { http: 429, code: 1100, name: "Kling.AccountSuspended", retried: false, recoverable: false },
  { http: 429, code: 1101, name: "Kling.InsufficientCredits", retried: false, recoverable: true },
  { http: 429, code: 1102, name: "Kling.InsufficientCredits", retried: false, recoverable: true },
  { http: 403, code: 1103, name: "Kling.Forbidden", retried: false, recoverable: false },
  { http: 400, code: 1200, name: "Kling.InvalidRequest", retried: false, recoverable: false },
  { http: 400, code: 1201, name: "Kling.InvalidRequest", retried: false, recoverable: false },
  { http: 404, code: 1202, name: "Kling.InvalidRequest", retried: false, recoverable: false },
  { http: 404, code: 1203, name: "Kling.InvalidRequest", retried: false, recoverable: false },
  { http: 400, code: 1300, name: "Kling.ContentPolicy", retried: false, recoverable: false },
  { http: 400, code: 1301, name: "Kling.ContentPolicy", retried: false, recoverable: false },
  { http: 429, code: 1302, name: "Kling.RateLimited", retried: true, recoverable: true },
  { http: 429, code: 1303, name: "Kling.ConcurrencyLimited", retried: true, recoverable: true },
  { http: 429, code: 1304, name: "Kling.Forbidden", retried: false, recoverable: false },
  { http: 500, code: 5000, name: "Kling.ServerError", retried: true, recoverable: true },
  { http: 503, code: 5001, name: "Kling.ServerError", retried: true, recoverable: true },
  { http: 504, code: 5002, name: "Kling.ServerError", retried: true, recoverable: true },
];

/** the design "Errors": retried by the state machine, recoverable. */
const DOCUMENTED_KINDS: Readonly<Record<KlingErrorName, { retried: boolean; recoverable: boolean }>> = {
  "Kling.RateLimited": { retried: true, recoverable: true },
  // Issue 21: retried where it is not a create; at Submit it goes back to the queue instead.
  "Kling.ConcurrencyLimited": { retried: true, recoverable: true },
  "Kling.ServerError": { retried: true, recoverable: true },
  "Kling.AuthFailed": { retried: false, recoverable: true },
  "Kling.InsufficientCredits": { retried: false, recoverable: true },
  "Kling.AccountSuspended": { retried: false, recoverable: false },
  "Kling.Forbidden": { retried: false, recoverable: false },
  "Kling.ContentPolicy": { retried: false, recoverable: false },
  "Kling.InvalidRequest": { retried: false, recoverable: false },
  "Kling.GenerationFailed": { retried: false, recoverable: true },
  "Kling.PollTimeout": { retried: false, recoverable: true },
  // Issue 12: the queue deadline ends a wait for a slot; nothing was spent, a redrive queues again.
  "Kling.QueueTimeout": { retried: false, recoverable: true },
};

const describeRow = (row: DocumentedCode) =>
  `a ${row.http} with code ${row.code} is ${row.retried ? "retried" : "not retried"} and is ${row.name}`;

describe("classification of every documented Kling error code", () => {
  it.each(DOCUMENTED_CODES.map((row) => [describeRow(row), row] as const))("%s", (_title, row) => {
    const name = classifyKlingError(row.http, row.code);
    expect(name).toBe(row.name);
    expect(ERROR_KINDS[name].retry !== "none").toBe(row.retried);
    expect(ERROR_KINDS[name].recoverable).toBe(row.recoverable);

    const error = klingErrorFromAnswer(row.http, row.code, "Kling said no", "req-1");
    expect(error).toBeInstanceOf(KlingError);
    expect(error.name).toBe(row.name);
    expect(error.retriedByStateMachine).toBe(row.retried);
    expect(error.recoverable).toBe(row.recoverable);
    expect({ httpStatus: error.httpStatus, klingCode: error.klingCode, requestId: error.requestId }).toEqual({
      httpStatus: row.http,
      klingCode: row.code,
      requestId: "req-1",
    });
  });

  it("KLING_ERROR_CODES holds exactly the documented (status, code, name) rows", () => {
    const inCode = KLING_ERROR_CODES.flatMap((row) => row.codes.map((code) => `${row.httpStatus}/${code} ${row.name}`)).sort();
    const documented = DOCUMENTED_CODES.map((row) => `${row.http}/${row.code} ${row.name}`).sort();
    expect(inCode).toEqual(documented);
  });

  it("the codes that arrive as HTTP 429 but must never be retried (1100, 1101, 1102, 1304) are not retried", () => {
    for (const code of [1100, 1101, 1102, 1304]) {
      const name = classifyKlingError(429, code);
      expect(name, `429/${code}`).not.toBe("Kling.RateLimited");
      expect(ERROR_KINDS[name].retry, `429/${code}`).toBe("none");
    }
  });

  it("a 429 with code 1102 is insufficient credits and not retried", () => {
    const error = klingErrorFromAnswer(429, 1102, "Resource pack exhausted or expired", undefined);
    expect(error.name).toBe("Kling.InsufficientCredits");
    expect(error.retriedByStateMachine).toBe(false);
    expect(error.recoverable).toBe(true);
  });

  it("the business code wins over the HTTP status", () => {
    expect(classifyKlingError(200, 1102)).toBe("Kling.InsufficientCredits");
    expect(classifyKlingError(500, 1301)).toBe("Kling.ContentPolicy");
    expect(classifyKlingError(429, 1201)).toBe("Kling.InvalidRequest");
  });
});

describe("fallback to the HTTP status class when the code is unknown or missing", () => {
  it.each([
    [429, 1999, "Kling.RateLimited"],
    [429, undefined, "Kling.RateLimited"],
    [500, undefined, "Kling.ServerError"],
    [502, 4242, "Kling.ServerError"],
    [503, 9999, "Kling.ServerError"],
    [504, undefined, "Kling.ServerError"],
    [400, 1999, "Kling.InvalidRequest"],
    [404, undefined, "Kling.InvalidRequest"],
    [418, undefined, "Kling.InvalidRequest"],
    [401, undefined, "Kling.AuthFailed"],
    [401, 1999, "Kling.AuthFailed"],
    [402, undefined, "Kling.InsufficientCredits"],
    [403, undefined, "Kling.Forbidden"],
    [200, 7777, "Kling.ServerError"],
  ] as const)("HTTP %s with code %s -> %s", (status, code, expected) => {
    expect(classifyKlingError(status, code)).toBe(expected);
  });
});

describe("the error kinds", () => {
  it.each(ERROR_NAMES.map((name) => [name] as const))("%s is retried and recoverable as the design says", (name) => {
    expect(ERROR_KINDS[name].retry !== "none").toBe(DOCUMENTED_KINDS[name].retried);
    expect(ERROR_KINDS[name].recoverable).toBe(DOCUMENTED_KINDS[name].recoverable);
    expect(errorProse(name).meaning).not.toBe("");
    expect(errorProse(name).operator).not.toBe("");
  });

  it("ERROR_NAMES, ERROR_KINDS and the documented names are the same set", () => {
    expect(Object.keys(ERROR_KINDS).sort()).toEqual([...ERROR_NAMES].sort());
    expect(Object.keys(DOCUMENTED_KINDS).sort()).toEqual([...ERROR_NAMES].sort());
  });

  it("the retry policies retry exactly the names the taxonomy says, each under its own class", () => {
    const known = KNOWN_ERROR_KINDS;
    const policyOf: Record<Exclude<RetryClass, "none">, RetryPolicyName> = {
      "lambda-service": "lambdaService",
      "function-stopped": "lambdaStopped",
      "rate-limited": "rateLimited",
      "concurrency-limited": "concurrencyLimited",
      "server-error": "serverError",
      "ledger-busy": "ledgerBusy",
      "download-failed": "downloadFailed",
    };
    for (const [retry, policy] of Object.entries(policyOf)) {
      const named = known.filter(([, kind]) => kind.retry === retry).map(([name]) => name);
      expect(named.length, retry).toBeGreaterThan(0);
      expect([...RETRY_POLICIES[policy].errors].sort(), policy).toEqual(named.sort());
    }
  });

  it("isKlingErrorName knows the taxonomy and nothing else", () => {
    for (const name of ERROR_NAMES) expect(isKlingErrorName(name)).toBe(true);
    expect(isKlingErrorName("Kling.Unknown")).toBe(false);
    expect(isKlingErrorName("States.Timeout")).toBe(false);
  });
});

describe("what the state machine retries and what the diagnosis says agree, for every name", () => {
  const retriedNames = [...new Set(Object.values(RETRY_POLICIES).flatMap((policy): readonly string[] => policy.errors))].filter(
    (name) => name !== "States.ALL",
  );
  const known = KNOWN_ERROR_KINDS;

  it.each(retriedNames.map((name) => [name] as const))("%s, which a retry policy retries as passing, is diagnosed recoverable", (name) => {
    expect(diagnose("job-1", "Submit", { Error: name }).recoverable).toBe(true);
  });

  it.each(known.map(([name, kind]) => [name, kind] as const))("%s is diagnosed as the taxonomy says", (name, kind) => {
    const diagnosis = diagnose("job-1", "Poll", { Error: name, Cause: "it happened" });
    expect({ recoverable: diagnosis.recoverable, action: diagnosis.action }).toEqual({ recoverable: kind.recoverable, action: kind.action });
    // What is retried, or passes by itself, is worth another attempt: it must be recoverable.
    if (kind.retry !== "none" || kind.passesByItself) expect(kind.recoverable).toBe(true);
    // Only a recoverable failure is ever redriven, so only it can make a redrive pay for a task.
    if (kind.redriveCreatesTask) expect(kind.recoverable).toBe(true);
  });

  it("passes by itself: rate limits, server errors, poll and queue timeouts, broken downloads, Lambda and Sandbox faults, States.Timeout and a busy ledger table, nothing else", () => {
    const passing = known.filter(([, kind]) => kind.passesByItself).map(([name]) => name);
    expect(passing.sort()).toEqual(
      [
        "Kling.RateLimited",
        "Kling.ConcurrencyLimited",
        "Kling.ServerError",
        "Kling.PollTimeout",
        "Archive.DownloadFailed",
        "Kling.QueueTimeout",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
        "Sandbox.Timedout",
        "States.Timeout",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
      ].sort(),
    );
  });
});

describe("Kling's refusals a caller expects, recognized in one place", () => {
  it.each([
    [400, 1201, "Task not found", "task-not-found"],
    [400, 1201, "external_task_id job-1-abc already exists", "external-task-id-exists"],
    [400, 1201, "duration must be 5 or 10", undefined],
    [404, 1203, "Requested resource not found", undefined],
    [429, 1302, "external_task_id exists, and you are too fast", undefined],
  ] as const)("HTTP %s code %s %j is %s", (status, code, message, refusal) => {
    expect(klingErrorFromAnswer(status, code, message, undefined).refusal).toBe(refusal);
  });
});

describe("the details suffix of an error message", () => {
  it("round-trips every detail", () => {
    const text = formatErrorMessage("Too many requests", { httpStatus: 429, klingCode: 1302, requestId: "req-abc-123" });
    expect(parseErrorMessage(text)).toEqual({
      message: "Too many requests",
      httpStatus: 429,
      klingCode: 1302,
      requestId: "req-abc-123",
    });
  });

  it("round-trips missing details as undefined", () => {
    const text = formatErrorMessage("network down", {});
    expect(text).toBe("network down [http=- code=- request=-]");
    expect(parseErrorMessage(text)).toEqual({
      message: "network down",
      httpStatus: undefined,
      klingCode: undefined,
      requestId: undefined,
    });
    expect(parseErrorMessage(formatErrorMessage("half", { httpStatus: 504 }))).toEqual({
      message: "half",
      httpStatus: 504,
      klingCode: undefined,
      requestId: undefined,
    });
  });

  it("keeps brackets inside the message itself", () => {
    const message = "Invalid parameter [aspect_ratio] [see docs]";
    const parsed = parseErrorMessage(formatErrorMessage(message, { httpStatus: 400, klingCode: 1201, requestId: "r-1" }));
    expect(parsed.message).toBe(message);
    expect(parsed.klingCode).toBe(1201);
  });

  it("a message without the suffix is the message itself", () => {
    expect(parseErrorMessage("Task timed out after 30.00 seconds")).toEqual({ message: "Task timed out after 30.00 seconds" });
    expect(parseErrorMessage("")).toEqual({ message: "" });
  });

  it("a KlingError's message carries its details for Step Functions, and its klingMessage does not", () => {
    const error = new KlingError("Kling.ServerError", "Internal timeout", { httpStatus: 504, klingCode: 5002, requestId: "req-9" });
    expect(error.name).toBe("Kling.ServerError");
    expect(error.klingMessage).toBe("Internal timeout");
    expect(parseErrorMessage(error.message)).toEqual({
      message: "Internal timeout",
      httpStatus: 504,
      klingCode: 5002,
      requestId: "req-9",
    });
  });

  it("an answer without a message still says what Kling answered", () => {
    const error = klingErrorFromAnswer(503, undefined, "", undefined);
    expect(error.name).toBe("Kling.ServerError");
    expect(error.klingMessage).toMatch(/503/);
  });
});

describe("failedTaskError: a task that Kling ended with status failed", () => {
  it.each([
    "Failure to pass the risk control system: content violates the platform policy",
    "The image contains sensitive information",
    "Safety check failed",
    "Rejected by moderation",
  ])("%j is a content policy refusal", (message) => {
    const error = failedTaskError(message, "task-1");
    expect(error.name).toBe("Kling.ContentPolicy");
    expect(error.retriedByStateMachine).toBe(false);
    expect(error.klingMessage).toContain(message);
  });

  it.each([
    "Image pixel is invalid",
    "Video generation failed: the scene is too complex to render in the requested duration",
    "Generation timed out",
  ])("%j is a failed generation carrying Kling's message and the task id", (message) => {
    const error = failedTaskError(message, "task-42");
    expect(error.name).toBe("Kling.GenerationFailed");
    expect(error.recoverable).toBe(true);
    expect(error.retriedByStateMachine).toBe(false);
    expect(error.klingMessage).toContain(message);
    expect(error.message).toContain("task-42");
  });

  it("an empty reason still says something", () => {
    const error = failedTaskError("", "task-7");
    expect(error.name).toBe("Kling.GenerationFailed");
    expect(error.klingMessage).toMatch(/no reason given/);
  });
});
