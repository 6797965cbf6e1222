/**
 * Standard Webhooks signing and verification (lambdas/common/standard-webhooks.ts) and the
 * capability token of Kling's callback URL (lambdas/common/capability-token.ts).
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { capabilityToken, verifyCapabilityToken } from "#lambdas/common/capability-token";
import { signWebhook, verifyWebhook, WEBHOOK_TOLERANCE_SECONDS, type WebhookFailure, WebhookVerificationError } from "#lambdas/common/standard-webhooks";

/** The spec's published test vector (the reference libraries' tests carry the same). */
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
} as const;

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

function failureOf(verify: () => void): WebhookFailure | "verified" {
  try {
    verify();
    return "verified";
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.failure;
    throw error;
  }
}

describe("Standard Webhooks", () => {
  it("signs the spec's test vector exactly as the reference implementations do, and verifies it", () => {
    const headers = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    expect(headers).toEqual({ "webhook-id": VECTOR.id, "webhook-timestamp": String(VECTOR.timestamp), "webhook-signature": VECTOR.signature });
    expect(failureOf(() => verifyWebhook(VECTOR.secret, headers, Buffer.from(VECTOR.body), VECTOR.timestamp))).toBe("verified");
  });

  it("accepts the headers in any case, as HTTP sends them", () => {
    const headers = { "Webhook-Id": VECTOR.id, "WEBHOOK-TIMESTAMP": String(VECTOR.timestamp), "Webhook-Signature": VECTOR.signature };
    expect(failureOf(() => verifyWebhook(VECTOR.secret, headers, VECTOR.body, VECTOR.timestamp))).toBe("verified");
  });

  it("during a rotation, accepts a list of signatures of which any one v1 matches, skipping other versions", () => {
    const [previous, next] = [newSecret(), newSecret()];
    const body = '{"hello":"world"}';
    const signedWith = (secret: string) => signWebhook(secret, "msg_1", 1_700_000_000, body)["webhook-signature"];
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `v1a,${signedWith(next).slice(3)} ${signedWith(previous)} ${signedWith(next)}`,
    };
    expect(failureOf(() => verifyWebhook(previous, headers, body, 1_700_000_000))).toBe("verified");
    expect(failureOf(() => verifyWebhook(next, headers, body, 1_700_000_000))).toBe("verified");
    expect(failureOf(() => verifyWebhook(newSecret(), headers, body, 1_700_000_000))).toBe("no-matching-signature");
    // The same signature under another version name is not a v1 signature.
    const onlyOtherVersion = { ...headers, "webhook-signature": `v1a,${signedWith(next).slice(3)}` };
    expect(failureOf(() => verifyWebhook(next, onlyOtherVersion, body, 1_700_000_000))).toBe("no-matching-signature");
  });

  it("allows 5 minutes of clock skew either way and refuses one second more, naming which way", () => {
    const sentAt = 1_700_000_000;
    const headers = signWebhook(VECTOR.secret, "msg_1", sentAt, "{}");
    const at = (now: number) => failureOf(() => verifyWebhook(VECTOR.secret, headers, "{}", now));
    expect(at(sentAt + WEBHOOK_TOLERANCE_SECONDS)).toBe("verified");
    expect(at(sentAt - WEBHOOK_TOLERANCE_SECONDS)).toBe("verified");
    expect(at(sentAt + WEBHOOK_TOLERANCE_SECONDS + 1)).toBe("stale-timestamp");
    expect(at(sentAt - WEBHOOK_TOLERANCE_SECONDS - 1)).toBe("future-timestamp");
  });

  it("refuses a tampered body, another id, a replayed signature under a new timestamp and a wrong secret", () => {
    const headers = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    const verify = (secret: string, sent: Record<string, string>, body: string) => failureOf(() => verifyWebhook(secret, sent, body, VECTOR.timestamp));
    expect(verify(VECTOR.secret, headers, '{"test": 2432232315}')).toBe("no-matching-signature");
    expect(verify(VECTOR.secret, { ...headers, "webhook-id": "msg_other" }, VECTOR.body)).toBe("no-matching-signature");
    expect(verify(VECTOR.secret, { ...headers, "webhook-timestamp": String(VECTOR.timestamp + 1) }, VECTOR.body)).toBe("no-matching-signature");
    expect(verify(newSecret(), headers, VECTOR.body)).toBe("no-matching-signature");
    expect(verify(VECTOR.secret, { ...headers, "webhook-signature": "v1,not-base64-at-all!" }, VECTOR.body)).toBe("no-matching-signature");
  });

  it("names each missing header and a timestamp that is not whole seconds", () => {
    const headers = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [name]: _left, ...rest } = headers;
      expect(() => verifyWebhook(VECTOR.secret, rest, VECTOR.body, VECTOR.timestamp)).toThrow(`the ${name} header is missing`);
      expect(failureOf(() => verifyWebhook(VECTOR.secret, { ...rest, [name]: "" }, VECTOR.body, VECTOR.timestamp))).toBe("missing-header");
    }
    for (const timestamp of ["1614265330abc", "1614265330.5", "-1", "soon"]) {
      expect(failureOf(() => verifyWebhook(VECTOR.secret, { ...headers, "webhook-timestamp": timestamp }, VECTOR.body, VECTOR.timestamp))).toBe("malformed-timestamp");
    }
  });

  it("refuses a secret that is not whsec_ and base64 of 24 to 64 bytes, for signing and verifying alike", () => {
    const headers = signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body);
    for (const secret of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!", `whsec_${randomBytes(16).toString("base64")}`, `whsec_${randomBytes(65).toString("base64")}`]) {
      expect(failureOf(() => signWebhook(secret, VECTOR.id, VECTOR.timestamp, VECTOR.body))).toBe("bad-secret");
      expect(failureOf(() => verifyWebhook(secret, headers, VECTOR.body, VECTOR.timestamp))).toBe("bad-secret");
    }
  });
});

