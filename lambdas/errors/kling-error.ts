import { classifyKlingError, ERROR_KINDS, type KlingErrorName } from "./taxonomy";

export interface KlingErrorDetails {
  /** The HTTP status of Kling's answer, when there was one. */
  readonly httpStatus?: number | undefined;
  /** Kling's business code (`code` of the envelope), when there was one. */
  readonly klingCode?: number | undefined;
  /** Kling's `request_id`, for support tickets. */
  readonly requestId?: string | undefined;
}

/**
 * Lambda hands Step Functions only `errorType` (our `name`) and `errorMessage`, so the details
 * travel inside the message, in a suffix that {@link parseErrorMessage} reads back.
 */
const DETAILS_SUFFIX = / \[http=(\d+|-) code=(\d+|-) request=([^\]\s]+|-)\]$/;

export function formatErrorMessage(message: string, details: KlingErrorDetails): string {
  const show = (value: number | string | undefined) => (value === undefined ? "-" : String(value));
  return `${message} [http=${show(details.httpStatus)} code=${show(details.klingCode)} request=${show(details.requestId)}]`;
}

export interface ParsedErrorMessage extends KlingErrorDetails {
  readonly message: string;
}

export function parseErrorMessage(text: string): ParsedErrorMessage {
  const match = DETAILS_SUFFIX.exec(text);
  if (!match) return { message: text };
  const [, http, code, request] = match;
  return {
    message: text.slice(0, match.index),
    httpStatus: http === "-" ? undefined : Number(http),
    klingCode: code === "-" ? undefined : Number(code),
    requestId: request === "-" ? undefined : request,
  };
}

/** An error whose `name` is the Step Functions error name that Retry and Catch match. */
export class KlingError extends Error {
  override readonly name: KlingErrorName;
  readonly httpStatus: number | undefined;
  readonly klingCode: number | undefined;
  readonly requestId: string | undefined;
  /** Kling's own message (or ours), without the details suffix. */
  readonly klingMessage: string;

  constructor(name: KlingErrorName, message: string, details: KlingErrorDetails = {}) {
    super(formatErrorMessage(message, details));
    this.name = name;
    this.klingMessage = message;
    this.httpStatus = details.httpStatus;
    this.klingCode = details.klingCode;
    this.requestId = details.requestId;
  }

  get retriedByStateMachine(): boolean {
    return ERROR_KINDS[this.name].retriedByStateMachine;
  }

  get recoverable(): boolean {
    return ERROR_KINDS[this.name].recoverable;
  }
}

/** Builds the error for a Kling answer that carried a non-zero code or an error status. */
export function klingErrorFromAnswer(
  httpStatus: number,
  klingCode: number | undefined,
  message: string,
  requestId: string | undefined,
): KlingError {
  const name = classifyKlingError(httpStatus, klingCode);
  return new KlingError(name, message || `Kling answered HTTP ${httpStatus}`, { httpStatus, klingCode, requestId });
}

/** Words in a failed task's message that mean a content policy refused it (ARCHITECTURE.md). */
const CONTENT_POLICY_WORDS = /\b(content|safety|sensitive|policy|moderation)\b/i;

/**
 * The error for a task that Kling ended with status `failed`: a content refusal is
 * Kling.ContentPolicy, anything else Kling.GenerationFailed, both with Kling's own message.
 */
export function failedTaskError(statusMessage: string, taskId: string): KlingError {
  const message = statusMessage || "no reason given";
  const name = CONTENT_POLICY_WORDS.test(message) ? "Kling.ContentPolicy" : "Kling.GenerationFailed";
  return new KlingError(name, `Kling task ${taskId} failed: ${message}`);
}
