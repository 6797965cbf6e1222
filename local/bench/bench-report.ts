/** The benchmark's command line, its targets, and its tables (bench-command.ts runs them). */
import { parseArgs } from "node:util";
import { CommandLineError, commandLineError, wholeNumberFlag } from "../cli/script-command";
import { type BundleSize, MAX_BUNDLE_KB } from "./bundle-sizes";
import { type BenchReport, LOST_CALLBACK_SHARE, type VariantFigures, type VariantName } from "./run-bench";
import { DEFAULT_BENCH_JOBS, DEFAULT_BENCH_SEED } from "./workload";

export const BENCH_USAGE = `usage: npm run bench -- [--jobs N] [--seed S] [--json | --readme]
  --jobs N   jobs in the workload, run as batches of at most 100 (default ${DEFAULT_BENCH_JOBS})
  --seed S   seed of the generation times and faults, a whole number (default ${DEFAULT_BENCH_SEED})
  --json     print all figures as one JSON object instead of the markdown tables
  --readme   also write the markdown tables into README.md's "bench" block`;

const MAX_JOBS = 5_000;

export interface BenchCommand {
  readonly jobs: number;
  readonly seed: number;
  readonly json: boolean;
  readonly readme: boolean;
}

export function parseBenchCommand(argv: readonly string[]): BenchCommand | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { jobs: { type: "string" }, seed: { type: "string" }, json: { type: "boolean" }, readme: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw commandLineError(error);
  }
  if (values.help) return "help";
  if (values.json && values.readme) throw new CommandLineError("--json and --readme do not go together: the README takes the markdown tables");
  return {
    jobs: wholeNumberFlag(values.jobs, "--jobs", { fallback: DEFAULT_BENCH_JOBS, min: 1, max: MAX_JOBS }),
    seed: wholeNumberFlag(values.seed, "--seed", { fallback: DEFAULT_BENCH_SEED, min: 0, max: 2 ** 32 - 1 }),
    json: values.json ?? false,
    readme: values.readme ?? false,
  };
}

export interface Target {
  readonly name: string;
  readonly met: boolean;
  readonly detail: string;
}

/** The variants the targets read: all six must have run. */
function variantsOf(report: BenchReport): Readonly<Record<VariantName, VariantFigures>> {
  const found = Object.fromEntries(report.variants.map((figures) => [figures.variant, figures])) as Partial<Record<VariantName, VariantFigures>>;
  const { pipeline, misconfigured, overload } = found;
  const baseline = found["classic-poller"];
  const lost = found["overload-callbacks-lost"];
  const polling = found["overload-polling"];
  if (!pipeline || !baseline || !misconfigured || !overload || !lost || !polling) {
    throw new Error(
      "the targets compare the pipeline with the classic poller and check it misconfigured and under overload with callbacks delivered, 20% lost and polling only: run all six",
    );
  }
  return { pipeline, "classic-poller": baseline, misconfigured, overload, "overload-callbacks-lost": lost, "overload-polling": polling };
}

/** The pipeline's own variants (every one but the classic poller), in the report's order. */
function pipelineVariants(report: BenchReport): VariantFigures[] {
  return report.variants.filter((figures) => figures.variant !== "classic-poller");
}

/** At most this many 429s per minute of a slot other users held, and per generation when misconfigured. */
export const MAX_429S_PER_HELD_SLOT_MINUTE = 1;
export const MAX_429S_PER_GENERATION_MISCONFIGURED = 1;
/** makespan / lower bound: with other users and misconfigured, and under overload with callbacks. */
export const MAX_MAKESPAN_OVER_LOWER_BOUND = 1.05;
export const MAX_MAKESPAN_OVER_LOWER_BOUND_OVERLOAD = 1.02;
export const MAX_TRANSITIONS_PER_SUCCEEDED_JOB = 10;

