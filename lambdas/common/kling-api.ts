import { createHash } from "node:crypto";
import { KlingStandardsClient } from "../kling/both-standards";
import { KlingAccountClient, type KlingClientOptions } from "../kling/client";
import type { KlingAccount, KlingApi, KlingCallObserver } from "../kling/port";
import { klingCallObserver } from "../observability/kling-calls";
import type { Clock } from "./clock";
import { type Environment, klingConnectionConfig } from "./config";
import { credentialSource } from "./credentials";
import { redactFromLogs } from "./redaction";

/**
 * The Kling port of a container: for each invocation, the client for the environment's base URL,
 * timeout and credentials, read when called. Clients are kept per container, keyed by those, so
 * a process that runs several configurations (the local runner) never mixes them.
 */
export function klingApiFrom(env: Environment, clock: Clock): () => Promise<KlingApi> {
  return klingClientsFrom(env, clock, (options) => new KlingStandardsClient(options));
}

/**
 * The same, for a function that only reads the account (`GET /account/costs`, shared by both
 * standards: PriceBatch): the legacy client alone, so its bundle carries no new-standard client.
 */
export function klingAccountFrom(env: Environment, clock: Clock): () => Promise<KlingAccount> {
  return klingClientsFrom(env, clock, (options) => new KlingAccountClient(options));
}

function klingClientsFrom<Client>(env: Environment, clock: Clock, make: (options: KlingClientOptions) => Client): () => Promise<Client> {
  const clients = new Map<string, Client>();
  const credentials = credentialSource(env, clock);
  const traced = klingCallObserver();
  /** Kling refusing the credentials drops them from the cache: the next attempt reads the (perhaps fixed) secret. */
  const observer: KlingCallObserver = {
    started(operation) {
      const ended = traced.started(operation);
      return (outcome) => {
        if (outcome.errorName === "Kling.AuthFailed") credentials.forget();
        ended(outcome);
      };
    },
  };
  return async () => {
    const { baseUrl, timeoutMs } = klingConnectionConfig(env);
    const loaded = await credentials.load();
    redactFromLogs(loaded);
    // A digest, not the credentials themselves, so no secret is kept as a map key.
    const key = createHash("sha256").update(JSON.stringify([baseUrl, timeoutMs, loaded])).digest("hex");
    let client = clients.get(key);
    if (!client) {
      client = make({ baseUrl, credentials: loaded, timeoutMs, observer, clock });
      clients.set(key, client);
    }
    return client;
  };
}
