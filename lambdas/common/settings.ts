/**
 * The pipeline's settings: each one's default, and the environment variable that carries it to
 * the Lambdas, defined here once. lib/pipeline-config.ts validates the configuration with these
 * defaults and sets these variables; the Lambdas read the variables (lambdas/common/config.ts,
 * lambdas/validate/config.ts) and fall back to the same defaults. It lives under lambdas/
 * because the Lambdas are bundled from there; lib/ imports it, never the reverse.
 */

/** The defaults of the typed configuration; a setting that is not here has none. */
export const DEFAULTS = {
  klingBaseUrl: "https://api-singapore.klingai.com",
  defaultModel: "kling-v2-6",
  blockedTerms: [] as string[],
  /** Tuned with `npm run bench` (README, Performance): few polls, and a finished video noticed within a few percent of its generation time. */
  pollSchedule: { firstPollShare: 0.85, intervalShare: 0.05, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 1800 },
  creditCacheSeconds: 30,
  klingRequestTimeoutMs: 10_000,
  /**
   * Above the worst case of lib/time-budget.ts with these defaults (5 h 26 min, most of it
   * Archive's 13 attempts of 10 min), with more than a fifth spare: nothing is bounded by it.
   */
  executionTimeoutMinutes: 450,
  klingConcurrency: 5,
  slotQueue: { parkSeconds: 900, deadlineSeconds: 2700, probeSeconds: 60 },
  batchRequestSource: "kling-pipeline.requests",
  outcomeEventSource: "kling-pipeline",
  apiAuthorization: "iam",
  apiThrottling: { rateLimit: 10, burstLimit: 20 },
  maxScheduledRedrives: 2,
  logLevel: "INFO",
  alarms: { creditsBelow: 100, unrecoverableFailurePercent: 10 },
  /** How long the notifier waits for a requester's callbackUrl to answer, from connecting to the status line. */
  requesterWebhookTimeoutMs: 10_000,
  videoArchive: {
    /** How long a link GET /generations/{id} hands out works (S3 allows at most 7 days). */
    linkSeconds: 3600,
    archiveWatermarked: false,
    /** A download with no byte for this long is given up (and retried). */
    downloadStallMs: 30_000,
  },
} as const;

/**
 * The default schedule of the ledger's reconciliation (lambdas/reconcile-ledger): a release lost
 * with its backstop holds a slot at most about `everyMinutes`. A constant of its own: only
 * synthesis reads it (the rule's input carries the bound to the function).
 */
export const RECONCILIATION_DEFAULTS = { everyMinutes: 10, maxExecutionsPerRun: 200 } as const;

/**
 * The defaults of completion by Kling's callback, beside the poll schedule's (a constant of
 * their own, so that only the code that reads them carries them: each bundle is bounded).
 */
export const CALLBACK_DEFAULTS = {
  /**
   * The poll schedule with callbacks on, where a poll is only the fallback for a lost callback:
   * the first at 1.5 times the typical generation time, then every half of it; the deadline is
   * pollSchedule's.
   */
  fallbackPolls: { firstPollShare: 1.5, intervalShare: 0.5, minSeconds: 30, maxSeconds: 900 },
  /** The callback route's own throttle: Kling sends a few calls per task. */
  throttling: { rateLimit: 20, burstLimit: 40 },
  /**
   * The callback function's reserved concurrency: what an outsider flooding the unauthenticated
   * route can take of the account's Lambda concurrency (and of Kling queries) at most.
   */
  reservedConcurrency: 10,
  /** Kling queries the callbacks of one task may cause per minute: what a leaked callback URL can cost at most. */
  confirmingQueriesPerMinute: 4,
} as const;

/**
 * The defaults of what Archive downloads, beside videoArchive's (a constant of their own, so
 * that only Archive's bundle carries them).
 */
export const DOWNLOAD_DEFAULTS = {
  /**
   * The hosts Archive downloads videos from, over https: Kling's CDN, as Kling's answers name it
   * (cdn.klingai.com, v15-kling.klingai.com, v16-kling-fdl.klingai.com, ...).
   */
  downloadHosts: ["*.klingai.com"] as string[],
  /** A video past this many bytes is not downloaded (1 GiB: a 15 s 4K video is a fraction of it). */
  maxVideoBytes: 1024 * 1024 * 1024,
};

