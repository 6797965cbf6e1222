/**
 * The side-by-side benchmark: one workload (jobs, generation times, transient faults, Kling's
 * concurrency shared with the account's other users) run in turn through the pipeline's own
 * batch and generation workflows and through the classic job-poller, each on the local engine
 * against the simulator, on a virtual clock (local/runner/virtual-clock.ts): simulated time
 * moves only by the workload's own events, so a seed gives the same figures on any machine.
 * Everything is counted from what really happened: the engines' event logs, the Lambda
 * invocations, the simulator's requests.
 */
import type { BatchSummary } from "#lambdas/batch/batch";
import { inBatches } from "../runner/batches";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import type { ExecutionReport } from "../runner/local-engine";
import { LocalPipeline } from "../runner/pipeline";
import { VirtualClock } from "../runner/virtual-clock";
import { DEV_API_KEY, makespanLowerBoundSeconds, mulberry32, type OtherUsersTask, type RequestKind, startSimulator } from "../simulator";
import { ClassicPoller } from "./classic-poller";
import { percentile, SlotQueueing } from "./slot-queueing";
import { type BenchJob, benchWorkload, otherUsersWorkload, TRANSIENT_FAULT_RATE, transientFaultPlan } from "./workload";
import { synthesizedPlan } from "../runner/synthesize";

/**
 * pipeline and classic-poller: the workload as batches one after another, with the account's
 * other users. misconfigured: the same batches on an account without other users but with fewer
 * slots than the pipeline is told (klingConcurrency above the account's real concurrency).
 * overload: the same jobs through the pipeline all at once, as two batches and a stream of API
 * requests sharing the account's slots first come first served, without other users; with
 * Kling's callbacks delivered, with 20% of them lost, and polling only.
 */
const VARIANTS = ["pipeline", "classic-poller", "misconfigured", "overload", "overload-callbacks-lost", "overload-polling"] as const;
export type VariantName = (typeof VARIANTS)[number];

interface VariantSpec {
  readonly overload: boolean;
  readonly callbacks: "delivered" | "lost" | "off";
  readonly otherUsers: boolean;
  /** The pipeline's klingConcurrency: what it believes the account runs at once (the account runs ACCOUNT_SLOTS). */
  readonly klingConcurrency: number;
}

/** The account's real concurrency: the simulator's slots, and what the lower bound fits the work on. */
const ACCOUNT_SLOTS = 5;
/** The misconfigured pipeline's ceiling: 8 on a 5-slot account. */
export const MISCONFIGURED_KLING_CONCURRENCY = 8;

/** What each variant runs: how the jobs arrive, whether other users share the account, what becomes of Kling's callbacks. */
const VARIANT_SPECS: Readonly<Record<VariantName, VariantSpec>> = {
  pipeline: { overload: false, callbacks: "delivered", otherUsers: true, klingConcurrency: ACCOUNT_SLOTS },
  // The baseline polls: it has no WaitForVideo that a callback could end.
  "classic-poller": { overload: false, callbacks: "off", otherUsers: true, klingConcurrency: ACCOUNT_SLOTS },
  misconfigured: { overload: false, callbacks: "delivered", otherUsers: false, klingConcurrency: MISCONFIGURED_KLING_CONCURRENCY },
  overload: { overload: true, callbacks: "delivered", otherUsers: false, klingConcurrency: ACCOUNT_SLOTS },
  "overload-callbacks-lost": { overload: true, callbacks: "lost", otherUsers: false, klingConcurrency: ACCOUNT_SLOTS },
  "overload-polling": { overload: true, callbacks: "off", otherUsers: false, klingConcurrency: ACCOUNT_SLOTS },
};
/** The share of callbacks the simulator drops in overload-callbacks-lost. */
export const LOST_CALLBACK_SHARE = 0.2;
/** Under overload, every tenth job arrives as an API request (a generation started on its own). */
const OVERLOAD_API_EVERY = 10;

