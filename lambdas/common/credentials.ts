/**
 * Where the Kling credentials come from: the one Secrets Manager secret on AWS
 * (`KLING_SECRET_ARN`), or the environment locally (`KLINGAI_API_KEY`, or `KLING_ACCESS_KEY`
 * and `KLING_SECRET_KEY`). The secret is cached for CREDENTIALS_CACHE_SECONDS and forgotten as soon
 * as Kling refuses what it held, so a fixed secret takes effect in warm containers; its value is
 * never logged, returned or put in an error.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as z from "zod";
import { KlingError } from "../errors";
import type { KlingCredentials } from "../kling/port";
import type { Clock } from "./clock";
import { cachedRead } from "./cached-read";
import { type Environment, secretArn } from "./config";

/** How long a container reuses what it read from the secret, unless Kling refuses it first. */
export const CREDENTIALS_CACHE_SECONDS = 300;

export const LOCAL_CREDENTIAL_VARIABLES = {
  apiKey: "KLINGAI_API_KEY",
  accessKey: "KLING_ACCESS_KEY",
  secretKey: "KLING_SECRET_KEY",
} as const;

const secretSchema = z.union([
  z.object({ apiKey: z.string().min(1) }),
  z.object({ accessKey: z.string().min(1), secretKey: z.string().min(1) }),
]);

/** What an operator puts in the secret. */
const SECRET_SHAPE = '{"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}';

async function readSecret(secretsManager: SecretsManagerClient, arn: string): Promise<KlingCredentials> {
  let text: string | undefined;
  try {
    const answer = await secretsManager.send(new GetSecretValueCommand({ SecretId: arn }));
    text = answer.SecretString;
  } catch (error) {
    const reason = error instanceof Error ? error.name : "unknown error";
    // What GetSecretValue answers for a secret created without a value (the stack's, until filled).
    if (reason === "ResourceNotFoundException") {
      throw new KlingError("Kling.AuthFailed", `the Kling credentials secret ${arn} was not found or holds no value yet (${reason}): put ${SECRET_SHAPE} in it`);
    }
    throw new KlingError("Kling.AuthFailed", `could not read the Kling credentials secret ${arn} (${reason})`);
  }
  const result = secretSchema.safeParse(parseJson(text));
  if (!result.success) {
    throw new KlingError("Kling.AuthFailed", `the Kling credentials secret ${arn} holds no Kling credentials: put ${SECRET_SHAPE} in it`);
  }
  return result.data;
}

/** The JSON value of a text, or undefined when it is none; never an error that could quote the text. */
function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return undefined;
  }
}

/** What to set when no credentials are found in the environment. */
export const MISSING_CREDENTIALS_HINT = `set ${LOCAL_CREDENTIAL_VARIABLES.apiKey}, or ${LOCAL_CREDENTIAL_VARIABLES.accessKey} and ${LOCAL_CREDENTIAL_VARIABLES.secretKey}`;

/** The credentials in an environment (an API key wins over a key pair), if it has any. */
export function credentialsFromEnvironment(env: Readonly<Record<string, string | undefined>>): KlingCredentials | undefined {
  const apiKey = env[LOCAL_CREDENTIAL_VARIABLES.apiKey];
  if (apiKey) return { apiKey };
  const accessKey = env[LOCAL_CREDENTIAL_VARIABLES.accessKey];
  const secretKey = env[LOCAL_CREDENTIAL_VARIABLES.secretKey];
  if (accessKey && secretKey) return { accessKey, secretKey };
  return undefined;
}

function readEnvironment(env: Environment): KlingCredentials {
  const credentials = credentialsFromEnvironment(env);
  if (!credentials) throw new KlingError("Kling.AuthFailed", `no Kling credentials: ${MISSING_CREDENTIALS_HINT}`);
  return credentials;
}

/** Where a container's Kling credentials come from, with what it read from the secret cached. */
export interface CredentialSource {
  load(): Promise<KlingCredentials>;
  /** Forgets what was read from the secret: after Kling refused it, the next load reads it again. */
  forget(): void;
}

/** The credentials this environment names: its secret (read with a client made on first use), or its own variables. */
export function credentialSource(env: Environment, clock: Clock): CredentialSource {
  let secretsManager: SecretsManagerClient | undefined;
  const fromSecret = cachedRead(
    () => {
      secretsManager ??= new SecretsManagerClient({});
      return readSecret(secretsManager, secretArn(env) ?? "");
    },
    clock,
    CREDENTIALS_CACHE_SECONDS * 1000,
  );
  return {
    async load() {
      return secretArn(env) === undefined ? readEnvironment(env) : fromSecret.get();
    },
    forget: () => fromSecret.forget(),
  };
}
