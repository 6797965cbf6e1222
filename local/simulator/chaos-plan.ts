/**
 * A seeded random FaultPlan for chaos runs: at rate R per API request, mixed at random, every
 * fault the simulator knows (1302/1303 bursts, 5000/5001/5002, connections dropped before a
 * create is handled and after it, lost create answers, non-JSON and truncated bodies), plus
 * slow and late answers, and at a lower rate tasks that fail or never finish.
 *
 * Determinism: each decision draws from a mulberry32 stream seeded with the run's seed and
 * the request's identity (the job's external_task_id and which of its requests of that kind
 * this is), so the same seed gives the same job the same faults however requests interleave.
 * Only bursts (which hit whatever requests arrive next) and account requests depend on order.
 *
 * Delays: the simulator has no way to hold an answer (FaultPlan.onRequest is synchronous and a
 * FaultAnswer is an error, a malformed body or a drop), so {@link ChaosPlan.delayFor} decides
 * delays for a front that holds requests or answers (local/chaos/delaying-proxy.ts). Its draws
 * are independent of onRequest's; the two together fault about R of the requests.
 */
import { VIDEO_DELIVERY_FAULTS } from "./video-delivery";
import { errorFault, SUCCEED, type ApiRequestInfo, type Fault, type FaultPlan, type NewTaskInfo, type TaskOutcome } from "./faults";
import { externalTaskIdOf } from "./json";
import { CONCURRENCY_LIMIT_MESSAGE } from "./scenarios";

/** Faults the simulator answers itself (FaultPlan.onRequest). */
export const CHAOS_REQUEST_FAULTS = [
  "rate-limit-burst",
  "concurrency-burst",
  "server-error",
  "unavailable",
  "gateway-timeout",
  "drop-before-handling",
  "drop-after-create",
  "lost-create-response",
  "non-json-body",
  "truncated-body",
] as const;
/** Faults a delaying front applies (ChaosPlan.delayFor). */
export const CHAOS_DELAY_FAULTS = ["slow-answer", "late-answer", "late-answer-after-handling"] as const;
/** How tasks end (FaultPlan.taskOutcome). */
export const CHAOS_TASK_FAULTS = ["task-failed", "task-stuck"] as const;
/** How a video download goes wrong (FaultPlan.onVideoDownload): Archive retries each. */
const CHAOS_DOWNLOAD_FAULTS = VIDEO_DELIVERY_FAULTS;
/**
 * Faults of the account ledger, one per job at most, applied by the chaos run: WaitForSlot's
 * function killed once it took its slot and before it answered (the retry finds it held); the
 * execution stopped (StopExecution, ABORTED) or timed out (TIMED_OUT) while it holds its slot,
 * before Submit; a release that crashes between its writes (the slot's write lost, the
 * queue's and the credits' done, no waiter woken); and BackToQueue's function killed between
 * giving a refused slot back and queueing again (the retry keeps the generation's place).
 */
const HOLDING_FAULTS = ["killed-holding-slot", "stopped-holding-slot", "timed-out-holding-slot", "lost-release"] as const;
export const CHAOS_LEDGER_FAULTS = [...HOLDING_FAULTS, "killed-requeueing"] as const;
export const CHAOS_FAULT_KINDS = [...CHAOS_REQUEST_FAULTS, ...CHAOS_DELAY_FAULTS, ...CHAOS_TASK_FAULTS, ...CHAOS_DOWNLOAD_FAULTS, ...CHAOS_LEDGER_FAULTS] as const;

export type ChaosRequestFault = (typeof CHAOS_REQUEST_FAULTS)[number];
export type ChaosDelayFault = (typeof CHAOS_DELAY_FAULTS)[number];
export type ChaosLedgerFault = (typeof CHAOS_LEDGER_FAULTS)[number];
export type ChaosFaultKind = (typeof CHAOS_FAULT_KINDS)[number];

/** The share of faulted requests each kind hits (relative); create-only ones are skipped for other requests. */
const REQUEST_WEIGHTS: Readonly<Record<ChaosRequestFault | ChaosDelayFault, number>> = {
  "rate-limit-burst": 2,
  "concurrency-burst": 1.5,
  "server-error": 2,
  unavailable: 1,
  "gateway-timeout": 1,
  "drop-before-handling": 1,
  "drop-after-create": 1.5,
  "lost-create-response": 1.5,
  "non-json-body": 1,
  "truncated-body": 1,
  "slow-answer": 1,
  "late-answer": 1,
  "late-answer-after-handling": 1,
};

