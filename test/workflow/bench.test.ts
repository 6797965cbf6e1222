/**
 * The benchmark in small (local/bench): a dozen jobs through the pipeline's workflows and the
 * classic poller on the local engine, without faults or other users of the account, so that the counts which do not depend
 * on timing are exact (one create and one task per job), and, on the virtual clock, the
 * transitions are exactly what each plans (the pipeline: no poll, its callbacks ending the waits).
 * No run beats the makespan lower bound. The full-size figures are `npm run bench`'s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_USAGE, checkTargets, failuresByError, formatBenchMarkdown, parseBenchCommand } from "#local/bench/bench-report";
import { CommandLineError } from "#local/cli/script-command";
import { CLASSIC_POLL_SECONDS } from "#local/bench/classic-poller";
import { type BenchReport, MISCONFIGURED_KLING_CONCURRENCY, runBench, type VariantFigures } from "#local/bench/run-bench";
import { percentile, SlotQueueing } from "#local/bench/slot-queueing";
import { benchWorkload, OTHER_USERS_MEAN_GAP_SECONDS, otherUsersWorkload } from "#local/bench/workload";
import { makespanLowerBoundSeconds } from "#local/simulator/index";

const JOBS = 12;
const SEED = 7;
/** Per job: ItemIsRequest?, StartGeneration, RecordItemOutcome, PublishItemOutcome in the batch. */
const BATCH_STATES_PER_JOB = 4;
/** BatchShape?, Unscheduled, ValidateBatch, GenerateEachItem, SummarizeBatch, PublishBatchCompleted: once per batch. */
const BATCH_STATES_PER_BATCH = 6;
/** The pipeline's batches are priced first (the classic baseline's are not): PriceBatch, once per batch. */
const PRICING_STATES_PER_BATCH = 1;

let report: BenchReport;
let restoreLog: () => void;

beforeAll(async () => {
  // Failures are not expected here; keep any Lambda log line out of the test output.
  const log = console.log;
  console.log = () => undefined;
  restoreLog = () => {
    console.log = log;
  };
  report = await runBench({ jobs: JOBS, seed: SEED, faultRate: 0, otherUsers: false });
  // Six variants of 12 jobs: about a minute on an idle 2-core machine, more beside other work.
}, 240_000);
afterAll(() => restoreLog());

function variant(name: VariantFigures["variant"]): VariantFigures {
  const figures = report.variants.find((candidate) => candidate.variant === name);
  if (!figures) throw new Error(`no ${name} in the report`);
  return figures;
}

/** Polls until a job of `generationSeconds` is seen done, with waits chosen by `wait`. */
function plannedPolls(generationSeconds: number, wait: (elapsed: number) => number): number {
  let elapsed = 0;
  let polls = 0;
  while (elapsed < generationSeconds) {
    elapsed += wait(elapsed);
    polls += 1;
  }
  return polls;
}

