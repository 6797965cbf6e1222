/**
 * The two translations the local API server makes, as API Gateway's REST API makes them with a
 * Lambda proxy integration: an HTTP request into the APIGatewayProxyEvent the handler receives,
 * and the handler's APIGatewayProxyResult into the HTTP response.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { GENERATIONS_PATH } from "#lambdas/api/routes";
import { LOCAL_ACCOUNT } from "../runner/definition";

/** The deployed stage (lib/generation-api.ts). Locally the paths carry no stage prefix. */
const STAGE = "v1";

/** API Gateway refuses a larger request payload itself, before the integration is called. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

const LOCAL_API_ID = "local";

/** What the server read off the socket. */
export interface RawApiRequest {
  readonly method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  readonly target: string;
  /** Node's rawHeaders: names as sent, in order, name and value alternating. */
  readonly rawHeaders: readonly string[];
  /** Empty when there was no body. */
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly localPort: number;
  readonly requestId: string;
  readonly receivedAt: Date;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** The resources of the deployed REST API, and the `{proxy+}` catch-all the handler also understands. */
interface MatchedResource {
  readonly resource: string;
  readonly resourceId: string;
  readonly pathParameters: Record<string, string> | null;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Splits the request target into its still-encoded path and its query string. */
export function splitTarget(target: string): { readonly path: string; readonly query: string } {
  // Absolute-form targets (`GET http://host/path`) are allowed by HTTP/1.1.
  const relative = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "") : target;
  const withoutFragment = relative.split("#", 1)[0] ?? "";
  const mark = withoutFragment.indexOf("?");
  const path = mark === -1 ? withoutFragment : withoutFragment.slice(0, mark);
  const query = mark === -1 ? "" : withoutFragment.slice(mark + 1);
  return { path: path.startsWith("/") ? path : `/${path}`, query };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The resource API Gateway matches: `/generations`, `/generations/{id}` (a trailing slash
 * matches too), and for anything else a `{proxy+}` resource, so that the handler answers it
 * (404 or 405) by its path. Path parameters are decoded, as API Gateway decodes them.
 */
function matchResource(path: string): MatchedResource {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (trimmed === GENERATIONS_PATH) return { resource: GENERATIONS_PATH, resourceId: "generations", pathParameters: null };
  const item = /^\/generations\/([^/]+)$/.exec(trimmed);
  if (item?.[1] !== undefined) {
    return { resource: `${GENERATIONS_PATH}/{id}`, resourceId: "generation", pathParameters: { id: decodeSegment(item[1]) } };
  }
  if (trimmed === "/") return { resource: "/", resourceId: "root", pathParameters: null };
  return { resource: "/{proxy+}", resourceId: "proxy", pathParameters: { proxy: decodeSegment(path.slice(1)) } };
}

/** Query parameters decoded, the last value of a repeated one in the first map and all of them in the second; null when none. */
function queryParameters(query: string): {
  readonly single: Record<string, string> | null;
  readonly multi: Record<string, string[]> | null;
} {
  if (query === "") return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

/** `09/Apr/2015:12:34:56 +0000`, the format of `requestContext.requestTime`. */
function requestTime(at: Date): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (value: number) => String(value).padStart(2, "0");
  return `${two(at.getUTCDate())}/${months[at.getUTCMonth()]}/${at.getUTCFullYear()}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/** An X-Ray trace header like the one API Gateway adds with tracing on. */
function traceId(at: Date): string {
  return `Root=1-${Math.floor(at.getTime() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
}

/**
 * The request's headers as API Gateway gives them: names as sent, the last value of a
 * repeated header in `headers` and every value in `multiValueHeaders`, plus the
 * X-Forwarded-* and X-Amzn-Trace-Id headers the gateway adds.
 */
function requestHeaders(request: RawApiRequest): {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  };
  const forwardedFor: string[] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] ?? "";
    const value = request.rawHeaders[index + 1] ?? "";
    const lower = name.toLowerCase();
    // The gateway sets these itself; a client's X-Forwarded-For is kept, with the client appended.
    if (lower === "x-forwarded-for") forwardedFor.push(value);
    else if (lower !== "x-forwarded-port" && lower !== "x-forwarded-proto") add(name, value);
  }
  const set = (name: string, value: string) => {
    headers[name] = value;
    multiValueHeaders[name] = [value];
  };
  set("X-Forwarded-For", [...forwardedFor, request.sourceIp].join(", "));
  set("X-Forwarded-Port", String(request.localPort));
  set("X-Forwarded-Proto", "http");
  if (!Object.keys(headers).some((name) => name.toLowerCase() === "x-amzn-trace-id")) set("X-Amzn-Trace-Id", traceId(request.receivedAt));
  return { headers, multiValueHeaders };
}

function headerOf(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  let found: string | undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) found = value;
  return found;
}

