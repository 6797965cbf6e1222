/** The secret NotifyRequester signs with: read from Secrets Manager (mocked), cached 5 minutes, or the local value. */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { ENV } from "#lambdas/common/settings";
import { signingSecretFrom } from "#lambdas/notify-requester/signing-secret";

const secretsManager = mockClient(SecretsManagerClient);
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:requester-webhooks-AbCdEf";
const GENERATED = "A".repeat(48);

afterEach(() => secretsManager.reset());

describe("the requester-webhook signing secret", () => {
  it("is the stored value with whsec_ before it when Secrets Manager generated it bare, read again after 5 minutes", async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: GENERATED });
    let now = 0;
    const secret = signingSecretFrom({ [ENV.requesterWebhookSecretArn]: ARN }, { now: () => now });
    expect(await secret()).toBe(`whsec_${GENERATED}`);
    now = 299_000;
    expect(await secret()).toBe(`whsec_${GENERATED}`);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: "whsec_rotated" });
    now = 300_000;
    expect(await secret()).toBe("whsec_rotated");
  });

  it("is read again at once after a failed read, and names the secret when it holds no value", async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error("throttled"), { name: "ThrottlingException" })).resolves({});
    const secret = signingSecretFrom({ [ENV.requesterWebhookSecretArn]: ARN }, { now: () => 0 });
    await expect(secret()).rejects.toThrow("throttled");
    await expect(secret()).rejects.toThrow(`the requester-webhook secret ${ARN} holds no value`);
  });

  it("is the local value when the local runner sets one, with no call to Secrets Manager", async () => {
    const secret = signingSecretFrom({ [ENV.requesterWebhookSecret]: "whsec_local" }, { now: () => 0 });
    expect(await secret()).toBe("whsec_local");
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it("names the missing variable when neither is set", async () => {
    await expect(signingSecretFrom({}, { now: () => 0 })()).rejects.toThrow(`environment variable ${ENV.requesterWebhookSecretArn} is not set`);
  });
});