describe("the benchmark, 12 jobs without faults or other users", () => {
  it("every job succeeds through both workflows, with exactly one create and one task each, no 429 and no re-queue, when the pipeline knows the account's slots", () => {
    for (const figures of report.variants.filter((candidate) => candidate.variant !== "misconfigured")) {
      expect(figures.succeeded, figures.variant).toBe(JOBS);
      expect(figures.failedByError, figures.variant).toEqual({});
      expect(figures.createRequestsPerJob, figures.variant).toBe(1);
      expect(figures.tasksCreatedPerSucceededJob, figures.variant).toBe(1);
      expect(figures.http429s, figures.variant).toBe(0);
      expect(figures.requeues, figures.variant).toBe(0);
      expect(figures.faultsInjected, figures.variant).toBe(0);
    }
  });

  it("misconfigured, the ledger admits more generations than the account runs: Kling answers 1303, and every job is counted, succeeded or failed by its error", () => {
    const misconfigured = variant("misconfigured");
    expect(misconfigured.klingConcurrency).toBe(MISCONFIGURED_KLING_CONCURRENCY);
    expect(misconfigured.klingConcurrency).toBeGreaterThan(report.klingConcurrency);
    expect(misconfigured.http429sByCode["1303"]).toBeGreaterThan(0);
    expect(misconfigured.http429s).toBe(misconfigured.http429sByCode["1302"] + misconfigured.http429sByCode["1303"] + misconfigured.http429sByCode.other);
    const failed = Object.values(misconfigured.failedByError).reduce((sum, count) => sum + count, 0);
    expect(misconfigured.succeeded + failed).toBe(JOBS);
    expect(misconfigured.failed).toBe(failed);
    expect(misconfigured.tasksCreatedPerSucceededJob).toBe(1);
  });

  it("reads the time queued from WaitForSlot: 12 jobs on 5 slots, so some wait, and the classic poller has no queue", () => {
    const pipeline = variant("pipeline");
    expect(pipeline.queuedP95Seconds).toBeGreaterThan(0);
    expect(pipeline.queuedP95Seconds).toBeGreaterThanOrEqual(pipeline.queuedP50Seconds);
    // No generation waits longer than the run.
    expect(pipeline.queuedP95Seconds).toBeLessThan(pipeline.makespanSeconds);
    expect(variant("classic-poller").queuedP50Seconds).toBeNaN();
  });

  it("the pipeline checks credits and the classic poller never does", () => {
    expect(variant("pipeline").klingRequestsPerJob.account).toBeGreaterThan(0);
    expect(variant("classic-poller").klingRequestsPerJob.account).toBe(0);
  });

  it("the pipeline, Kling's callback ending each wait, never polls: exactly a job's states without Poll, and the batch's", () => {
    // Validate, CheckCredits, WaitForSlot, Submit, WaitForVideo, Archive (the end), and the batch's states.
    const planned = BATCH_STATES_PER_BATCH + PRICING_STATES_PER_BATCH + JOBS * (BATCH_STATES_PER_JOB + 6);
    const measured = Math.round(variant("pipeline").transitionsPerSucceededJob * JOBS);
    // On the virtual clock every callback comes at its task's end, and none is lost here.
    expect(measured).toBe(planned);
  });

  it("the classic poller polls every 30 s: a job of T seconds costs ceil(T / 30) polls", () => {
    const jobs = benchWorkload(JOBS, SEED);
    const polls = jobs.map((job) => plannedPolls(job.generationSeconds, () => CLASSIC_POLL_SECONDS));
    // Validate, Submit, Succeeded, the batch's four, and WaitThirtySeconds, Poll, VideoReady? per poll.
    const planned = BATCH_STATES_PER_BATCH + polls.reduce((sum, count) => sum + BATCH_STATES_PER_JOB + 3 + 3 * count, 0);
    const measured = Math.round(variant("classic-poller").transitionsPerSucceededJob * JOBS);
    // On the virtual clock a wait lasts exactly what was planned.
    expect(measured).toBe(planned);
  });

  it("no variant beats the makespan lower bound of the work it did: 12 jobs are one batch, so with every job done the bound is that of all of them at once on the account's 5 slots", () => {
    const bound = makespanLowerBoundSeconds([benchWorkload(JOBS, SEED).map((job) => job.generationSeconds)], report.klingConcurrency);
    for (const figures of report.variants) {
      // A failed job's generation time is not work the run did: the bound is then lower, never higher.
      if (figures.failed === 0) expect(figures.lowerBoundSeconds, figures.variant).toBe(bound);
      else expect(figures.lowerBoundSeconds, figures.variant).toBeLessThanOrEqual(bound);
      expect(figures.makespanSeconds, figures.variant).toBeGreaterThanOrEqual(figures.lowerBoundSeconds);
      expect(figures.makespanOverLowerBound, figures.variant).toBeGreaterThanOrEqual(1);
    }
  });

  it("prints the pipeline and the classic poller side by side with their ratio and the misconfigured pipeline, the overload's three, the failures by error, and the targets", () => {
    const bundles = [{ name: "poll", kilobytes: 101.5 }];
    const lines = formatBenchMarkdown(report, bundles, checkTargets(report, bundles), "on a test machine");
    expect(lines[0]).toContain(`${JOBS} jobs, seed ${SEED}, an account of 5 Kling slots`);
    expect(lines).toContain("| figure | this pipeline (callbacks, other users) | classic poller (other users) | pipeline / poller | misconfigured (klingConcurrency 8) |");
    expect(lines).toContain("| tasks created per succeeded job | 1.00 | 1.00 | 1.00 | 1.00 |");
    expect(lines).toContain("| pipeline | none |");
    expect(lines).toContain(`| misconfigured | ${failuresByError(variant("misconfigured"))} |`);
    expect(lines).toContain("| figure | callbacks delivered | 20% of callbacks lost | polling only |");
    expect(lines).toContain(`| jobs succeeded | ${JOBS} | ${JOBS} | ${JOBS} |`);
    expect(lines).toContain("| poll | 101.5 |");
    expect(lines.some((line) => line.startsWith("| tasks created per succeeded job = 1.00, in every variant of the pipeline | yes |"))).toBe(true);
  });
});