/** The benchmark's targets (README, Performance), checked against one run. */
export function checkTargets(report: BenchReport, bundles: readonly BundleSize[]): Target[] {
  const { pipeline, "classic-poller": baseline, misconfigured, overload, "overload-callbacks-lost": lost } = variantsOf(report);
  const ours = pipelineVariants(report);
  const largest = bundles.reduce((max, bundle) => (bundle.kilobytes > max.kilobytes ? bundle : max), { name: "none", kilobytes: 0 });
  return [
    {
      name: "0 failed jobs in every variant of the pipeline",
      met: ours.every((figures) => figures.failed === 0),
      detail: ours.map((figures) => `${figures.variant} ${figures.failed}${figures.failed === 0 ? "" : ` (${failuresByError(figures)})`}`).join(", "),
    },
    {
      name: `makespan / lower bound <= ${fixed(MAX_MAKESPAN_OVER_LOWER_BOUND, 2)} with other users and when misconfigured`,
      met: pipeline.makespanOverLowerBound <= MAX_MAKESPAN_OVER_LOWER_BOUND && misconfigured.makespanOverLowerBound <= MAX_MAKESPAN_OVER_LOWER_BOUND,
      detail: `${fixed(pipeline.makespanOverLowerBound, 3)}, misconfigured ${fixed(misconfigured.makespanOverLowerBound, 3)}`,
    },
    {
      name: `under overload (two batches and API requests at once) with callbacks: makespan / lower bound <= ${fixed(MAX_MAKESPAN_OVER_LOWER_BOUND_OVERLOAD, 2)}, 0 429s`,
      met: overload.makespanOverLowerBound <= MAX_MAKESPAN_OVER_LOWER_BOUND_OVERLOAD && overload.http429s === 0,
      detail: `${fixed(overload.makespanOverLowerBound, 3)}, ${overload.http429s} 429s`,
    },
    {
      name: `429s <= ${MAX_429S_PER_HELD_SLOT_MINUTE} per minute of a slot other users held`,
      met: pipeline.http429s <= (MAX_429S_PER_HELD_SLOT_MINUTE * pipeline.otherUsersSlotSeconds) / 60,
      detail: `${fixed(refusalsPerHeldMinute(pipeline), 1)} (${pipeline.http429s} 429s, ${fixed(pipeline.otherUsersSlotSeconds / 60, 1)} slot-minutes)`,
    },
    {
      name: `misconfigured (klingConcurrency ${misconfigured.klingConcurrency} on ${report.klingConcurrency} slots): 429s <= ${MAX_429S_PER_GENERATION_MISCONFIGURED} per generation`,
      met: misconfigured.http429s <= MAX_429S_PER_GENERATION_MISCONFIGURED * misconfigured.jobs,
      detail: `${fixed(misconfigured.http429s / misconfigured.jobs, 2)} (${misconfigured.http429s} 429s, ${misconfigured.jobs} generations)`,
    },
    {
      name: `with callbacks, under overload: state transitions per succeeded job <= ${MAX_TRANSITIONS_PER_SUCCEEDED_JOB}, batch states included`,
      met: overload.transitionsPerSucceededJob <= MAX_TRANSITIONS_PER_SUCCEEDED_JOB,
      detail: fixed(overload.transitionsPerSucceededJob, 2),
    },
    {
      name: "with callbacks, mean detection delay <= 1% of generation time",
      met: pipeline.meanDetectionDelayShare <= 0.01 && overload.meanDetectionDelayShare <= 0.01,
      detail: `${percent(pipeline.meanDetectionDelayShare, 2)}, under overload ${percent(overload.meanDetectionDelayShare, 2)}`,
    },
    {
      name: "tasks created per succeeded job = 1.00, in every variant of the pipeline",
      met: ours.every((figures) => figures.tasksCreatedPerSucceededJob === 1),
      detail: ours.map((figures) => fixed(figures.tasksCreatedPerSucceededJob, 2)).join(", "),
    },
    {
      name: `with ${percent(LOST_CALLBACK_SHARE, 0)} of the callbacks lost, every job still succeeds`,
      met: lost.failed === 0 && lost.callbacksLost > 0,
      detail: `${lost.succeeded} of ${lost.jobs} succeeded, ${lost.callbacksLost} callbacks lost`,
    },
    { name: `every Lambda bundle <= ${MAX_BUNDLE_KB} KB`, met: largest.kilobytes <= MAX_BUNDLE_KB, detail: `largest: ${largest.name} ${largest.kilobytes} KB` },
    {
      name: "better than the classic poller on makespan and detection delay, at no more transitions",
      met:
        pipeline.makespanSeconds < baseline.makespanSeconds &&
        pipeline.meanDetectionDelayShare < baseline.meanDetectionDelayShare &&
        pipeline.transitionsPerSucceededJob <= baseline.transitionsPerSucceededJob,
      detail: `makespan x${fixed(pipeline.makespanSeconds / baseline.makespanSeconds, 3)}, delay x${fixed(pipeline.meanDetectionDelayShare / baseline.meanDetectionDelayShare, 2)}, transitions x${fixed(pipeline.transitionsPerSucceededJob / baseline.transitionsPerSucceededJob, 2)}`,
    },
  ];
}

