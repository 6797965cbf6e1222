/** A small Kling stand-in on 127.0.0.1 for the client tests: each request takes the next scripted reply. */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Reply =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string }
  | { readonly hang: "before-headers" | "after-headers" }
  | { readonly reset: true };

export class FakeKling {
  readonly received: ReceivedRequest[] = [];
  /** Runs as each request arrives, before it is answered. */
  onRequest: (() => void) | undefined;
  private replies: Reply[] = [];
  /** Sockets of answers left hanging on purpose; closing every socket would break the client's keep-alive pool. */
  private readonly hanging = new Set<Socket>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      this.received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      this.onRequest?.();
      this.send(this.replies.shift(), req, res);
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(...replies: Reply[]): void {
    this.replies = replies;
  }

  reset(): void {
    this.replies = [];
    this.received.length = 0;
    this.onRequest = undefined;
    for (const socket of this.hanging) socket.destroy();
    this.hanging.clear();
  }

  private send(reply: Reply | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (reply === undefined) {
      res.writeHead(599, { "content-type": "text/plain" }).end("the test did not script this request");
    } else if ("reset" in reply) {
      req.socket.destroy();
    } else if ("hang" in reply) {
      this.hanging.add(req.socket);
      if (reply.hang === "after-headers") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"code":0,');
      }
    } else if ("json" in reply) {
      res.writeHead(reply.status, { "content-type": "application/json" }).end(JSON.stringify(reply.json));
    } else {
      res.writeHead(reply.status, { "content-type": "text/html" }).end(reply.text);
    }
  }
}
