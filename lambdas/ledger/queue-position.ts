/** Where a generation stands in the queue for a Kling slot: what GET /generations/{id} reports while it waits. */
import type { Ledger } from "./ledger";

export interface QueuePositions {
  /** 1 for the oldest waiter; undefined when the generation is not waiting for a slot. */
  positionOf(executionName: string): Promise<number | undefined>;
}

export class LedgerQueuePositions implements QueuePositions {
  constructor(
    private readonly ledger: Ledger,
    /** The ledger knows executions by ARN; the API by name. */
    private readonly executionArnOf: (executionName: string) => string,
  ) {}

  async positionOf(executionName: string): Promise<number | undefined> {
    const executionArn = this.executionArnOf(executionName);
    const index = (await this.ledger.waiters()).findIndex((waiter) => waiter.executionArn === executionArn);
    return index < 0 ? undefined : index + 1;
  }
}
