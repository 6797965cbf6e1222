/**
 * A live trace of an execution that reads like the console's execution view: each state
 * entered and left, each retry with its error and wait, each catch, and the outcome.
 */
import type { Diagnosis } from "../../lambdas/diagnose/diagnosis";
import type { EngineEvent, ExecutionReport } from "./local-engine";

type Details = (output: Record<string, unknown>) => string;

const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((current, key) => (current && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined), value);

/** What a person wants to see when each state of the generation workflow is left. */
const EXIT_DETAILS: Record<string, Details> = {
  Validate: (out) => {
    const request = get(out, "request");
    return `${String(get(request, "model"))}, ${String(get(request, "mode"))}, ${String(get(request, "duration"))} s, ${String(get(out, "kind"))}`;
  },
  CheckCredits: (out) => `costs ${String(get(out, "credits", "priceUnits"))} units, ${String(get(out, "credits", "availableUnits"))} available`,
  Submit: (out) => `task ${String(get(out, "task", "taskId"))} (${String(get(out, "task", "status"))})`,
  WaitForVideo: (out) => `waited ${String(get(out, "task", "nextWaitSeconds"))} s`,
  Poll: (out) => {
    const status = String(get(out, "task", "status"));
    const wait = get(out, "task", "nextWaitSeconds");
    return status === "succeed" ? "succeed" : `${status}, next poll in ${String(wait)} s`;
  },
  Diagnose: (out) => `${String(get(out, "diagnosis", "errorCode"))}`,
};

function short(text: string, length = 160): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/** Lambda's Cause is JSON with the error message inside; show just the message. */
function causeText(cause: string | undefined): string {
  if (!cause) return "";
  try {
    const parsed: unknown = JSON.parse(cause);
    const message = get(parsed, "errorMessage");
    if (typeof message === "string") return message;
  } catch {
    // Plain text.
  }
  return cause;
}

export function formatEvent(event: EngineEvent, startedAt: number): string | undefined {
  const time = `+${((event.at - startedAt) / 1000).toFixed(1)}s`.padStart(8);
  const state = event.stateName ?? "";
  switch (event.type) {
    case "StateEntered":
      return `${time}  -> ${state}`;
    case "StateExited": {
      const details = EXIT_DETAILS[state];
      const output = event.output && typeof event.output === "object" ? (event.output as Record<string, unknown>) : {};
      return `${time}  <- ${state}${details ? `  ${details(output)}` : ""}`;
    }
    case "StateFailed":
      return `${time}  !! ${state} failed: ${event.error ?? "error"}: ${short(causeText(event.cause))}`;
    case "StateRetried":
      return event.retry
        ? `${time}  ~~ ${state} retry ${event.retry.attempt} after ${event.retry.error}, waited ${event.retry.waitSeconds.toFixed(1)} s`
        : `${time}  ~~ ${state} retried`;
    case "StateCaught":
      return `${time}  => ${state} caught, going to Diagnose`;
    default:
      return undefined;
  }
}

export function parseDiagnosis(cause: string | null): Diagnosis | null {
  if (!cause) return null;
  try {
    return JSON.parse(cause) as Diagnosis;
  } catch {
    return null;
  }
}

export function formatOutcome(report: ExecutionReport): string[] {
  const seconds = ((report.stoppedAt - report.startedAt) / 1000).toFixed(1);
  if (report.status === "SUCCEEDED") {
    const url = get(report.output, "task", "video", "url");
    return [`SUCCEEDED in ${seconds} s (simulated time)`, `video: ${String(url)}`];
  }
  const diagnosis = parseDiagnosis(report.cause);
  if (!diagnosis) return [`FAILED in ${seconds} s: ${report.error ?? "unknown error"}: ${report.cause ?? ""}`];
  return [
    `FAILED in ${seconds} s: ${diagnosis.errorCode} in ${diagnosis.failedState}`,
    `  ${diagnosis.errorMessage}`,
    `  recoverable: ${diagnosis.recoverable ? "yes" : "no"} (${diagnosis.action})`,
    `  suggestion: ${diagnosis.suggestion}`,
  ];
}
