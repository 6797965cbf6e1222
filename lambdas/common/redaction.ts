/**
 * What keeps credentials out of everything the pipeline writes, with one marker where a
 * credential was: the Kling client's messages and errors (text Kling echoes back) and every
 * log record (values under credential-like keys, the credentials this process loaded, bearer
 * tokens and JWTs).
 */
import type { KlingCredentials } from "../kling/port";

/** What stands where a credential was. */
export const REDACTED = "[redacted]";
const BEARER_TOKEN = /\bBearer\s+[^\s"',;]+/gi;
const JWT_LIKE = /\beyJ[\w-]*\.[\w-]+\.[\w-]*/g;

export type Redactor = (text: string) => string;

/** Removes the given secrets, and anything shaped like a bearer token or a JWT, from a text. */
export function redactorFor(secrets: readonly string[]): Redactor {
  return (text) => {
    let clean = text;
    for (const secret of secrets) clean = clean.split(secret).join(REDACTED);
    return clean.replace(BEARER_TOKEN, `Bearer ${REDACTED}`).replace(JWT_LIKE, REDACTED);
  };
}

/** Keys whose value is a credential wherever it appears (headers, secrets, request options). */
const CREDENTIAL_KEYS = /^(authorization|api[-_]?key|access[-_]?key|secret[-_]?key|secret|secretstring|password)$/i;

const loadedSecrets = new Set<string>();
let redactLoaded = redactorFor([]);

/** Remembers credentials as they are loaded, so no log line can quote them. */
export function redactFromLogs(credentials: KlingCredentials): void {
  const before = loadedSecrets.size;
  for (const value of Object.values(credentials)) loadedSecrets.add(value);
  if (loadedSecrets.size !== before) redactLoaded = redactorFor([...loadedSecrets]);
}

/** A JSON replacer for every log record (Powertools' jsonReplacerFn). */
export function redactCredentials(key: string, value: unknown): unknown {
  if (CREDENTIAL_KEYS.test(key) && value !== undefined && value !== null) return REDACTED;
  return typeof value === "string" ? redactLoaded(value) : value;
}
