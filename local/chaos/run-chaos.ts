/**
 * The fault run: many jobs, as batches through the batch workflow on the local engine, against
 * the simulator with a seeded chaos plan (and a front that delays answers), then the checks:
 * every job has exactly one outcome, every task Kling created belongs to exactly one job and
 * no job has two, no job is resumed twice by its task's end (resume-count.ts), every failure's
 * errorCode and recoverable agree with the error table, and no credential appears anywhere the
 * pipeline writes (states, errors, causes, diagnoses, logs, bus events). Kling's callbacks are
 * faulted too (dropped, duplicated, delayed, reordered, mis-signed), seeded like the rest.
 *
 * Three steps: run (the batches, against the simulator), collect (what each job ended with,
 * the tasks per job, the leak scan) and check (the verdicts), so a new fault or a new check
 * goes into one of them.
 */
import { createHash } from "node:crypto";
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { readFileSync } from "node:fs";
import { format } from "node:util";
import { BATCH_EVENTS, type BatchSummary, type ItemOutcome } from "#lambdas/batch/batch";
import { inBatches } from "../runner/batches";
import { diagnose, type Diagnosis } from "#lambdas/diagnose/diagnosis";
import { classifyKlingError, ERROR_KINDS, failedTaskError, isKlingErrorName } from "#lambdas/errors/index";
import type { KlingCredentials } from "#lambdas/kling/port";
import { newWebhookSecret } from "#lambdas/common/standard-webhooks";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import type { BusEvent } from "../runner/event-bus";
import type { ExecutionReport } from "../runner/local-engine";
import type { LedgerHoldings } from "#lambdas/ledger/ledger";
import { KLING_CALLBACK_STATE, LocalPipeline, type LocalPipelineOptions } from "../runner/pipeline";
import { ScaledClock } from "../runner/scaled-clock";
import type { LocalLedger } from "../ledger/local-ledger";
import {
  CALLBACK_FAULT_KINDS,
  CHAOS_DELAY_FAULTS,
  CHAOS_LEDGER_FAULTS,
  chaosPlan,
  startSimulator,
  type CallbackCounts,
  type CallbackFaultKind,
  type ChaosFaultKind,
  type ChaosPlan,
  type SimulatedTask,
  type SimulatorStats,
} from "../simulator";
import type { VideoBucketServer } from "../storage/video-bucket-server";
import { startDelayingProxy } from "./delaying-proxy";
import { LeakScanner, randomSecrets, type ChaosSecrets, type Leak } from "./leak-scanner";
import { LedgerFaults, type LostReleaseCrashes } from "./ledger-faults";
import { ResumeCount, type ResumeCounts } from "./resume-count";
import { synthesizedPlan } from "../runner/synthesize";

export const DEFAULT_CHAOS_JOBS = 500;
export const DEFAULT_FAULT_RATE = 0.2;
export const DEFAULT_CHAOS_SEED = 20_260_717;

