/**
 * What the ledger holds, execution by execution: the port the reconciliation reads
 * (lambdas/reconcile-ledger), a port of its own beside the Ledger's (as the task waits are) so
 * that only the reconciliation's bundle carries it. The adapter reads the slots and credits items
 * the DynamoDB ledger keeps (dynamodb-ledger.ts), and the queue through the Ledger port itself.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Environment } from "../common/config";
import { ledgerTableName } from "./config";
import { CREDITS_KEY, DynamoDbLedger, SLOTS_KEY } from "./dynamodb-ledger";
import type { Ledger } from "./ledger";

/** One execution's entry of one kind in the ledger, and since when it is there. */
export interface InFlightEntry {
  readonly executionArn: string;
  /** Epoch ms: when the slot was taken, the queue joined, the credits reserved (0 when the entry does not say). */
  readonly since: number;
}

/** Every execution the ledger holds something for, by kind (an execution may be in several), each kind oldest first. */
export interface InFlight {
  readonly holders: readonly InFlightEntry[];
  readonly waiters: readonly InFlightEntry[];
  readonly reservations: readonly InFlightEntry[];
}

export interface LedgerInFlight {
  /**
   * Every slot holder, waiter and credit reservation, with its execution's ARN and since when;
   * all of them, every page read. Nothing is changed: the reconciliation frees what it finds
   * ended through the Ledger port (giveBackSlot, leaveQueue, settleCredits).
   */
  inFlight(): Promise<InFlight>;
}

/** A map keyed by execution ARN as in-flight entries, oldest first. */
function entriesOf(map: unknown, since: string): InFlightEntry[] {
  return Object.entries((map ?? {}) as Record<string, Record<string, unknown>>)
    .map(([executionArn, entry]) => ({ executionArn, since: Number(entry[since] ?? 0) }))
    .sort((a, b) => a.since - b.since);
}

export class DynamoDbLedgerInFlight implements LedgerInFlight {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The same table's ledger: its queue, every page, oldest first. */
    private readonly ledger: Pick<Ledger, "waiters">,
  ) {}

  async inFlight(): Promise<InFlight> {
    const read = (Key: Record<string, string>) => this.documents.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    const [slots, credits, waiters] = await Promise.all([read(SLOTS_KEY), read(CREDITS_KEY), this.ledger.waiters()]);
    return {
      holders: entriesOf(slots.Item?.holders, "acquiredAt"),
      waiters: waiters.map((waiter) => ({ executionArn: waiter.executionArn, since: waiter.enqueuedAt })),
      reservations: entriesOf(credits.Item?.reservations, "reservedAt"),
    };
  }
}

/** The environment's ledger table read as in flight, with its client, made on first use. */
export function dynamoDbLedgerInFlightFrom(env: Environment): () => LedgerInFlight {
  let inFlight: LedgerInFlight | undefined;
  return () => {
    if (!inFlight) {
      const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
      inFlight = new DynamoDbLedgerInFlight(documents, ledgerTableName(env), new DynamoDbLedger(documents, ledgerTableName(env)));
    }
    return inFlight;
  };
}
