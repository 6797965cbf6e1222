/**
 * The typed configuration of the pipeline, with its defaults. Set through CDK context
 * (`cdk synth -c klingBaseUrl=...`) or props; a bad value stops synthesis with a clear error.
 */
import * as z from "zod";
import type { Node } from "constructs";
import { pollScheduleSchema } from "../lambdas/common/config";
import { slotQueueSchema } from "../lambdas/ledger/config";
import { MODEL_NAMES } from "../lambdas/schemas/models";
import { DEFAULT_MODEL } from "../lambdas/validate/config";

export const pipelineConfigSchema = z.object({
  /**
   * Kling's API host, https only. Locally the runner points the Lambdas at the simulator
   * through their environment instead, never through this setting.
   */
  klingBaseUrl: z
    .url()
    .refine((url) => !URL.canParse(url) || new URL(url).protocol === "https:", {
      message: "klingBaseUrl must be https: credentials travel in its Authorization header",
    })
    .default("https://api-singapore.klingai.com"),
  /** An existing secret holding the Kling credentials; without it the stack creates one. */
  klingSecretArn: z.string().startsWith("arn:").optional(),
  defaultModel: z.enum(MODEL_NAMES).default(DEFAULT_MODEL),
  /** Terms refused by Validate before anything is sent to Kling. */
  blockedTerms: z.array(z.string().min(1)).default([]),
  /** Tuned with `npm run bench` (README, Performance): few polls, and a finished video noticed within a few percent of its generation time. */
  pollSchedule: pollScheduleSchema.default({ firstPollShare: 0.85, intervalShare: 0.05, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 1800 }),
  /** How long CheckCredits reuses the account's resource packs answer. */
  creditCacheSeconds: z.number().min(0).default(30),
  /** Per Kling request. */
  klingRequestTimeoutMs: z.number().int().min(1000).default(10_000),
  /** The backstop of a whole execution, beyond the poll deadline and every retry. */
  executionTimeoutMinutes: z.number().int().min(1).default(90),
  /** Tasks Kling runs at once for this account: the account ledger never lets more generations hold a slot. */
  klingConcurrency: z.number().int().min(1).max(40).default(5),
  /** The queue of generations waiting for a slot (lambdas/ledger/config.ts). */
  slotQueue: slotQueueSchema.default({ parkSeconds: 300, deadlineSeconds: 2700 }),
  /** The `source` of the "Video Generation Batch Requested" events the batch rule listens to. */
  batchRequestSource: z.string().min(1).default("kling-pipeline.requests"),
  /** The `source` of the outcome events the pipeline puts on the bus. */
  outcomeEventSource: z.string().min(1).default("kling-pipeline"),
  /** An optional schedule that starts this batch (each run gets its own batch id from the time). */
  batchSchedule: z
    .object({ expression: z.string().min(1), batch: z.object({ batchId: z.string(), items: z.array(z.unknown()) }) })
    .optional(),
  /**
   * Redrive, on a schedule, the generations that failed recoverably and need no one (Kling busy
   * or down, a passed deadline, a failed generation); credentials and credits wait for an operator.
   */
  scheduledRedrive: z
    .object({ everyMinutes: z.number().int().min(5), lookBackHours: z.number().positive().max(14 * 24) })
    .optional(),
  /** How callers authenticate to the HTTP API: IAM (SigV4) or an API key with a usage plan. */
  apiAuthorization: z.enum(["iam", "apiKey"]).default("iam"),
  /** The API stage's steady request rate and burst, per second. */
  apiThrottling: z
    .object({ rateLimit: z.number().min(1), burstLimit: z.number().int().min(1) })
    .default({ rateLimit: 10, burstLimit: 20 }),
  /**
   * The `service` of every log line and metric (POWERTOOLS_SERVICE_NAME), which the dashboard and
   * alarms filter on. Default: the construct's path, so two pipelines never share one.
   */
  serviceName: z.string().min(1).max(100).optional(),
  /** The Lambdas' log level (POWERTOOLS_LOG_LEVEL). */
  logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
  /** When the alarms go off. */
  alarms: z
    .object({
      /** The online resource packs hold fewer units than this (CreditsRemaining, as CheckCredits last read it). */
      creditsBelow: z.number().min(0),
      /** More than this percentage of the generations that ended in an hour failed for good (not recoverable). */
      unrecoverableFailurePercent: z.number().min(0).max(100),
    })
    .default({ creditsBelow: 100, unrecoverableFailurePercent: 10 }),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

const CONTEXT_KEYS = Object.keys(pipelineConfigSchema.shape) as (keyof PipelineConfig)[];

/** Context values arrive as strings from `-c key=value`: JSON ones are parsed first. */
function contextValue(node: Node, key: string): unknown {
  const value: unknown = node.tryGetContext(key);
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function resolvePipelineConfig(node: Node, props: PipelineConfigInput = {}): PipelineConfig {
  const fromContext: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value = contextValue(node, key);
    if (value !== undefined) fromContext[key] = value;
  }
  const result = pipelineConfigSchema.safeParse({ ...fromContext, ...props });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`kling-pipeline configuration is not valid: ${problems.join("; ")}`);
  }
  const { slotQueue, executionTimeoutMinutes } = result.data;
  // Else the execution timeout ends a long wait first: TIMED_OUT, where Kling.QueueTimeout is recoverable.
  if (slotQueue.deadlineSeconds >= executionTimeoutMinutes * 60) {
    throw new Error(
      `kling-pipeline configuration is not valid: slotQueue.deadlineSeconds (${slotQueue.deadlineSeconds}) must be below executionTimeoutMinutes (${executionTimeoutMinutes} min = ${executionTimeoutMinutes * 60} s)`,
    );
  }
  return result.data;
}