/** Where simulated time starts: the same instant every run. */
const BENCH_START = Date.UTC(2026, 0, 5, 9, 0, 0);

export interface BenchOptions {
  readonly jobs: number;
  readonly seed: number;
  readonly faultRate?: number;
  /** Whether the account's other users take slots now and then (workload.ts); true by default. */
  readonly otherUsers?: boolean;
  /** Jobs per batch (at most MAX_BATCH_ITEMS, the default); batches run one after another. */
  readonly batchSize?: number;
  /** Limits the run to some variants (the tests run one). */
  readonly variants?: readonly VariantName[];
  readonly onProgress?: (line: string) => void;
}

/** The Kling requests the pipeline makes, by kind, per job. */
export type RequestsPerJob = Readonly<Record<"create" | "query" | "account" | "list", number>>;

export interface VariantFigures {
  readonly variant: VariantName;
  readonly jobs: number;
  /** Of them, generations started on their own as the API starts them (the rest came in batches). */
  readonly apiRequests: number;
  readonly succeeded: number;
  readonly failed: number;
  /** The failed jobs by the error they ended with (the diagnosis' errorCode). */
  readonly failedByError: Readonly<Record<string, number>>;
  /** The pipeline's klingConcurrency in this variant (the account has `BenchReport.klingConcurrency` slots). */
  readonly klingConcurrency: number;
  /** Simulated seconds from the first batch's start to the last batch's end. */
  readonly makespanSeconds: number;
  /** What no schedule doing the run's work (its succeeded jobs) could beat (local/simulator/makespan-lower-bound.ts), around the slots other users held. */
  readonly lowerBoundSeconds: number;
  readonly makespanOverLowerBound: number;
  /** From a task finishing at Kling to a query telling the workflow, mean over succeeded jobs. */
  readonly meanDetectionDelaySeconds: number;
  /** The same as a share of each job's generation time, averaged. */
  readonly meanDetectionDelayShare: number;
  /** States entered plus retries (what Step Functions bills), both workflows, per succeeded job. */
  readonly transitionsPerSucceededJob: number;
  readonly lambdaInvocationsPerJob: number;
  readonly klingRequestsPerJob: RequestsPerJob;
  readonly klingRequests: number;
  /** Answers with HTTP 429: Kling's own refusals (the benchmark injects none), creates that met a full account. */
  readonly http429s: number;
  /** Of them, by Kling's code: 1303 (concurrent tasks), 1302 (request rate), and any other. */
  readonly http429sByCode: Readonly<{ "1302": number; "1303": number; other: number }>;
  /** Generations sent back to the ledger's queue after leaving it: WaitForSlot entries beyond each execution's first. */
  readonly requeues: number;
  /** Time each generation spent in WaitForSlot, all its entries together (simulated s): the median and the 95th percentile. */
  readonly queuedP50Seconds: number;
  readonly queuedP95Seconds: number;
  readonly http429Share: number;
  /** Slot seconds other users held during the makespan. */
  readonly otherUsersSlotSeconds: number;
  /** Tasks Kling created (and charged) per succeeded job: exactly 1 when nothing is paid twice. */
  readonly tasksCreatedPerSucceededJob: number;
  /** Create requests, including those answered by an injected fault, per job. */
  readonly createRequestsPerJob: number;
  readonly faultsInjected: number;
  /** Kling's callbacks the simulator delivered, and those it dropped (lost on their way). */
  readonly callbacksDelivered: number;
  readonly callbacksLost: number;
  readonly wallSeconds: number;
}

