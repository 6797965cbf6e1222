/**
 * The configuration of the Validate Lambda and of the API (which validates the same way), from
 * the environment the stack sets; variable names and defaults: lambdas/common/settings.ts. A bad
 * value is an Error naming the variable, so a misconfigured function fails loudly.
 */
import * as z from "zod";
import { type Environment, readVariable } from "../common/config";
import { DEFAULTS, ENV } from "../common/settings";
import { MODEL_NAMES, type ModelName } from "../schemas/models";
import type { ValidationOptions } from "../schemas/validation";

export interface ValidateConfig extends ValidationOptions {
  readonly defaultModel: ModelName;
}

const defaultModelSchema = z.enum(MODEL_NAMES);
const blockedTermsSchema = z.array(z.string().trim().min(1));

export function readValidateConfig(env: Environment): ValidateConfig {
  return { defaultModel: readDefaultModel(env), blockedTerms: readBlockedTerms(env) };
}

function readDefaultModel(env: Environment): ModelName {
  const text = readVariable(env, ENV.defaultModel);
  if (text === undefined) return DEFAULTS.defaultModel;
  const result = defaultModelSchema.safeParse(text);
  if (!result.success) {
    throw new Error(`environment variable ${ENV.defaultModel} must be one of ${MODEL_NAMES.join(", ")} (got ${JSON.stringify(text)})`);
  }
  return result.data;
}

function readBlockedTerms(env: Environment): string[] {
  const text = readVariable(env, ENV.blockedTerms);
  if (text === undefined) return [...DEFAULTS.blockedTerms];
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
