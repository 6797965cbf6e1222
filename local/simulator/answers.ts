/** What the simulator sends back, and the one place that writes it to the socket. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Fault } from "./faults";
import { deliverVideo, type VideoDeliveryFault } from "./video-delivery";

export type Answer =
  | { readonly type: "envelope"; readonly status: number; readonly code: number; readonly message: string; readonly data?: unknown }
  | { readonly type: "raw"; readonly status: number; readonly contentType: string; readonly body: string | Buffer }
  | { readonly type: "drop" }
  | { readonly type: "video"; readonly body: Buffer; readonly fault: VideoDeliveryFault | undefined };

export function success(data: unknown): Answer {
  return { type: "envelope", status: 200, code: 0, message: "SUCCEED", data };
}

/** Error envelopes carry no `data`, as Kling's do. */
export function failure(status: number, code: number, message: string): Answer {
  return { type: "envelope", status, code, message };
}

export function faultAnswer(fault: Fault): Answer {
  const answer = fault.answer;
  switch (answer.type) {
    case "error":
      return failure(answer.status, answer.code, answer.message);
    case "malformed":
      return { type: "raw", status: 200, contentType: answer.contentType, body: answer.body };
    case "drop":
      return { type: "drop" };
  }
}

/** Writes the answer; returns the HTTP status sent, or undefined when the connection was dropped. */
export function send(request: IncomingMessage, response: ServerResponse, answer: Answer): number | undefined {
  switch (answer.type) {
    case "drop":
      request.socket.destroy();
      return undefined;
    case "video":
      return deliverVideo(response, answer.body, answer.fault);
    case "raw":
      response.writeHead(answer.status, { "content-type": answer.contentType });
      response.end(answer.body);
      return answer.status;
    case "envelope": {
      const envelope = {
        code: answer.code,
        message: answer.message,
        request_id: randomUUID(),
        ...(answer.data === undefined ? {} : { data: answer.data }),
      };
      response.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
      response.end(JSON.stringify(envelope));
      return answer.status;
    }
  }
}

/** The request body, or undefined when it is larger than `limitBytes` (the rest is discarded). */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > limitBytes) tooLarge = true;
    if (!tooLarge) chunks.push(bytes);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}