/** "Kling.RateLimited 21, Kling.QueueTimeout 2": the failed jobs by error, most first; "none" without any. */
export function failuresByError(figures: VariantFigures): string {
  const entries = Object.entries(figures.failedByError).sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b));
  return entries.length === 0 ? "none" : entries.map(([error, count]) => `${error} ${count}`).join(", ");
}

function refusalsPerHeldMinute(figures: VariantFigures): number {
  return figures.otherUsersSlotSeconds === 0 ? Number.NaN : figures.http429s / (figures.otherUsersSlotSeconds / 60);
}

const ROWS: readonly { readonly label: string; readonly value: (figures: VariantFigures) => number; readonly digits: number; readonly percent?: boolean }[] = [
  { label: "jobs succeeded", value: (f) => f.succeeded, digits: 0 },
  { label: "jobs failed", value: (f) => f.failed, digits: 0 },
  { label: "makespan (simulated s)", value: (f) => f.makespanSeconds, digits: 0 },
  { label: "lower bound (simulated s)", value: (f) => f.lowerBoundSeconds, digits: 0 },
  { label: "makespan / lower bound", value: (f) => f.makespanOverLowerBound, digits: 3 },
  { label: "time queued for a slot, p50 (s)", value: (f) => f.queuedP50Seconds, digits: 0 },
  { label: "time queued for a slot, p95 (s)", value: (f) => f.queuedP95Seconds, digits: 0 },
  { label: "re-queues (WaitForSlot entered again)", value: (f) => f.requeues, digits: 0 },
  { label: "mean detection delay (s)", value: (f) => f.meanDetectionDelaySeconds, digits: 1 },
  { label: "mean detection delay / generation time", value: (f) => f.meanDetectionDelayShare, digits: 1, percent: true },
  { label: "state transitions per succeeded job", value: (f) => f.transitionsPerSucceededJob, digits: 1 },
  { label: "Lambda invocations per job", value: (f) => f.lambdaInvocationsPerJob, digits: 2 },
  { label: "Kling create requests per job", value: (f) => f.klingRequestsPerJob.create, digits: 2 },
  { label: "Kling query requests per job", value: (f) => f.klingRequestsPerJob.query, digits: 2 },
  { label: "Kling account requests per job", value: (f) => f.klingRequestsPerJob.account, digits: 2 },
  { label: "Kling list requests per job", value: (f) => f.klingRequestsPerJob.list, digits: 2 },
  { label: "slot-minutes other users held", value: (f) => f.otherUsersSlotSeconds / 60, digits: 1 },
  { label: "429s answered 1303 (concurrent tasks)", value: (f) => f.http429sByCode["1303"], digits: 0 },
  { label: "429s answered 1302 (request rate)", value: (f) => f.http429sByCode["1302"], digits: 0 },
  { label: "429s per minute of a slot other users held", value: refusalsPerHeldMinute, digits: 1 },
  { label: "429s per generation", value: (f) => f.http429s / f.jobs, digits: 2 },
  { label: "tasks created per succeeded job", value: (f) => f.tasksCreatedPerSucceededJob, digits: 2 },
  { label: "transient faults injected", value: (f) => f.faultsInjected, digits: 0 },
  { label: "callbacks delivered", value: (f) => f.callbacksDelivered, digits: 0 },
  { label: "callbacks lost", value: (f) => f.callbacksLost, digits: 0 },
];

