/**
 * The capability token in the callback URL the pipeline gives Kling: `<expiry>.<mac>`, the
 * expiry in epoch seconds (base 36) and the mac an HMAC-SHA256 of the task's `external_task_id`
 * and that expiry under the pipeline's capability key. Only who holds the key can name a task's
 * callback URL, a token works for its own task alone, and not past its expiry (Submit sets it
 * after the task's poll deadline: lambdas/common/callback-url.ts). The prefix keeps this use of
 * the key apart from any other HMAC made with it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const DOMAIN = "kling-callback:";
const EXPIRY_RADIX = 36;
const TOKEN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;

function digest(key: string, externalTaskId: string, expiresAtSeconds: number): Buffer {
  if (key === "") throw new Error("a capability token needs a key: it is empty");
  return createHmac("sha256", key).update(`${DOMAIN}${externalTaskId}:${expiresAtSeconds}`).digest();
}

/** The token of this task's callback URL, valid until `expiresAtMs` (epoch ms, rounded up to the second); URL-safe. */
export function capabilityToken(key: string, externalTaskId: string, expiresAtMs: number): string {
  const expiresAtSeconds = Math.ceil(expiresAtMs / 1000);
  return `${expiresAtSeconds.toString(EXPIRY_RADIX)}.${digest(key, externalTaskId, expiresAtSeconds).toString("base64url")}`;
}

/** What a token is for this task: made with one of the keys and not yet expired, made with one but expired, or not this task's at all. */
export type TokenCheck = "valid" | "expired" | "invalid";

/**
 * Checks `token` against each key (the current one, and during a rotation the other accepted
 * ones), each compared in constant time; its expiry is read only once a key's mac matches.
 */
export function verifyCapabilityToken(keys: readonly string[], externalTaskId: string, token: string, nowMs: number): TokenCheck {
  const parts = TOKEN.exec(token);
  if (!parts) return "invalid";
  const expiresAtSeconds = Number.parseInt(parts[1] ?? "", EXPIRY_RADIX);
  const given = Buffer.from(parts[2] ?? "", "base64url");
  // Re-encoding refuses a mac that decodes to the digest only by base64url's leniency.
  if (given.length !== 32 || given.toString("base64url") !== parts[2]) return "invalid";
  const matches = keys.some((key) => timingSafeEqual(given, digest(key, externalTaskId, expiresAtSeconds)));
  if (!matches) return "invalid";
  return nowMs <= expiresAtSeconds * 1000 ? "valid" : "expired";
}
