/**
 * The generation API on this machine: a node:http server on 127.0.0.1 that does what API
 * Gateway does in front of the API Lambda (the request as a REST API Lambda proxy event, the
 * 10 MB payload limit, the result back as HTTP) and calls the same handler, with executions
 * run by the local engine. `npm start -- serve` starts it.
 */
import type { Environment } from "#lambdas/common/config";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { GenerationExecutions } from "#lambdas/api/executions";
import type { VideoLinks } from "#lambdas/api/video-links";
import { PortUnavailableError, portProblem } from "../cli/listen-error";
import type { QueuePositions } from "#lambdas/ledger/queue-position";
import { answerPutEvents, PUT_EVENTS_TARGET, type PutEventsEntry } from "./put-events";
import { errorResponse } from "#lambdas/api/http";
import { handleApiRequest } from "#lambdas/api/routes";
import type { CallbackHandler } from "./callback-endpoint";
import type { ConsoleResponse } from "../console/console-routes";
import {
  API_GATEWAY_MAX_PAYLOAD_BYTES,
  CALLBACK_RESOURCE,
  fromProxyResult,
  newRequestId,
  splitTarget,
  toProxyEvent,
  type HttpResponse,
} from "./proxy-event";

const DEFAULT_API_PORT = 3000;
export const API_HOST = "127.0.0.1";

interface LocalApiServerOptions {
  readonly executions: GenerationExecutions;
  /** The configuration the API validates with (the pipeline's functions' environment). */
  readonly environment: Environment;
  /** Signs the links to archived videos (the pipeline's embedded S3). */
  readonly links: VideoLinks;
  /** The ledger's queue: a generation waiting for a Kling slot is QUEUED. */
  readonly queue?: QueuePositions;
  /** Kling's callback route, with the same handler as on AWS; without it the route is not answered (404). */
  readonly callbacks?: CallbackHandler | undefined;
  /** Where EventBridge PutEvents entries go (the local rules); without it PutEvents is not answered. */
  readonly events?: (entry: PutEventsEntry) => void;
  /** The web console under /console (console-routes.ts); without it those paths go to the API (404). */
  readonly console?: (request: { readonly method: string; readonly path: string; readonly range?: string | undefined }) => Promise<ConsoleResponse | undefined>;
  /** 0 picks a free port; {@link DEFAULT_API_PORT} by default. */
  readonly port?: number;
  /** Only this machine: the local API has no authentication. */
  readonly host?: typeof API_HOST;
  /**
   * Called once per request, when its response went out or its connection closed, with the
   * request as one log line ({@link formatRequestLine}) and as fields.
   */
  readonly onRequest?: (line: string, entry: ApiRequestLogEntry) => void;
}

export interface LocalApiServer {
  /** e.g. `http://127.0.0.1:3000`, with no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes every connection; in-flight executions go on in the engine. */
  close(): Promise<void>;
}

interface ApiRequestLogEntry {
  readonly method: string;
  /** The path as sent, without the query string. */
  readonly path: string;
  /** undefined when the connection closed before a response went out. */
  readonly status: number | undefined;
  /** Milliseconds from the request's arrival to its response's end. */
  readonly ms: number;
  readonly requestId: string;
}

const MAX_LOGGED_PATH_CHARACTERS = 200;

