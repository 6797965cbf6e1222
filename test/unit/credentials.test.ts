import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { checkCreditsHandler } from "#lambdas/check-credits/handler";
import { CREDENTIALS_CACHE_SECONDS, credentialSource, type CredentialSource } from "#lambdas/common/credentials";
import { portsFromEnvironment } from "#lambdas/common/aws-ports";
import { KlingError } from "#lambdas/errors/index";
import { startSimulator } from "#local/simulator/index";
import { manualClock, type ManualClock } from "#local/simulator/test-support";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-credentials-AbCdEf";
const API_KEY = "kl-api-key-0f9e8d7c6b5a";
const ACCESS_KEY = "kl-access-key-1a2b3c";
const SECRET_KEY = "kl-secret-key-9z8y7x6w";

const secretsManager = mockClient(SecretsManagerClient);
/** The function's environment, passed to the source as a port: no test touches env. */
let env: Record<string, string>;
let clock: ManualClock;
/** A fresh container's credentials, read from `env` when loaded. */
let credentials: CredentialSource;

beforeEach(() => {
  env = {};
  clock = manualClock();
  credentials = credentialSource(env, clock);
  secretsManager.reset();
});

/** Everything an error exposes: message, stack and every own property. */
function exposed(error: unknown): string {
  if (!(error instanceof Error)) return JSON.stringify(error) ?? String(error);
  const fields: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(error)) fields[key] = (error as unknown as Record<string, unknown>)[key];
  return JSON.stringify({ ...fields, message: error.message, stack: error.stack, name: error.name });
}

async function loadFailure(): Promise<KlingError> {
  let caught: unknown;
  try {
    await credentials.load();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KlingError);
  return caught as KlingError;
}

function secretHolds(value: string | undefined): void {
  secretsManager.on(GetSecretValueCommand).resolves(value === undefined ? {} : { SecretString: value });
}

function secretReads(): number {
  return secretsManager.commandCalls(GetSecretValueCommand).length;
}

describe("credentials from the Secrets Manager secret named by KLING_SECRET_ARN", () => {
  beforeEach(() => {
    env.KLING_SECRET_ARN = SECRET_ARN;
  });

  it("reads {apiKey} from the named secret", async () => {
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
    const [call] = secretsManager.commandCalls(GetSecretValueCommand);
    expect(call?.args[0].input.SecretId).toBe(SECRET_ARN);
  });

  it("reads {accessKey, secretKey}", async () => {
    secretHolds(JSON.stringify({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }));
    await expect(credentials.load()).resolves.toEqual({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
  });

  it("the secret wins over the environment variables", async () => {
    env.KLINGAI_API_KEY = "from-the-environment";
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
  });

  it("is cached: two loads within the TTL, one GetSecretValue", async () => {
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    await credentials.load();
    await credentials.load();
    expect(secretReads()).toBe(1);
  });

  it("concurrent loads share one read", async () => {
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    const both = await Promise.all([credentials.load(), credentials.load()]);
    expect(both).toEqual([{ apiKey: API_KEY }, { apiKey: API_KEY }]);
    expect(secretReads()).toBe(1);
  });

  it("a failed read is not cached: the next load reads again", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled)
      .resolves({ SecretString: JSON.stringify({ apiKey: API_KEY }) });
    const failure = await loadFailure();
    expect(failure.name).toBe("Kling.AuthFailed");
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
    expect(secretReads()).toBe(2);
  });

  it("AccessDenied is Kling.AuthFailed", async () => {
    const denied = Object.assign(
      new Error(`User: arn:aws:sts::123456789012:assumed-role/poll is not authorized to perform: secretsmanager:GetSecretValue on ${SECRET_ARN}`),
      { name: "AccessDeniedException" },
    );
    secretsManager.on(GetSecretValueCommand).rejects(denied);
    const failure = await loadFailure();
    expect(failure.name).toBe("Kling.AuthFailed");
    expect(failure.message).toMatch(/AccessDeniedException/);
    expect(failure.retriedByStateMachine).toBe(false);
  });

  it.each([
    ["not JSON", `apiKey=${API_KEY}`],
    ["JSON of the wrong shape", JSON.stringify({ key: API_KEY })],
    ["an empty apiKey", JSON.stringify({ apiKey: "", secretKey: SECRET_KEY })],
    ["an access key without its secret key", JSON.stringify({ accessKey: ACCESS_KEY, secret: SECRET_KEY })],
    ["a JSON string", JSON.stringify(API_KEY)],
    ["a non-string apiKey", JSON.stringify({ apiKey: [API_KEY, SECRET_KEY] })],
  ])("a secret that is %s is Kling.AuthFailed without its value in the error", async (_what, secret) => {
    secretHolds(secret);
    const failure = await loadFailure();
    expect(failure.name).toBe("Kling.AuthFailed");
    const text = exposed(failure);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(ACCESS_KEY);
  });

  describe("the first run, before an operator filled the secret the stack created (empty: no value yet)", () => {
    const SHAPE = '{"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}';

    it("says which secret to fill and in what shape", async () => {
      // What GetSecretValue answers for a secret that has no version yet.
      const noValue = Object.assign(new Error("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"), {
        name: "ResourceNotFoundException",
      });
      secretsManager.on(GetSecretValueCommand).rejects(noValue);
      const failure = await loadFailure();
      expect(failure.name).toBe("Kling.AuthFailed");
      expect(failure.message).toContain(
        `the Kling credentials secret ${SECRET_ARN} was not found or holds no value yet (ResourceNotFoundException): put ${SHAPE} in it`,
      );
    });

    it.each([
      ["an empty JSON object", "{}"],
      ["not JSON", "paste the key here"],
    ])("a secret holding %s names the secret and the shape, not that its value is not JSON", async (_what, value) => {
      secretHolds(value);
      const failure = await loadFailure();
      expect(failure.message).toContain(`the Kling credentials secret ${SECRET_ARN} holds no Kling credentials: put ${SHAPE} in it`);
      expect(failure.message).not.toMatch(/JSON/);
    });
  });

  it("a secret without a SecretString (binary) is Kling.AuthFailed", async () => {
    secretHolds(undefined);
    expect((await loadFailure()).name).toBe("Kling.AuthFailed");
  });

  it("a bad secret is not cached: once fixed, the next load reads it", async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: "{not json" })
      .resolves({ SecretString: JSON.stringify({ apiKey: API_KEY }) });
    expect((await loadFailure()).name).toBe("Kling.AuthFailed");
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
  });

  it("a secret changed without any failure is read again once the cache is older than its TTL", async () => {
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    await credentials.load();
    secretHolds(JSON.stringify({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }));
    clock.advanceSeconds(CREDENTIALS_CACHE_SECONDS - 1);
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
    clock.advanceSeconds(1);
    await expect(credentials.load()).resolves.toEqual({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    expect(secretReads()).toBe(2);
  });

  it("forget() makes the next load read again", async () => {
    secretHolds(JSON.stringify({ apiKey: API_KEY }));
    await credentials.load();
    credentials.forget();
    await credentials.load();
    expect(secretReads()).toBe(2);
  });
});

