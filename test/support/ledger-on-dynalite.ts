import { afterAll, beforeAll, beforeEach } from "vitest";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDbLedger, SLOTS_KEY } from "#lambdas/ledger/dynamodb-ledger";
import type { DynamoDbTaskWaits } from "#lambdas/ledger/task-waits";
import type { DynamoDbLedgerInFlight } from "#lambdas/ledger/in-flight";
import { type AroundRequest, interceptedDocuments } from "#local/ledger/intercepted-documents";
import { type LocalLedger, startLocalLedger } from "#local/ledger/local-ledger";

export interface LedgerOnDynalite {
  /** The adapter, against the file's dynalite. */
  readonly ledger: DynamoDbLedger;
  /** The task waits' adapter, on the same table. */
  readonly taskWaits: DynamoDbTaskWaits;
  /** What the table holds by execution (the reconciliation's port), on the same table. */
  readonly inFlight: DynamoDbLedgerInFlight;
  /** The table's document client and name, for tests that write items as an older version of the adapter did. */
  readonly table: { readonly documents: DynamoDBDocumentClient; readonly tableName: string };
  /** Another adapter on the same table, each of its requests passing through `around` (to count them, or to fail one). */
  ledgerAround(around: AroundRequest): DynamoDbLedger;
  /** An execution ARN of this test's own: tests never see each other's executions. */
  arn(name: string): string;
}

/**
 * One dynalite ledger for the test file, started before its tests and stopped after them;
 * every test starts with no slot held, nobody queued and no effective limit learnt.
 */
export function ledgerOnDynalite(): LedgerOnDynalite {
  let local: LocalLedger | undefined;
  let run = 0;
  beforeAll(async () => {
    local = startLocalLedger();
    await local.ready;
  });
  afterAll(() => local?.close());
  const started = () => {
    if (!local) throw new Error("the ledger starts before the file's tests");
    return local;
  };
  const ledger = () => started().ledger;
  beforeEach(async () => {
    run += 1;
    const { slotHolders } = await ledger().holdings();
    for (const holder of slotHolders) await ledger().giveBackSlot(holder);
    for (const waiter of await ledger().waiters()) await ledger().leaveQueue(waiter.executionArn);
    if (local && (await ledger().admission(1)).changedAt !== undefined) {
      await DynamoDBDocumentClient.from(local.client).send(
        new UpdateCommand({ TableName: local.tableName, Key: SLOTS_KEY, UpdateExpression: "REMOVE effectiveLimit, limitChangedAt, grantsResumeAt" }),
      );
    }
    // Read on an empty queue, the holdings set its counters right (a test may have left them off with a crash).
    await ledger().holdings();
  });
  return {
    get ledger() {
      return ledger();
    },
    get taskWaits() {
      return started().taskWaits;
    },
    get inFlight() {
      if (!local) throw new Error("the ledger starts before the file's tests");
      return local.inFlight;
    },
    get table() {
      return { documents: started().documents, tableName: started().tableName };
    },
    ledgerAround: (around) => new DynamoDbLedger(interceptedDocuments(started().documents, around), started().tableName),
    arn: (name) => `arn:aws:states:us-east-1:123456789012:execution:Generation:t${run}-${name}`,
  };
}
