import { classifyKlingError, CONTENT_PROBLEM_WORDS, ERROR_KINDS, type KlingErrorName } from "./taxonomy";

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

/**
 * Kling's refusals that a caller expects and acts on, recognized here and nowhere else: a task
 * looked up by an id Kling does not know, and a create whose external_task_id an earlier create
 * took. Both come as invalid parameters (400/1201) with a message that says which (Kling's API documentation).
 */
export type ExpectedRefusal = "task-not-found" | "external-task-id-exists";

const INVALID_PARAMETERS = { httpStatus: 400, klingCode: 1201 } as const;
const EXPECTED_REFUSALS: readonly { readonly refusal: ExpectedRefusal; readonly message: RegExp }[] = [
  { refusal: "task-not-found", message: /not found/i },
  { refusal: "external-task-id-exists", message: /external_task_id.*exist/i },
];

function expectedRefusal(message: string, details: KlingErrorDetails): ExpectedRefusal | undefined {
  if (details.httpStatus !== INVALID_PARAMETERS.httpStatus || details.klingCode !== INVALID_PARAMETERS.klingCode) return undefined;
  return EXPECTED_REFUSALS.find((candidate) => candidate.message.test(message))?.refusal;
}

/** An error whose `name` is the Step Functions error name that Retry and Catch match. */
export class KlingError extends Error {
  override readonly name: KlingErrorName;
  readonly httpStatus: number | undefined;
  readonly klingCode: number | undefined;
  readonly requestId: string | undefined;
  /** Kling's own message (or ours), without the details suffix. */
  readonly klingMessage: string;
  /** Which expected refusal Kling answered, if it was one. */
  readonly refusal: ExpectedRefusal | undefined;

  constructor(name: KlingErrorName, message: string, details: KlingErrorDetails = {}) {
    super(formatErrorMessage(message, details));
    this.name = name;
    this.klingMessage = message;
    this.httpStatus = details.httpStatus;
    this.klingCode = details.klingCode;
    this.requestId = details.requestId;
    this.refusal = expectedRefusal(message, details);
  }

  get retriedByStateMachine(): boolean {
    return ERROR_KINDS[this.name].retry !== "none";
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

/**
 * The error for a task that Kling ended with status `failed`: a content refusal is
 * Kling.ContentPolicy, anything else Kling.GenerationFailed, both with Kling's own message.
 */
export function failedTaskError(statusMessage: string, taskId: string): KlingError {
  const message = statusMessage || "no reason given";
  const name = CONTENT_PROBLEM_WORDS.test(message) ? "Kling.ContentPolicy" : "Kling.GenerationFailed";
  return new KlingError(name, `Kling task ${taskId} failed: ${message}`);
}