/** The body as the handler gets it: text when it is UTF-8, base64 with isBase64Encoded otherwise, null when empty. */
function eventBody(body: Buffer): { readonly body: string | null; readonly isBase64Encoded: boolean } {
  if (body.length === 0) return { body: null, isBase64Encoded: false };
  try {
    UTF8.decode(body);
    return { body: body.toString("utf8"), isBase64Encoded: false };
  } catch {
    return { body: body.toString("base64"), isBase64Encoded: true };
  }
}

/** The event API Gateway's Lambda proxy integration delivers for this request. */
export function toProxyEvent(request: RawApiRequest): APIGatewayProxyEvent {
  const { path, query } = splitTarget(request.target);
  const matched = matchResource(path);
  const { headers, multiValueHeaders } = requestHeaders(request);
  const queries = queryParameters(query);
  const host = headerOf(headers, "host") ?? `127.0.0.1:${request.localPort}`;
  const domainName = host.replace(/:\d+$/, "");
  return {
    resource: matched.resource,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: queries.single,
    multiValueQueryStringParameters: queries.multi,
    pathParameters: matched.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: LOCAL_API_ID,
      authorizer: undefined,
      domainName,
      domainPrefix: domainName.split(".", 1)[0] ?? domainName,
      extendedRequestId: randomBytes(12).toString("base64url"),
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headerOf(headers, "user-agent") ?? null,
        userArn: null,
      },
      path: `/${STAGE}${path}`,
      protocol: "HTTP/1.1",
      requestId: request.requestId,
      requestTime: requestTime(request.receivedAt),
      requestTimeEpoch: request.receivedAt.getTime(),
      resourceId: matched.resourceId,
      resourcePath: matched.resource,
      stage: STAGE,
    },
    ...eventBody(request.body),
  };
}

/** Headers API Gateway does not pass on from an integration's response as they are. */
const GATEWAY_OWNED_HEADERS = new Set(["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"]);

class MalformedProxyResultError extends Error {
  override readonly name = "MalformedProxyResultError";
}

/**
 * The HTTP response for the handler's result: `headers` and `multiValueHeaders` merged (a name
 * in both takes the multi-value list), the body base64-decoded when isBase64Encoded, a JSON
 * content type when none is given, and the gateway's x-amzn-RequestId. A result API Gateway
 * could not use is a MalformedProxyResultError.
 */
export function fromProxyResult(result: APIGatewayProxyResult, requestId: string): HttpResponse {
  const { statusCode } = result;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedProxyResultError(`the handler answered with status ${String(statusCode)}`);
  }
  if (result.body !== undefined && result.body !== null && typeof result.body !== "string") {
    throw new MalformedProxyResultError("the handler answered with a body that is not a string");
  }
  const multi: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (!GATEWAY_OWNED_HEADERS.has(lower)) (multi[lower] ??= []).push(...values.map(String));
  }
  const headers: Record<string, string | string[]> = { ...multi };
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!GATEWAY_OWNED_HEADERS.has(lower) && multi[lower] === undefined) headers[lower] = String(value);
  }
  headers["content-type"] ??= "application/json";
  headers["x-amzn-requestid"] = requestId;
  const text = result.body ?? "";
  const body = result.isBase64Encoded ? Buffer.from(text, "base64") : Buffer.from(text, "utf8");
  return { statusCode, headers, body };
}

export function newRequestId(): string {
  return randomUUID();
}