describe("an operator fixes the secret while the containers are warm", () => {
  const FIXED_API_KEY = "kl-api-key-fixed-4d5e6f7a";
  const request = { request: { model: "kling-v2-6", mode: "std", duration: "5" } } as const;

  it("the attempt after a Kling.AuthFailed reads the secret again and uses its new value", async () => {
    const simulator = await startSimulator({ scenario: "happy", credentials: { apiKey: FIXED_API_KEY } });
    try {
      env.KLING_SECRET_ARN = SECRET_ARN;
      env.KLING_BASE_URL = simulator.baseUrl;
      const checkCredits = checkCreditsHandler(portsFromEnvironment(env));
      secretHolds(JSON.stringify({ apiKey: API_KEY }));
      await expect(checkCredits(request)).rejects.toMatchObject({ name: "Kling.AuthFailed" });

      secretHolds(JSON.stringify({ apiKey: FIXED_API_KEY }));
      await expect(checkCredits(request)).resolves.toMatchObject({ priceUnits: 1.5 });
      expect(secretReads()).toBe(2);
    } finally {
      await simulator.close();
    }
  });
});

describe("credentials from the environment, without KLING_SECRET_ARN", () => {
  it("KLINGAI_API_KEY", async () => {
    env.KLINGAI_API_KEY = API_KEY;
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
    expect(secretReads()).toBe(0);
  });

  it("KLING_ACCESS_KEY and KLING_SECRET_KEY", async () => {
    env.KLING_ACCESS_KEY = ACCESS_KEY;
    env.KLING_SECRET_KEY = SECRET_KEY;
    await expect(credentials.load()).resolves.toEqual({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    expect(secretReads()).toBe(0);
  });

  it("an empty KLING_SECRET_ARN counts as unset", async () => {
    env.KLING_SECRET_ARN = "";
    env.KLINGAI_API_KEY = API_KEY;
    await expect(credentials.load()).resolves.toEqual({ apiKey: API_KEY });
    expect(secretReads()).toBe(0);
  });

  it("nothing set is Kling.AuthFailed naming the variables", async () => {
    const failure = await loadFailure();
    expect(failure.name).toBe("Kling.AuthFailed");
    for (const name of ["KLINGAI_API_KEY", "KLING_ACCESS_KEY", "KLING_SECRET_KEY"]) expect(failure.message).toContain(name);
    expect(secretReads()).toBe(0);
  });

  it("an access key alone is Kling.AuthFailed, without the key in the error", async () => {
    env.KLING_ACCESS_KEY = ACCESS_KEY;
    const failure = await loadFailure();
    expect(failure.name).toBe("Kling.AuthFailed");
    expect(exposed(failure)).not.toContain(ACCESS_KEY);
  });
});
