/** The benchmark's command line, its targets, and its tables (bench-command.ts runs them). */
import { parseArgs } from "node:util";
import { JitterType } from "aws-cdk-lib/aws-stepfunctions";
import { RETRY_POLICIES } from "#lib/retry-policies";
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

/** The variants the targets read: all five must have run. */
function variantsOf(report: BenchReport): Readonly<Record<VariantName, VariantFigures>> {
  const found = Object.fromEntries(report.variants.map((figures) => [figures.variant, figures])) as Partial<Record<VariantName, VariantFigures>>;
  const { pipeline, overload } = found;
  const baseline = found["classic-poller"];
  const lost = found["overload-callbacks-lost"];
  const polling = found["overload-polling"];
  if (!pipeline || !baseline || !overload || !lost || !polling) {
    throw new Error("the targets compare the pipeline with the classic poller and check the overload with callbacks delivered, 20% lost and polling only: run all five");
  }
  return { pipeline, "classic-poller": baseline, overload, "overload-callbacks-lost": lost, "overload-polling": polling };
}

/** The benchmark's targets (README, Performance), checked against one run. */
export function checkTargets(report: BenchReport, bundles: readonly BundleSize[]): Target[] {
  const { pipeline, "classic-poller": baseline, overload, "overload-callbacks-lost": lost } = variantsOf(report);
  const ours = report.variants.filter((figures) => figures.variant !== "classic-poller");
  const largest = bundles.reduce((max, bundle) => (bundle.kilobytes > max.kilobytes ? bundle : max), { name: "none", kilobytes: 0 });
  const budgetPerMinute = declaredCreatesPerBlockedMinute();
  return [
    { name: "makespan / ideal <= 1.10", met: pipeline.makespanOverIdeal <= 1.1, detail: fixed(pipeline.makespanOverIdeal, 3) },
    {
      name: "with callbacks, mean detection delay <= 1% of generation time",
      met: pipeline.meanDetectionDelayShare <= 0.01 && overload.meanDetectionDelayShare <= 0.01,
      detail: `${percent(pipeline.meanDetectionDelayShare, 2)}, under overload ${percent(overload.meanDetectionDelayShare, 2)}`,
    },
    {
      name: "with callbacks, under overload: state transitions per succeeded job <= 12, batch states included",
      met: overload.transitionsPerSucceededJob <= 12,
      detail: fixed(overload.transitionsPerSucceededJob, 2),
    },
    {
      name: "tasks created per succeeded job = 1.00, in every variant of the pipeline",
      met: ours.every((figures) => figures.tasksCreatedPerSucceededJob === 1),
      detail: ours.map((figures) => fixed(figures.tasksCreatedPerSucceededJob, 2)).join(", "),
    },
    {
      name: `429s <= ${fixed(budgetPerMinute, 1)} per minute of a slot other users held (Submit's declared backoff)`,
      met: pipeline.http429s <= (budgetPerMinute * pipeline.otherUsersSlotSeconds) / 60,
      detail: `${fixed(refusalsPerHeldMinute(pipeline), 1)} (${pipeline.http429s} 429s, ${fixed(pipeline.otherUsersSlotSeconds / 60, 1)} slot-minutes)`,
    },
    {
      name: "under overload (two batches and API requests at once) with callbacks: 0 failed, 0 429s, makespan / ideal <= 1.02",
      met: overload.failed === 0 && overload.http429s === 0 && overload.makespanOverIdeal <= 1.02,
      detail: `${overload.failed} failed, ${overload.http429s} 429s, ${fixed(overload.makespanOverIdeal, 3)}`,
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

/**
 * What Submit's declared rateLimited retries spend on a create that keeps meeting a full
 * account: the first create and maxAttempts retries, over the mean of the waits between them
 * (full jitter waits from 0 to the interval, half of it on average). With the Map's cap at the
 * account's slots, each slot another user holds keeps at most one generation waiting.
 */
export function declaredCreatesPerBlockedMinute(): number {
  const policy = RETRY_POLICIES.rateLimited;
  let windowSeconds = 0;
  for (let retry = 0; retry < policy.maxAttempts; retry++) {
    const wait = Math.min(policy.interval.toSeconds() * policy.backoffRate ** retry, policy.maxDelay.toSeconds());
    windowSeconds += policy.jitterStrategy === JitterType.FULL ? wait / 2 : wait;
  }
  return ((policy.maxAttempts + 1) / windowSeconds) * 60;
}

function refusalsPerHeldMinute(figures: VariantFigures): number {
  return figures.otherUsersSlotSeconds === 0 ? Number.NaN : figures.http429s / (figures.otherUsersSlotSeconds / 60);
}

const ROWS: readonly { readonly label: string; readonly value: (figures: VariantFigures) => number; readonly digits: number; readonly percent?: boolean }[] = [
  { label: "jobs succeeded", value: (f) => f.succeeded, digits: 0 },
  { label: "makespan (simulated s)", value: (f) => f.makespanSeconds, digits: 0 },
  { label: "makespan / ideal", value: (f) => f.makespanOverIdeal, digits: 3 },
  { label: "mean detection delay (s)", value: (f) => f.meanDetectionDelaySeconds, digits: 1 },
  { label: "mean detection delay / generation time", value: (f) => f.meanDetectionDelayShare, digits: 1, percent: true },
  { label: "state transitions per succeeded job", value: (f) => f.transitionsPerSucceededJob, digits: 1 },
  { label: "Lambda invocations per job", value: (f) => f.lambdaInvocationsPerJob, digits: 2 },
  { label: "Kling create requests per job", value: (f) => f.klingRequestsPerJob.create, digits: 2 },
  { label: "Kling query requests per job", value: (f) => f.klingRequestsPerJob.query, digits: 2 },
  { label: "Kling account requests per job", value: (f) => f.klingRequestsPerJob.account, digits: 2 },
  { label: "Kling list requests per job", value: (f) => f.klingRequestsPerJob.list, digits: 2 },
  { label: "slot-minutes other users held", value: (f) => f.otherUsersSlotSeconds / 60, digits: 1 },
  { label: "429s received (share of requests)", value: (f) => f.http429Share, digits: 2, percent: true },
  { label: "429s per minute of a slot other users held", value: refusalsPerHeldMinute, digits: 1 },
  { label: "jobs failed as Kling.RateLimited", value: (f) => f.rateLimitedJobs, digits: 0 },
  { label: "tasks created per succeeded job", value: (f) => f.tasksCreatedPerSucceededJob, digits: 2 },
  { label: "transient faults injected", value: (f) => f.faultsInjected, digits: 0 },
  { label: "callbacks delivered", value: (f) => f.callbacksDelivered, digits: 0 },
  { label: "callbacks lost", value: (f) => f.callbacksLost, digits: 0 },
];

/** What the overload table shows. */
const OVERLOAD_ROWS = ROWS.filter((row) =>
  [
    "jobs succeeded",
    "makespan (simulated s)",
    "makespan / ideal",
    "mean detection delay (s)",
    "mean detection delay / generation time",
    "state transitions per succeeded job",
    "Lambda invocations per job",
    "Kling query requests per job",
    "429s received (share of requests)",
    "tasks created per succeeded job",
    "callbacks delivered",
    "callbacks lost",
  ].includes(row.label),
);

/** The README's Performance tables: the pipeline and the classic poller side by side with their ratio, the overload's three, the bundles, the targets. */
export function formatBenchMarkdown(report: BenchReport, bundles: readonly BundleSize[], targets: readonly Target[], measuredOn: string): string[] {
  const { pipeline, "classic-poller": baseline, overload, "overload-callbacks-lost": lost, "overload-polling": polling } = variantsOf(report);
  const cell = (value: number, digits: number, isPercent = false) => (isPercent ? percent(value, digits) : fixed(value, digits));
  return [
    `Measured ${measuredOn}: ${report.jobs} jobs, seed ${report.seed}, Kling concurrency ${report.klingConcurrency}, ` +
      `${percent(report.faultRate, 0)} transient faults, ${report.otherUsersTasks} tasks of the account's other users, on a virtual clock (the same seed gives the same figures).`,
    "",
    "| figure | this pipeline (callbacks) | classic poller | pipeline / poller |",
    "|---|---:|---:|---:|",
    ...ROWS.map(({ label, value, digits, percent: isPercent }) => {
      const ours = value(pipeline);
      const theirs = value(baseline);
      return `| ${label} | ${cell(ours, digits, isPercent)} | ${cell(theirs, digits, isPercent)} | ${theirs === 0 ? "-" : fixed(ours / theirs, 2)} |`;
    }),
    "",
    `Overload (the same ${overload.jobs} jobs as two batches and ${overload.apiRequests} API requests, all at once, through the pipeline; no other users, whose slots Kling refuses by design):`,
    "",
    `| figure | callbacks delivered | ${percent(LOST_CALLBACK_SHARE, 0)} of callbacks lost | polling only |`,
    "|---|---:|---:|---:|",
    ...OVERLOAD_ROWS.map(({ label, value, digits, percent: isPercent }) => `| ${label} | ${[overload, lost, polling].map((figures) => cell(value(figures), digits, isPercent)).join(" | ")} |`),
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