/** `POST /generations 202 12ms`: one line, whatever the path holds. */
function formatRequestLine(entry: ApiRequestLogEntry): string {
  // Control characters escaped, so a path can never break the line.
  let path = entry.path.replace(/[\u0000-\u001f\u007f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`);
  if (path.length > MAX_LOGGED_PATH_CHARACTERS) path = `${path.slice(0, MAX_LOGGED_PATH_CHARACTERS)}...`;
  return `${entry.method} ${path} ${entry.status ?? "-"} ${entry.ms}ms`;
}

const LOOPBACK_HOSTNAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

function loopbackHostname(authority: string, scheme = "http://"): boolean {
  const text = `${scheme}${authority}`;
  return URL.canParse(text) && LOOPBACK_HOSTNAMES.has(new URL(text).hostname);
}

/**
 * Why a request is refused before it reaches the API, or undefined. On AWS the API needs a
 * key a web page does not have; here there is none, so requests from web pages (an Origin that
 * is not this machine) and through DNS rebinding (a Host that is not this machine) are refused.
 */
function refusalOf(request: IncomingMessage): string | undefined {
  const host = request.headers.host;
  if (host !== undefined && !loopbackHostname(host)) return "the local API answers only requests addressed to 127.0.0.1 or localhost";
  const origin = request.headers.origin;
  if (origin !== undefined && !(URL.canParse(origin) && LOOPBACK_HOSTNAMES.has(new URL(origin).hostname))) {
    return "the local API does not answer requests from web pages";
  }
  return undefined;
}

class ClientGoneError extends Error {
  override readonly name = "ClientGoneError";
}

/**
 * The request body, or undefined as soon as it passes `limitBytes`: the rest is read and
 * dropped, so a huge body never sits in memory.
 */
function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      finish();
    };
    request.on("data", (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limitBytes) {
        chunks.length = 0;
        settle(() => resolve(undefined));
      } else {
        chunks.push(chunk);
      }
    });
    request.once("end", () => settle(() => resolve(Buffer.concat(chunks))));
    request.once("error", (error) => settle(() => reject(error)));
    request.once("close", () => settle(() => reject(new ClientGoneError("the client closed the connection mid-request"))));
  });
}

function declaredLength(request: IncomingMessage): number | undefined {
  const header = request.headers["content-length"];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}

/**
 * The 413 for a body over the limit. One declared too large is not waited for: the
 * connection closes. One that grew too large while streaming is read to its end and dropped
 * (the server's request timeout bounds how long), so the client, still sending, gets the answer.
 */
function tooLarge(requestId: string, closeConnection: boolean): HttpResponse {
  const response = fromProxyResult(
    errorResponse(413, [`the body is larger than ${API_GATEWAY_MAX_PAYLOAD_BYTES} bytes, API Gateway's payload limit`]),
    requestId,
  );
  return closeConnection ? { ...response, headers: { ...response.headers, connection: "close" } } : response;
}

function send(response: ServerResponse, answer: HttpResponse): void {
  response.writeHead(answer.statusCode, { ...answer.headers, "content-length": String(answer.body.length) });
  response.end(answer.body);
}

function logServerError(method: string, path: string, requestId: string, error: unknown): void {
  console.error(
    JSON.stringify({
      level: "ERROR",
      message: "the local API server failed a request",
      method,
      path,
      requestId,
      ...(error instanceof Error ? { errorName: error.name, errorMessage: error.message } : { error: typeof error }),
    }),
  );
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalApiServerOptions,
  expectsContinue: boolean,
): Promise<void> {
  const startedAt = performance.now();
  const receivedAt = new Date();
  const requestId = newRequestId();
  const method = request.method ?? "GET";
  const target = request.url ?? "/";
  const { path } = splitTarget(target);
  response.once("close", () => {
    if (!options.onRequest) return;
    try {
      const entry: ApiRequestLogEntry = {
        method,
        path,
        status: response.writableFinished ? response.statusCode : undefined,
        ms: Math.round(performance.now() - startedAt),
        requestId,
      };
      options.onRequest(formatRequestLine(entry), entry);
    } catch (error) {
      logServerError(method, path, requestId, error);
    }
  });

  try {
    const refusal = refusalOf(request);
    if (refusal !== undefined) {
      request.resume();
      send(response, fromProxyResult(errorResponse(403, [refusal]), requestId));
      return;
    }
    const consoleAnswer = options.console ? await options.console({ method, path, range: request.headers.range }) : undefined;
    if (consoleAnswer) {
      request.resume();
      response.writeHead(consoleAnswer.statusCode, { ...consoleAnswer.headers, "x-amzn-requestid": requestId });
      if (Buffer.isBuffer(consoleAnswer.body)) response.end(consoleAnswer.body);
      else consoleAnswer.body.pipe(response);
      return;
    }
    // Refused before a byte of it is read (and, with Expect: 100-continue, before it is sent).
    if ((declaredLength(request) ?? 0) > API_GATEWAY_MAX_PAYLOAD_BYTES) {
      request.resume();
      send(response, tooLarge(requestId, true));
      return;
    }
    if (expectsContinue) response.writeContinue();
    const body = await readBody(request, API_GATEWAY_MAX_PAYLOAD_BYTES);
    if (body === undefined) {
      send(response, tooLarge(requestId, false));
      return;
    }
    const putEventsTarget = request.headers["x-amz-target"] === PUT_EVENTS_TARGET && method === "POST" && path === "/";
    if (putEventsTarget && options.events) {
      const answer = answerPutEvents(body, options.events);
      response.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": requestId });
      response.end(JSON.stringify(answer.body));
      return;
    }
    const event = toProxyEvent({
      method,
      target,
      rawHeaders: request.rawHeaders,
      body,
      sourceIp: (request.socket.remoteAddress ?? API_HOST).replace(/^::ffff:/, ""),
      localPort: request.socket.localPort ?? 0,
      requestId,
      receivedAt,
    });
    const result =
      event.resource === CALLBACK_RESOURCE && method === "POST" && options.callbacks
        ? await options.callbacks(event)
        : await handleApiRequest(event, options.executions, options.environment, { links: options.links, queue: options.queue });
    send(response, fromProxyResult(result, requestId));
  } catch (error) {
    if (error instanceof ClientGoneError || response.destroyed) return;
    logServerError(method, path, requestId, error);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    send(response, fromProxyResult(errorResponse(500, ["internal error"]), requestId));
  }
}

/** Starts the local API; resolves once it listens. */
export async function startLocalApiServer(options: LocalApiServerOptions): Promise<LocalApiServer> {
  const port = options.port ?? DEFAULT_API_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`port must be a whole number from 0 to 65535, got ${port}`);
  const host = options.host ?? API_HOST;
  if (host !== API_HOST) throw new RangeError(`the local API listens on ${API_HOST} only, not ${String(host)}`);

  const server = createServer();
  server.on("request", (request: IncomingMessage, response: ServerResponse) => void serve(request, response, options, false));
  server.on("checkContinue", (request: IncomingMessage, response: ServerResponse) => void serve(request, response, options, true));

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const problem = portProblem(error, host, port);
      reject(problem === undefined ? error : new PortUnavailableError(problem, { cause: error }));
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      })),
  };
}
