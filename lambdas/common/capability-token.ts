/**
 * The capability token in the callback URL the pipeline gives Kling: an HMAC-SHA256 of the task's
 * `external_task_id` under the pipeline's secret, so only who holds the secret can name a task's
 * callback URL, and a token works for its own task alone. The prefix keeps this use of the secret
 * apart from any other HMAC made with it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const DOMAIN = "kling-callback:";

function digest(secret: string, externalTaskId: string): Buffer {
  if (secret === "") throw new Error("a capability token needs a secret: it is empty");
  return createHmac("sha256", secret).update(`${DOMAIN}${externalTaskId}`).digest();
}

/** The token of this task's callback URL, URL-safe base64 without padding. */
export function capabilityToken(secret: string, externalTaskId: string): string {
  return digest(secret, externalTaskId).toString("base64url");
}

/** Whether `token` is this task's token under this secret, compared in constant time. */
export function verifyCapabilityToken(secret: string, externalTaskId: string, token: string): boolean {
  const expected = digest(secret, externalTaskId);
  const given = Buffer.from(token, "base64url");
  // Re-encoding refuses a token that decodes to the digest only by base64url's leniency (e.g. padding or stray characters).
  return given.length === expected.length && given.toString("base64url") === token && timingSafeEqual(given, expected);
}
