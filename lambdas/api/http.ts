/**
 * The HTTP side of the API Lambda: reading an API Gateway (REST, Lambda proxy) event's headers
 * and body, and writing JSON responses. Nothing here knows about generations.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

const JSON_CONTENT_TYPE = "application/json";

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { "content-type": JSON_CONTENT_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** Every refusal has this one shape: `{"errors": [...]}`, each problem in words for the caller. */
export function errorResponse(
  statusCode: number,
  errors: readonly string[],
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult {
  return jsonResponse(statusCode, { errors }, headers);
}

/**
 * The distinct values of a header, whatever case its name was sent in. API Gateway gives the
 * last value in `headers` and all of them in `multiValueHeaders`; either may be null (console
 * test invocations). Values are trimmed: surrounding whitespace is not part of a header value.
 */
export function headerValues(event: Pick<APIGatewayProxyEvent, "headers" | "multiValueHeaders">, name: string): string[] {
  const wanted = name.toLowerCase();
  const values = new Set<string>();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) values.add(value.trim());
  }
  for (const [key, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() !== wanted) continue;
    for (const value of list ?? []) values.add(value.trim());
  }
  return [...values];
}

type BodyJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly statusCode: 400 | 413; readonly problem: string };

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body parsed as JSON, refused when it is larger than `maxBytes` (counted after base64
 * decoding: what the caller sent), not UTF-8, empty, or not JSON.
 */
export function readJsonBody(event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">, maxBytes: number): BodyJson {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > maxBytes) {
    return { ok: false, statusCode: 413, problem: `the body is ${bytes.length} bytes; at most ${maxBytes} are accepted` };
  }
  let text: string;
  try {
    // Drops a leading byte order mark, which JSON.parse would refuse.
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, statusCode: 400, problem: "the body is not valid UTF-8" };
  }
  if (text.trim() === "") return { ok: false, statusCode: 400, problem: "the body is empty; send the request as a JSON object" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, statusCode: 400, problem: "the body is not valid JSON" };
  }
}

/**
 * JSON text with every object's keys in sorted order, so equal values always give the same
 * text (Step Functions compares an execution's input as text).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
    return Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