export interface ChaosOptions {
  readonly jobs: number;
  /** Share of Kling requests that get a fault, from 0 to 1. */
  readonly faultRate: number;
  readonly seed: number;
  /** Items per batch, at most MAX_BATCH_ITEMS (the default). */
  readonly batchSize?: number;
  /** Batches running at once; each wave alternates JWT (AccessKey/SecretKey) and API key credentials. */
  readonly parallelBatches?: number;
  /** Generations one batch runs at once (its Map's MaxConcurrency). */
  readonly klingConcurrency?: number;
  /** Tasks the simulated account runs at once: above that, creates answer 429/1303 (20 by default; {@link CONTENDED_ACCOUNT_SLOTS} puts it below the ceiling). */
  readonly accountSlots?: number;
  /** Real seconds per simulated second. */
  readonly timeScale?: number;
  /** The Kling client's per-request timeout, real ms (late answers come after it). */
  readonly requestTimeoutMs?: number;
  /** A line as each batch ends. */
  readonly onProgress?: (line: string) => void;
  /** The credentials the run uses and scans for; fresh random ones by default. */
  readonly secrets?: ChaosSecrets;
  /** Wraps each Lambda invocation (LocalPipelineOptions.aroundInvoke): how a test stages a defect the checks must catch. */
  readonly aroundInvoke?: LocalPipelineOptions["aroundInvoke"];
  /** Whether a lost release crashes only its first attempt (the default) or every one, leaving it to the backstop. */
  readonly lostReleaseCrashes?: LostReleaseCrashes;
  /** False leaves out the status-change backstop (LocalPipelineOptions.withoutStatusChangeBackstop): a test shows the ledger check fail. */
  readonly statusChangeBackstop?: boolean;
  /**
   * False never runs the ledger's reconciliation; by default it runs on the run's clock at its
   * schedule's rate, and once more after the last job ended: the ledger check reads the ledger then.
   */
  readonly reconciliation?: boolean;
  /** Share of Kling's callbacks that get a fault, from 0 to 1: the fault rate unless given. */
  readonly callbackFaultRate?: number;
  /** The callback faults drawn from, evenly: all five (drop, duplicate, delay, reorder, mis-sign) unless given. */
  readonly callbackFaultKinds?: readonly CallbackFaultKind[];
  /**
   * False forgets every claimed task end before each callback is handled, as a callback function
   * that ignored its claim would act (a duplicate answers the wait again): a test shows the
   * resumed-twice check fail.
   */
  readonly callbackClaimsKept?: boolean;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ChaosReport {
  readonly jobs: number;
  readonly batches: number;
  readonly seed: number;
  readonly faultRate: number;
  readonly faults: number;
  readonly faultsByKind: Readonly<Record<ChaosFaultKind, number>>;
  /** What the simulator itself counted (request faults it answered, tasks it made fail or hang). */
  readonly simulatorFaults: number;
  readonly callbackFaultRate: number;
  /** Callback faults the simulator injected, by kind (its stats.callbacks), and their sum. */
  readonly callbackFaultsByKind: Readonly<Record<CallbackFaultKind, number>>;
  readonly callbackFaults: number;
  /** The callbacks the simulator POSTed (each copy of a duplicate) and, of those, the ones not answered 2xx (a mis-signed one is refused). */
  readonly callbacks: Pick<CallbackCounts, "sent" | "failed">;
  readonly succeeded: number;
  readonly failed: number;
  readonly failuresByError: Readonly<Record<string, number>>;
  /** Jobs without exactly one terminal outcome, in the batch summaries or on the bus. */
  readonly lost: number;
  /**
   * Jobs whose end resumed them twice, one line each naming what happened: a WaitForVideo token
   * answered again after its answer, more resumes of WaitForVideo than entries, or more than one
   * callback acting on the task's end. Must be empty.
   */
  readonly resumedTwice: readonly string[];
  /** How the jobs' waits for their videos ended, over the run. */
  readonly resumes: ResumeCounts;
  /** Jobs with more than one task at the simulator, counted by the job each task's prompt names. */
  readonly duplicates: number;
  /** One line per such job, its tasks' external_task_ids. */
  readonly duplicateTasks: readonly string[];
  /** Tasks the simulator created for no job of the run. */
  readonly tasksForNoJob: readonly string[];
  readonly tasksCreated: number;
  /** API requests the simulator answered (or dropped). */
  readonly requests: number;
  /** Creates the simulator refused because the external_task_id already had a task (late creates). */
  readonly refusedCreates: number;
  /** The account full (real 1303s, not the bursts'), and the generations Kling's refusals sent back to the queue (BackToQueue entered). */
  readonly contention: { readonly accountSlots: number; readonly ceiling: number; readonly accountFull: number; readonly backToQueue: number };
  /** Failures by error and the state that failed. */
  readonly failuresByState: Readonly<Record<string, number>>;
  /** Failures whose errorCode / recoverable / action disagree with the error table. */
  readonly tableMismatches: readonly string[];
  /** Failures no injected fault explains (an error kind the chaos plan never causes). */
  readonly unexplained: readonly string[];
  /** Failed jobs whose Kling task succeeded anyway: a video paid for and never delivered. */
  readonly orphanedTasks: readonly string[];
  readonly leaks: readonly Leak[];
  /** What the account ledger still holds once every job has ended (and one reconciliation period passed): nothing, when every ending released. */
  readonly ledgerHeld: LedgerHoldings;
  /** The reconciliation's runs over the run, and the ended executions they released (0 and 0 with it off). */
  readonly reconciliation: { readonly runs: number; readonly released: number };
  readonly scanned: { readonly texts: number; readonly characters: number; readonly logLines: number; readonly busEvents: number };
  readonly checks: readonly Check[];
  readonly wallMs: number;
  readonly ok: boolean;
}

/** Errors the chaos plan can cause: anything else in a diagnosis is unexplained. */
const EXPLAINED_ERRORS: ReadonlySet<string> = new Set([
  "Archive.DownloadFailed",
  "Kling.RateLimited",
  "Kling.ServerError",
  "Kling.GenerationFailed",
  "Kling.ContentPolicy",
  "Kling.PollTimeout",
  // The ledger faults' stopped and timed-out executions, as the batch records them.
  "Execution.Stopped",
  "States.Timeout",
]);
const FAILED_TASK_MESSAGE = /^Kling task (\S+) failed: (.*)$/s;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new RangeError(`jobs must be a whole number of 1 or more, got ${options.jobs}`);
  const secrets = options.secrets ?? randomSecrets();
  const scanner = new LeakScanner(secrets);
  const logLines: string[] = [];
  const restoreConsole = captureConsole(logLines);
  const plan = chaosPlan({ seed: options.seed, faultRate: options.faultRate, requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS });
  /** What to stop at the end, last started first. */
  const closers: (() => void | Promise<void>)[] = [];
  try {
    const run = await runJobs(options, secrets, plan, scanner, closers);
    const evidence = await collect(run, scanner);
    for (const [index, event] of run.busEvents.entries()) scanner.scanValue(`bus event ${index} (${event.detailType})`, event);
    restoreConsole();
    for (const [index, line] of logLines.entries()) scanner.scan(`log line ${index + 1}`, line);
    await run.pipeline.statusChangesDelivered();
    // What the backstop missed, the next reconciliation frees: within one period of the last job's end.
    await run.reconciler?.nextRun();
    await run.reconciler?.stop();
    const ledgerHeld = await run.pipeline.ledger.ledger.holdings();
    const checks = check(options, run, evidence, plan, scanner, ledgerHeld);
    const callbackFaultsByKind = callbackFaultsOf(run.stats.callbacks);

    return {
      jobs: options.jobs,
      batches: run.batches.length,
      seed: options.seed,
      faultRate: options.faultRate,
      faults: plan.total(),
      faultsByKind: plan.counts(),
      simulatorFaults: run.stats.faultsInjected,
      callbackFaultRate: run.callbackFaultRate,
      callbackFaultsByKind,
      callbackFaults: Object.values(callbackFaultsByKind).reduce((sum, count) => sum + count, 0),
      callbacks: { sent: run.stats.callbacks.sent, failed: run.stats.callbacks.failed },
      succeeded: evidence.succeeded,
      failed: evidence.failed,
      failuresByError: evidence.failuresByError,
      lost: evidence.lostJobs.length,
      resumedTwice: run.resumeCount.resumedTwice(),
      resumes: run.resumeCount.counts(),
      duplicates: evidence.tasks.duplicates.length,
      duplicateTasks: evidence.tasks.duplicates,
      tasksForNoJob: evidence.tasks.forNoJob,
      tasksCreated: run.stats.tasksCreated,
      requests: run.stats.requests,
      refusedCreates: run.refusedCreates,
      contention: run.contention,
      failuresByState: evidence.failuresByState,
      tableMismatches: evidence.tableMismatches,
      unexplained: evidence.unexplained,
      orphanedTasks: evidence.orphanedTasks,
      leaks: scanner.leaks,
      ledgerHeld,
      reconciliation: run.reconciler?.tally() ?? { runs: 0, released: 0 },
      scanned: { texts: scanner.texts, characters: scanner.characters, logLines: logLines.length, busEvents: run.busEvents.length },
      checks,
      wallMs: Date.now() - started,
      ok: checks.every((item) => item.ok),
    };
  } finally {
    restoreConsole();
    for (const close of closers.reverse()) await close();
  }
}