describe("the capability token of Kling's callback URL", () => {
  const key = "callback-key-of-this-pipeline";
  const now = Date.UTC(2026, 11, 8, 3);
  const inAnHour = now + 3_600_000;

  it("is URL-safe, carries its expiry, and verifies for its own task under its own key until then", () => {
    const token = capabilityToken(key, "local-gen-1", inAnHour);
    expect(token).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(Number.parseInt(token.split(".")[0] ?? "", 36)).toBe(inAnHour / 1000);
    expect(verifyCapabilityToken([key], "local-gen-1", token, now)).toBe("valid");
    expect(verifyCapabilityToken([key], "local-gen-1", token, inAnHour)).toBe("valid");
  });

  it("is expired past its expiry, which the key covers: a token whose expiry was moved is not this task's", () => {
    const token = capabilityToken(key, "local-gen-1", inAnHour);
    expect(verifyCapabilityToken([key], "local-gen-1", token, inAnHour + 1000)).toBe("expired");
    const [, mac] = token.split(".");
    const later = `${((inAnHour + 86_400_000) / 1000).toString(36)}.${mac ?? ""}`;
    expect(verifyCapabilityToken([key], "local-gen-1", later, inAnHour + 1000)).toBe("invalid");
    // An expiry is told only to who holds a URL the key made: another task's expired token is just not this task's.
    expect(verifyCapabilityToken([key], "local-gen-2", token, inAnHour + 1000)).toBe("invalid");
  });

  it("verifies under any of the accepted keys (a rotation's overlap), and under no other", () => {
    const token = capabilityToken("the-old-key-of-this-pipeline", "local-gen-1", inAnHour);
    expect(verifyCapabilityToken([key, "the-old-key-of-this-pipeline"], "local-gen-1", token, now)).toBe("valid");
    expect(verifyCapabilityToken([key], "local-gen-1", token, now)).toBe("invalid");
    expect(verifyCapabilityToken([], "local-gen-1", token, now)).toBe("invalid");
  });

  it("is refused for another task, from another key, altered, padded, in the old form without an expiry, or empty", () => {
    const token = capabilityToken(key, "local-gen-1", inAnHour);
    expect(verifyCapabilityToken([key], "local-gen-2", token, now)).toBe("invalid");
    expect(verifyCapabilityToken([key], "local-gen-1", capabilityToken("another-key", "local-gen-1", inAnHour), now)).toBe("invalid");
    expect(verifyCapabilityToken([key], "local-gen-1", `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`, now)).toBe("invalid");
    expect(verifyCapabilityToken([key], "local-gen-1", `${token}=`, now)).toBe("invalid");
    expect(verifyCapabilityToken([key], "local-gen-1", token.split(".")[1] ?? "", now)).toBe("invalid");
    expect(verifyCapabilityToken([key], "local-gen-1", "", now)).toBe("invalid");
  });

  it("is not the plain HMAC of the task id and expiry: the domain prefix keeps other uses of the key apart", () => {
    const mac = capabilityToken(key, "local-gen-1", inAnHour).split(".")[1];
    expect(mac).not.toBe(createHmac("sha256", key).update(`local-gen-1:${inAnHour / 1000}`).digest("base64url"));
  });

  it("refuses to derive from an empty key", () => {
    expect(() => capabilityToken("", "local-gen-1", inAnHour)).toThrow("a capability token needs a key");
  });
});
