/**
 * Standard Webhooks (standardwebhooks.com, spec 1.0.0): the `webhook-id`, `webhook-timestamp`
 * and `webhook-signature: v1,<base64>` headers, the signature an HMAC-SHA256 over
 * `{id}.{timestamp}.{raw body}` keyed with the base64-decoded `whsec_` secret. Used to sign the
 * pipeline's notifications to requesters and to verify Kling's signed callbacks.
 *
 * Written here rather than taken from npm `standardwebhooks` (1.1.1, 2026-08): that package
 * hashes with the pure-JS fast-sha256 and compares in its own JS loop instead of Node's crypto and
 * timingSafeEqual, reports every failure as one error class told apart only by message (a bad
 * secret as a plain Error from its base64 dependency), and accepts a timestamp such as "12abc".
 * The spec's published test vector pins this module to the reference implementations.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

type WebhookHeaders = Readonly<Record<(typeof WEBHOOK_HEADERS)[keyof typeof WEBHOOK_HEADERS], string>>;

/** How far a timestamp may be from the receiver's clock, either way (the spec's recommendation). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = "whsec_";
/** The spec: a secret of 24 to 64 random bytes. */
const SECRET_BYTES = { min: 24, max: 64 } as const;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SIGNATURE_VERSION = "v1";
const SHA256_BYTES = 32;

export type WebhookFailure = "bad-secret" | "missing-header" | "malformed-timestamp" | "stale-timestamp" | "future-timestamp" | "no-matching-signature";

/** Why a webhook was refused, or why a secret cannot sign or verify one. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly failure: WebhookFailure,
    message: string,
  ) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** The key of a `whsec_` secret; a secret of another shape is refused, never used as it is. */
function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (encoded === undefined || encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
    throw new WebhookVerificationError("bad-secret", `a webhook secret is "${SECRET_PREFIX}" followed by base64`);
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < SECRET_BYTES.min || key.length > SECRET_BYTES.max) {
    throw new WebhookVerificationError("bad-secret", `a webhook secret holds ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes, this one ${key.length}`);
  }
  return key;
}

/** A new secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;
}

/**
 * A stored secret as this module takes it: one without the `whsec_` prefix (Secrets Manager's
 * generated value is bare base64) gets it.
 */
export function webhookSecretOf(stored: string): string {
  return stored.startsWith(SECRET_PREFIX) ? stored : `${SECRET_PREFIX}${stored}`;
}

function digest(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The three headers of a webhook with this id, sent at `timestampSeconds` (Unix seconds), with this body. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): WebhookHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  return {
    [WEBHOOK_HEADERS.id]: id,
    [WEBHOOK_HEADERS.timestamp]: timestamp,
    [WEBHOOK_HEADERS.signature]: `${SIGNATURE_VERSION},${digest(secretKey(secret), id, timestamp, body).toString("base64")}`,
  };
}

/** A header by its name in any case (HTTP headers are case-insensitive; API Gateway passes them as sent). */
function header(headers: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  if (value === undefined || value === "") throw new WebhookVerificationError("missing-header", `the ${name} header is missing`);
  return value;
}

/**
 * Checks a webhook's headers against its raw body (the bytes as received, before any parsing),
 * at `nowSeconds` (Unix seconds). Any one `v1` signature of the space-separated list may match
 * (a sender signs with two secrets while it rotates); other versions are skipped. Throws a
 * {@link WebhookVerificationError} naming what failed.
 */
export function verifyWebhook(secret: string, headers: Readonly<Record<string, string | undefined>>, rawBody: string | Uint8Array, nowSeconds: number): void {
  const key = secretKey(secret);
  const id = header(headers, WEBHOOK_HEADERS.id);
  const timestamp = header(headers, WEBHOOK_HEADERS.timestamp);
  const signatures = header(headers, WEBHOOK_HEADERS.signature);
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError("malformed-timestamp", `${WEBHOOK_HEADERS.timestamp} is not whole Unix seconds: "${timestamp.slice(0, 40)}"`);
  }
  const skew = Number(timestamp) - Math.floor(nowSeconds);
  if (skew < -WEBHOOK_TOLERANCE_SECONDS) {
    throw new WebhookVerificationError("stale-timestamp", `${WEBHOOK_HEADERS.timestamp} is ${-skew} s old, past the ${WEBHOOK_TOLERANCE_SECONDS} s allowed`);
  }
  if (skew > WEBHOOK_TOLERANCE_SECONDS) {
    throw new WebhookVerificationError("future-timestamp", `${WEBHOOK_HEADERS.timestamp} is ${skew} s ahead, past the ${WEBHOOK_TOLERANCE_SECONDS} s allowed`);
  }
  const expected = digest(key, id, timestamp, rawBody);
  const matches = signatures.split(" ").some((entry) => {
    const [version, encoded] = entry.split(",", 2);
    if (version !== SIGNATURE_VERSION || encoded === undefined) return false;
    const candidate = Buffer.from(encoded, "base64");
    // timingSafeEqual needs equal lengths; a digest's length is no secret.
    return candidate.length === SHA256_BYTES && timingSafeEqual(candidate, expected);
  });
  if (!matches) {
    throw new WebhookVerificationError("no-matching-signature", `no ${SIGNATURE_VERSION} signature in ${WEBHOOK_HEADERS.signature} matches the body with this secret`);
  }
}