/** What the overload table leaves out: there are no other users there. */
const OVERLOAD_ROWS = ROWS.filter((row) => !["slot-minutes other users held", "429s per minute of a slot other users held", "Kling list requests per job"].includes(row.label));

/**
 * The README's Performance tables: the pipeline and the classic poller side by side with their
 * ratio and the misconfigured pipeline beside them, the overload's three, the failed jobs by
 * error, the bundles, the targets.
 */
export function formatBenchMarkdown(report: BenchReport, bundles: readonly BundleSize[], targets: readonly Target[], measuredOn: string): string[] {
  const { pipeline, "classic-poller": baseline, misconfigured, overload, "overload-callbacks-lost": lost, "overload-polling": polling } = variantsOf(report);
  const cell = (value: number, digits: number, isPercent = false) => (isPercent ? percent(value, digits) : fixed(value, digits));
  return [
    `Measured ${measuredOn}: ${report.jobs} jobs, seed ${report.seed}, an account of ${report.klingConcurrency} Kling slots, ` +
      `${percent(report.faultRate, 0)} transient faults, ${report.otherUsersTasks} tasks of the account's other users, on a virtual clock (the same seed gives the same figures).`,
    "",
    `| figure | this pipeline (callbacks, other users) | classic poller (other users) | pipeline / poller | misconfigured (klingConcurrency ${misconfigured.klingConcurrency}) |`,
    "|---|---:|---:|---:|---:|",
    ...ROWS.map(({ label, value, digits, percent: isPercent }) => {
      const ours = value(pipeline);
      const theirs = value(baseline);
      const ratio = theirs === 0 || !Number.isFinite(ours) || !Number.isFinite(theirs) ? "-" : fixed(ours / theirs, 2);
      return `| ${label} | ${cell(ours, digits, isPercent)} | ${cell(theirs, digits, isPercent)} | ${ratio} | ${cell(value(misconfigured), digits, isPercent)} |`;
    }),
    "",
    `Overload (the same ${overload.jobs} jobs as two batches and ${overload.apiRequests} API requests, all at once, through the pipeline; no other users):`,
    "",
    `| figure | callbacks delivered | ${percent(LOST_CALLBACK_SHARE, 0)} of callbacks lost | polling only |`,
    "|---|---:|---:|---:|",
    ...OVERLOAD_ROWS.map(({ label, value, digits, percent: isPercent }) => `| ${label} | ${[overload, lost, polling].map((figures) => cell(value(figures), digits, isPercent)).join(" | ")} |`),
    "",
    "| variant | failed jobs by error |",
    "|---|---|",
    ...report.variants.map((figures) => `| ${figures.variant} | ${failuresByError(figures)} |`),
    "",
    "| Lambda bundle | KB |",
    "|---|---:|",
    ...bundles.map((bundle) => `| ${bundle.name} | ${bundle.kilobytes.toFixed(1)} |`),
    "",
    "| target | met | measured |",
    "|---|---|---|",
    ...targets.map((target) => `| ${target.name} | ${target.met ? "yes" : "**no**"} | ${target.detail} |`),
  ];
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

function percent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : "-";
}
