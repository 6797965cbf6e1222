/**
 * The Validate Lambda's configuration, from the environment the stack sets (variable names:
 * lambdas/common/config.ts; defaults: lib/pipeline-config.ts). A bad value is an Error naming
 * the variable. It is read on every invocation (the Validate handler and the API), so each
 * request a misconfigured function handles fails with that Error, loudly.
 */
import * as z from "zod";
import { ENV } from "../common/config";
import { MODEL_NAMES, type ModelName } from "../schemas/models";
import type { ValidationOptions } from "../schemas/validation";

export const DEFAULT_MODEL: ModelName = "kling-v2-6";

export interface ValidateConfig extends ValidationOptions {
  readonly defaultModel: ModelName;
}

const defaultModelSchema = z.enum(MODEL_NAMES);
const blockedTermsSchema = z.array(z.string().trim().min(1));

type Environment = Readonly<Record<string, string | undefined>>;

export function readValidateConfig(env: Environment): ValidateConfig {
  return { defaultModel: readDefaultModel(env), blockedTerms: readBlockedTerms(env) };
}

/** An empty variable counts as unset, as in lambdas/common/config.ts. */
function read(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function readDefaultModel(env: Environment): ModelName {
  const text = read(env, ENV.defaultModel);
  if (text === undefined) return DEFAULT_MODEL;
  const result = defaultModelSchema.safeParse(text);
  if (!result.success) {
    throw new Error(`environment variable ${ENV.defaultModel} must be one of ${MODEL_NAMES.join(", ")} (got ${JSON.stringify(text)})`);
  }
  return result.data;
}

function readBlockedTerms(env: Environment): string[] {
  const text = read(env, ENV.blockedTerms);
  if (text === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = blockedTermsSchema.safeParse(parsed);
  if (!result.success) {
    throw new Error(`environment variable ${ENV.blockedTerms} must be a JSON array of non-blank strings, like ["term", "a phrase"]`);
  }
  return result.data;
}
