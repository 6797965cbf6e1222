import { afterAll, beforeAll, beforeEach } from "vitest";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type DynamoDbLedger, SLOTS_KEY } from "#lambdas/ledger/dynamodb-ledger";
import type { DynamoDbTaskWaits } from "#lambdas/ledger/task-waits";
import type { DynamoDbLedgerInFlight } from "#lambdas/ledger/in-flight";
import { type LocalLedger, startLocalLedger } from "#local/ledger/local-ledger";

export interface LedgerOnDynalite {
  /** The adapter, against the file's dynalite. */
  readonly ledger: DynamoDbLedger;
  /** The task waits' adapter, on the same table. */
  readonly taskWaits: DynamoDbTaskWaits;
  /** What the table holds by execution (the reconciliation's port), on the same table. */
  readonly inFlight: DynamoDbLedgerInFlight;
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
  const ledger = () => {
    if (!local) throw new Error("the ledger starts before the file's tests");
    return local.ledger;
  };
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
  });
  return {
    get ledger() {
      return ledger();
    },
    get taskWaits() {
      if (!local) throw new Error("the ledger starts before the file's tests");
      return local.taskWaits;
    },
    get inFlight() {
      if (!local) throw new Error("the ledger starts before the file's tests");
      return local.inFlight;
    },
    arn: (name) => `arn:aws:states:us-east-1:123456789012:execution:Generation:t${run}-${name}`,
  };
}
