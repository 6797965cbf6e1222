/**
 * The benchmark's workload: the same jobs, generation times and transient faults for every
 * variant, drawn from a fixed seed.
 */
import type { GenerationRequestInput } from "#lambdas/schemas/generation-request";
import { typicalGenerationSeconds, type TimedRequest } from "#lambdas/schemas/generation-time";
import { errorFault, type Fault, type FaultPlan, mulberry32, type OtherUsersTask } from "../simulator";

export const DEFAULT_BENCH_JOBS = 200;
export const DEFAULT_BENCH_SEED = 20_261_125;
/** Share of Kling requests that get a transient fault. */
export const TRANSIENT_FAULT_RATE = 0.05;
/** Simulated seconds between two tasks of the account's other users, on average. */
export const OTHER_USERS_MEAN_GAP_SECONDS = 600;

/** What users ask for, from a quick std Turbo clip (about a minute) to a 10 s pro video (several). */
const KINDS_OF_JOB: readonly TimedRequest[] = [
  { model: "kling-v2-5-turbo", mode: "std", duration: "5" },
  { model: "kling-v2-6", mode: "std", duration: "5" },
  { model: "kling-v2-5-turbo", mode: "pro", duration: "5" },
  { model: "kling-v2-6", mode: "std", duration: "10" },
  // The master models are 1080p (pro) only: a std request is refused by Validate.
  { model: "kling-v2-1-master", mode: "pro", duration: "10" },
  { model: "kling-v2-6", mode: "pro", duration: "10" },
  { model: "kling-v2-1-master", mode: "pro", duration: "5" },
  { model: "kling-v2-master", mode: "pro", duration: "10" },
];

/**
 * How far one video's time strays from the typical: log-normal, a spread of about 15%, a
 * longer tail to the slow side (a busy queue), clipped to 0.7-1.8 times the typical time.
 */
const SPREAD_SIGMA = 0.15;
const SPREAD_RANGE = [0.7, 1.8] as const;

export interface BenchJob {
  readonly request: GenerationRequestInput;
  /** Simulated seconds Kling takes for this job. */
  readonly generationSeconds: number;
}

export function benchWorkload(jobs: number, seed: number): BenchJob[] {
  const random = mulberry32(seed);
  return Array.from({ length: jobs }, (_, index) => {
    const { kind, generationSeconds } = drawVideo(random);
    return { request: { prompt: `bench job ${index}: a paper boat on a rainy street, slow dolly in`, ...kind }, generationSeconds };
  });
}

/**
 * Other users of the same Kling account, who start a task now and then: on average one every
 * {@link OTHER_USERS_MEAN_GAP_SECONDS} (Poisson), of the same kinds of video, from the start
 * until `horizonSeconds`. Each takes a slot as soon as one is free, so the pipeline's creates
 * meet 429/1303 for real.
 */
export function otherUsersWorkload(seed: number, horizonSeconds: number): OtherUsersTask[] {
  const random = mulberry32(seed ^ 0x07e5);
  const tasks: OtherUsersTask[] = [];
  for (let at = -Math.log(1 - random()) * OTHER_USERS_MEAN_GAP_SECONDS; at <= horizonSeconds; at += -Math.log(1 - random()) * OTHER_USERS_MEAN_GAP_SECONDS) {
    tasks.push({ startSeconds: Math.round(at), seconds: drawVideo(random).generationSeconds });
  }
  return tasks;
}

/** One video: a kind of job, and how long Kling takes for it. */
function drawVideo(random: () => number): { readonly kind: TimedRequest; readonly generationSeconds: number } {
  const kind = KINDS_OF_JOB[Math.floor(random() * KINDS_OF_JOB.length)] ?? KINDS_OF_JOB[0];
  if (!kind) throw new Error("the benchmark has no kinds of job");
  const spread = Math.min(SPREAD_RANGE[1], Math.max(SPREAD_RANGE[0], Math.exp(SPREAD_SIGMA * normal(random))));
  return { kind, generationSeconds: Math.round(typicalGenerationSeconds(kind) * spread * 10) / 10 };
}

/** A standard normal draw (Box-Muller). */
function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * Transient faults only, on any kind of request: 5xx answers, a dropped connection, and a
 * create that Kling did handle but whose answer was lost. None of them should cost a job,
 * and none may cost a second task. No 429s are injected: the 429s the benchmark counts are
 * Kling's own concurrency refusals, when the account's other users hold slots.
 */
export function transientFaultPlan(seed: number, rate = TRANSIENT_FAULT_RATE): FaultPlan {
  const random = mulberry32(seed ^ 0x5eed);
  const faults: readonly Fault[] = [
    errorFault("internal-error", 500, 5000, "Internal error"),
    errorFault("unavailable", 503, 5001, "Service unavailable"),
    errorFault("timeout", 504, 5002, "Internal timeout"),
    { label: "drop", answer: { type: "drop" } },
    { ...errorFault("lost-response", 500, 5000, "Internal error"), afterHandling: true },
  ];
  return {
    onRequest: () => (random() < rate ? faults[Math.floor(random() * faults.length)] : undefined),
    taskOutcome: () => ({ status: "succeed" }),
  };
}
