import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { diagnose, suggestionForFailedGeneration, type Diagnosis } from "#lambdas/diagnose/diagnosis";
import { handler } from "#lambdas/diagnose/handler";
import { ERROR_KINDS, ERROR_NAMES, failedTaskError, formatErrorMessage } from "#lambdas/errors/index";

const ACTIONS = ["retry-later", "buy-credits", "fix-credentials", "change-prompt", "fix-request", "contact-support"];

/** The Cause Step Functions records when a Lambda function throws. */
function lambdaCause(errorType: string, errorMessage: string): string {
  return JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, "    at handler (file:///var/task/index.mjs:1:1)"],
  });
}

function expectOneLine(suggestion: string): void {
  expect(suggestion.trim()).not.toBe("");
  expect(suggestion).not.toMatch(/[\r\n]/);
}

describe("diagnose() for every error name of the taxonomy", () => {
  it.each(ERROR_NAMES.map((name) => [name] as const))("%s", (name) => {
    const cause = lambdaCause(name, formatErrorMessage("something happened", { httpStatus: 429, klingCode: 1302, requestId: "req-1" }));
    const diagnosis = diagnose("job-1", "Submit", { Error: name, Cause: cause });
    expect(diagnosis.jobId).toBe("job-1");
    expect(diagnosis.failedState).toBe("Submit");
    expect(diagnosis.errorCode).toBe(name);
    expect(diagnosis.errorMessage).toBe("something happened");
    expect(diagnosis.recoverable).toBe(ERROR_KINDS[name].recoverable);
    expect(diagnosis.action).toBe(ERROR_KINDS[name].action);
    expect(ACTIONS).toContain(diagnosis.action);
    expectOneLine(diagnosis.suggestion);
  });

  it("every diagnosis is JSON with the documented fields", () => {
    const diagnosis = diagnose("job-1", "Poll", { Error: "Kling.PollTimeout", Cause: "late" });
    expect(Object.keys(diagnosis).sort()).toEqual(
      [
        "jobId",
        "errorCode",
        "errorMessage",
        "httpStatus",
        "klingCode",
        "requestId",
        "failedState",
        "recoverable",
        "action",
        "suggestion",
      ].sort(),
    );
    expect(JSON.parse(JSON.stringify(diagnosis))).toEqual(diagnosis);
  });

  it("the actions point the person at what fixes it", () => {
    const action = (name: (typeof ERROR_NAMES)[number]) => diagnose("j", "S", { Error: name }).action;
    expect(action("Kling.InsufficientCredits")).toBe("buy-credits");
    expect(action("Kling.AuthFailed")).toBe("fix-credentials");
    expect(action("Kling.ContentPolicy")).toBe("change-prompt");
    expect(action("Kling.InvalidRequest")).toBe("fix-request");
    expect(action("Kling.RateLimited")).toBe("retry-later");
    expect(action("Kling.ServerError")).toBe("retry-later");
  });
});

describe("the suggestion for a failed generation comes from Kling's reason", () => {
  it.each([
    ["Generation timed out", /shorter duration.*simpler prompt/i],
    ["task timeout while rendering", /shorter duration.*simpler prompt/i],
    ["Video generation failed: the scene is too complex to render", /simpler scene/i],
  ])("%j -> %s", (reason, expected) => {
    const diagnosis = diagnose("job-2", "Poll", {
      Error: "Kling.GenerationFailed",
      Cause: lambdaCause("Kling.GenerationFailed", formatErrorMessage(`Kling task t-1 failed: ${reason}`, {})),
    });
    expect(diagnosis.suggestion).toMatch(expected);
    expect(diagnosis.recoverable).toBe(true);
    expectOneLine(diagnosis.suggestion);
  });

  it("a reason in the content-problem words is a content refusal, told to change the prompt: one list decides both", () => {
    for (const reason of ["The content did not pass the safety check", "Rejected by moderation"]) {
      const error = failedTaskError(reason, "t-1");
      expect(error.name).toBe("Kling.ContentPolicy");
      expect(diagnose("job-2", "Poll", { Error: error.name, Cause: lambdaCause(error.name, error.message) }).suggestion).toMatch(/change the prompt/i);
    }
  });

  it("an unexplained failure still gets a one-line suggestion", () => {
    const suggestion = suggestionForFailedGeneration("something odd");
    expectOneLine(suggestion);
    expect(suggestion).not.toBe(suggestionForFailedGeneration("timed out"));
  });
});

