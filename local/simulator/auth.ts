/**
 * The `Authorization: Bearer <token>` check: an API key, or an HS256 JWT signed with a
 * SecretKey whose `iss` is the matching AccessKey, as Kling's API documentation specifies.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { KlingCredentials } from "#lambdas/kling/port";
import { isRecord } from "./json";

type AuthResult = { readonly ok: true } | { readonly ok: false; readonly code: number; readonly message: string };

const OK: AuthResult = { ok: true };
const EMPTY: AuthResult = { ok: false, code: 1001, message: "Authorization is empty" };
const INVALID: AuthResult = { ok: false, code: 1002, message: "Authorization is invalid" };
const NOT_YET_VALID: AuthResult = { ok: false, code: 1003, message: "Authorization is not active yet (nbf is in the future)" };
const EXPIRED: AuthResult = { ok: false, code: 1004, message: "Authorization has expired" };
const API_KEY_ONLY: AuthResult = { ok: false, code: 1002, message: "Authorization is invalid: this API accepts only an API key, not an AccessKey/SecretKey JWT" };

/**
 * `nowMs` comes from the simulator's clock, so a scaled clock also ages tokens. `apiKeyOnly`: the
 * new standard refuses AccessKey/SecretKey JWTs, even valid ones.
 */
export function authenticate(header: string | undefined, accepted: readonly KlingCredentials[], nowMs: number, apiKeyOnly = false): AuthResult {
  if (header === undefined || header.trim() === "") return EMPTY;
  const match = /^Bearer (\S+)$/.exec(header);
  if (!match) return INVALID;
  const token = match[1];

  for (const credentials of accepted) {
    if ("apiKey" in credentials && sameSecret(token, credentials.apiKey)) return OK;
  }
  if (token.split(".").length === 3) {
    const verified = verifyJwt(token, accepted, nowMs);
    return verified.ok && apiKeyOnly ? API_KEY_ONLY : verified;
  }
  return INVALID;
}

function verifyJwt(token: string, accepted: readonly KlingCredentials[], nowMs: number): AuthResult {
  const [headerPart, payloadPart, signaturePart] = token.split(".");
  const header = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (!isRecord(header) || header.alg !== "HS256" || !isRecord(claims)) return INVALID;

  const signer = accepted.find(
    (credentials): credentials is Extract<KlingCredentials, { accessKey: string }> =>
      "accessKey" in credentials && typeof claims.iss === "string" && sameSecret(claims.iss, credentials.accessKey),
  );
  if (!signer) return INVALID;
  const expected = createHmac("sha256", signer.secretKey).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return INVALID;

  if (typeof claims.exp !== "number") return INVALID;
  if (claims.nbf !== undefined && typeof claims.nbf !== "number") return INVALID;
  const nowSeconds = nowMs / 1000;
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds) return NOT_YET_VALID;
  if (claims.exp <= nowSeconds) return EXPIRED;
  return OK;
}

/** Compares digests so that neither the content nor the length of the secret leaks through timing. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
