/**
 * The typed configuration of the pipeline, with its defaults. The construct takes it as props;
 * the project's stack also reads it from CDK context (`cdk synth -c klingBaseUrl=...`). A bad
 * value stops synthesis with a clear error.
 */
import * as z from "zod";
import type { Node } from "constructs";
import { minNotAboveMax, pollPaceShape, pollScheduleSchema } from "../lambdas/common/config";
import { CALLBACK_DEFAULTS, DEFAULTS } from "../lambdas/common/settings";
import { slotQueueSchema } from "../lambdas/ledger/config";
import { MODEL_NAMES } from "../lambdas/schemas/models";

/** The poll schedule with callbacks on (the fallback for a lost callback): the deadline stays pollSchedule's. Only synthesis reads it (here, not in the Lambdas' bundles): the stack hands the Lambdas the schedule they poll on. */
const fallbackPollsSchema = z.object(pollPaceShape).refine(...minNotAboveMax);

/**
 * Each setting with its default (lambdas/common/settings.ts) and its description, which the
 * README's configuration table is generated from (`npm run docs`).
 */
export const pipelineConfigSchema = z.object({
  // Locally the runner points the Lambdas at the simulator through their environment, never through this setting.
  klingBaseUrl: z
    .url()
    .refine((url) => !URL.canParse(url) || new URL(url).protocol === "https:", {
      message: "klingBaseUrl must be https: credentials travel in its Authorization header",
    })
    .default(DEFAULTS.klingBaseUrl)
    .describe("Kling's API host, https only: credentials travel in its Authorization header"),
  klingSecretArn: z
    .string()
    .startsWith("arn:")
    .optional()
    .describe("an existing secret holding the Kling credentials; without it the stack creates an empty one"),
  klingSecretKmsKeyArn: z
    .string()
    .startsWith("arn:")
    .optional()
    .describe("the customer-managed KMS key that encrypts the `klingSecretArn` secret: the functions that read the secret get `kms:Decrypt` on it"),
  defaultModel: z.enum(MODEL_NAMES).default(DEFAULTS.defaultModel).describe("the model of a request that names none"),
  blockedTerms: z
    .array(z.string().min(1))
    .default(DEFAULTS.blockedTerms)
    .describe("terms Validate refuses before anything is sent to Kling"),
  pollSchedule: pollScheduleSchema
    .default(DEFAULTS.pollSchedule)
    .describe(
      "the first poll at `firstPollShare` of the typical generation time for the model, mode and duration " +
        "(`lambdas/schemas/generation-time.ts`), then every `intervalShare` of the time spent " +
        "(`minSeconds` to `maxSeconds`); `Kling.PollTimeout` past `deadlineSeconds` after Submit",
    ),
  callbacks: z
    .object({
      enabled: z.boolean().optional(),
      baseUrl: z
        .url()
        .refine((url) => !URL.canParse(url) || new URL(url).protocol === "https:", { message: "callbacks.baseUrl must be https: the URL carries the callback's capability token" })
        .optional(),
      fallbackPolls: fallbackPollsSchema.default(CALLBACK_DEFAULTS.fallbackPolls),
      throttling: z
        .object({ rateLimit: z.number().min(1), burstLimit: z.number().int().min(1) })
        .default(CALLBACK_DEFAULTS.throttling),
    })
    .default({ ...CALLBACK_DEFAULTS })
    .describe(
      "Kling's callbacks end WaitForVideo at once (README, Callbacks): `enabled` (default: on when the API is deployed, which receives them), " +
        "`baseUrl` (default: the API's URL; e.g. a custom domain's), and `fallbackPolls`, the sparser poll schedule that catches a lost callback " +
        "(fields as `pollSchedule`'s; the deadline is `pollSchedule.deadlineSeconds`), and `throttling`, the callback route's own rate and burst per second",
    ),
  creditCacheSeconds: z
    .number()
    .min(0)
    .default(DEFAULTS.creditCacheSeconds)
    .describe("how long CheckCredits reuses the account's resource packs answer"),
  klingRequestTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .default(DEFAULTS.klingRequestTimeoutMs)
    .describe("the limit of one Kling request, from connecting to the last byte of the answer"),
  executionTimeoutMinutes: z
    .number()
    .int()
    .min(1)
    .default(DEFAULTS.executionTimeoutMinutes)
    .describe("the backstop of a whole execution, beyond the poll deadline and every retry"),
  klingConcurrency: z
    .number()
    .int()
    .min(1)
    .max(40)
    .default(DEFAULTS.klingConcurrency)
    .describe("tasks Kling runs at once for this account: the account ledger never lets more generations hold a slot"),
  slotQueue: slotQueueSchema
    .default(DEFAULTS.slotQueue)
    .describe(
      "the queue of generations waiting for a Kling slot: each park on its task token lasts `parkSeconds` before it looks again " +
        "(a lost wake-up costs at most that), a generation that waited `deadlineSeconds` fails as the recoverable `Kling.QueueTimeout`, " +
        "and while `maxWaiters` wait, `POST /generations` answers 429 with `Retry-After` (a batch's items still queue)",
    ),
  requesterWebhookSecretArn: z
    .string()
    .startsWith("arn:")
    .optional()
    .describe(
      "an existing secret holding the signing secret of the notifications to a request's `callbackUrl` (`whsec_` and base64 of 24 to 64 bytes, or the base64 alone); " +
        "without it the stack creates one with a generated value",
    ),
  requesterWebhookTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(60_000)
    .default(DEFAULTS.requesterWebhookTimeoutMs)
    .describe("how long a notification to a request's `callbackUrl` waits for its answer before it counts as failed (and is retried)"),
  batchRequestSource: z
    .string()
    .min(1)
    .default(DEFAULTS.batchRequestSource)
    .describe('the `source` of the "Video Generation Batch Requested" events the batch rule listens to'),
  outcomeEventSource: z
    .string()
    .min(1)
    .default(DEFAULTS.outcomeEventSource)
    .describe("the `source` of the outcome events the pipeline puts on the bus"),
  batchSchedule: z
    .object({ expression: z.string().min(1), batch: z.object({ batchId: z.string(), items: z.array(z.unknown()) }) })
    .optional()
    .describe('`{"expression": "rate(1 day)", "batch": {"batchId", "items"}}` starts that batch on a schedule, each run with its own batch id from the time'),
  scheduledRedrive: z
    .object({ everyMinutes: z.number().int().min(5), lookBackHours: z.number().positive().max(14 * 24) })
    .optional()
    .describe(
      '`{"everyMinutes", "lookBackHours"}` runs a Lambda on that schedule that redrives the failures that pass by themselves ' +
        "(rate limits, Kling's server errors, poll timeouts, Lambda faults, timeouts); credentials, credits and failed generations wait for an operator",
    ),
  maxScheduledRedrives: z
    .number()
    .int()
    .min(0)
    .default(DEFAULTS.maxScheduledRedrives)
    .describe(
      "the scheduled redrive redrives an execution only while it has had fewer redrives than this (DescribeExecution's `redriveCount`, manual ones included), so a failure that keeps coming back waits for an operator",
    ),
  apiAuthorization: z
    .enum(["iam", "apiKey"])
    .default(DEFAULTS.apiAuthorization)
    .describe("how callers authenticate to the HTTP API: `iam` (SigV4) or `apiKey` (a key and usage plan the stack creates)"),
  apiThrottling: z
    .object({ rateLimit: z.number().min(1), burstLimit: z.number().int().min(1) })
    .default(DEFAULTS.apiThrottling)
    .describe("the API stage's steady request rate and burst, per second"),
  serviceName: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      "the `service` of every log line and metric (`POWERTOOLS_SERVICE_NAME`), which the dashboard and alarms filter on; " +
        "without it, the construct's path, so two pipelines never share one",
    ),
  logLevel: z
    .enum(["DEBUG", "INFO", "WARN", "ERROR"])
    .default(DEFAULTS.logLevel)
    .describe("the Lambdas' log level (Powertools, `POWERTOOLS_LOG_LEVEL`)"),
  alarms: z
    .object({
      /** The online resource packs hold fewer units than this (CreditsRemaining, as CheckCredits last read it). */
      creditsBelow: z.number().min(0),
      /** More than this percentage of the generations that ended in an hour failed for good (not recoverable). */
      unrecoverableFailurePercent: z.number().min(0).max(100),
    })
    .default(DEFAULTS.alarms)
    .describe(
      "when the alarms go off: the resource packs hold fewer than `creditsBelow` units; more than " +
        "`unrecoverableFailurePercent` of the generations that ended in an hour failed for good",
    ),

  videoArchive: z
    .object({
      linkSeconds: z.number().int().min(1).max(604_800).default(DEFAULTS.videoArchive.linkSeconds),
      archiveWatermarked: z.boolean().default(DEFAULTS.videoArchive.archiveWatermarked),
      downloadStallMs: z.number().int().min(1000).max(600_000).default(DEFAULTS.videoArchive.downloadStallMs),
      transition: z
        .object({
          storageClass: z.enum(["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
          afterDays: z.number().int().min(1),
        })
        .optional(),
      expireAfterDays: z.number().int().min(1).optional(),
    })
    .refine((archive) => !archive.transition || !archive.expireAfterDays || archive.expireAfterDays > archive.transition.afterDays, {
      message: "expireAfterDays must come after transition.afterDays",
    })
    .default({ ...DEFAULTS.videoArchive })
    .describe(
      "the video bucket: `linkSeconds` is how long a link GET /generations/{id} hands out works (at most 604800, 7 days); " +
        "`archiveWatermarked` keeps Kling's watermarked copy too; a download with no byte for `downloadStallMs` is retried; " +
        '`transition` (`{"storageClass": "GLACIER_IR", "afterDays": 90}`) moves videos to a colder class and `expireAfterDays` deletes them (none by default: kept for good)',
    ),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof pipelineConfigSchema>;

const CONFIG_KEYS = Object.keys(pipelineConfigSchema.shape) as (keyof PipelineConfig)[];

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

/**
 * The configuration keys set in CDK context (`cdk deploy -c logLevel=DEBUG`), unvalidated. Only the
 * project's own stack reads them: the construct takes typed props alone, so a host app's context
 * (its own `logLevel`, say) never reconfigures a pipeline it adds.
 */
export function pipelineConfigFromContext(node: Node): Record<string, unknown> {
  const fromContext: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = contextValue(node, key);
    if (value !== undefined) fromContext[key] = value;
  }
  return fromContext;
}

/** The configuration with its defaults; anything not valid stops synthesis with every problem named. */
export function resolvePipelineConfig(input: Readonly<Record<string, unknown>> = {}): PipelineConfig {
  const result = pipelineConfigSchema.safeParse(input);
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
