/** The callbacks' secret (capability key, Kling's signing secret): read from Secrets Manager (mocked), kept 5 minutes, or the local variables. */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { callbackPortFrom, LOCAL_CALLBACK_SECRET_VARIABLES } from "#lambdas/common/callback-secrets";
import { CALLBACK_ENV } from "#lambdas/common/settings";

const secretsManager = mockClient(SecretsManagerClient);
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-callbacks-AbCdEf";
const KEY = "k".repeat(64);

afterEach(() => secretsManager.reset());

describe("the callbacks' secret", () => {
  it("is read once and kept 5 minutes, then read again, so a replaced key or an added signing secret reaches warm containers", async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify({ capabilityKey: KEY }) });
    let now = 0;
    const port = callbackPortFrom({ [CALLBACK_ENV.secretArn]: ARN }, { now: () => now });
    expect(await port.secrets()).toEqual({ capabilityKey: KEY });
    now = 299_000;
    await port.secrets();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify({ capabilityKey: KEY, klingSigningSecret: "whsec_c2lnbmluZw==" }) });
    now = 300_000;
    expect(await port.secrets()).toEqual({ capabilityKey: KEY, klingSigningSecret: "whsec_c2lnbmluZw==" });
  });

  it("is read again at once after a failed read, and names the secret and the fields when it is not the expected JSON", async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error("throttled"), { name: "ThrottlingException" })).resolves({ SecretString: "{}" });
    const port = callbackPortFrom({ [CALLBACK_ENV.secretArn]: ARN }, { now: () => 0 });
    await expect(port.secrets()).rejects.toThrow(`could not read the callback secret ${ARN} (ThrottlingException)`);
    await expect(port.secrets()).rejects.toThrow(`the callback secret ${ARN} is not`);
  });

  it("is the local variables when no secret is named, with no call to Secrets Manager", async () => {
    const port = callbackPortFrom({ [LOCAL_CALLBACK_SECRET_VARIABLES.capabilityKey]: KEY }, { now: () => 0 });
    expect(await port.secrets()).toEqual({ capabilityKey: KEY, klingSigningSecret: undefined });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