const DEFAULT_REQUEST_TIMEOUT_MS = 1000;
const DEFAULT_KLING_CONCURRENCY = 8;
const DEFAULT_ACCOUNT_SLOTS = 20;
/**
 * The account's real slots below the ceiling of 8 (`accountSlots`): creates meet real 1303s and
 * the effective limit is contended. The chaos command runs so; a staged run may not.
 */
export const CONTENDED_ACCOUNT_SLOTS = 6;

/** One job of the run: where it sits in its batch, and the external_task_id its generation sends. */
interface ChaosJob {
  readonly index: number;
  readonly name: string;
  readonly batchId: string;
  readonly indexInBatch: number;
  readonly externalTaskId: string;
}

interface ChaosBatch {
  readonly batchId: string;
  readonly items: readonly Record<string, string>[];
}

/** What the run step leaves behind for the others: everything is read after the last batch ended. */
interface ChaosRun {
  readonly pipeline: LocalPipeline;
  readonly batches: readonly ChaosBatch[];
  readonly jobs: readonly ChaosJob[];
  readonly reports: ReadonlyMap<string, ExecutionReport>;
  readonly busEvents: readonly BusEvent[];
  readonly tasks: readonly SimulatedTask[];
  readonly stats: SimulatorStats;
  /** Creates the simulator refused with 400/1201: in this run, only a repeated external_task_id. */
  readonly refusedCreates: number;
  readonly contention: ChaosReport["contention"];
  /** Errors the run's faults can cause. */
  readonly explainedErrors: ReadonlySet<string>;
  /** The bytes the simulator served as a video, by its id. */
  readonly videoBytes: (videoId: string) => Buffer | undefined;
  /** Where Archive kept the videos. */
  readonly videoBucket: VideoBucketServer;
  readonly callbackFaultRate: number;
  /** Every WaitForVideo's token and the answers it got. */
  readonly resumeCount: ResumeCount;
  /** The ledger's reconciliation on the run's clock; undefined when it is off. */
  readonly reconciler: Reconciler | undefined;
}

/** The ledger's reconciliation run on a clock every period, as its schedule's rule runs it on AWS. */
interface Reconciler {
  /** Resolves once the next scheduled run has finished. */
  nextRun(): Promise<void>;
  /** No run after this one; resolves when a run under way has finished. */
  stop(): Promise<void>;
  tally(): { runs: number; released: number };
}

function reconcileOnSchedule(pipeline: LocalPipeline, clock: ScaledClock): Reconciler {
  const periodSeconds = pipeline.reconciliationPeriodSeconds;
  let stopped = false;
  let runs = 0;
  let released = 0;
  let current: Promise<void> = Promise.resolve();
  const waiting: (() => void)[] = [];
  let cancel = (): void => undefined;
  const schedule = () => {
    cancel = clock.after(periodSeconds, () => {
      current = pipeline.reconcileLedger().then(
        (reconciled) => {
          runs += 1;
          released += reconciled.released;
        },
        (error: unknown) => console.error(`the ledger's reconciliation failed: ${error instanceof Error ? error.message : String(error)}`),
      ).finally(() => {
        for (const resolve of waiting.splice(0)) resolve();
        if (!stopped) schedule();
      });
    });
  };
  schedule();
  return {
    nextRun: () => new Promise((resolve) => waiting.push(resolve)),
    stop: async () => {
      stopped = true;
      cancel();
      await current;
    },
    tally: () => ({ runs, released }),
  };
}

