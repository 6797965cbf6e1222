/**
 * The account ledger on AWS: the DynamoDB table the stack names (lib/account-ledger.ts), with
 * what the slot functions work with derived from a container's ports.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { HandlerPorts } from "../common/ports";
import type { Environment } from "../common/config";
import { ledgerTableName } from "./config";
import { DynamoDbLedger } from "./dynamodb-ledger";
import type { Ledger } from "./ledger";
import type { SlotPorts } from "./slots";

/** The environment's ledger table, with its client, made on first use. */
export function dynamoDbLedgerFrom(env: Environment): () => Ledger {
  let ledger: Ledger | undefined;
  return () => {
    ledger ??= new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), ledgerTableName(env));
    return ledger;
  };
}

/** What the slot functions work with, from a container's ledger, task responses, settings and clock. */
export function slotPortsOf(ports: Pick<HandlerPorts, "ledger" | "taskResponses" | "settings" | "clock">): SlotPorts {
  return { ledger: ports.ledger(), responses: ports.taskResponses, settings: ports.settings.slots(), now: () => ports.clock.now() };
}
