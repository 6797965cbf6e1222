/**
 * Runtime configuration of the Lambdas, read from the environment the stack sets. The variables'
 * names and the defaults are in lambdas/common/settings.ts, shared with lib/.
 * A bad value is a clear error naming the variable, never a silent default.
 */
import * as z from "zod";
import { DEFAULTS, ENV } from "./settings";

/** The polls' pace: when the first comes and how the waits after it grow. */
export const pollPaceShape = {
  /**
   * The first poll comes at this share of the request's typical generation time
   * (lambdas/schemas/generation-time.ts): just before the quickest videos are done.
   */
  firstPollShare: z.number().gt(0).max(2),
  /**
   * After it, each wait is this share of the time since Submit (at least the typical time),
   * so the delay in noticing a finished video stays about this share of its generation time.
   */
  intervalShare: z.number().gt(0).max(1),
  /** Bounds of the waits after the first poll. */
  minSeconds: z.number().int().min(1),
  maxSeconds: z.number().int().min(1),
};

export const minNotAboveMax: [(pace: { minSeconds: number; maxSeconds: number }) => boolean, { message: string; path: string[] }] = [
  (pace) => pace.minSeconds <= pace.maxSeconds,
  { message: "minSeconds must not be above maxSeconds", path: ["minSeconds"] },
];

export const pollScheduleSchema = z
  .object({
    ...pollPaceShape,
    /** Past this many seconds after Submit, Poll gives up with Kling.PollTimeout. */
    deadlineSeconds: z.number().int().min(1),
  })
  .refine(...minNotAboveMax);
export type PollSchedule = z.infer<typeof pollScheduleSchema>;

/** The variables a function runs with: process.env on Lambda, the template's locally. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** An empty variable counts as unset. */
export function readVariable(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

export function requireVariable(env: Environment, name: string): string {
  const value = readVariable(env, name);
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function parseJsonVariable<T>(env: Environment, name: string, schema: z.ZodType<T>): T {
  const raw = requireVariable(env, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`environment variable ${name} is not JSON`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`);
    throw new Error(`environment variable ${name} is not valid: ${problems.join("; ")}`);
  }
  return result.data;
}

export interface KlingConnectionConfig {
  readonly baseUrl: string;
  readonly timeoutMs: number;
}

export function klingConnectionConfig(env: Environment): KlingConnectionConfig {
  const baseUrl = requireVariable(env, ENV.klingBaseUrl);
  if (!URL.canParse(baseUrl)) throw new Error(`environment variable ${ENV.klingBaseUrl} is not a URL`);
  return { baseUrl, timeoutMs: millisecondsVariable(env, ENV.klingRequestTimeoutMs, DEFAULTS.klingRequestTimeoutMs) };
}

/** A positive whole number of milliseconds, or the default when the variable is unset. */
export function millisecondsVariable(env: Environment, name: string, fallback: number): number {
  const text = readVariable(env, name);
  const ms = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`environment variable ${name} must be a positive whole number of milliseconds`);
  return ms;
}

export function pollScheduleConfig(env: Environment): PollSchedule {
  return parseJsonVariable(env, ENV.pollSchedule, pollScheduleSchema);
}

export function creditCacheSeconds(env: Environment): number {
  const text = readVariable(env, ENV.creditCacheSeconds);
  if (text === undefined) return DEFAULTS.creditCacheSeconds;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`environment variable ${ENV.creditCacheSeconds} must be a number of seconds, 0 or more`);
  }
  return seconds;
}

/** How long the API's links to archived videos work: whole seconds, at most SigV4's 7 days. */
export function videoLinkSeconds(env: Environment): number {
  const text = readVariable(env, ENV.videoLinkSeconds);
  const seconds = text === undefined ? DEFAULTS.videoArchive.linkSeconds : Number(text);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 604_800) {
    throw new Error(`environment variable ${ENV.videoLinkSeconds} must be a whole number of seconds from 1 to 604800`);
  }
  return seconds;
}

export function secretArn(env: Environment): string | undefined {
  return readVariable(env, ENV.klingSecretArn);
}

/** The generation state machine the API starts and the scheduled redrive redrives. */
export function generationStateMachineArn(env: Environment): string {
  return requireVariable(env, ENV.generationStateMachineArn);
}
