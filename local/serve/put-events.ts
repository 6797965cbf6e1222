/**
 * EventBridge's PutEvents on the local server, as the AWS CLI and SDK call it (AWS JSON 1.1:
 * `POST /` with `X-Amz-Target: AWSEvents.PutEvents`): each entry gets an EventId or an error of
 * its own, as on AWS, and the entries go to the local rules (the batch rule starts the batch
 * workflow, sharing the server's ledger with the API).
 */
import { randomUUID } from "node:crypto";

export const PUT_EVENTS_TARGET = "AWSEvents.PutEvents";
/** What one PutEvents call may carry. */
const MAX_ENTRIES = 10;

/** An entry as the rules see it: `Detail` parsed. */
export interface PutEventsEntry {
  readonly eventId: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

export interface PutEventsAnswer {
  readonly status: number;
  readonly body: unknown;
}

type ResultEntry = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };

function validationError(message: string): PutEventsAnswer {
  return { status: 400, body: { __type: "ValidationException", message } };
}

/** One entry's result: an EventId, or why it was refused. */
function acceptEntry(raw: unknown, deliver: (entry: PutEventsEntry) => void): ResultEntry {
  const { Source, DetailType, Detail, EventBusName } = (raw ?? {}) as Record<string, unknown>;
  if (EventBusName !== undefined && EventBusName !== "default") {
    return { ErrorCode: "ResourceNotFoundException", ErrorMessage: `Event bus ${String(EventBusName)} does not exist: the local server has the default bus only` };
  }
  if (typeof Source !== "string" || Source === "") return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument." };
  if (typeof DetailType !== "string" || DetailType === "") {
    return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument." };
  }
  let detail: unknown;
  try {
    detail = typeof Detail === "string" ? JSON.parse(Detail) : undefined;
  } catch {
    detail = undefined;
  }
  if (detail === null || typeof detail !== "object" || Array.isArray(detail)) {
    return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed: it must be a JSON object." };
  }
  const eventId = randomUUID();
  deliver({ eventId, source: Source, detailType: DetailType, detail });
  return { EventId: eventId };
}

export function answerPutEvents(body: Buffer, deliver: (entry: PutEventsEntry) => void): PutEventsAnswer {
  let request: unknown;
  try {
    request = JSON.parse(body.toString("utf8"));
  } catch {
    return { status: 400, body: { __type: "SerializationException", message: "the request body is not JSON" } };
  }
  const entries = (request as { Entries?: unknown } | null)?.Entries;
  if (!Array.isArray(entries) || entries.length === 0) return validationError("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
  if (entries.length > MAX_ENTRIES) {
    return validationError(`1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`);
  }
  const results = entries.map((entry) => acceptEntry(entry, deliver));
  return { status: 200, body: { FailedEntryCount: results.filter((result) => "ErrorCode" in result).length, Entries: results } };
}