/** Step 1, run: the batches in waves through the local pipeline, against the simulator behind the delaying front. */
async function runJobs(
  options: ChaosOptions,
  secrets: ChaosSecrets,
  plan: ChaosPlan,
  scanner: LeakScanner,
  closers: (() => void | Promise<void>)[],
): Promise<ChaosRun> {
  const parallelBatches = options.parallelBatches ?? 2;
  const jwtCredentials: KlingCredentials = { accessKey: secrets.accessKey, secretKey: secrets.secretKey };
  const apiKeyCredentials: KlingCredentials = { apiKey: secrets.apiKey };
  const clock = new ScaledClock(options.timeScale ?? 0.005);
  const batches: ChaosBatch[] = inBatches(
    Array.from({ length: options.jobs }, (_, index) => jobRequest(index)),
    options.batchSize,
  ).map((items, number) => ({ batchId: `chaos-s${options.seed}-b${number}`, items }));

  const ledgerFaults = new LedgerFaults(plan, options.lostReleaseCrashes ?? "first-attempt");
  const resumeCount = new ResumeCount();
  const callbackFaultRate = options.callbackFaultRate ?? options.faultRate;
  // Kling signs its callbacks, so a mis-signed one is refused as on AWS with a signing secret configured.
  const callbackSigningSecret = newWebhookSecret();
  let forgetClaims: (() => Promise<void>) | undefined;
  let backToQueue = 0;
  let accountFull = 0;
  const ceiling = options.klingConcurrency ?? DEFAULT_KLING_CONCURRENCY;
  const accountSlots = options.accountSlots ?? DEFAULT_ACCOUNT_SLOTS;
  const pipeline = new LocalPipeline({
    clock,
    plan: synthesizedPlan({
      klingConcurrency: ceiling,
      klingRequestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      // Short: a task that never finishes ends as Kling.PollTimeout 300 simulated seconds after Submit.
      pollSchedule: { firstPollShare: 0.8, intervalShare: 0.07, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 300 },
      creditCacheSeconds: 30,
      // Parks look again every 300 simulated seconds (1.5 real s), not the default 900: the run's
      // lost wake-ups heal within that, and a WaitForSlot that looks again takes its slot itself,
      // which is where the killed-holding-slot fault strikes.
      slotQueue: { parkSeconds: 300, deadlineSeconds: 2700 },
      // On the scaled clock handler time counts as simulated time (one real second is 200 s): a
      // run slowed by its faults and a loaded machine must not time executions out for that, only
      // the injected timed-out-holding-slot fault may.
      executionTimeoutMinutes: 24 * 60,
      // A stalled video body is given up after this and downloaded again.
      videoArchive: { downloadStallMs: Math.max(1000, (options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) * 2) },
    }),
    onGenerationEvent: (name, event) => {
      if (event.type === "StateEntered" && event.stateName === "BackToQueue") backToQueue += 1;
      scanner.scanValue(`execution ${name}: ${event.type} ${event.stateName ?? ""}`, event);
    },
    aroundInvoke: resumeCount.aroundInvoke(
      ledgerFaults.aroundInvoke(async (stateName, invoke, execution, environment) => {
        if (stateName === KLING_CALLBACK_STATE) await forgetClaims?.();
        return options.aroundInvoke ? options.aroundInvoke(stateName, invoke, execution, environment) : invoke();
      }),
    ),
    klingCallbackSigningSecret: callbackSigningSecret,
    withoutStatusChangeBackstop: options.statusChangeBackstop === false,
    // The functions' ledger, with the faults in it; the checks read the table itself.
    functionsLedger: (ledger) => ledgerFaults.wrap(ledger),
  });
  closers.push(() => pipeline.close());
  ledgerFaults.attach(pipeline);
  const reconciler = options.reconciliation === false ? undefined : reconcileOnSchedule(pipeline, clock);
  if (reconciler) closers.push(() => reconciler.stop());
  closers.push(pipeline.taskResponses.observe(resumeCount.onTokenEvent));
  if (options.callbackClaimsKept === false) forgetClaims = () => forgetClaimedEnds(pipeline.ledger);
  let refusedCreates = 0;
  const simulator = await startSimulator({
    clock,
    // Callbacks are sent on the run's clock, each delivery as its work (local/runner/pipeline.ts, handleKlingCallback).
    scheduler: clock,
    onRequest: (entry) => {
      if (entry.kind === "create" && entry.status === 400 && entry.code === 1201 && entry.fault === undefined) refusedCreates += 1;
      if (entry.kind === "create" && entry.code === 1303 && entry.fault === undefined) accountFull += 1;
    },
    credentials: [apiKeyCredentials, jwtCredentials],
    faultPlan: plan,
    callbackFaults: { seed: options.seed, rate: callbackFaultRate, ...(options.callbackFaultKinds ? { kinds: options.callbackFaultKinds } : {}) },
    callbackSigningSecret,
    maxConcurrentTasks: accountSlots,
    units: 10_000_000,
  });
  closers.push(() => simulator.close());
  const proxy = await startDelayingProxy(simulator.baseUrl, plan);
  closers.push(() => proxy.close());
  const busEvents: BusEvent[] = [];
  const unsubscribe = pipeline.bus.subscribe((event) => busEvents.push(event));

  const reports = new Map<string, ExecutionReport>();
  for (let wave = 0; wave * parallelBatches < batches.length; wave++) {
    const members = batches.slice(wave * parallelBatches, (wave + 1) * parallelBatches);
    const credentials = wave % 2 === 0 ? jwtCredentials : apiKeyCredentials;
    pipeline.connect(proxy.baseUrl, credentials);
    const waveStarted = Date.now();
    await Promise.all(
      members.map(async (batch) => {
        const report = await pipeline.runBatch(batch, `chaos-batch-${batch.batchId}`);
        reports.set(batch.batchId, report);
        const summary = summaryOf(report);
        options.onProgress?.(
          `batch ${batch.batchId} (${"apiKey" in credentials ? "API key" : "JWT"}): ${report.status}, ${batch.items.length} items, ` +
            `${summary?.succeeded ?? "?"} succeeded, ${summary?.failed ?? "?"} failed, ${((Date.now() - waveStarted) / 1000).toFixed(1)} s`,
        );
      }),
    );
  }
  // Late creates still held by the front, and callbacks under way, reach their ends before anything is counted.
  await proxy.drained();
  await simulator.settleCallbacks();
  unsubscribe();

  let index = 0;
  const jobs = batches.flatMap((batch) =>
    batch.items.map((_, indexInBatch) => {
      const name = `batch-${batch.batchId}-${indexInBatch}`;
      return { index: index++, name, batchId: batch.batchId, indexInBatch, externalTaskId: externalTaskIdFor(name, pipeline.executions.arnOf(name)) };
    }),
  );
  // A release that crashes on every attempt fails Poll for good: the job ends with the crash.
  const explainedErrors = options.lostReleaseCrashes === "every-attempt" ? new Set([...EXPLAINED_ERRORS, "Runtime.ExitError"]) : EXPLAINED_ERRORS;
  return {
    pipeline,
    batches,
    jobs,
    reports,
    busEvents,
    tasks: simulator.tasks(),
    stats: simulator.stats,
    refusedCreates,
    contention: { accountSlots, ceiling, accountFull, backToQueue },
    explainedErrors,
    videoBytes: (videoId) => simulator.videoBytes(videoId),
    videoBucket: await pipeline.videoBucketServer(),
    callbackFaultRate,
    resumeCount,
    reconciler,
  };
}

