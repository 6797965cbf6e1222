/**
 * The limits AWS enforces and aws-local-stepfunctions does not, enforced here as AWS does, so
 * a local run fails where a deployed one would (README, "Notes on the local engine").
 */

/**
 * Step Functions: a state's input and output, a Task's input after Parameters and its result,
 * and an execution's input: at most 256 KiB, as the UTF-8 bytes of the JSON text.
 */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** Lambda, synchronous invocation: 6 MB request and 6 MB response (Lambda's own figures in bytes). */
export const LAMBDA_REQUEST_LIMIT_BYTES = 6_291_456;
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;

/** EventBridge PutEvents: one entry (Source, DetailType, Detail, Resources, Time) at most 256 KB. */
export const PUT_EVENTS_ENTRY_LIMIT_BYTES = 256 * 1024;

export interface PutEventsEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly Time?: unknown;
}

const utf8 = (text: unknown): number => (typeof text === "string" ? Buffer.byteLength(text, "utf8") : 0);

/** An entry's size as EventBridge computes it: Source, DetailType, Detail, each Resource, and 14 for a Time. */
export function putEventsEntryBytes(entry: PutEventsEntry): number {
  const detail = typeof entry.Detail === "string" || entry.Detail === undefined ? entry.Detail : JSON.stringify(entry.Detail);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce((sum: number, resource) => sum + utf8(resource), 0) : 0;
  return (entry.Time === undefined ? 0 : 14) + utf8(entry.Source) + utf8(entry.DetailType) + utf8(detail) + resources;
}

/** PutEvents refuses the whole request when its entries pass the limit. */
export function assertPutEventsSize(entries: readonly PutEventsEntry[]): void {
  const bytes = entries.reduce((sum, entry) => sum + putEventsEntryBytes(entry), 0);
  if (bytes > PUT_EVENTS_ENTRY_LIMIT_BYTES) {
    throw awsError(
      "ValidationException",
      `Total size of the entries in the request is over the limit (${bytes} bytes; an entry's Source, DetailType and Detail may hold ${PUT_EVENTS_ENTRY_LIMIT_BYTES}).`,
    );
  }
}

/** Step Functions execution names: 1 to 80 characters, none of these. */
const MAX_EXECUTION_NAME_CHARACTERS = 80;
const FORBIDDEN_IN_NAMES = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

/** Step Functions' terminal errors: States.ALL neither retries nor catches them. */
export const TERMINAL_ERRORS: ReadonlySet<string> = new Set(["States.Runtime", "States.DataLimitExceeded"]);

/**
 * An error as an AWS API or Step Functions reports it: `name` is the error, `message` the cause.
 * A terminal one is marked so the engine neither retries nor catches it, as Step Functions does.
 */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  if (TERMINAL_ERRORS.has(name)) Object.assign(error, { isRetryable: false, isCatchable: false });
  return error;
}

/** The UTF-8 bytes of a value's JSON text, as Step Functions measures a payload. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null", "utf8");
}

/** StartExecution's name rule; a name that breaks it is refused with InvalidName. */
export function assertExecutionName(name: string): void {
  const characters = [...name].length;
  if (characters < 1 || characters > MAX_EXECUTION_NAME_CHARACTERS || FORBIDDEN_IN_NAMES.test(name)) {
    throw awsError(
      "InvalidName",
      `Invalid Name: '${name}' (an execution name is 1 to ${MAX_EXECUTION_NAME_CHARACTERS} characters, without whitespace, brackets, wildcards, control characters or any of " # % \\ ^ | ~ \` $ & , ; : /)`,
    );
  }
}

/** What StartExecution refuses before anything runs: a bad name, or an input past 256 KiB. */
export function assertStartExecution(name: string, input: unknown): void {
  assertExecutionName(name);
  const bytes = jsonBytes(input);
  if (bytes > STATE_PAYLOAD_LIMIT_BYTES) {
    throw awsError("InvalidExecutionInput", `The execution input is ${bytes} bytes; the limit is ${STATE_PAYLOAD_LIMIT_BYTES}.`);
  }
}

/** What Step Functions reports when a state's data passes the limit. */
export const DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded";

export function dataLimitCause(stateName: string, what: "input" | "output" | "result" | "parameters", bytes: number): string {
  const subject =
    what === "result"
      ? `The state/task '${stateName}' returned a result`
      : what === "parameters"
        ? `The state/task '${stateName}' was given parameters`
        : `The ${what} of the state '${stateName}' has`;
  return `${subject} with a size exceeding the maximum number of bytes service limit (${bytes} bytes, the limit is ${STATE_PAYLOAD_LIMIT_BYTES}).`;
}
