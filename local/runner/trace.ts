/**
 * A live trace of a generation execution: one line per event a person cares about (a state's
 * result, a failure with its retry or its catch, the diagnosis), then the outcome in words.
 * Choice states, a caught state's leftover output and the Fail state itself say nothing new,
 * so they print nothing; the outcome lines carry the final error, message and suggestion.
 */
import type { Diagnosis } from "#lambdas/diagnose/diagnosis";
import { errorKindOf } from "#lambdas/errors/index";
import { errorProse } from "#lambdas/errors/runbook";
import type { EngineEvent, ExecutionReport } from "./local-engine";

const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((current, key) => (current && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined), value);

const text = (value: unknown): string | undefined => (typeof value === "string" || typeof value === "number" ? String(value) : undefined);

/** "kling-v2-6, std, 5 s": only the parts the value holds. */
const joined = (parts: readonly (string | undefined)[]): string => parts.filter((part) => part !== undefined).join(", ");

function nextPoll(task: unknown): string | undefined {
  const seconds = get(task, "nextWaitSeconds");
  return typeof seconds === "number" ? `${Math.round(seconds)} s` : undefined;
}

/** What a person wants to see when each state of the generation workflow is left normally. */
const EXIT_DETAILS: Record<string, (output: unknown) => string | undefined> = {
  Validate: (out) => {
    const request = get(out, "request");
    const duration = text(get(request, "duration"));
    return joined([text(get(request, "model")), text(get(request, "mode")), duration && `${duration} s`, text(get(out, "kind"))]);
  },
  CheckCredits: (out) => {
    const price = text(get(out, "credits", "priceUnits"));
    const available = text(get(out, "credits", "availableUnits"));
    return price === undefined ? undefined : `costs ${price} units${available === undefined ? "" : `, ${available} available`}`;
  },
  WaitForSlot: (out) => {
    const queued = get(out, "slot", "queuedSeconds");
    if (typeof queued !== "number") return undefined;
    return queued === 0 ? "a Kling slot was free" : `a Kling slot after ${queued} s in the queue`;
  },
  // Kling refused the create: the generation went back to the queue at its first place.
  BackToQueue: (out) => {
    const reason = text(get(out, "refusal", "Error"));
    const queued = get(out, "slot", "queuedSeconds");
    const why = reason === undefined ? "Kling refused the create" : `${reason}: ${errorKindOf(reason) === undefined ? "Kling refused the create" : errorProse(reason).meaning}`;
    return `back in the queue at its first place (${why}); a slot again${typeof queued === "number" ? ` ${queued} s after it first queued` : ""}`;
  },
  Submit: (out) => {
    const task = get(out, "task");
    const id = text(get(task, "taskId"));
    const poll = nextPoll(task);
    return id === undefined ? undefined : `Kling task ${id} (${text(get(task, "status")) ?? "submitted"})${poll ? `, first poll in ${poll}` : ""}`;
  },
  Poll: (out) => {
    const task = get(out, "task");
    const status = text(get(task, "status"));
    if (status === "succeed") return "the video is ready";
    const poll = nextPoll(task);
    return status === undefined ? undefined : `Kling says ${status}${poll ? `, next poll in ${poll}` : ""}`;
  },
  // With callbacks on, WaitForVideo ends when Kling's confirmed callback hands over the video; the Wait before a poll says nothing.
  WaitForVideo: (out) => (text(get(out, "task", "status")) === "succeed" ? "Kling called back: the video is ready" : undefined),
  Archive: (out) => {
    const video = get(get(out, "archive"), "video");
    const key = text(get(video, "key"));
    const bytes = get(video, "bytes");
    return key === undefined ? undefined : `kept the video${typeof bytes === "number" ? ` (${bytes} bytes)` : ""} as ${key}`;
  },
  Diagnose: (out) => {
    const diagnosis = get(out, "diagnosis");
    const code = text(get(diagnosis, "errorCode"));
    if (code === undefined) return undefined;
    const failedState = text(get(diagnosis, "failedState"));
    // The state machine selects `recoverable` as it came: true, or "true" through stringAt.
    const recoverable = String(get(diagnosis, "recoverable")) === "true";
    return `${code}${failedState ? ` in ${failedState}` : ""}, ${recoverable ? "recoverable" : "not recoverable"}`;
  },
};

/** States whose leaving says nothing (unless their details say something): the choices, the wait (Submit and Poll say when the next poll is), the end. */
const SILENT_STATES = new Set(["VideoReady?", "Recoverable?", "ResumeAfterRedrive", "WaitForVideo", "Succeeded", "Failed"]);