/** The environment variables of what Archive downloads. */
export const DOWNLOAD_ENV = {
  downloadHosts: "VIDEO_DOWNLOAD_HOSTS",
  maxVideoBytes: "VIDEO_MAX_BYTES",
  /**
   * Set only by the local runner (never by the stack): the host of the Kling endpoint it
   * connected to, which Archive may download from beside downloadHosts, on any port and over
   * http too (the simulator serves its videos from its own origin, http://127.0.0.1:<port>,
   * also when a test's proxy stands between it and the functions).
   */
  localVideoHost: "VIDEO_DOWNLOAD_LOCAL_HOST",
} as const;

/**
 * What the state machines write to their execution logs: errors only, without the states' input
 * and output, which hold the requests (prompts, images, callback URLs) and the task tokens.
 * Synthesis alone reads it (a constant of its own: no bundle carries it).
 */
export const EXECUTION_LOG_DEFAULTS = { level: "ERROR", includeExecutionData: false } as const;

/**
 * The scheduled redrive, on by default: every half hour, over the last two days (well inside
 * RedriveExecution's 14 days after an execution stopped), so a failure that passes by itself is
 * redriven within half an hour, and one still failed after its last redrive (maxScheduledRedrives)
 * sets off the alarm at the next run. Synthesis alone reads it (no bundle carries it).
 */
export const SCHEDULED_REDRIVE_DEFAULTS = { everyMinutes: 30, lookBackHours: 48 } as const;

/**
 * How long the video bucket keeps a replaced or deleted version of an object: the time to notice
 * an overwrite or a delete and restore the only copy (after Kling's own is purged). Synthesis alone
 * reads it (no bundle carries it).
 */
export const NONCURRENT_VERSION_DAYS = 30;

/** The environment variables of completion by Kling's callback, set only with callbacks on. */
export const CALLBACK_ENV = {
  /** The base of the callback URL Submit gives Kling; Poll reads it as "callbacks are on". */
  baseUrl: "KLING_CALLBACK_BASE_URL",
  /** The secret of the callback URLs' capability tokens (lambdas/common/callback-secrets.ts). */
  secretArn: "KLING_CALLBACK_SECRET_ARN",
  /** The callback function's per-task limit of confirming queries a minute. */
  confirmingQueriesPerMinute: "KLING_CALLBACK_QUERIES_PER_MINUTE",
} as const;

/** The environment variables the stack sets on the Lambdas, by the setting each carries. */
export const ENV = {
  klingBaseUrl: "KLING_BASE_URL",
  klingSecretArn: "KLING_SECRET_ARN",
  klingRequestTimeoutMs: "KLING_REQUEST_TIMEOUT_MS",
  defaultModel: "DEFAULT_MODEL",
  blockedTerms: "BLOCKED_TERMS",
  pollSchedule: "POLL_SCHEDULE",
  creditCacheSeconds: "CREDIT_CACHE_SECONDS",
  generationStateMachineArn: "GENERATION_STATE_MACHINE_ARN",
  ledgerTableName: "LEDGER_TABLE_NAME",
  klingConcurrency: "KLING_CONCURRENCY",
  slotQueue: "SLOT_QUEUE",
  videoBucketName: "VIDEO_BUCKET_NAME",
  archiveWatermarked: "ARCHIVE_WATERMARKED",
  downloadStallMs: "VIDEO_DOWNLOAD_STALL_MS",
  videoLinkSeconds: "VIDEO_LINK_SECONDS",
  requesterWebhookSecretArn: "REQUESTER_WEBHOOK_SECRET_ARN",
  /** Set only by the local runner: the requester-webhook signing secret itself. */
  requesterWebhookSecret: "REQUESTER_WEBHOOK_SECRET",
  requesterWebhookTimeoutMs: "REQUESTER_WEBHOOK_TIMEOUT_MS",
} as const;
