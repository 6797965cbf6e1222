/**
 * Kling's callback route on this machine, for the runs that have no local API server (`npm
 * start`, the chaos run, the benchmark, the tests): a node:http server on 127.0.0.1 and a free
 * port that answers `POST /kling/callbacks/{externalTaskId}/{token}` the way API Gateway does,
 * with the same handler, and nothing else (404).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { errorResponse } from "#lambdas/api/http";
import { API_GATEWAY_MAX_PAYLOAD_BYTES, CALLBACK_RESOURCE, fromProxyResult, newRequestId, toProxyEvent } from "./proxy-event";

export type CallbackHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface CallbackEndpoint {
  /** e.g. `http://127.0.0.1:40123`: the base of the callback URLs. */
  readonly url: string;
  close(): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startCallbackEndpoint(handle: CallbackHandler): Promise<CallbackEndpoint> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= API_GATEWAY_MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      const requestId = newRequestId();
      const event = toProxyEvent({
        method: request.method ?? "GET",
        target: request.url ?? "/",
        rawHeaders: request.rawHeaders,
        body: Buffer.concat(chunks),
        sourceIp: (request.socket.remoteAddress ?? HOST).replace(/^::ffff:/, ""),
        localPort: request.socket.localPort ?? 0,
        requestId,
        receivedAt: new Date(),
      });
      const answer =
        bytes > API_GATEWAY_MAX_PAYLOAD_BYTES
          ? Promise.resolve(errorResponse(413, ["the request is larger than API Gateway accepts"]))
          : event.resource === CALLBACK_RESOURCE && event.httpMethod === "POST"
            ? handle(event)
            : Promise.resolve(errorResponse(404, [`no route ${event.httpMethod} ${event.path}: this endpoint only receives Kling's callbacks`]));
      answer
        .catch(() => errorResponse(502, ["the callback function failed"]))
        .then((result) => {
          const http = fromProxyResult(result, requestId);
          response.writeHead(http.statusCode, http.headers);
          response.end(http.body);
        })
        .catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      })),
  };
}
