/**
 * What keeps credentials out of the logs, whatever a log call is handed: values under
 * credential-like keys, the credentials this process loaded, bearer tokens and JWTs.
 */
import { REDACTED, redactorFor } from "../kling/client";
import type { KlingCredentials } from "../kling/port";

/** Keys whose value is a credential wherever it appears (headers, secrets, request options). */
const CREDENTIAL_KEYS = /^(authorization|api[-_]?key|access[-_]?key|secret[-_]?key|secret|secretstring|password)$/i;

const loadedSecrets = new Set<string>();
let redact = redactorFor([]);

/** Remembers credentials as they are loaded, so no log line can quote them. */
export function redactFromLogs(credentials: KlingCredentials): void {
  const before = loadedSecrets.size;
  for (const value of Object.values(credentials)) loadedSecrets.add(value);
  if (loadedSecrets.size !== before) redact = redactorFor([...loadedSecrets]);
}

/** A JSON replacer for every log record (Powertools' jsonReplacerFn). */
export function redactCredentials(key: string, value: unknown): unknown {
  if (CREDENTIAL_KEYS.test(key) && value !== undefined && value !== null) return REDACTED;
  return typeof value === "string" ? redact(value) : value;
}