describe("the benchmark's targets", () => {
  /** The report with some variants' figures changed. */
  const changed = (overrides: Partial<Record<VariantFigures["variant"], Partial<VariantFigures>>>): BenchReport => ({
    ...report,
    variants: report.variants.map((figures) => ({ ...figures, ...overrides[figures.variant] })),
  });
  const met = (name: string, overrides: Parameters<typeof changed>[0], bundles = [{ name: "api", kilobytes: 100 }]) =>
    checkTargets(changed(overrides), bundles).find((target) => target.name.startsWith(name))?.met;

  it("a bundle over 150 KB or a second task for a job, in any variant of the pipeline, misses its target", () => {
    expect(met("every Lambda bundle", {}, [{ name: "api", kilobytes: 150.1 }])).toBe(false);
    expect(met("tasks created per succeeded job", {})).toBe(true);
    expect(met("tasks created per succeeded job", { pipeline: { tasksCreatedPerSucceededJob: 1.01 } })).toBe(false);
    expect(met("tasks created per succeeded job", { "overload-callbacks-lost": { tasksCreatedPerSucceededJob: 1.01 } })).toBe(false);
  });

  it("one failed job in any variant of the pipeline misses the first target, and the classic poller's failures do not count", () => {
    expect(met("0 failed jobs", {})).toBe(report.variants.every((figures) => figures.variant === "classic-poller" || figures.failed === 0));
    const none = Object.fromEntries(report.variants.map((figures) => [figures.variant, { failed: 0, failedByError: {} }]));
    expect(met("0 failed jobs", { ...none, "classic-poller": { failed: 3, failedByError: { "Kling.RateLimited": 3 } } })).toBe(true);
    expect(met("0 failed jobs", { ...none, misconfigured: { failed: 1, failedByError: { "Kling.RateLimited": 1 } } })).toBe(false);
    expect(met("0 failed jobs", { ...none, "overload-polling": { failed: 1, failedByError: { "Kling.QueueTimeout": 1 } } })).toBe(false);
  });

  it("a 429 with no slot held by other users misses the 429 target, and so does more than one per minute of a slot they held", () => {
    const met429 = (overrides: Partial<VariantFigures>) => met("429s <=", { pipeline: overrides });
    expect(met429({ http429s: 0, otherUsersSlotSeconds: 0 })).toBe(true);
    expect(met429({ http429s: 1, otherUsersSlotSeconds: 0 })).toBe(false);
    expect(met429({ http429s: 3, otherUsersSlotSeconds: 180 })).toBe(true);
    expect(met429({ http429s: 4, otherUsersSlotSeconds: 180 })).toBe(false);
  });

  it("misconfigured, more 429s than generations misses its target; a makespan past 1.05 of the lower bound there or with other users misses another", () => {
    const metMisconfigured = (http429s: number) => met("misconfigured (klingConcurrency", { misconfigured: { http429s, jobs: 200 } });
    expect(metMisconfigured(200)).toBe(true);
    expect(metMisconfigured(201)).toBe(false);
    const metBound = (pipeline: number, misconfigured: number) =>
      met("makespan / lower bound <= 1.05", { pipeline: { makespanOverLowerBound: pipeline }, misconfigured: { makespanOverLowerBound: misconfigured } });
    expect(metBound(1.05, 1.05)).toBe(true);
    expect(metBound(1.051, 1)).toBe(false);
    expect(metBound(1, 1.051)).toBe(false);
  });

  it("is not better than the baseline when it needs more transitions", () => {
    const baseline = variant("classic-poller");
    const costly = { makespanSeconds: baseline.makespanSeconds - 1, meanDetectionDelayShare: 0, transitionsPerSucceededJob: baseline.transitionsPerSucceededJob + 1 };
    expect(met("better than the classic poller", { pipeline: costly })).toBe(false);
  });

  it("under overload with callbacks, one 429 misses the overload target, and so does a makespan past 1.02 of the lower bound", () => {
    const overloadMet = (overrides: Partial<VariantFigures>) => met("under overload (two batches", { overload: { http429s: 0, makespanOverLowerBound: 1.02, ...overrides } });
    expect(overloadMet({})).toBe(true);
    expect(overloadMet({ http429s: 1 })).toBe(false);
    expect(overloadMet({ makespanOverLowerBound: 1.021 })).toBe(false);
  });

  it("with callbacks, a detection delay past 1% of the generation time or more than 10 transitions per job misses its target", () => {
    expect(met("with callbacks, mean detection delay", { pipeline: { meanDetectionDelayShare: 0.01 }, overload: { meanDetectionDelayShare: 0.01 } })).toBe(true);
    expect(met("with callbacks, mean detection delay", { overload: { meanDetectionDelayShare: 0.0101 } })).toBe(false);
    expect(met("with callbacks, under overload: state transitions", { overload: { transitionsPerSucceededJob: 10 } })).toBe(true);
    expect(met("with callbacks, under overload: state transitions", { overload: { transitionsPerSucceededJob: 10.01 } })).toBe(false);
  });

  it("with 20% of the callbacks lost, one failed job misses its target, and so does a run that lost none", () => {
    expect(met("with 20% of the callbacks lost", { "overload-callbacks-lost": { failed: 0, callbacksLost: 3 } })).toBe(true);
    expect(met("with 20% of the callbacks lost", { "overload-callbacks-lost": { failed: 1, callbacksLost: 3 } })).toBe(false);
    expect(met("with 20% of the callbacks lost", { "overload-callbacks-lost": { failed: 0, callbacksLost: 0 } })).toBe(false);
  });
});

