/**
 * The benchmark in small (local/bench): a dozen jobs through the pipeline's workflows and the
 * classic poller on the local engine, without faults or other users of the account, so that the counts which do not depend
 * on timing are exact (one create and one task per job), and, on the virtual clock, the
 * transitions are exactly what each plans (the pipeline: no poll, its callbacks ending the waits). The full-size figures are `npm run bench`'s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_USAGE, checkTargets, declaredCreatesPerBlockedMinute, formatBenchMarkdown, parseBenchCommand } from "#local/bench/bench-report";
import { CommandLineError } from "#local/cli/script-command";
import { CLASSIC_POLL_SECONDS } from "#local/bench/classic-poller";
import { type BenchReport, runBench, type VariantFigures } from "#local/bench/run-bench";
import { benchWorkload, OTHER_USERS_MEAN_GAP_SECONDS, otherUsersWorkload } from "#local/bench/workload";
import { idealMakespanSeconds } from "#local/simulator/index";

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
}, 120_000);
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
  it("every job succeeds through both workflows, with exactly one create and one task each, and no 429", () => {
    for (const figures of report.variants) {
      expect(figures.succeeded, figures.variant).toBe(JOBS);
      expect(figures.createRequestsPerJob, figures.variant).toBe(1);
      expect(figures.tasksCreatedPerSucceededJob, figures.variant).toBe(1);
      expect(figures.http429s, figures.variant).toBe(0);
      expect(figures.faultsInjected, figures.variant).toBe(0);
    }
  });

  it("the pipeline checks credits and the classic poller never does", () => {
    expect(variant("pipeline").klingRequestsPerJob.account).toBeGreaterThan(0);
    expect(variant("classic-poller").klingRequestsPerJob.account).toBe(0);
  });

  it("the pipeline, Kling's callback ending each wait, never polls: exactly a job's states without Poll, and the batch's", () => {
    // Validate, CheckCredits, WaitForSlot, Submit, WaitForVideo, Archive, Succeeded, and the batch's states.
    const planned = BATCH_STATES_PER_BATCH + PRICING_STATES_PER_BATCH + JOBS * (BATCH_STATES_PER_JOB + 7);
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

  it("no variant beats the ideal makespan the simulator computes", () => {
    const ideal = idealMakespanSeconds(
      benchWorkload(JOBS, SEED).map((job) => job.generationSeconds),
      report.klingConcurrency,
    );
    for (const figures of report.variants) {
      expect(figures.idealMakespanSeconds).toBe(ideal);
      expect(figures.makespanOverIdeal, figures.variant).toBeGreaterThanOrEqual(1);
    }
  });

  it("prints the pipeline and the classic poller side by side with their ratio, the overload's three, and the targets", () => {
    const bundles = [{ name: "poll", kilobytes: 101.5 }];
    const lines = formatBenchMarkdown(report, bundles, checkTargets(report, bundles), "on a test machine");
    expect(lines[0]).toContain(`${JOBS} jobs, seed ${SEED}, Kling concurrency 5`);
    expect(lines).toContain("| figure | this pipeline (callbacks) | classic poller | pipeline / poller |");
    expect(lines).toContain("| tasks created per succeeded job | 1.00 | 1.00 | 1.00 |");
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

  it("a 429 with no slot held by other users misses the 429 target, and so do more than Submit's declared backoff sends while they hold one", () => {
    const met429 = (overrides: Partial<VariantFigures>) => met("429s <=", { pipeline: overrides });
    // Seven creates (the first and six retries) over waits of 1 + 2 + 4 + 8 + 16 + 30 s on average: 61 s.
    expect(declaredCreatesPerBlockedMinute()).toBeCloseTo((7 / 61) * 60, 6);
    expect(met429({ http429s: 0, otherUsersSlotSeconds: 0 })).toBe(true);
    expect(met429({ http429s: 1, otherUsersSlotSeconds: 0 })).toBe(false);
    expect(met429({ http429s: 7, otherUsersSlotSeconds: 61 })).toBe(true);
    expect(met429({ http429s: 8, otherUsersSlotSeconds: 61 })).toBe(false);
  });

  it("is not better than the baseline when it needs more transitions", () => {
    const baseline = variant("classic-poller");
    const costly = { makespanSeconds: baseline.makespanSeconds - 1, meanDetectionDelayShare: 0, transitionsPerSucceededJob: baseline.transitionsPerSucceededJob + 1 };
    expect(met("better than the classic poller", { pipeline: costly })).toBe(false);
  });

  it("under overload with callbacks, one 429 or one failed job misses the overload target, and so does a makespan past 1.02 of the ideal", () => {
    const overloadMet = (overrides: Partial<VariantFigures>) => met("under overload (two batches", { overload: { failed: 0, http429s: 0, makespanOverIdeal: 1.02, ...overrides } });
    expect(overloadMet({})).toBe(true);
    expect(overloadMet({ http429s: 1 })).toBe(false);
    expect(overloadMet({ failed: 1 })).toBe(false);
    expect(overloadMet({ makespanOverIdeal: 1.021 })).toBe(false);
  });

  it("with callbacks, a detection delay past 1% of the generation time or more than 12 transitions per job misses its target", () => {
    expect(met("with callbacks, mean detection delay", { pipeline: { meanDetectionDelayShare: 0.01 }, overload: { meanDetectionDelayShare: 0.01 } })).toBe(true);
    expect(met("with callbacks, mean detection delay", { overload: { meanDetectionDelayShare: 0.0101 } })).toBe(false);
    expect(met("with callbacks, under overload: state transitions", { overload: { transitionsPerSucceededJob: 12 } })).toBe(true);
    expect(met("with callbacks, under overload: state transitions", { overload: { transitionsPerSucceededJob: 12.01 } })).toBe(false);
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
