/**
 * The notifier's HTTP port: one POST to a requester's https URL, bounded by a timeout, no
 * redirects followed (a signed body goes only where the request named). The status decides;
 * the answer's body is read and dropped.
 */
import { request } from "node:https";

export interface WebhookPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

/** Resolves with the answer's status; rejects on a network failure or the timeout. */
export type WebhookSender = (post: WebhookPost) => Promise<number>;

/** Over https, trusting the system's CAs, or `ca` alone when given (the local runner's test certificate). */
export function httpsWebhookSender(ca?: string | Buffer): WebhookSender {
  return ({ url, headers, body, timeoutMs }) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== "https:") {
        reject(new Error(`a requester callback goes over https only, not ${target.protocol}`));
        return;
      }
      const outgoing = request(
        target,
        { method: "POST", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs), ...(ca ? { ca } : {}) },
        (answer) => {
          answer.resume();
          answer.on("end", () => resolve(answer.statusCode ?? 0));
          answer.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
}
