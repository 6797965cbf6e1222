/**
 * The secret the notifier signs with: the requester-webhook secret in Secrets Manager
 * (`REQUESTER_WEBHOOK_SECRET_ARN`), re-read every few minutes so a rotated value takes effect in
 * warm containers; locally the value itself (`REQUESTER_WEBHOOK_SECRET`). Never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { cachedRead } from "../common/cached-read";
import type { Clock } from "../common/clock";
import { type Environment, readVariable, requireVariable } from "../common/config";
import { ENV } from "../common/settings";
import { webhookSecretOf } from "../common/standard-webhooks";

const CACHE_MS = 300_000;

export function signingSecretFrom(env: Environment, clock: Clock): () => Promise<string> {
  let client: SecretsManagerClient | undefined;
  const fromSecret = cachedRead(
    async () => {
      const arn = requireVariable(env, ENV.requesterWebhookSecretArn);
      client ??= new SecretsManagerClient({});
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (!SecretString) throw new Error(`the requester-webhook secret ${arn} holds no value`);
      return webhookSecretOf(SecretString);
    },
    clock,
    CACHE_MS,
  );
  return async () => {
    const local = readVariable(env, ENV.requesterWebhookSecret);
    return local !== undefined ? webhookSecretOf(local) : fromSecret.get();
  };
}
