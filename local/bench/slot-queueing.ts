/**
 * What the benchmark reads of the account ledger's queue from the generation executions' event
 * logs alone, so it counts the same before and after a change to how the ledger queues:
 * - a re-queue is a generation sent back to the queue after it had left it (a Submit answered
 *   1303 giving its slot back): every WaitForSlot entered beyond an execution's first (a parked
 *   wait looking again is a retry of the same entry, not a new one);
 * - time queued is the simulated time an execution spent inside WaitForSlot, all its entries
 *   together, from entering the state to leaving it (or failing in it).
 */
import type { EngineEvent } from "../runner/local-engine";

const WAIT_FOR_SLOT = "WaitForSlot";

interface Queueing {
  entries: number;
  seconds: number;
  enteredAt?: number;
}

export interface QueueFigures {
  /** WaitForSlot entries beyond the first, over all executions. */
  readonly requeues: number;
  /** Executions that entered WaitForSlot at least once. */
  readonly generations: number;
  /** Each such execution's time queued, in simulated seconds, ascending. */
  readonly secondsQueued: readonly number[];
}

export class SlotQueueing {
  private readonly byExecution = new Map<string, Queueing>();

  /** One event of a generation execution, in the order the engine emitted it. */
  record(executionName: string, event: EngineEvent): void {
    const queueing = this.byExecution.get(executionName) ?? { entries: 0, seconds: 0 };
    this.byExecution.set(executionName, queueing);
    if (event.type === "StateEntered" && event.stateName === WAIT_FOR_SLOT) {
      queueing.entries += 1;
      queueing.enteredAt = event.at;
    } else if (queueing.enteredAt !== undefined && (event.type === "StateExited" || event.type === "StateFailed" || event.stateName !== WAIT_FOR_SLOT)) {
      queueing.seconds += (event.at - queueing.enteredAt) / 1000;
      queueing.enteredAt = undefined;
    }
  }

  figures(): QueueFigures {
    const queued = [...this.byExecution.values()].filter((queueing) => queueing.entries > 0);
    return {
      requeues: queued.reduce((sum, queueing) => sum + queueing.entries - 1, 0),
      generations: queued.length,
      secondsQueued: queued.map((queueing) => queueing.seconds).sort((a, b) => a - b),
    };
  }
}

/** The nearest-rank percentile (`share` from 0 to 1) of ascending values; NaN for none. */
export function percentile(ascending: readonly number[], share: number): number {
  if (ascending.length === 0) return Number.NaN;
  return ascending[Math.min(ascending.length - 1, Math.max(0, Math.ceil(share * ascending.length) - 1))] ?? Number.NaN;
}