describe("the benchmark under overload", () => {
  it("takes every job, two batches and the API's requests at once, without a failure or a 429, one task each, whatever becomes of the callbacks", () => {
    for (const name of ["overload", "overload-callbacks-lost", "overload-polling"] as const) {
      const overload = variant(name);
      expect(overload.apiRequests, name).toBe(Math.floor(JOBS / 10));
      expect(overload.succeeded, name).toBe(JOBS);
      expect(overload.http429s, name).toBe(0);
      expect(overload.tasksCreatedPerSucceededJob, name).toBe(1);
    }
  });

  it("with callbacks lost, the fallback poll finds the ends the lost callbacks did not tell, later and at the cost of its states; polling only, no callback is sent", () => {
    const lost = variant("overload-callbacks-lost");
    expect(lost.callbacksLost).toBeGreaterThan(0);
    expect(lost.transitionsPerSucceededJob).toBeGreaterThan(variant("overload").transitionsPerSucceededJob);
    expect(lost.meanDetectionDelaySeconds).toBeGreaterThan(variant("overload").meanDetectionDelaySeconds);
    expect(variant("overload-polling").callbacksDelivered).toBe(0);
    expect(variant("overload").callbacksLost).toBe(0);
  });
});

describe("the ledger's queue read from the generations' events", () => {
  const event = (type: string, stateName: string, seconds: number) => ({ type, stateName, at: seconds * 1000 });

  it("counts a WaitForSlot entered again as a re-queue, a parked wait looking again as none, and adds up each generation's time inside it", () => {
    const queueing = new SlotQueueing();
    // job-a: queued 30 s, submitted, sent back after a 1303, queued 20 s more.
    for (const [type, state, at] of [
      ["StateEntered", "WaitForSlot", 0],
      ["StateExited", "WaitForSlot", 30],
      ["StateEntered", "Submit", 30],
      ["StateEntered", "WaitForSlot", 31],
      ["StateRetried", "WaitForSlot", 40],
      ["StateExited", "WaitForSlot", 51],
    ] as const) {
      queueing.record("job-a", event(type, state, at));
    }
    // job-b: a parked wait that looked again (a retry), then failed in the queue at 100 s.
    for (const [type, state, at] of [
      ["StateEntered", "WaitForSlot", 0],
      ["StateRetried", "WaitForSlot", 90],
      ["StateFailed", "WaitForSlot", 100],
    ] as const) {
      queueing.record("job-b", event(type, state, at));
    }
    queueing.record("job-c", event("StateEntered", "Validate", 0));
    expect(queueing.figures()).toEqual({ requeues: 1, generations: 2, secondsQueued: [50, 100] });
  });

  it("takes the nearest-rank percentile", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe("the account's other users in the workload", () => {
  it("start a task every OTHER_USERS_MEAN_GAP_SECONDS on average, of the benchmark's kinds of video, the same for the same seed", () => {
    const horizon = 1000 * OTHER_USERS_MEAN_GAP_SECONDS;
    const tasks = otherUsersWorkload(SEED, horizon);
    expect(tasks.length).toBeGreaterThan(900);
    expect(tasks.length).toBeLessThan(1100);
    expect(tasks.every((task) => task.startSeconds <= horizon && task.seconds > 0)).toBe(true);
    expect(otherUsersWorkload(SEED, horizon)).toEqual(tasks);
    expect(otherUsersWorkload(SEED + 1, horizon)).not.toEqual(tasks);
  });
});

describe("npm run bench's command line", () => {
  it("takes --jobs, --seed and --json, with defaults", () => {
    expect(parseBenchCommand([])).toEqual({ jobs: 200, seed: 20_261_125, json: false, readme: false });
    expect(parseBenchCommand(["--jobs", "40", "--seed", "3", "--json"])).toEqual({ jobs: 40, seed: 3, json: true, readme: false });
    expect(parseBenchCommand(["--readme"])).toMatchObject({ json: false, readme: true });
    expect(parseBenchCommand(["--help"])).toBe("help");
    expect(BENCH_USAGE).toContain("--jobs N");
  });

  it("refuses a bad number or an unknown flag with a one-line error naming it", () => {
    expect(() => parseBenchCommand(["--jobs", "0"])).toThrow(new CommandLineError('--jobs must be a whole number from 1 to 5000, got "0"'));
    expect(() => parseBenchCommand(["--jobs", "2.5"])).toThrow(/--jobs must be a whole number/);
    expect(() => parseBenchCommand(["--seed", "-1"])).toThrow(/--seed/);
    expect(() => parseBenchCommand(["--seed", "x"])).toThrow(/--seed must be a whole number from 0 to 4294967295, got "x"/);
    expect(() => parseBenchCommand(["--fast"])).toThrow(/Unknown option '--fast'/);
    expect(() => parseBenchCommand(["--json", "--readme"])).toThrow(new CommandLineError("--json and --readme do not go together: the README takes the markdown tables"));
  });
});

describe("the benchmark on its virtual clock", () => {
  it("gives the same figures twice for the same seed, transient faults, jitter and other users included, and under overload", async () => {
    const figures = async () => {
      const { variants } = await runBench({ jobs: 10, seed: 11, faultRate: 0.2, variants: ["pipeline", "overload"] });
      return variants.map(({ wallSeconds: _wall, ...timeless }) => timeless);
    };
    const first = await figures();
    expect(first[0]?.faultsInjected).toBeGreaterThan(0);
    expect(await figures()).toEqual(first);
  }, 120_000);
});