function short(line: string, length = 200): string {
  const flat = line.replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/**
 * The error message without the client's `[http=… code=… request=…]` suffix, with what it
 * holds (HTTP status, Kling code) in words when it holds anything; the request id is in the log.
 */
export function readableMessage(message: string): string {
  return message.replace(/\s*\[http=(\S+) code=(\S+) request=\S+\]\s*$/, (_whole, http: string, code: string) => {
    const parts = [http !== "-" ? `HTTP ${http}` : undefined, code !== "-" ? `code ${code}` : undefined].filter(Boolean);
    return parts.length > 0 ? ` (${parts.join(", ")})` : "";
  });
}

/** Lambda's Cause is JSON with the error message inside; show just the message. */
function causeText(cause: string | undefined): string {
  if (!cause) return "";
  try {
    const message = get(JSON.parse(cause), "errorMessage");
    if (typeof message === "string") return message;
  } catch {
    // Plain text.
  }
  return cause;
}

export function parseDiagnosis(cause: string | null): Diagnosis | null {
  if (!cause) return null;
  try {
    return JSON.parse(cause) as Diagnosis;
  } catch {
    return null;
  }
}

/** Turns engine events into trace lines; a failure waits for the next event to say whether it is retried or caught. */
export class TraceFormatter {
  private pendingFailure: EngineEvent | undefined;
  private readonly caught = new Set<string>();
  /** When the execution started: its first event (the first state entered), so offsets add up to the run's duration. */
  private startedAt: number | undefined;

  private line(at: number, state: string, details: string): string {
    this.startedAt ??= at;
    const time = `+${((at - this.startedAt) / 1000).toFixed(1)}s`.padStart(8);
    return `${time}  ${state.padEnd(13)} ${details}`;
  }

  private failureLine(failure: EngineEvent, after: string): string {
    const message = short(readableMessage(causeText(failure.cause)));
    return this.line(failure.at, failure.stateName ?? "", `${failure.error ?? "error"}: ${message}${after}`);
  }

  /** The lines this event completes (none, one, or a held failure and this event's line). */
  format(event: EngineEvent): string[] {
    const lines: string[] = [];
    const failure = this.pendingFailure;
    this.pendingFailure = undefined;
    if (failure) {
      if (event.type === "StateRetried" && event.stateName === failure.stateName) {
        const wait = event.retry ? `; retry ${event.retry.attempt} after ${event.retry.waitSeconds.toFixed(1)} s` : "; retried";
        return [this.failureLine(failure, wait)];
      }
      if (event.type === "StateCaught" && event.stateName === failure.stateName) {
        this.caught.add(failure.stateName ?? "");
        return [this.failureLine(failure, "")];
      }
      // The execution's own failure: the outcome lines say it.
      if (event.type !== "ExecutionFailed") lines.push(this.failureLine(failure, ""));
    }
    const state = event.stateName ?? "";
    switch (event.type) {
      case "StateFailed":
        this.pendingFailure = event;
        break;
      case "StateExited": {
        // A caught state's output is its input plus the error: nothing it produced.
        if (this.caught.delete(state)) break;
        const details = EXIT_DETAILS[state]?.(event.output);
        if (details === undefined && SILENT_STATES.has(state)) break;
        lines.push(this.line(event.at, state, details ?? "done"));
        break;
      }
      default:
        break;
    }
    return lines;
  }
}

function recoverableAdvice(diagnosis: Diagnosis): string {
  if (!diagnosis.recoverable) return `not recoverable (${diagnosis.action})`;
  return `recoverable (${diagnosis.action}): on AWS it waits for a redrive (npm start -- redrive); here, run the command again`;
}

/** The outcome as a person reads it: SUCCEEDED, or FAILED with the error, its message, where, and what to do. */
export function formatOutcome(report: ExecutionReport): string[] {
  const seconds = ((report.stoppedAt - report.startedAt) / 1000).toFixed(1);
  if (report.status === "SUCCEEDED") return [`SUCCEEDED in ${seconds} s (simulated time)`];
  const diagnosis = parseDiagnosis(report.cause);
  if (!diagnosis) return [`FAILED ${report.error ?? "States.Runtime"}: ${short(readableMessage(causeText(report.cause ?? undefined)))}`];
  return [
    `FAILED ${diagnosis.errorCode}: ${readableMessage(diagnosis.errorMessage)}`,
    `  in ${diagnosis.failedState} after ${seconds} s (simulated time); ${recoverableAdvice(diagnosis)}`,
    `  suggestion: ${diagnosis.suggestion}`,
  ];
}