export interface BenchReport {
  readonly jobs: number;
  readonly seed: number;
  /** The account's real concurrency (the simulator's slots). */
  readonly klingConcurrency: number;
  readonly faultRate: number;
  /** Tasks the account's other users asked for during the longest run (0 without them). */
  readonly otherUsersTasks: number;
  readonly variants: readonly VariantFigures[];
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const faultRate = options.faultRate ?? TRANSIENT_FAULT_RATE;
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new RangeError(`jobs must be a whole number of 1 or more, got ${options.jobs}`);
  const workload = benchWorkload(options.jobs, options.seed);
  const batches = inBatches(workload, options.batchSize);
  // Asking on until well past any run: a run never lasts three times its lower bound.
  const horizonSeconds = 3 * makespanLowerBoundSeconds(generationStages(batches), ACCOUNT_SLOTS);
  const otherUsers = (options.otherUsers ?? true) ? otherUsersWorkload(options.seed, horizonSeconds) : [];
  const variants: VariantFigures[] = [];
  for (const variant of options.variants ?? VARIANTS) {
    const spec = VARIANT_SPECS[variant];
    const arrival = spec.overload ? overloadArrival(workload) : { jobs: workload, batches, apiJobs: [] };
    options.onProgress?.(
      `${variant}: ${options.jobs} jobs in ${arrival.batches.length} batches${spec.overload ? ` at once and ${arrival.apiJobs.length} API requests` : ""}, ` +
        `klingConcurrency ${spec.klingConcurrency} on ${ACCOUNT_SLOTS} slots${spec.otherUsers && otherUsers.length > 0 ? ", other users on the account" : ""}`,
    );
    variants.push(await runVariant(variant, arrival, spec.otherUsers ? otherUsers : [], { ...options, faultRate }));
  }
  const longest = Math.max(...variants.map((figures) => figures.makespanSeconds));
  return {
    jobs: options.jobs,
    seed: options.seed,
    klingConcurrency: ACCOUNT_SLOTS,
    faultRate,
    otherUsersTasks: otherUsers.filter((task) => task.startSeconds <= longest).length,
    variants,
  };
}

/** How a variant's jobs arrive: batches, and generations started on their own (the API's). */
interface Arrival {
  /** All the jobs, in the workload's order. */
  readonly jobs: readonly BenchJob[];
  readonly batches: readonly (readonly BenchJob[])[];
  readonly apiJobs: readonly BenchJob[];
}

/** Batches run one after another: each is a stage of the lower bound (under overload, everything is one). */
function generationStages(batches: readonly (readonly BenchJob[])[]): number[][] {
  return batches.map((jobs) => jobs.map((job) => job.generationSeconds));
}

/** The overload: every tenth job an API request, the others two batches, all at the same moment (one stage). */
function overloadArrival(workload: readonly BenchJob[]): Arrival {
  const apiJobs = workload.filter((_, index) => index % OVERLOAD_API_EVERY === OVERLOAD_API_EVERY - 1);
  const batched = workload.filter((_, index) => index % OVERLOAD_API_EVERY !== OVERLOAD_API_EVERY - 1);
  return { jobs: workload, batches: inBatches(batched, Math.max(1, Math.ceil(batched.length / 2))), apiJobs };
}