describe("reading the Cause", () => {
  const message = formatErrorMessage("Too many requests, please slow down", {
    httpStatus: 429,
    klingCode: 1302,
    requestId: "req-7f3a",
  });
  const expected = {
    errorMessage: "Too many requests, please slow down",
    httpStatus: 429,
    klingCode: 1302,
    requestId: "req-7f3a",
  };

  it("a Lambda-style JSON Cause ({errorType, errorMessage, trace})", () => {
    const diagnosis = diagnose("job-3", "Submit", { Error: "Kling.RateLimited", Cause: lambdaCause("Kling.RateLimited", message) });
    expect(diagnosis).toMatchObject(expected);
  });

  it("a plain-text Cause", () => {
    const diagnosis = diagnose("job-3", "Submit", { Error: "Kling.RateLimited", Cause: message });
    expect(diagnosis).toMatchObject(expected);
  });

  it("a Cause without the details suffix gives null details", () => {
    const diagnosis = diagnose("job-3", "Poll", { Error: "States.Timeout", Cause: "The state timed out" });
    expect(diagnosis).toMatchObject({ errorMessage: "The state timed out", httpStatus: null, klingCode: null, requestId: null });
  });

  it("a suffix with '-' placeholders gives null details", () => {
    const diagnosis = diagnose("job-3", "Submit", {
      Error: "Kling.ServerError",
      Cause: lambdaCause("Kling.ServerError", formatErrorMessage("Kling could not be reached", {})),
    });
    expect(diagnosis).toMatchObject({ errorMessage: "Kling could not be reached", httpStatus: null, klingCode: null, requestId: null });
  });

  it("no Cause at all", () => {
    const diagnosis = diagnose("job-3", "Submit", { Error: "Kling.ServerError" });
    expect(diagnosis).toMatchObject({ errorMessage: "", httpStatus: null, klingCode: null, requestId: null });
  });

  it("JSON that is not a Lambda error is kept as text", () => {
    const cause = JSON.stringify({ something: "else" });
    expect(diagnose("job-3", "Submit", { Error: "Kling.ServerError", Cause: cause }).errorMessage).toBe(cause);
  });
});

describe("errors that are not Kling's", () => {
  it.each(["States.Timeout", "Lambda.Unknown", "Lambda.TooManyRequestsException", "Sandbox.Timedout"])(
    "%s is a passing platform fault: recoverable, retry later",
    (name) => {
      const diagnosis = diagnose("job-4", "Poll", { Error: name, Cause: "it happened" });
      expect(diagnosis.errorCode).toBe(name);
      expect(diagnosis.recoverable).toBe(true);
      expect(diagnosis.action).toBe("retry-later");
      expectOneLine(diagnosis.suggestion);
    },
  );

  it("Runtime.ExitError, which the state machine retries once, is recoverable once an operator fixed the function", () => {
    const diagnosis = diagnose("job-4", "Submit", { Error: "Runtime.ExitError", Cause: lambdaCause("Runtime.ExitError", "signal: killed") });
    expect(diagnosis).toMatchObject({ recoverable: true, action: "contact-support" });
    expect(diagnosis.suggestion).toMatch(/operators/);
  });

  it.each(["TypeError", "Error", "States.Runtime", "Kling.SomethingNew"])(
    "%s is unexpected: not recoverable, contact support, naming the state",
    (name) => {
      const diagnosis = diagnose("job-5", "CheckCredits", {
        Error: name,
        Cause: lambdaCause(name, "Cannot read properties of undefined (reading 'x')"),
      });
      expect(diagnosis.errorCode).toBe(name);
      expect(diagnosis.recoverable).toBe(false);
      expect(diagnosis.action).toBe("contact-support");
      expect(diagnosis.suggestion).toContain("CheckCredits");
      expect(diagnosis.errorMessage).toBe("Cannot read properties of undefined (reading 'x')");
      expectOneLine(diagnosis.suggestion);
    },
  );
});

