/**
 * Execution names: what an Idempotency-Key becomes, and which ids the API will look up.
 * Step Functions names are 1-80 characters; we keep to [A-Za-z0-9_-], the characters that
 * are also safe in CloudWatch log names and in our URLs.
 */
import { createHash, randomUUID } from "node:crypto";

/** The prefix of every execution this API starts (batch and local runs use their own). */
const API_EXECUTION_PREFIX = "api-";

/** Longer keys are refused: a key is an opaque token, not a place for data. */
const MAX_IDEMPOTENCY_KEY_CHARACTERS = 256;

/** A key used as it is: 64 characters keep `api-<key>` within the 80 of a name. */
const SAFE_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** 32 hex digits (128 bits of SHA-256): two different keys never meet in practice. */
const HASHED_KEY_HEX_DIGITS = 32;

/** The most characters Step Functions allows in an execution name. */
const MAX_EXECUTION_NAME_CHARACTERS = 80;

/**
 * The ids GET accepts: the names this API, the batch workflow and the local runner create.
 * Checked before any lookup, so nothing else ever becomes part of an ARN.
 */
const GENERATION_ID = /^(api|batch|local)-[A-Za-z0-9_-]{1,76}$/;

export function isGenerationId(id: string): boolean {
  return GENERATION_ID.test(id) && id.length <= MAX_EXECUTION_NAME_CHARACTERS;
}

/** Why a key cannot be used, or undefined when it can. */
export function idempotencyKeyProblem(key: string): string | undefined {
  if (key === "") return "Idempotency-Key must not be empty";
  const characters = Array.from(key).length;
  if (characters > MAX_IDEMPOTENCY_KEY_CHARACTERS) {
    return `Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_CHARACTERS} characters (got ${characters})`;
  }
  return undefined;
}

/**
 * The execution name for a request: `api-<key>` for a key of safe characters, `api-<hash>` for
 * any other key (so the same key always gives the same name), `api-<random UUID>` without one.
 */
export function executionNameFor(key: string | undefined): string {
  if (key === undefined) return `${API_EXECUTION_PREFIX}${randomUUID()}`;
  if (SAFE_KEY.test(key)) return `${API_EXECUTION_PREFIX}${key}`;
  const digest = createHash("sha256").update(key, "utf8").digest("hex");
  return `${API_EXECUTION_PREFIX}${digest.slice(0, HASHED_KEY_HEX_DIGITS)}`;
}