/** Only a create has something to lose once handled, and only a create takes a concurrency slot. */
const CREATE_ONLY: ReadonlySet<string> = new Set(["concurrency-burst", "drop-after-create", "lost-create-response"]);

/** Failure reasons of tasks, as Kling words them; the content ones must become Kling.ContentPolicy. */
export const CHAOS_FAILURE_MESSAGES: readonly string[] = [
  "Video generation failed: the scene is too complex to render in the requested duration",
  "Generation timed out on the render cluster",
  "Failure to pass the risk control system",
  "The generated video was flagged by content moderation",
  "Output blocked by the safety policy",
  "Internal error during rendering, please try again",
  "",
];

/** Of the tasks that do not succeed, this share never finishes (the rest fail). */
const STUCK_SHARE = 0.25;
/** Bursts of 1302/1303 hit this many requests in a row (the first included). */
const BURST_LENGTH = { min: 2, max: 5 } as const;
/**
 * Delays as a share of the client's request timeout. Late answers come well after it: a late
 * create that lands within a few ms of the client's retry races that retry's lookup and create
 * (reproduced on its own by local/chaos/late-create-race.ts), which a chaos run on a busy
 * machine should not stumble into at random.
 */
const SLOW_SHARE = { min: 0.2, max: 0.6 } as const;
const LATE_SHARE = { min: 1.5, max: 2.5 } as const;

export interface ChaosPlanOptions {
  readonly seed: number;
  /** Share of API requests that get a fault, from 0 to 1. */
  readonly faultRate: number;
  /** Share of created tasks that fail or never finish; faultRate / 4 by default. */
  readonly taskFaultRate?: number;
  /**
   * The client's per-request timeout in real milliseconds: slow answers come before it, late
   * ones after it. Without it there are no delays (no front to apply them).
   */
  readonly requestTimeoutMs?: number;
}

/** A held request or answer, applied by a front such as local/chaos/delaying-proxy.ts. */
export interface DelayFault {
  readonly label: ChaosDelayFault;
  /** Real milliseconds. */
  readonly delayMs: number;
  /** Handle the request at once and hold only its answer (a create is then really created). */
  readonly afterHandling: boolean;
}

export interface ChaosPlan extends FaultPlan {
  /** Whether this request (or its answer) is held, and for how long; consulted by a delaying front. */
  delayFor(request: ApiRequestInfo): DelayFault | undefined;
  /** The ledger fault this job's execution gets, if any: drawn from the seed and its name alone, at the fault rate. */
  ledgerFaultFor(executionName: string): ChaosLedgerFault | undefined;
  /** Counts a ledger fault once the run has applied it (a job may end before its fault's moment comes). */
  ledgerFaultInjected(kind: ChaosLedgerFault): void;
  /** Faults injected so far, by kind. */
  counts(): Readonly<Record<ChaosFaultKind, number>>;
  /** All faults injected so far. */
  total(): number;
}

