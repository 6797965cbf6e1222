/**
 * A front for the simulator that holds requests or answers: the simulator cannot delay an
 * answer, so slow and late answers are applied here, between the pipeline and the simulator.
 * A request held before handling still reaches the simulator when its delay is over, even if
 * the client gave up: a late create really creates its task, as a slow Kling would.
 * It never logs and never keeps a header: the Authorization header only passes through.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiRequestInfo, DelayFault } from "../simulator";
import { isRecord } from "../simulator/json";
import { queriedIds, routeOf } from "../simulator/routes";

export interface DelaySource {
  delayFor(request: ApiRequestInfo): DelayFault | undefined;
}

export interface DelayingProxy {
  /** Where the pipeline should send its Kling requests, with no trailing slash. */
  readonly baseUrl: string;
  /** Requests held right now or on their way. */
  inFlight(): number;
  /** Resolves once every request taken so far has been forwarded and answered (or dropped). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

interface Forwarded {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Headers that belong to one connection, not to the request or answer. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

// Longer than 60 lines: one proxy's request and connection handlers share its socket bookkeeping, kept in one closure.
export async function startDelayingProxy(targetBaseUrl: string, source: DelaySource): Promise<DelayingProxy> {
  const target = new URL(targetBaseUrl);
  let pending = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    pending -= 1;
    if (pending === 0) {
      const ready = waiters;
      waiters = [];
      for (const resolve of ready) resolve();
    }
  };

  function forward(request: IncomingMessage, body: Buffer): Promise<Forwarded> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      headers["content-length"] = String(body.length);
      // A fresh connection per request: a dropped one never poisons a pooled socket.
      const outgoing = httpRequest(
        { host: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent: false },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => chunks.push(chunk));
          answer.on("end", () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }

  function reply(response: ServerResponse, answer: Forwarded): void {
    if (response.destroyed || response.socket?.destroyed) return;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    response.writeHead(answer.status, headers);
    response.end(answer.body);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const delay = delayOf(source, request.method ?? "GET", url, body);

    if (delay && !delay.afterHandling) await sleep(delay.delayMs);
    let answer: Forwarded;
    try {
      answer = await forward(request, body);
    } catch {
      // The simulator dropped the connection: drop this one too.
      request.socket.destroy();
      return;
    }
    if (delay?.afterHandling) await sleep(delay.delayMs);
    reply(response, answer);
  }

  const server = createServer((request, response) => {
    pending += 1;
    response.on("error", () => undefined);
    handle(request, response)
      .catch(() => request.socket.destroy())
      .finally(settle);
  });
  // A client that gives up resets its connection: that is expected here, not an error to report.
  server.on("connection", (socket) => socket.on("error", () => undefined));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    inFlight: () => pending,
    drained: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The request as the simulator's FaultPlan sees it; media downloads and unknown paths are never held. */
function delayOf(source: DelaySource, method: string, url: URL, body: Buffer): DelayFault | undefined {
  const pathname = url.pathname;
  const route = routeOf(method, pathname);
  if (route.kind === "video" || route.kind === "audio" || route.kind === "face" || route.kind === "other") return undefined;
  let createBody: unknown;
  if (route.kind === "create") {
    try {
      const parsed: unknown = JSON.parse(body.toString("utf8"));
      createBody = isRecord(parsed) ? parsed : undefined;
    } catch {
      createBody = undefined;
    }
  }
  return source.delayFor({
    kind: route.kind,
    method,
    path: pathname,
    taskKind: "taskKind" in route ? route.taskKind : undefined,
    createBody,
    ...(route.kind === "query" ? { taskIds: "id" in route ? [route.id] : queriedIds(url.searchParams) } : {}),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