/**
 * The staged defect of `callbackClaimsKept: false`: every task end claimed in the ledger is
 * forgotten (its `end` and `settled` removed from the task's wait), so the next callback claims it again.
 */
async function forgetClaimedEnds(ledger: LocalLedger): Promise<void> {
  const documents = DynamoDBDocumentClient.from(ledger.client);
  const names = { "#end": "end", "#token": "taskToken" };
  // A staged run is a few jobs: one page of the scan holds them all.
  const claimed = await documents.send(
    new ScanCommand({ TableName: ledger.tableName, FilterExpression: "attribute_exists(#end) AND attribute_exists(#token)", ExpressionAttributeNames: names }),
  );
  for (const item of claimed.Items ?? []) {
    await documents.send(new UpdateCommand({ TableName: ledger.tableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: "REMOVE #end, #settled", ExpressionAttributeNames: { "#end": "end", "#settled": "settled" } }));
  }
}

/** The callback faults the simulator counted, by the kind that caused them. */
function callbackFaultsOf(counts: CallbackCounts): Record<CallbackFaultKind, number> {
  const counted: Record<CallbackFaultKind, keyof CallbackCounts> = { drop: "dropped", duplicate: "duplicated", delay: "delayed", reorder: "reordered", "mis-sign": "misSigned" };
  return Object.fromEntries(CALLBACK_FAULT_KINDS.map((kind) => [kind, counts[counted[kind]]])) as Record<CallbackFaultKind, number>;
}

/** What the collect step found, job by job. */
interface ChaosEvidence {
  readonly lostJobs: readonly string[];
  readonly tasks: TasksPerJob;
  readonly succeeded: number;
  readonly failed: number;
  readonly failuresByError: Readonly<Record<string, number>>;
  readonly failuresByState: Readonly<Record<string, number>>;
  readonly tableMismatches: readonly string[];
  readonly unexplained: readonly string[];
  readonly orphanedTasks: readonly string[];
  readonly badVideos: readonly string[];
  /** Succeeded jobs whose archived video is missing, or whose bytes are not those the simulator served. */
  readonly badArchives: readonly string[];
  readonly inconsistent: readonly string[];
  readonly completionProblems: number;
  readonly extraOutcomeEvents: number;
}