/** mulberry32: a small, fast, seedable PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32 bits: turns a decision's key into a seed. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

interface Burst {
  readonly label: "rate-limit-burst" | "concurrency-burst";
  readonly fault: Fault;
  remaining: number;
}

// Longer than 60 lines: the plan's decisions share one seeded random stream and its counters, kept in one closure.
export function chaosPlan(options: ChaosPlanOptions): ChaosPlan {
  const { seed, faultRate } = options;
  if (!Number.isInteger(seed)) throw new RangeError(`the chaos seed must be a whole number, got ${seed}`);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new RangeError(`the fault rate must be from 0 to 1, got ${faultRate}`);
  const taskFaultRate = options.taskFaultRate ?? faultRate / 4;
  if (!(taskFaultRate >= 0 && taskFaultRate <= 1)) throw new RangeError(`the task fault rate must be from 0 to 1, got ${taskFaultRate}`);
  const timeoutMs = options.requestTimeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new RangeError(`the request timeout must be positive, got ${timeoutMs}`);

  const counts = Object.fromEntries(CHAOS_FAULT_KINDS.map((kind) => [kind, 0])) as Record<ChaosFaultKind, number>;
  const count = (kind: ChaosFaultKind) => {
    counts[kind] += 1;
  };
  /** Requests seen per identity and side, so the n-th request of a job draws the same numbers every run. */
  const seen = new Map<string, number>();
  const externalIdByTaskId = new Map<string, string>();
  let burst: Burst | undefined;

  const random = (key: string) => mulberry32(hash32(`${seed}|${key}`));

  /** The identity a request's draws are keyed by: its job's external_task_id where there is one. */
  const identity = (request: ApiRequestInfo): string => {
    if (request.kind === "create") return externalTaskIdOf(request.createBody) ?? "(no external id)";
    if (request.kind === "query") {
      const id = request.taskIds?.[0] ?? lastSegment(request.path);
      return externalIdByTaskId.get(id) ?? id;
    }
    return "(account)";
  };

  const drawFor = (side: "simulator" | "front", request: ApiRequestInfo) => {
    const key = `${side}|${request.kind}|${identity(request)}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    return random(`${key}|${nth}`);
  };

  const eligible = (request: ApiRequestInfo, kinds: readonly (ChaosRequestFault | ChaosDelayFault)[]) =>
    kinds.filter((kind) => request.kind === "create" || !CREATE_ONLY.has(kind));

  /** All the kinds this request could get, so that the two sides together fault about `faultRate` of requests. */
  const allEligible = (request: ApiRequestInfo) =>
    eligible(request, timeoutMs === undefined ? CHAOS_REQUEST_FAULTS : [...CHAOS_REQUEST_FAULTS, ...CHAOS_DELAY_FAULTS]);

  /**
   * Draws whether this side starts a fault on the request, and of which of its kinds. A burst
   * goes on to hit the next requests too, so it starts less often: every kind ends up hitting
   * its share of requests, and all of them together about `faultRate` of them.
   */
  function pick<K extends ChaosRequestFault | ChaosDelayFault>(next: () => number, request: ApiRequestInfo, own: readonly K[]): K | undefined {
    const mine = eligible(request, own) as K[];
    const startWeight = (kind: K) => REQUEST_WEIGHTS[kind] / meanLength(kind);
    const myStartWeight = mine.reduce((sum, kind) => sum + startWeight(kind), 0);
    if (myStartWeight === 0 || next() >= faultRate * (myStartWeight / weightOf(allEligible(request)))) return undefined;
    let point = next() * myStartWeight;
    for (const kind of mine) {
      point -= startWeight(kind);
      if (point < 0) return kind;
    }
    return mine.at(-1);
  }

  function continueBurst(request: ApiRequestInfo): Fault | undefined {
    if (!burst || burst.remaining <= 0) return undefined;
    if (burst.label === "concurrency-burst" && request.kind !== "create") return undefined;
    burst.remaining -= 1;
    count(burst.label);
    return burst.fault;
  }

  function requestFault(kind: ChaosRequestFault, next: () => number): Fault {
    switch (kind) {
      case "rate-limit-burst":
      case "concurrency-burst": {
        const fault =
          kind === "rate-limit-burst"
            ? errorFault(kind, 429, 1302, "Too many requests, please slow down and retry later")
            : errorFault(kind, 429, 1303, CONCURRENCY_LIMIT_MESSAGE);
        const length = BURST_LENGTH.min + Math.floor(next() * (BURST_LENGTH.max - BURST_LENGTH.min + 1));
        burst = { label: kind, fault, remaining: length - 1 };
        return fault;
      }
      case "server-error":
        return errorFault(kind, 500, 5000, "Internal server error, please retry later");
      case "unavailable":
        return errorFault(kind, 503, 5001, "Service unavailable for maintenance, please retry later");
      case "gateway-timeout":
        return errorFault(kind, 504, 5002, "Internal timeout, please retry later");
      case "drop-before-handling":
        return { label: kind, answer: { type: "drop" } };
      case "drop-after-create":
        return { label: kind, answer: { type: "drop" }, afterHandling: true };
      case "lost-create-response":
        return { ...errorFault(kind, 504, 5002, "Internal timeout, please retry later"), afterHandling: true };
      case "non-json-body":
        return { label: kind, answer: NON_JSON_BODIES[Math.floor(next() * NON_JSON_BODIES.length)] ?? NON_JSON_BODIES[0] };
      case "truncated-body":
        return { label: kind, answer: { type: "malformed", body: truncatedEnvelope(next), contentType: "application/json" } };
    }
  }

  return {
    onRequest(request) {
      const bursting = continueBurst(request);
      if (bursting) return bursting;
      const next = drawFor("simulator", request);
      const kind = pick(next, request, CHAOS_REQUEST_FAULTS);
      if (kind === undefined) return undefined;
      count(kind);
      return requestFault(kind, next);
    },

    onVideoDownload(download) {
      const id = download.externalTaskId ?? download.taskId;
      const key = `download|${id}`;
      const nth = (seen.get(key) ?? 0) + 1;
      seen.set(key, nth);
      const next = random(`${key}|${nth}`);
      if (next() >= faultRate) return undefined;
      const kind = CHAOS_DOWNLOAD_FAULTS[Math.floor(next() * CHAOS_DOWNLOAD_FAULTS.length)] ?? "download-dropped";
      count(kind);
      return kind;
    },

    taskOutcome(task: NewTaskInfo): TaskOutcome {
      const id = task.externalTaskId ?? task.taskId;
      if (task.externalTaskId !== undefined) externalIdByTaskId.set(task.taskId, task.externalTaskId);
      const next = random(`outcome|${id}`);
      if (next() >= taskFaultRate) return SUCCEED;
      if (next() < STUCK_SHARE) {
        count("task-stuck");
        return { status: "stuck" };
      }
      count("task-failed");
      const message = CHAOS_FAILURE_MESSAGES[Math.floor(next() * CHAOS_FAILURE_MESSAGES.length)] ?? "";
      return { status: "failed", message };
    },

    delayFor(request) {
      if (timeoutMs === undefined) return undefined;
      const next = drawFor("front", request);
      const kind = pick(next, request, CHAOS_DELAY_FAULTS);
      if (kind === undefined) return undefined;
      count(kind);
      const share = kind === "slow-answer" ? SLOW_SHARE : LATE_SHARE;
      const delayMs = Math.round(timeoutMs * (share.min + next() * (share.max - share.min)));
      return { label: kind, delayMs, afterHandling: kind === "late-answer-after-handling" };
    },

    ledgerFaultFor(executionName) {
      const next = random(`ledger|${executionName}`);
      // BackToQueue's fault is drawn on its own stream, so adding it left the others' draws as they were.
      if (next() >= faultRate) return random(`requeue|${executionName}`)() < faultRate ? "killed-requeueing" : undefined;
      return HOLDING_FAULTS[Math.floor(next() * HOLDING_FAULTS.length)];
    },

    ledgerFaultInjected: count,

    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
  };
}

/** Requests one fault hits on average: a burst several in a row, anything else one. */
function meanLength(kind: ChaosRequestFault | ChaosDelayFault): number {
  return kind === "rate-limit-burst" || kind === "concurrency-burst" ? (BURST_LENGTH.min + BURST_LENGTH.max) / 2 : 1;
}

function weightOf(kinds: readonly (ChaosRequestFault | ChaosDelayFault)[]): number {
  return kinds.reduce((sum, kind) => sum + REQUEST_WEIGHTS[kind], 0);
}

function lastSegment(path: string): string {
  const segment = path.split("/").at(-1) ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** HTTP 200 bodies that are not JSON, as a misbehaving gateway or proxy sends them. */
const NON_JSON_BODIES = [
  {
    type: "malformed",
    body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
    contentType: "text/html",
  },
  { type: "malformed", body: "upstream connect error or disconnect/reset before headers", contentType: "text/plain" },
  { type: "malformed", body: "", contentType: "application/json" },
] as const;

/** A plausible answer cut short: never valid JSON, since a prefix of an object leaves it unclosed. */
function truncatedEnvelope(next: () => number): string {
  const full = JSON.stringify({
    code: 0,
    message: "SUCCEED",
    request_id: `chaos-${Math.floor(next() * 1e9).toString(36)}`,
    data: { task_id: "8f0c9a52-7d2e-4c1b-9e61-1f3a8c5d2b70", task_status: "processing", created_at: 1_767_225_600_000 },
  });
  return full.slice(0, 1 + Math.floor(next() * (full.length - 1)));
}
