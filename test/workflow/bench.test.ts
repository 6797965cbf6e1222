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
    // Validate, CheckCredits, WaitForSlot, Submit, WaitForVideo, VideoReady?, Archive, Succeeded, and the batch's states.
    const planned = BATCH_STATES_PER_BATCH + PRICING_STATES_PER_BATCH + JOBS * (BATCH_STATES_PER_JOB + 8);
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

  it("prints both variants side by side with their ratio, and the targets", () => {
    const bundles = [{ name: "poll", kilobytes: 101.5 }];
    const lines = formatBenchMarkdown(report, bundles, checkTargets(report, bundles), "on a test machine");
    expect(lines[0]).toContain(`${JOBS} jobs, seed ${SEED}, Kling concurrency 5`);
    expect(lines).toContain("| figure | this pipeline | classic poller | pipeline / poller |");
    expect(lines).toContain("| tasks created per succeeded job | 1.00 | 1.00 | 1.00 |");
    expect(lines).toContain("| poll | 101.5 |");
    expect(lines.some((line) => line.startsWith("| tasks created per succeeded job = 1.00 | yes |"))).toBe(true);
  });
});

describe("the benchmark's targets", () => {
  const figures = (overrides: Partial<VariantFigures>): VariantFigures => ({ ...variant("pipeline"), ...overrides });

  it("a bundle over 150 KB or a second task for a job misses its target", () => {
    const twice: BenchReport = { ...report, variants: [figures({ tasksCreatedPerSucceededJob: 1.01 }), variant("classic-poller"), variant("overload")] };
    const targets = checkTargets(twice, [{ name: "api", kilobytes: 150.1 }]);
    const missed = targets.filter((target) => !target.met).map((target) => target.name);
    expect(missed).toContain("every Lambda bundle <= 150 KB");
    expect(missed).toContain("tasks created per succeeded job = 1.00");
  });

  it("a 429 with no slot held by other users misses the 429 target, and so do more than Submit's declared backoff sends while they hold one", () => {
    const met = (overrides: Partial<VariantFigures>) =>
      checkTargets({ ...report, variants: [figures(overrides), variant("classic-poller"), variant("overload")] }, []).find((target) => target.name.startsWith("429s <="))?.met;
    // Seven creates (the first and six retries) over waits of 1 + 2 + 4 + 8 + 16 + 30 s on average: 61 s.
    expect(declaredCreatesPerBlockedMinute()).toBeCloseTo((7 / 61) * 60, 6);
    expect(met({ http429s: 0, otherUsersSlotSeconds: 0 })).toBe(true);
    expect(met({ http429s: 1, otherUsersSlotSeconds: 0 })).toBe(false);
    expect(met({ http429s: 7, otherUsersSlotSeconds: 61 })).toBe(true);
    expect(met({ http429s: 8, otherUsersSlotSeconds: 61 })).toBe(false);
  });

  it("is not better than the baseline when it needs more transitions", () => {
    const baseline = variant("classic-poller");
    const costly: BenchReport = {
      ...report,
      variants: [
        figures({ makespanSeconds: baseline.makespanSeconds - 1, meanDetectionDelayShare: 0, transitionsPerSucceededJob: baseline.transitionsPerSucceededJob + 1 }),
        baseline,
        variant("overload"),
      ],
    };
    const better = checkTargets(costly, []).find((target) => target.name.startsWith("better than the classic poller"));
    expect(better?.met).toBe(false);
  });
  it("under overload, one 429 or one failed job misses the overload target, and so does a makespan past 1.05 of the ideal", () => {
    const overloadMet = (overrides: Partial<VariantFigures>) =>
      checkTargets({ ...report, variants: [variant("pipeline"), variant("classic-poller"), { ...variant("overload"), failed: 0, http429s: 0, makespanOverIdeal: 1.05, ...overrides }] }, []).find((target) =>
        target.name.startsWith("under overload"),
      )?.met;
    expect(overloadMet({})).toBe(true);
    expect(overloadMet({ http429s: 1 })).toBe(false);
    expect(overloadMet({ failed: 1 })).toBe(false);
    expect(overloadMet({ makespanOverIdeal: 1.051 })).toBe(false);
  });
});

describe("the benchmark under overload", () => {
  it("takes every job, two batches and the API's requests at once, without a failure or a 429, one task each", () => {
    const overload = variant("overload");
    expect(overload.apiRequests).toBe(Math.floor(JOBS / 10));
    expect(overload.succeeded).toBe(JOBS);
    expect(overload.http429s).toBe(0);
    expect(overload.tasksCreatedPerSucceededJob).toBe(1);
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
