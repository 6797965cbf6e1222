/**
 * The ledger on this machine: dynalite (DynamoDB's API, in memory) on 127.0.0.1 on a free port,
 * the table the stack declares, and the same DynamoDB adapter the Lambdas use on AWS.
 * Usable at once: the first request waits until the server listens and the table exists.
 */
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { DynamoDbLedger, LEDGER_KEY_ATTRIBUTES } from "#lambdas/ledger/dynamodb-ledger";
import { DynamoDbTaskWaits } from "#lambdas/ledger/task-waits";
import { DynamoDbLedgerInFlight } from "#lambdas/ledger/in-flight";

const LOCAL_TABLE_NAME = "kling-pipeline-ledger";

export interface LocalLedger {
  readonly ledger: DynamoDbLedger;
  /** WaitForVideo's tokens and the tasks' claimed ends, in the same table. */
  readonly taskWaits: DynamoDbTaskWaits;
  /** What the table holds, by execution: what the reconciliation reads. */
  readonly inFlight: DynamoDbLedgerInFlight;
  /** The raw client, for tests that look at the table itself. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Resolves with the endpoint once the server listens and the table exists. */
  readonly ready: Promise<URL>;
  close(): Promise<void>;
}

// Longer than 60 lines: dynalite's server and the ledger's table share one startup and shutdown, kept together.
export function startLocalLedger(): LocalLedger {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const listening = new Promise<URL>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
  });
  /** A client whose requests go out once `before` has resolved. */
  const clientAfter = (before: Promise<unknown>) =>
    new DynamoDBClient({
      region: "us-east-1",
      // dynalite checks that a request is signed, not by whom.
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      endpoint: async () => {
        await before;
        const url = await listening;
        return { protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: "/" };
      },
    });
  const { partitionKey, sortKey } = LEDGER_KEY_ATTRIBUTES;
  const tableMaker = clientAfter(listening);
  const tableMade = (async () => {
    await tableMaker.send(
      new CreateTableCommand({
        TableName: LOCAL_TABLE_NAME,
        AttributeDefinitions: [
          { AttributeName: partitionKey, AttributeType: "S" },
          { AttributeName: sortKey, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: partitionKey, KeyType: "HASH" },
          { AttributeName: sortKey, KeyType: "RANGE" },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  })();
  tableMade.catch(() => undefined); // Surfaces through `ready` and every request.
  const client = clientAfter(tableMade);
  const documents = DynamoDBDocumentClient.from(client);
  const ledger = new DynamoDbLedger(documents, LOCAL_TABLE_NAME);
  const taskWaits = new DynamoDbTaskWaits(documents, LOCAL_TABLE_NAME);
  const inFlight = new DynamoDbLedgerInFlight(documents, LOCAL_TABLE_NAME, ledger);
  // One read first: the client's first request sets it up, which no generation should wait for.
  const ready = tableMade.then(() => ledger.holdings()).then(() => listening);
  ready.catch(() => undefined); // Surfaces to whoever awaits it, and through every request.
  return {
    ledger,
    taskWaits,
    inFlight,
    client,
    tableName: LOCAL_TABLE_NAME,
    ready,
    async close() {
      client.destroy();
      tableMaker.destroy();
      await listening.catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
