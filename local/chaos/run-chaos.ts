/**
 * The fault run: many jobs, as batches through the batch workflow on the local engine, against
 * the simulator with a seeded chaos plan (and a front that delays answers), then the checks:
 * every job has exactly one outcome, no job has two Kling tasks, every failure's errorCode and
 * recoverable agree with the error table, and no credential appears anywhere the pipeline
 * writes (states, errors, causes, diagnoses, logs, bus events).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { format } from "node:util";
import { BATCH_EVENTS, type BatchSummary, type ItemOutcome } from "../../lambdas/batch/batch";
import { inBatches } from "../runner/batches";
import { LOCAL_CREDENTIAL_VARIABLES } from "../../lambdas/common/credentials";
import { diagnose, type Diagnosis } from "../../lambdas/diagnose/diagnosis";
import { classifyKlingError, ERROR_KINDS, failedTaskError, isKlingErrorName } from "../../lambdas/errors";
import type { KlingCredentials } from "../../lambdas/kling/port";
import { externalTaskIdFor } from "../../lambdas/submit/external-task-id";
import type { BusEvent } from "../runner/event-bus";
import type { ExecutionReport } from "../runner/local-engine";
import { LocalPipeline } from "../runner/pipeline";
import { ScaledClock } from "../runner/scaled-clock";
import { chaosPlan, startSimulator, type ChaosFaultKind, type SimulatedTask } from "../simulator";
import type { VideoBucketServer } from "../storage/video-bucket-server";
import { startDelayingProxy } from "./delaying-proxy";
import { LeakScanner, randomSecrets, type Leak } from "./leak-scanner";

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
  /** Tasks the simulated account runs at once: above that, creates answer 429/1303. */
  readonly accountSlots?: number;
  /** Real seconds per simulated second. */
  readonly timeScale?: number;
  /** The Kling client's per-request timeout, real ms (late answers come after it). */
  readonly requestTimeoutMs?: number;
  /** A line as each batch ends. */
  readonly onProgress?: (line: string) => void;
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
  readonly succeeded: number;
  readonly failed: number;
  readonly failuresByError: Readonly<Record<string, number>>;
  /** Jobs without exactly one terminal outcome, in the batch summaries or on the bus. */
  readonly lost: number;
  /** external_task_ids with more than one task at the simulator. */
  readonly duplicates: number;
  readonly tasksCreated: number;
  /** API requests the simulator answered (or dropped). */
  readonly requests: number;
  /** Creates the simulator refused because the external_task_id already had a task (late creates). */
  readonly refusedCreates: number;
  /** Failures by error and the state that failed. */
  readonly failuresByState: Readonly<Record<string, number>>;
  /** Failures whose errorCode / recoverable / action disagree with the error table. */
  readonly tableMismatches: readonly string[];
  /** Failures no injected fault explains (an error kind the chaos plan never causes). */
  readonly unexplained: readonly string[];
  /** Failed jobs whose Kling task succeeded anyway: a video paid for and never delivered. */
  readonly orphanedTasks: readonly string[];
  readonly leaks: readonly Leak[];
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
]);
const FAILED_TASK_MESSAGE = /^Kling task (\S+) failed: (.*)$/s;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const parallelBatches = options.parallelBatches ?? 2;
  const klingConcurrency = options.klingConcurrency ?? 8;
  const accountSlots = options.accountSlots ?? 20;
  const timeScale = options.timeScale ?? 0.005;
  const requestTimeoutMs = options.requestTimeoutMs ?? 1000;
  if (!Number.isInteger(options.jobs) || options.jobs < 1) throw new RangeError(`jobs must be a whole number of 1 or more, got ${options.jobs}`);
  const batches = inBatches(
    Array.from({ length: options.jobs }, (_, index) => jobRequest(index)),
    options.batchSize,
  ).map((items, number) => ({ batchId: `chaos-s${options.seed}-b${number}`, items }));

  const secrets = randomSecrets();
  const jwtCredentials: KlingCredentials = { accessKey: secrets.accessKey, secretKey: secrets.secretKey };
  const apiKeyCredentials: KlingCredentials = { apiKey: secrets.apiKey };
  const scanner = new LeakScanner(secrets);
  const logLines: string[] = [];
  const restoreConsole = captureConsole(logLines);

  const clock = new ScaledClock(timeScale);
  const plan = chaosPlan({ seed: options.seed, faultRate: options.faultRate, requestTimeoutMs });
  /** What to stop at the end, last started first. */
  const closers: (() => void | Promise<void>)[] = [];
  /** Creates the simulator refused with 400/1201: in this run, only a repeated external_task_id. */
  let refusedCreates = 0;
  try {
    const pipeline = new LocalPipeline({
      clock,
      config: {
        klingConcurrency,
        klingRequestTimeoutMs: requestTimeoutMs,
        // Short: a task that never finishes ends as Kling.PollTimeout 300 simulated seconds after Submit.
        pollSchedule: { firstPollShare: 0.8, intervalShare: 0.07, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 300 },
        creditCacheSeconds: 30,
        // A stalled video body is given up after this and downloaded again.
        videoArchive: { downloadStallMs: Math.max(1000, requestTimeoutMs * 2) },
      },
      onGenerationEvent: (name, event) => scanner.scanValue(`execution ${name}: ${event.type} ${event.stateName ?? ""}`, event),
    });
    closers.push(() => pipeline.close());
    const simulator = await startSimulator({
      clock,
      onRequest: (entry) => {
        if (entry.kind === "create" && entry.status === 400 && entry.code === 1201 && entry.fault === undefined) refusedCreates += 1;
      },
      credentials: [apiKeyCredentials, jwtCredentials],
      faultPlan: plan,
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
    // Late creates still held by the front reach the simulator before anything is counted.
    await proxy.drained();
    unsubscribe();

    const tasks = simulator.tasks();
    const stats = simulator.stats;
    const taskByExternalId = new Map<string, SimulatedTask[]>();
    for (const task of tasks) {
      const id = task.request.externalTaskId ?? "";
      taskByExternalId.set(id, [...(taskByExternalId.get(id) ?? []), task]);
    }

    // Every job: one outcome in its batch's summary, one outcome event on the bus.
    const lostJobs = new Set<string>();
    const tableMismatches: string[] = [];
    const unexplained: string[] = [];
    const orphanedTasks: string[] = [];
    const badVideos: string[] = [];
    /** Succeeded jobs whose archived video is missing, or whose bytes are not those the simulator served. */
    const badArchives: string[] = [];
    const videoBucket = await pipeline.videoBucketServer();
    const inconsistent: string[] = [];
    const failuresByError: Record<string, number> = {};
    const failuresByState: Record<string, number> = {};
    let succeeded = 0;
    let failed = 0;
    let completionProblems = 0;
    const jobNames = new Set<string>();
    const jobExternalIds = new Set<string>();

    for (const batch of batches) {
      const report = reports.get(batch.batchId);
      if (report) scanner.scanValue(`batch ${batch.batchId} report`, report);
      const summary = report ? summaryOf(report) : undefined;
      const completions = busEvents.filter(
        (event) => event.detailType === BATCH_EVENTS.completed && isBatchSummary(event.detail) && event.detail.batchId === batch.batchId,
      );
      if (completions.length !== 1) completionProblems += 1;

      for (let index = 0; index < batch.items.length; index++) {
        const name = `batch-${batch.batchId}-${index}`;
        jobNames.add(name);
        const externalId = externalTaskIdFor(name, pipeline.executions.arnOf(name));
        jobExternalIds.add(externalId);
        const inSummary = summary?.items.filter((item) => item.index === index) ?? [];
        const onBus = busEvents.filter((event) => isOutcomeEvent(event) && event.detail.batchId === batch.batchId && event.detail.index === index);
        const outcome = inSummary.length === 1 ? inSummary[0] : undefined;
        const event = onBus.length === 1 ? (onBus[0] as OutcomeEvent) : undefined;
        if (!outcome || !isTerminal(outcome) || !event || !isTerminal(event.detail) || !sameOutcome(outcome, event.detail)) {
          lostJobs.add(name);
          continue;
        }

        const child = await childReport(pipeline, name);
        if (child) {
          scanner.scanValue(`execution ${name} output`, child.output);
          scanner.scanValue(`execution ${name} error`, child.error);
          scanner.scanValue(`execution ${name} cause`, child.cause);
          if (child.status !== outcome.status) inconsistent.push(`${name}: execution ${child.status}, outcome ${outcome.status}`);
        } else {
          inconsistent.push(`${name}: no generation execution`);
        }
        const described = await pipeline.executions.describe(name);
        scanner.scanValue(`execution ${name} input`, described?.input);

        const jobTasks = taskByExternalId.get(externalId) ?? [];
        if (outcome.status === "SUCCEEDED") {
          succeeded += 1;
          const task = jobTasks.find((candidate) => outcome.videoUrl?.includes(`/videos/${candidate.videoId}.mp4`));
          if (!task || task.status !== "succeed") badVideos.push(`${name}: ${outcome.videoUrl ?? "no URL"} is not its succeeded task's video`);
          const archiveProblem = task && archiveProblemOf(videoBucket, outcome.videoKey, simulator.videoBytes(task.videoId));
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
        if (!EXPLAINED_ERRORS.has(diagnosis.errorCode)) {
          unexplained.push(`${name}: ${diagnosis.errorCode} in ${diagnosis.failedState}: ${diagnosis.errorMessage}`);
        }
        if (jobTasks.some((task) => task.status === "succeed")) {
          orphanedTasks.push(`${name}: ${diagnosis.errorCode} in ${diagnosis.failedState}: ${diagnosis.errorMessage}`);
        }
      }
    }

    const strangers = [...stats.tasksCreatedPerExternalId.keys()].filter((id) => !jobExternalIds.has(id));
    const duplicates = [...stats.tasksCreatedPerExternalId.values()].filter((count) => count > 1).length;
    const extraOutcomeEvents = busEvents.filter(
      (event) => isOutcomeEvent(event) && !jobNames.has(`batch-${event.detail.batchId}-${event.detail.index}`),
    ).length;

    for (const [index, event] of busEvents.entries()) scanner.scanValue(`bus event ${index} (${event.detailType})`, event);
    restoreConsole();
    for (const [index, line] of logLines.entries()) scanner.scan(`log line ${index + 1}`, line);

    const faultsByKind = plan.counts();
    const faultKindsSeen = Object.values(faultsByKind).filter((count) => count > 0).length;
    const checks: Check[] = [
      { name: "lost", ok: lostJobs.size === 0, detail: `${lostJobs.size} jobs without exactly one outcome${examples([...lostJobs])}` },
      { name: "duplicates", ok: duplicates === 0, detail: `${duplicates} external_task_ids with more than one task (${stats.tasksCreated} tasks created)` },
      { name: "leaks", ok: scanner.leaks.length === 0, detail: `${scanner.leaks.length} credentials found${examples(scanner.leaks.map((leak) => `${leak.what} in ${leak.source}`))}` },
      { name: "error table", ok: tableMismatches.length === 0, detail: `${failed} failures checked, ${tableMismatches.length} mismatches${examples(tableMismatches)}` },
      { name: "explained failures", ok: unexplained.length === 0, detail: `${unexplained.length} failures no injected fault explains${examples(unexplained)}` },
      { name: "videos", ok: badVideos.length === 0, detail: `${succeeded} videos checked against their tasks, ${badVideos.length} wrong${examples(badVideos)}` },
      {
        name: "archives",
        ok: badArchives.length === 0,
        detail: `${succeeded} archived videos checked against the bytes served, ${badArchives.length} missing or wrong${examples(badArchives)}`,
      },
      {
        name: "executions",
        ok: inconsistent.length === 0 && completionProblems === 0 && extraOutcomeEvents === 0 && strangers.length === 0,
        detail:
          `${inconsistent.length} outcomes disagree with their execution, ${completionProblems} batches without exactly one completion event, ` +
          `${extraOutcomeEvents} outcome events for no job, ${strangers.length} tasks for no job${examples([...inconsistent, ...strangers])}`,
      },
      {
        name: "simulator",
        ok: stats.faultsInjected === simulatorSideFaults(faultsByKind),
        detail: `the simulator counted ${stats.faultsInjected} faults it injected, the plan ${simulatorSideFaults(faultsByKind)}`,
      },
    ];
    if (options.faultRate > 0) {
      checks.push({ name: "faults", ok: plan.total() > 0 && faultKindsSeen >= 2, detail: `${plan.total()} faults of ${faultKindsSeen} kinds` });
    }

    return {
      jobs: options.jobs,
      batches: batches.length,
      seed: options.seed,
      faultRate: options.faultRate,
      faults: plan.total(),
      faultsByKind,
      simulatorFaults: stats.faultsInjected,
      succeeded,
      failed,
      failuresByError,
      lost: lostJobs.size,
      duplicates,
      tasksCreated: stats.tasksCreated,
      requests: stats.requests,
      refusedCreates,
      failuresByState,
      tableMismatches,
      unexplained,
      orphanedTasks,
      leaks: scanner.leaks,
      scanned: { texts: scanner.texts, characters: scanner.characters, logLines: logLines.length, busEvents: busEvents.length },
      checks,
      wallMs: Date.now() - started,
      ok: checks.every((check) => check.ok),
    };
  } finally {
    restoreConsole();
    for (const close of closers.reverse()) await close();
    for (const name of Object.values(LOCAL_CREDENTIAL_VARIABLES)) delete process.env[name];
  }
}

/** The lines the command prints; the last is the one-line verdict. */
export function formatChaosReport(report: ChaosReport): string[] {
  const kinds = Object.entries(report.faultsByKind)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  const errors = Object.entries(report.failuresByState)
    .sort(([, a], [, b]) => b - a)
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
  const lines = [
    `faults injected: ${report.faults} in ${report.requests} Kling requests (${kinds || "none"})`,
    `late creates refused by the simulator (external_task_id already had a task): ${report.refusedCreates}`,
    `outcomes: ${report.succeeded} succeeded, ${report.failed} failed${errors ? ` (${errors})` : ""}`,
    `orphaned videos: ${report.orphanedTasks.length} failed jobs whose Kling task succeeded anyway${examples(report.orphanedTasks)}`,
    `scanned for credentials: ${report.scanned.texts} texts (${(report.scanned.characters / 1e6).toFixed(1)} MB), ${report.scanned.logLines} log lines, ${report.scanned.busEvents} bus events`,
    ...report.checks.map((check) => `${check.ok ? "ok  " : "FAIL"} ${check.name}: ${check.detail}`),
    `wall time: ${(report.wallMs / 1000).toFixed(1)} s`,
    `chaos: ${report.jobs} jobs, ${report.faults} faults injected, ${report.lost} lost, ${report.duplicates} duplicates, ${report.leaks.length} leaks`,
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
    .filter(([kind]) => !["slow-answer", "late-answer", "late-answer-after-handling"].includes(kind))
    .reduce((sum, [, count]) => sum + count, 0);
}

const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
const SUBJECTS = ["a lighthouse in a storm", "a corgi surfing a wave", "a paper boat on a rainy street", "a fox in fresh snow", "a city at dawn"];

function jobRequest(index: number): Record<string, string> {
  return {
    prompt: `chaos job ${index}: ${SUBJECTS[index % SUBJECTS.length] ?? "a quiet lake"}, slow camera drift`,
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
