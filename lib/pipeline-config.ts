/**
 * The typed configuration of the pipeline, with its defaults. The construct takes it as props;
 * the project's stack also reads it from CDK context (`cdk synth -c klingBaseUrl=...`). A bad
 * value stops synthesis with a clear error.
 */
import * as z from "zod";
import type { Node } from "constructs";
import { downloadHostSchema } from "../lambdas/archive/settings";
import { minNotAboveMax, pollPaceShape, pollScheduleSchema } from "../lambdas/common/config";
import { CALLBACK_DEFAULTS, DEFAULTS, DOWNLOAD_DEFAULTS, EXECUTION_LOG_DEFAULTS, NONCURRENT_VERSION_DAYS, RECONCILIATION_DEFAULTS, SCHEDULED_REDRIVE_DEFAULTS } from "../lambdas/common/settings";
import { slotQueueSchema } from "../lambdas/ledger/config";
import { timeBudgetProblem } from "./time-budget";
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
      reservedConcurrency: z.union([z.number().int().min(1).max(1000), z.literal(false)]).default(CALLBACK_DEFAULTS.reservedConcurrency),
      confirmingQueriesPerMinute: z.number().int().min(1).max(60).default(CALLBACK_DEFAULTS.confirmingQueriesPerMinute),
    })
    .default({ ...CALLBACK_DEFAULTS })
    .describe(
      "Kling's callbacks end WaitForVideo at once (README, Callbacks): `enabled` (default: on when the API is deployed, which receives them), " +
        "`baseUrl` (default: the API's URL; e.g. a custom domain's), and `fallbackPolls`, the sparser poll schedule that catches a lost callback " +
        "(fields as `pollSchedule`'s; the deadline is `pollSchedule.deadlineSeconds`), `throttling`, the callback route's own rate and burst per second, " +
        "`reservedConcurrency`, the callback function's reserved concurrency (`false`: none, for an account whose Lambda concurrency quota leaves less than 100 unreserved after it), " +
        "and `confirmingQueriesPerMinute`, the Kling queries the callbacks of one task may cause a minute (past it a callback is accepted without asking Kling)",
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
    .describe(
      "the backstop of a whole execution; synthesis refuses one shorter than the longest a generation can take " +
        "(the queue and poll deadlines, every state's retries at their functions' timeouts: `lib/time-budget.ts`), which could time out after Submit",
    ),
  klingConcurrency: z
    .number()
    .int()
    .min(1)
    .max(40)
    .default(DEFAULTS.klingConcurrency)
    .describe(
      "the most tasks Kling runs at once for this account: the account ledger never lets more generations hold a slot, and fewer when Kling's 1303s say others use the account (the effective limit)",
    ),
  slotQueue: slotQueueSchema
    .default(DEFAULTS.slotQueue)
    .describe(
      "the queue of generations waiting for a Kling slot: each park on its task token lasts `parkSeconds` before it looks again " +
        "(a lost wake-up costs at most that), and a generation that waited `deadlineSeconds` fails as the recoverable `Kling.QueueTimeout`; " +
        "after a 1303 the effective limit stays `probeSeconds` before the head of the queue probes one slot more, and a generation sent back to the queue looks again that often",
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
    .union([
      z.literal(false),
      // RedriveExecution takes an execution up to 14 days after it stopped: no use looking further back.
      z.object({ everyMinutes: z.number().int().min(5), lookBackHours: z.number().positive().max(14 * 24) }),
    ])
    .default({ ...SCHEDULED_REDRIVE_DEFAULTS })
    .describe(
      '`{"everyMinutes", "lookBackHours"}` runs a Lambda on that schedule that redrives the failures that pass by themselves ' +
        "(rate limits, Kling's server errors, poll and download timeouts, Lambda faults, timed-out executions); credentials, credits and failed generations " +
        "wait for an operator; one still failed after its last redrive sets off the GenerationsLeftFailed alarm; `false` turns it off",
    ),
  maxScheduledRedrives: z
    .number()
    .int()
    .min(0)
    .default(DEFAULTS.maxScheduledRedrives)
    .describe(
      "the scheduled redrive redrives an execution only while it has had fewer redrives than this (DescribeExecution's `redriveCount`, manual ones included), so a failure that keeps coming back waits for an operator",
    ),
  ledgerReconciliation: z
    .object({ everyMinutes: z.number().int().min(1).max(1440), maxExecutionsPerRun: z.number().int().min(1).max(2000) })
    .default({ ...RECONCILIATION_DEFAULTS })
    .describe(
      "every `everyMinutes` a Lambda frees what the account ledger still holds (slots, queue places, credit reservations) for generations that have ended " +
        "(DescribeExecution), when their release and the status-change backstop were both lost; one run asks about at most `maxExecutionsPerRun` executions, the oldest first",
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
  executionLogs: z
    .object({
      level: z.enum(["OFF", "FATAL", "ERROR", "ALL"]).default(EXECUTION_LOG_DEFAULTS.level),
      includeExecutionData: z.boolean().default(EXECUTION_LOG_DEFAULTS.includeExecutionData),
    })
    .default({ ...EXECUTION_LOG_DEFAULTS })
    .describe(
      "what both state machines write to their execution log groups: `level` (`OFF`, `FATAL`, `ERROR`, `ALL`), and `includeExecutionData`, " +
        "the states' input and output, which hold customer data and capabilities (prompts, images, callback URLs, task tokens): off by default",
    ),
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
      downloadHosts: z.array(downloadHostSchema).min(1).default(DOWNLOAD_DEFAULTS.downloadHosts),
      // S3's multipart upload holds 10,000 parts of 8 MiB (lambdas/archive/s3-video-store.ts): 80 GB; 10 GiB is far past any video.
      maxVideoBytes: z.number().int().min(1024 * 1024).max(10 * 1024 ** 3).default(DOWNLOAD_DEFAULTS.maxVideoBytes),
      transition: z
        .object({
          storageClass: z.enum(["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]),
          afterDays: z.number().int().min(1),
        })
        .optional(),
      expireAfterDays: z.number().int().min(1).optional(),
      noncurrentVersionDays: z.number().int().min(1).default(NONCURRENT_VERSION_DAYS),
    })
    .refine((archive) => !archive.transition || !archive.expireAfterDays || archive.expireAfterDays > archive.transition.afterDays, {
      message: "expireAfterDays must come after transition.afterDays",
    })
    .default({ ...DEFAULTS.videoArchive, ...DOWNLOAD_DEFAULTS, noncurrentVersionDays: NONCURRENT_VERSION_DAYS })
    .describe(
      "the video bucket: `linkSeconds` is how long a link GET /generations/{id} hands out works (at most 604800, 7 days); " +
        "`archiveWatermarked` keeps Kling's watermarked copy too; a download with no byte for `downloadStallMs` is retried; " +
        "Archive downloads only the URLs Kling's own answer for the task gives, over https from `downloadHosts` (a host, or `*.` and a domain; " +
        "default Kling's CDN, `*.klingai.com`), follows no redirect to another host, and refuses a video past `maxVideoBytes` (default 1 GiB); " +
        '`transition` (`{"storageClass": "GLACIER_IR", "afterDays": 90}`) moves videos to a colder class and `expireAfterDays` deletes them (none by default: kept for good); ' +
        "the bucket keeps versions, and a replaced or deleted one for `noncurrentVersionDays`",
    ),
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** How every refusal of a configuration begins: the app prints such an error's message alone. */
export const CONFIG_NOT_VALID = "kling-pipeline configuration is not valid";
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
    throw new Error(`${CONFIG_NOT_VALID}: ${problems.join("; ")}`);
  }
  // Else a generation could time out after Submit, charged and without its video.
  const budget = timeBudgetProblem(result.data);
  if (budget) throw new Error(`${CONFIG_NOT_VALID}: ${budget}`);
  return result.data;
}