describe("the Diagnose handler", () => {
  let log: MockInstance<typeof console.log>;
  beforeEach(() => {
    log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  });
  afterEach(() => {
    log.mockRestore();
  });

  /**
   * Runs the handler; it answers the Failed state with the error name and the diagnosis as JSON
   * (its Cause), and the two must agree.
   */
  async function runDiagnose(event: unknown): Promise<Diagnosis> {
    const result = await handler(event);
    if (!("cause" in result)) throw new Error(`Diagnose answered as AwaitRedrive: ${JSON.stringify(result)}`);
    expect(typeof result.cause).toBe("string");
    const diagnosis = JSON.parse(result.cause) as Diagnosis;
    expect(result.errorCode).toBe(diagnosis.errorCode);
    return diagnosis;
  }

  /** The one structured line the handler logged. */
  function loggedLine(): { level: string; diagnosis: Diagnosis } {
    expect(log).toHaveBeenCalledTimes(1);
    const [line] = log.mock.calls[0] ?? [];
    expect(typeof line).toBe("string");
    const text = String(line);
    expect(text).not.toMatch(/[\r\n]/);
    return JSON.parse(text) as { level: string; diagnosis: Diagnosis };
  }

  it("takes the failed state from the single key of `failure` and logs one JSON line", async () => {
    const cause = lambdaCause(
      "Kling.InsufficientCredits",
      formatErrorMessage("Resource pack exhausted or expired", { httpStatus: 429, klingCode: 1102, requestId: "req-55" }),
    );
    const diagnosis = await runDiagnose({ jobId: "job-6", failure: { Submit: { Error: "Kling.InsufficientCredits", Cause: cause } } });
    expect(diagnosis).toMatchObject({
      jobId: "job-6",
      failedState: "Submit",
      errorCode: "Kling.InsufficientCredits",
      errorMessage: "Resource pack exhausted or expired",
      httpStatus: 429,
      klingCode: 1102,
      requestId: "req-55",
      recoverable: true,
      action: "buy-credits",
    });
    const line = loggedLine();
    expect(line.level).toBe("ERROR");
    expect(line.diagnosis).toEqual(diagnosis);
  });

  it("reads a failure without a Cause", async () => {
    const diagnosis = await runDiagnose({ jobId: "job-7", failure: { Poll: { Error: "States.Timeout" } } });
    expect(diagnosis).toMatchObject({ failedState: "Poll", errorCode: "States.Timeout", recoverable: true, action: "retry-later" });
    loggedLine();
  });

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "oops"],
    ["an empty object", {}],
    ["a numeric job id", { jobId: 7, failure: { Submit: { Error: "Kling.ServerError" } } }],
    ["a failure that is not an object", { jobId: "job-8", failure: "Submit failed" }],
    ["an Error that is not a string", { jobId: "job-8", failure: { Submit: { Error: 500 } } }],
    ["an empty failure", { jobId: "job-8", failure: {} }],
  ])("never throws on a malformed event (%s) and still logs one line", async (_what, event) => {
    const diagnosis = await runDiagnose(event);
    expect(diagnosis.recoverable).toBe(false);
    expect(diagnosis.action).toBe("contact-support");
    expectOneLine(diagnosis.suggestion);
    expect(loggedLine().diagnosis).toEqual(diagnosis);
  });

  it("an empty failure keeps the job id it was given", async () => {
    const diagnosis = await runDiagnose({ jobId: "job-9", failure: {} });
    expect(diagnosis.jobId).toBe("job-9");
    expect(diagnosis.failedState).toBe("unknown");
  });
});