// Longer than 60 lines: one pass over the run's tasks, executions and logs, each check reading what the pass gathered.
/** Step 2, collect: each job's outcome in its batch's summary and on the bus, its execution, its tasks; everything written goes to the leak scan. */
async function collect(run: ChaosRun, scanner: LeakScanner): Promise<ChaosEvidence> {
  const { pipeline, busEvents } = run;
  const tasks = tasksPerJob(run.tasks, run.jobs);
  const lostJobs: string[] = [];
  const tableMismatches: string[] = [];
  const unexplained: string[] = [];
  const orphanedTasks: string[] = [];
  const badVideos: string[] = [];
  const badArchives: string[] = [];
  const inconsistent: string[] = [];
  const failuresByError: Record<string, number> = {};
  const failuresByState: Record<string, number> = {};
  let succeeded = 0;
  let failed = 0;
  let completionProblems = 0;

  for (const batch of run.batches) {
    const report = run.reports.get(batch.batchId);
    if (report) scanner.scanValue(`batch ${batch.batchId} report`, report);
    const completions = busEvents.filter(
      (event) => event.detailType === BATCH_EVENTS.completed && isBatchSummary(event.detail) && event.detail.batchId === batch.batchId,
    );
    if (completions.length !== 1) completionProblems += 1;
  }

  for (const job of run.jobs) {
    const { name } = job;
    const report = run.reports.get(job.batchId);
    const summary = report ? summaryOf(report) : undefined;
    const inSummary = summary?.items.filter((item) => item.index === job.indexInBatch) ?? [];
    const onBus = busEvents.filter((event) => isOutcomeEvent(event) && event.detail.batchId === job.batchId && event.detail.index === job.indexInBatch);
    const outcome = inSummary.length === 1 ? inSummary[0] : undefined;
    const event = onBus.length === 1 ? (onBus[0] as OutcomeEvent) : undefined;
    if (!outcome || !isTerminal(outcome) || !event || !isTerminal(event.detail) || !sameOutcome(outcome, event.detail)) {
      lostJobs.push(name);
      continue;
    }

    const child = await childReport(pipeline, name);
    if (child) {
      scanner.scanValue(`execution ${name} output`, child.output);
      scanner.scanValue(`execution ${name} error`, child.error);
      scanner.scanValue(`execution ${name} cause`, child.cause);
      // A child that did not succeed (failed, stopped, timed out) is the batch's FAILED outcome.
      if ((child.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED") !== outcome.status) inconsistent.push(`${name}: execution ${child.status}, outcome ${outcome.status}`);
    } else {
      inconsistent.push(`${name}: no generation execution`);
    }
    const described = await pipeline.executions.describe(name);
    scanner.scanValue(`execution ${name} input`, described?.input);

    const jobTasks = tasks.byJob.get(name) ?? [];
    if (outcome.status === "SUCCEEDED") {
      succeeded += 1;
      const task = jobTasks.find((candidate) => outcome.videoUrl?.includes(`/videos/${candidate.videoId}.mp4`));
      if (!task || task.status !== "succeed") badVideos.push(`${name}: ${outcome.videoUrl ?? "no URL"} is not its succeeded task's video`);
      const archiveProblem = task && archiveProblemOf(run.videoBucket, outcome.videoKey, run.videoBytes(task.videoId));
      if (archiveProblem) badArchives.push(`${name}: ${archiveProblem}`);
      continue;
    }
    failed += 1;
    const diagnosis = outcome.diagnosis as Diagnosis;
    scanner.scanValue(`diagnosis of ${name}`, diagnosis);
    failuresByError[diagnosis.errorCode] = (failuresByError[diagnosis.errorCode] ?? 0) + 1;
    const where = `${diagnosis.errorCode} in ${diagnosis.failedState}`;
    failuresByState[where] = (failuresByState[where] ?? 0) + 1;
    tableMismatches.push(...tableProblems(name, diagnosis));
    if (!run.explainedErrors.has(diagnosis.errorCode)) {
      unexplained.push(`${name}: ${diagnosis.errorCode} in ${diagnosis.failedState}: ${diagnosis.errorMessage}`);
    }
    if (jobTasks.some((task) => task.status === "succeed")) {
      orphanedTasks.push(`${name}: ${diagnosis.errorCode} in ${diagnosis.failedState}: ${diagnosis.errorMessage}`);
    }
  }

  const jobNames = new Set(run.jobs.map((job) => job.name));
  const extraOutcomeEvents = busEvents.filter(
    (event) => isOutcomeEvent(event) && !jobNames.has(`batch-${event.detail.batchId}-${event.detail.index}`),
  ).length;
  return {
    lostJobs,
    tasks,
    succeeded,
    failed,
    failuresByError,
    failuresByState,
    tableMismatches,
    unexplained,
    orphanedTasks,
    badVideos,
    badArchives,
    inconsistent,
    completionProblems,
    extraOutcomeEvents,
  };
}

/** Step 3, check: one verdict per promise. */
function check(
  options: ChaosOptions,
  run: ChaosRun,
  evidence: ChaosEvidence,
  plan: ChaosPlan,
  scanner: LeakScanner,
  ledgerHeld: LedgerHoldings,
): Check[] {
  const { stats } = run;
  const { tasks, inconsistent, failed } = evidence;
  const faultsByKind = plan.counts();
  const faultKindsSeen = Object.values(faultsByKind).filter((count) => count > 0).length;
  const resumedTwice = run.resumeCount.resumedTwice();
  const resumes = run.resumeCount.counts();
  const checks: Check[] = [
    { name: "lost", ok: evidence.lostJobs.length === 0, detail: `${evidence.lostJobs.length} jobs without exactly one outcome${examples(evidence.lostJobs)}` },
    {
      name: "duplicates",
      ok: tasks.duplicates.length === 0 && tasks.forNoJob.length === 0,
      detail:
        `${tasks.duplicates.length} jobs with more than one task, ${tasks.forNoJob.length} tasks for no job ` +
        `(${run.tasks.length} tasks created)${examples([...tasks.duplicates, ...tasks.forNoJob])}`,
    },
    {
      name: "resumed twice",
      ok: resumedTwice.length === 0,
      detail:
        `${resumedTwice.length} jobs resumed twice (${resumes.waits} waits for a video, ${resumes.resumes} resumed, ${resumes.resumedByCallback} by a callback, ` +
        `${resumes.lateAnswersRefused} late answers refused)${examples(resumedTwice)}`,
    },
    { name: "leaks", ok: scanner.leaks.length === 0, detail: `${scanner.leaks.length} credentials found${examples(scanner.leaks.map((leak) => `${leak.what} in ${leak.source}`))}` },
    { name: "error table", ok: evidence.tableMismatches.length === 0, detail: `${failed} failures checked, ${evidence.tableMismatches.length} mismatches${examples(evidence.tableMismatches)}` },
    { name: "explained failures", ok: evidence.unexplained.length === 0, detail: `${evidence.unexplained.length} failures no injected fault explains${examples(evidence.unexplained)}` },
    { name: "videos", ok: evidence.badVideos.length === 0, detail: `${evidence.succeeded} videos checked against their tasks, ${evidence.badVideos.length} wrong${examples(evidence.badVideos)}` },
    {
      name: "archives",
      ok: evidence.badArchives.length === 0,
      detail: `${evidence.succeeded} archived videos checked against the bytes served, ${evidence.badArchives.length} missing or wrong${examples(evidence.badArchives)}`,
    },
    {
      name: "executions",
      ok: inconsistent.length === 0 && evidence.completionProblems === 0 && evidence.extraOutcomeEvents === 0,
      detail:
        `${inconsistent.length} outcomes disagree with their execution, ${evidence.completionProblems} batches without exactly one completion event, ` +
        `${evidence.extraOutcomeEvents} outcome events for no job${examples(inconsistent)}`,
    },
    {
      name: "ledger",
      ok: ledgerHeld.slotHolders.length === 0 && ledgerHeld.waiters === 0 && ledgerHeld.reservedUnits === 0,
      detail:
        `${ledgerHeld.slotHolders.length} slots held, ${ledgerHeld.waiters} waiters, ${ledgerHeld.reservedUnits} units reserved after every job ended` +
        `${run.reconciler ? ` and one reconciliation period passed (${run.reconciler.tally().released} ended executions released by ${run.reconciler.tally().runs} runs)` : " (no reconciliation)"}` +
        examples([...ledgerHeld.slotHolders]),
    },
    {
      name: "simulator",
      ok: stats.faultsInjected === simulatorSideFaults(faultsByKind),
      detail: `the simulator counted ${stats.faultsInjected} faults injected, the plan ${simulatorSideFaults(faultsByKind)}`,
    },
  ];
  if (options.faultRate > 0) {
    checks.push({ name: "faults", ok: plan.total() > 0 && faultKindsSeen >= 2, detail: `${plan.total()} faults of ${faultKindsSeen} kinds` });
  }
  return checks;
}

/** Every task the simulator created, by job; a job with two tasks paid twice, and a task for no job was paid for nothing. */
interface TasksPerJob {
  readonly byJob: ReadonlyMap<string, readonly SimulatedTask[]>;
  /** One line per job with more than one task. */
  readonly duplicates: readonly string[];
  /** One line per task that belongs to no job of the run. */
  readonly forNoJob: readonly string[];
}

/**
 * Maps each task to its job by the marker the run puts at the start of every prompt, with or
 * without an external_task_id (a create that forgot it still costs a task); a task whose
 * external_task_id is another job's than its prompt says belongs to no job.
 */
function tasksPerJob(tasks: readonly SimulatedTask[], jobs: readonly ChaosJob[]): TasksPerJob {
  const byIndex = new Map(jobs.map((job) => [job.index, job]));
  const byJob = new Map<string, SimulatedTask[]>();
  const forNoJob: string[] = [];
  for (const task of tasks) {
    const externalId = task.request.externalTaskId;
    const described = `task ${task.taskId} (external_task_id ${externalId ?? "none"}, prompt ${JSON.stringify(task.request.prompt ?? "")})`;
    const job = byIndex.get(chaosJobIndexOf(task.request.prompt ?? "") ?? -1);
    if (!job) {
      forNoJob.push(`${described} belongs to no job`);
    } else if (externalId !== undefined && externalId !== job.externalTaskId) {
      forNoJob.push(`${described} has ${job.name}'s prompt but not its external_task_id ${job.externalTaskId}`);
    } else {
      byJob.set(job.name, [...(byJob.get(job.name) ?? []), task]);
    }
  }
  const duplicates = [...byJob.entries()]
    .filter(([, jobTasks]) => jobTasks.length > 1)
    .map(([name, jobTasks]) => `${name}: ${jobTasks.length} tasks (${jobTasks.map((task) => task.request.externalTaskId ?? "no external_task_id").join(", ")})`);
  return { byJob, duplicates, forNoJob };
}

/** The lines the command prints; the last is the one-line verdict. */
export function formatChaosReport(report: ChaosReport): string[] {
  const kinds = Object.entries(report.faultsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  const callbackKinds = Object.entries(report.callbackFaultsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  const errors = Object.entries(report.failuresByState)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
  const lines = [
    `faults injected: ${report.faults} in ${report.requests} Kling requests (${kinds || "none"})`,
    `callback faults injected: ${report.callbackFaults} in ${report.callbacks.sent} callbacks sent (${callbackKinds || "none"}), ${report.callbacks.failed} refused or failed`,
    `late creates refused by the simulator (external_task_id already had a task): ${report.refusedCreates}`,
    `contention: an account of ${report.contention.accountSlots} slots under a ceiling of ${report.contention.ceiling}: ${report.contention.accountFull} creates refused 1303 for a full account, ` +
      `${report.contention.backToQueue} times a generation went back to the queue`,
    `outcomes: ${report.succeeded} succeeded, ${report.failed} failed${errors ? ` (${errors})` : ""}`,
    `orphaned videos: ${report.orphanedTasks.length} failed jobs whose Kling task succeeded anyway${examples(report.orphanedTasks)}`,
    `scanned for credentials: ${report.scanned.texts} texts (${(report.scanned.characters / 1e6).toFixed(1)} MB), ${report.scanned.logLines} log lines, ${report.scanned.busEvents} bus events`,
    ...report.checks.map((check) => `${check.ok ? "ok  " : "FAIL"} ${check.name}: ${check.detail}`),
    `wall time: ${(report.wallMs / 1000).toFixed(1)} s`,
    `chaos: ${report.jobs} jobs, ${report.faults} faults and ${report.callbackFaults} callback faults injected, ${report.lost} lost, ` +
      `${report.duplicates} duplicates, ${report.leaks.length} leaks, ${report.resumedTwice.length} resumed twice`,
  ];
  return lines;
}

/** Request faults the simulator answered plus task outcomes: the plan's count minus the front's delays. */
/** What is wrong with a succeeded job's archived video: none stored, or other bytes than served. */
function archiveProblemOf(bucket: VideoBucketServer, key: string | undefined, served: Buffer | undefined): string | undefined {
  if (!key) return "its outcome names no archived video";
  if (!served) return "the simulator never made its video";
  let stored: Buffer;
  try {
    stored = readFileSync(bucket.pathOf(key));
  } catch {
    return `${key} is not in the bucket`;
  }
  const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
  return sha256(stored) === sha256(served) ? undefined : `${key} holds ${stored.length} bytes that are not the ${served.length} served`;
}

function simulatorSideFaults(counts: Readonly<Record<ChaosFaultKind, number>>): number {
  return Object.entries(counts)
    .filter(([kind]) => !(CHAOS_DELAY_FAULTS as readonly string[]).includes(kind) && !(CHAOS_LEDGER_FAULTS as readonly string[]).includes(kind))
    .reduce((sum, [, count]) => sum + count, 0);
}

const JOB_MARKER = /^chaos job (\d+): /;

/** Every prompt of the run starts with its job's marker: how a task is traced to its job, with or without an external_task_id. */
export function chaosJobPrompt(index: number, scene: string): string {
  return `chaos job ${index}: ${scene}`;
}

function chaosJobIndexOf(prompt: string): number | undefined {
  const marker = JOB_MARKER.exec(prompt);
  return marker ? Number(marker[1]) : undefined;
}

const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
const SUBJECTS = ["a lighthouse in a storm", "a corgi surfing a wave", "a paper boat on a rainy street", "a fox in fresh snow", "a city at dawn"];

function jobRequest(index: number): Record<string, string> {
  return {
    prompt: chaosJobPrompt(index, `${SUBJECTS[index % SUBJECTS.length] ?? "a quiet lake"}, slow camera drift`),
    duration: index % 3 === 0 ? "10" : "5",
    mode: index % 4 === 0 ? "pro" : "std",
    aspectRatio: ASPECT_RATIOS[index % ASPECT_RATIOS.length] ?? "16:9",
  };
}

function summaryOf(report: ExecutionReport): BatchSummary | undefined {
  return report.status === "SUCCEEDED" && isBatchSummary(report.output) ? report.output : undefined;
}

function isBatchSummary(value: unknown): value is BatchSummary {
  return typeof value === "object" && value !== null && Array.isArray((value as { items?: unknown }).items) && typeof (value as { batchId?: unknown }).batchId === "string";
}

type OutcomeEvent = BusEvent & { readonly detail: ItemOutcome & { readonly batchId: string } };

function isOutcomeEvent(event: BusEvent): event is OutcomeEvent {
  const outcomeTypes: readonly string[] = [BATCH_EVENTS.generated, BATCH_EVENTS.failed, BATCH_EVENTS.skipped];
  return outcomeTypes.includes(event.detailType) && typeof event.detail === "object" && event.detail !== null;
}

/** Succeeded with a video URL, or failed with a diagnosis: nothing else ends a job. */
function isTerminal(outcome: ItemOutcome): boolean {
  if (outcome.status === "SUCCEEDED") return typeof outcome.videoUrl === "string" && outcome.videoUrl !== "" && outcome.diagnosis === undefined;
  if (outcome.status === "FAILED") return typeof outcome.diagnosis?.errorCode === "string" && outcome.videoUrl === undefined;
  return false;
}

function sameOutcome(a: ItemOutcome, b: ItemOutcome): boolean {
  return a.status === b.status && a.videoUrl === b.videoUrl && JSON.stringify(a.diagnosis) === JSON.stringify(b.diagnosis);
}

async function childReport(pipeline: LocalPipeline, name: string): Promise<ExecutionReport | undefined> {
  try {
    return await pipeline.executions.finished(name);
  } catch {
    return undefined;
  }
}

/** What the error table (ERROR_KINDS, the code table, diagnosis.ts's platform rules) says this diagnosis must be. */
function tableProblems(name: string, diagnosis: Diagnosis): string[] {
  const problems: string[] = [];
  const { errorCode } = diagnosis;
  if (diagnosis.jobId !== name) problems.push(`${name}: diagnosis names job ${diagnosis.jobId}`);
  if (isKlingErrorName(errorCode)) {
    const kind = ERROR_KINDS[errorCode];
    if (diagnosis.recoverable !== kind.recoverable) problems.push(`${name}: ${errorCode} recoverable ${diagnosis.recoverable}, the table says ${kind.recoverable}`);
    if (diagnosis.action !== kind.action) problems.push(`${name}: ${errorCode} action ${diagnosis.action}, the table says ${kind.action}`);
    if (diagnosis.httpStatus !== null) {
      const expected = classifyKlingError(diagnosis.httpStatus, diagnosis.klingCode ?? undefined);
      if (expected !== errorCode) {
        problems.push(`${name}: HTTP ${diagnosis.httpStatus} code ${diagnosis.klingCode ?? "-"} is ${expected} in the table, diagnosed ${errorCode}`);
      }
    }
    const failedTask = FAILED_TASK_MESSAGE.exec(diagnosis.errorMessage);
    if (failedTask) {
      const expected = failedTaskError(failedTask[2] ?? "", failedTask[1] ?? "").name;
      if (expected !== errorCode) problems.push(`${name}: a task failed with "${failedTask[2] ?? ""}" is ${expected}, diagnosed ${errorCode}`);
    }
  } else {
    const expected = diagnose(name, diagnosis.failedState, { Error: errorCode });
    if (diagnosis.recoverable !== expected.recoverable || diagnosis.action !== expected.action) {
      problems.push(`${name}: platform error ${errorCode} recoverable ${diagnosis.recoverable}/${diagnosis.action}, the rules say ${expected.recoverable}/${expected.action}`);
    }
  }
  return problems;
}

function examples(items: readonly string[], count = 3): string {
  if (items.length === 0) return "";
  const shown = items.slice(0, count).map((item) => (item.length > 220 ? `${item.slice(0, 219)}…` : item));
  return `: ${shown.join("; ")}${items.length > count ? `; and ${items.length - count} more` : ""}`;
}

/** Keeps every console line of the run (the Lambdas' logs) for the leak scan instead of printing it. */
function captureConsole(lines: string[]): () => void {
  const methods = ["log", "error", "warn", "info", "debug"] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      lines.push(format(...args));
    };
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    methods.forEach((method, index) => {
      const original = originals[index];
      if (original) console[method] = original;
    });
  };
}
