/**
 * Seeded random callback faults, for the chaos run and the benchmark ("20% of callbacks lost":
 * `{ seed, rate: 0.2, kinds: ["drop"] }`). Each callback's draw is keyed by the seed, its task's
 * external_task_id and the status it reports, so the same seed faults the same callbacks
 * however the run interleaves (a task without an external_task_id is keyed by its random task_id).
 */
import { hash32, mulberry32 } from "./chaos-plan";
import { CALLBACK_FAULT_KINDS, type CallbackFault, type CallbackFaultKind, type CallbackInfo } from "./faults";

const DEFAULT_DELAY_SECONDS = 60;

export interface CallbackFaultOptions {
  readonly seed: number;
  /** The share of callbacks that get a fault, from 0 to 1. */
  readonly rate: number;
  /** The faults drawn from, evenly; every kind by default. */
  readonly kinds?: readonly CallbackFaultKind[];
  /** How many simulated seconds a delayed callback comes late; 60 by default. */
  readonly delaySeconds?: number;
}

/** The fault of each callback, drawn from the seed; a RangeError for options that make no sense. */
export function seededCallbackFaults(options: CallbackFaultOptions): (callback: CallbackInfo) => CallbackFault | undefined {
  const { seed, rate, kinds = CALLBACK_FAULT_KINDS, delaySeconds = DEFAULT_DELAY_SECONDS } = options;
  if (!Number.isInteger(seed)) throw new RangeError(`callbackFaults.seed must be a whole number, got ${seed}`);
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`callbackFaults.rate must be from 0 to 1, got ${rate}`);
  if (kinds.length === 0) throw new RangeError("callbackFaults.kinds must name at least one fault");
  const unknown = kinds.filter((kind) => !(CALLBACK_FAULT_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new RangeError(`callbackFaults.kinds: ${unknown.join(", ")} is not one of ${CALLBACK_FAULT_KINDS.join(", ")}`);
  if (!(delaySeconds >= 0)) throw new RangeError(`callbackFaults.delaySeconds must be 0 or more, got ${delaySeconds}`);
  return (callback) => {
    const next = mulberry32(hash32(`${seed}|callback|${callback.externalTaskId ?? callback.taskId}|${callback.status}`));
    if (next() >= rate) return undefined;
    const kind = kinds[Math.floor(next() * kinds.length)];
    return kind === "delay" ? { kind, seconds: delaySeconds } : { kind };
  };
}