async function runVariant(
  variant: VariantName,
  arrival: Arrival,
  otherUsers: readonly OtherUsersTask[],
  options: BenchOptions & { readonly faultRate: number },
): Promise<VariantFigures> {
  const started = Date.now();
  const { callbacks, klingConcurrency } = VARIANT_SPECS[variant];
  const clock = new VirtualClock(BENCH_START);
  const queueing = new SlotQueueing();
  let transitions = 0;
  let lambdaInvocations = 0;
  const countTransition = (type: string) => {
    if (type === "StateEntered" || type === "StateRetried") transitions += 1;
  };
  const pipeline = new LocalPipeline({
    clock,
    // The retries' full jitter, drawn from the seed.
    random: mulberry32(options.seed ^ 0x717e),
    // Log lines would only cost wall time here.
    plan: synthesizedPlan(
      { klingConcurrency, logLevel: "WARN", callbacks: { enabled: callbacks !== "off" } },
      variant === "classic-poller" ? (stack) => new ClassicPoller(stack, "ClassicPoller", stack.pipeline) : undefined,
    ),
    onGenerationEvent: (name, event) => {
      countTransition(event.type);
      queueing.record(name, event);
    },
    aroundInvoke: (_state, invoke) => {
      lambdaInvocations += 1;
      return invoke();
    },
  });

  const workload = arrival.jobs;
  const batches = arrival.batches.map((jobs, number) => ({ batchId: `bench-${variant}-b${number}`, jobs }));
  const apiRequests = arrival.apiJobs.map((job, index) => ({ name: `bench-${variant}-api-${index}`, job }));
  const generationSecondsByExternalId = new Map<string, number>();
  const expectJob = (name: string, job: BenchJob) => generationSecondsByExternalId.set(externalTaskIdFor(name, pipeline.executions.arnOf(name)), job.generationSeconds);
  for (const { batchId, jobs } of batches) jobs.forEach((job, index) => expectJob(`batch-${batchId}-${index}`, job));
  for (const { name, job } of apiRequests) expectJob(name, job);

  const http429sByCode = { "1302": 0, "1303": 0, other: 0 };
  const simulator = await startSimulator({
    clock,
    // Callbacks are sent on the virtual clock, each delivery as its work (local/runner/pipeline.ts, handleKlingCallback).
    scheduler: clock,
    ...(callbacks === "lost" ? { callbackFaults: { seed: options.seed, rate: LOST_CALLBACK_SHARE, kinds: ["drop"] } } : {}),
    faultPlan: transientFaultPlan(options.seed, options.faultRate),
    maxConcurrentTasks: ACCOUNT_SLOTS,
    otherUsers,
    units: 10_000_000,
    generationSecondsFor: (request) => {
      const seconds = request.externalTaskId === undefined ? undefined : generationSecondsByExternalId.get(request.externalTaskId);
      if (seconds === undefined) throw new Error(`the benchmark has no job with external_task_id ${request.externalTaskId ?? "(none)"}`);
      return seconds;
    },
    onRequest: (entry) => {
      if (entry.status !== 429) return;
      if (entry.code === 1302 || entry.code === 1303) http429sByCode[entry.code] += 1;
      else http429sByCode.other += 1;
    },
  });
  try {
    pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
    const runBatch = async ({ batchId, jobs }: (typeof batches)[number]) => {
      const report = await pipeline.runBatch({ batchId, items: jobs.map((job) => job.request) }, `bench-${batchId}`, (event) => countTransition(event.type));
      const summary = report.output as BatchSummary | null;
      options.onProgress?.(
        `  batch ${batchId}: ${report.status}, ${summary?.succeeded ?? "?"} succeeded, ${summary?.failed ?? "?"} failed, ` +
          `${((report.stoppedAt - report.startedAt) / 1000).toFixed(0)} simulated s, ${((Date.now() - started) / 1000).toFixed(1)} s so far`,
      );
      return report;
    };
    const reports: ExecutionReport[] = [];
    let apiReports: ExecutionReport[] = [];
    if (VARIANT_SPECS[variant].overload) {
      // Everything arrives at once: the batches and the API's generations (started as the API starts them).
      for (const { name, job } of apiRequests) await pipeline.executions.start(name, JSON.stringify(job.request));
      const [batchReports, generationReports] = await Promise.all([
        Promise.all(batches.map(runBatch)),
        Promise.all(apiRequests.map(({ name }) => pipeline.executions.finished(name))),
      ]);
      reports.push(...batchReports);
      apiReports = generationReports;
    } else {
      for (const batch of batches) reports.push(await runBatch(batch));
    }

    const summaries = reports.map((report) => report.output as BatchSummary | null);
    const succeeded =
      summaries.reduce((sum, summary) => sum + (summary?.succeeded ?? 0), 0) + apiReports.filter((report) => report.status === "SUCCEEDED").length;
    const failedByError: Record<string, number> = {};
    const countFailure = (error: string, count = 1) => {
      failedByError[error] = (failedByError[error] ?? 0) + count;
    };
    reports.forEach((report, index) => {
      const summary = summaries[index];
      // A batch that ended without a summary lost every item with it.
      if (!summary) countFailure(`batch ${report.status}: ${report.error ?? "no summary"}`, batches[index]?.jobs.length ?? 0);
      for (const item of summary?.items ?? []) if (item.status !== "SUCCEEDED") countFailure(item.diagnosis?.errorCode ?? item.status);
    });
    for (const report of apiReports) if (report.status !== "SUCCEEDED") countFailure(report.error ?? report.status);
    const tasks = simulator.tasks();
    const delays = tasks
      .filter((task) => task.status === "succeed" && task.endSeenAt !== undefined)
      .map((task) => ({ seconds: ((task.endSeenAt ?? 0) - (task.createdAt + task.generationMs)) / 1000, generation: task.generationMs / 1000 }));
    const ended = [...reports, ...apiReports];
    const startedAt = Math.min(...ended.map((report) => report.startedAt));
    const makespanSeconds = (Math.max(...ended.map((report) => report.stoppedAt)) - startedAt) / 1000;
    // Other users' slots as they really held them, in seconds from the first batch's start.
    const taken = simulator.otherUsersSlots().map((slot) => ({ from: (slot.from - startedAt) / 1000, until: (slot.until - startedAt) / 1000 }));
    // The work the run did: a job that failed (most often before Kling ran it) is not work any schedule had to do.
    const doneStages = batches.map(({ jobs: batchJobs }, index) =>
      (summaries[index]?.items ?? []).filter((item) => item.status === "SUCCEEDED").map((item) => batchJobs[item.index]?.generationSeconds ?? 0),
    );
    const doneByApi = apiRequests.filter((_, index) => apiReports[index]?.status === "SUCCEEDED").map(({ job }) => job.generationSeconds);
    const lowerBound = makespanLowerBoundSeconds(VARIANT_SPECS[variant].overload ? [[...doneStages.flat(), ...doneByApi]] : doneStages, ACCOUNT_SLOTS, taken);
    const { requeues, secondsQueued } = queueing.figures();
    const http429s = http429sByCode["1302"] + http429sByCode["1303"] + http429sByCode.other;
    const takenSeconds = taken.reduce((sum, slot) => sum + Math.max(0, Math.min(slot.until, makespanSeconds) - Math.max(slot.from, 0)), 0);
    const { requestsByKind, requests, tasksCreated, faultsInjected, callbacks: callbackCounts } = simulator.stats;
    const jobs = workload.length;
    const perJob = (kind: RequestKind) => requestsByKind[kind] / jobs;
    return {
      variant,
      jobs,
      apiRequests: apiRequests.length,
      succeeded,
      failed: jobs - succeeded,
      failedByError,
      klingConcurrency,
      makespanSeconds,
      lowerBoundSeconds: lowerBound,
      makespanOverLowerBound: makespanSeconds / lowerBound,
      meanDetectionDelaySeconds: mean(delays.map((delay) => delay.seconds)),
      meanDetectionDelayShare: mean(delays.map((delay) => delay.seconds / delay.generation)),
      transitionsPerSucceededJob: transitions / succeeded,
      lambdaInvocationsPerJob: lambdaInvocations / jobs,
      klingRequestsPerJob: { create: perJob("create"), query: perJob("query"), account: perJob("account"), list: perJob("list") },
      klingRequests: requests,
      http429s,
      http429sByCode,
      http429Share: requests === 0 ? 0 : http429s / requests,
      requeues,
      queuedP50Seconds: percentile(secondsQueued, 0.5),
      queuedP95Seconds: percentile(secondsQueued, 0.95),
      otherUsersSlotSeconds: takenSeconds,
      tasksCreatedPerSucceededJob: tasksCreated / succeeded,
      createRequestsPerJob: perJob("create"),
      faultsInjected,
      callbacksDelivered: callbackCounts.sent,
      callbacksLost: callbackCounts.dropped,
      wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    clock.close();
    await pipeline.close();
    await simulator.close();
  }
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

