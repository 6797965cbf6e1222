/** The callbacks' secret (capability key, Kling's signing secret): read from Secrets Manager (mocked), kept 5 minutes, or the local variables. */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { acceptedCapabilityKeys, callbackPortFrom, LOCAL_CALLBACK_SECRET_VARIABLES } from "#lambdas/common/callback-secrets";
import { CALLBACK_DEFAULTS, CALLBACK_ENV } from "#lambdas/common/settings";

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

describe("a rotation of the capability key", () => {
  const NEXT = "n".repeat(40);
  const PREVIOUS = "p".repeat(40);
  const UNTIL = "2026-12-08T04:00:00Z";

  it("reads the next key and the previous one with its time, and accepts the current, the next, and the previous until its time", async () => {
    const rotating = { capabilityKey: KEY, nextCapabilityKey: NEXT, previousCapabilityKey: PREVIOUS, previousCapabilityKeyUntil: UNTIL };
    secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify(rotating) });
    const secrets = await callbackPortFrom({ [CALLBACK_ENV.secretArn]: ARN }, { now: () => 0 }).secrets();
    expect(secrets).toEqual(rotating);
    expect(acceptedCapabilityKeys(secrets, Date.parse(UNTIL))).toEqual([KEY, NEXT, PREVIOUS]);
    expect(acceptedCapabilityKeys(secrets, Date.parse(UNTIL) + 1)).toEqual([KEY, NEXT]);
    expect(acceptedCapabilityKeys({ capabilityKey: KEY }, 0)).toEqual([KEY]);
  });

  it("refuses a previous key without its time, or a time that is not ISO 8601, naming the field", async () => {
    for (const secret of [{ capabilityKey: KEY, previousCapabilityKey: PREVIOUS }, { capabilityKey: KEY, previousCapabilityKey: PREVIOUS, previousCapabilityKeyUntil: "in an hour" }]) {
      secretsManager.reset();
      secretsManager.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: JSON.stringify(secret) });
      await expect(callbackPortFrom({ [CALLBACK_ENV.secretArn]: ARN }, { now: () => 0 }).secrets()).rejects.toThrow(/: previousCapabilityKeyUntil$/);
    }
  });
});

describe("the per-task limit of confirming queries", () => {
  it("is the environment's, the default without it, and a clear error when it is not a whole number of 1 or more", () => {
    expect(callbackPortFrom({ [CALLBACK_ENV.confirmingQueriesPerMinute]: "2" }, { now: () => 0 }).confirmingQueriesPerMinute()).toBe(2);
    expect(callbackPortFrom({}, { now: () => 0 }).confirmingQueriesPerMinute()).toBe(CALLBACK_DEFAULTS.confirmingQueriesPerMinute);
    expect(() => callbackPortFrom({ [CALLBACK_ENV.confirmingQueriesPerMinute]: "0" }, { now: () => 0 }).confirmingQueriesPerMinute()).toThrow(
      `environment variable ${CALLBACK_ENV.confirmingQueriesPerMinute} must be a whole number of 1 or more`,
    );
  });
});
