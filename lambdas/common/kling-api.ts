import { createHash } from "node:crypto";
import { KlingStandardsClient } from "../kling/both-standards";
import type { KlingApi, KlingCallObserver } from "../kling/port";
import { klingCallObserver } from "../observability/kling-calls";
import { klingConnectionConfig } from "./config";
import { forgetCachedCredentials, loadKlingCredentials } from "./credentials";
import { redactFromLogs } from "./redaction";

const clients = new Map<string, KlingApi>();
const traced = klingCallObserver();
/** Kling refusing the credentials drops them from the cache: the next attempt reads the (perhaps fixed) secret. */
const observer: KlingCallObserver = {
  started(operation) {
    const ended = traced.started(operation);
    return (outcome) => {
      if (outcome.errorName === "Kling.AuthFailed") forgetCachedCredentials();
      ended(outcome);
    };
  },
};

/**
 * The Kling client for this invocation, kept per container. It is keyed by its base URL, timeout
 * and credentials so a process that runs several configurations (the local runner) never mixes them.
 */
export async function klingApi(): Promise<KlingApi> {
  const { baseUrl, timeoutMs } = klingConnectionConfig();
  const credentials = await loadKlingCredentials();
  redactFromLogs(credentials);
  // A digest, not the credentials themselves, so no secret is kept as a map key.
  const key = createHash("sha256").update(JSON.stringify([baseUrl, timeoutMs, credentials])).digest("hex");
  let client = clients.get(key);
  if (!client) {
    client = new KlingStandardsClient({ baseUrl, credentials, timeoutMs, observer });
    clients.set(key, client);
  }
  return client;
}
