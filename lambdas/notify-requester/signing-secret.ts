/**
 * The secret the notifier signs with: the requester-webhook secret in Secrets Manager
 * (`REQUESTER_WEBHOOK_SECRET_ARN`), re-read every few minutes so a rotated value takes effect in
 * warm containers; locally the value itself (`REQUESTER_WEBHOOK_SECRET`). Never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Clock } from "../common/clock";
import { type Environment, readVariable, requireVariable } from "../common/config";
import { ENV } from "../common/settings";
import { webhookSecretOf } from "../common/standard-webhooks";

const CACHE_MS = 300_000;

export function signingSecretFrom(env: Environment, clock: Clock): () => Promise<string> {
  let cached: { value: Promise<string>; readAtMs: number } | undefined;
  let client: SecretsManagerClient | undefined;
  return async () => {
    const local = readVariable(env, ENV.requesterWebhookSecret);
    if (local !== undefined) return webhookSecretOf(local);
    if (cached && clock.now() - cached.readAtMs < CACHE_MS) return cached.value;
    const arn = requireVariable(env, ENV.requesterWebhookSecretArn);
    client ??= new SecretsManagerClient({});
    const value = client.send(new GetSecretValueCommand({ SecretId: arn })).then(({ SecretString }) => {
      if (!SecretString) throw new Error(`the requester-webhook secret ${arn} holds no value`);
      return webhookSecretOf(SecretString);
    });
    const read = { value, readAtMs: clock.now() };
    cached = read;
    // A failed read is not kept: the next invocation reads again.
    value.catch(() => {
      if (cached === read) cached = undefined;
    });
    return value;
  };
}
