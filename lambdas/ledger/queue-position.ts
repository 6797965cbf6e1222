/**
 * Where a generation stands in the queue for a Kling slot, what GET /generations/{id} reports
 * while it waits, and how many wait, which POST /generations holds against the queue's cap.
 */
import type { Ledger } from "./ledger";

export interface QueuePositions {
  /** 1 for the oldest waiter (an upper bound: see Ledger.queuePosition); undefined when the generation is not waiting for a slot. */
  positionOf(executionName: string): Promise<number | undefined>;
  /** How many generations wait for a slot (Ledger.queueLength). */
  waiting(): Promise<number>;
}

export class LedgerQueuePositions implements QueuePositions {
  constructor(
    private readonly ledger: Pick<Ledger, "queuePosition" | "queueLength">,
    /** The ledger knows executions by ARN; the API by name. */
    private readonly executionArnOf: (executionName: string) => string,
  ) {}

  async positionOf(executionName: string): Promise<number | undefined> {
    return this.ledger.queuePosition(this.executionArnOf(executionName));
  }

  waiting(): Promise<number> {
    return this.ledger.queueLength();
  }
}
