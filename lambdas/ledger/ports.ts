/**
 * The ledger the functions of this container use: the DynamoDB table the stack names, made on
 * first use (the local runner sets the environment after importing the handlers, and installs
 * its own, on dynalite).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { now } from "../common/clock";
import { taskResponses } from "../common/task-responses";
import { ledgerTableName, slotSettings } from "./config";
import { DynamoDbLedger } from "./dynamodb-ledger";
import type { Ledger } from "./ledger";
import type { SlotPorts } from "./slots";

let current: Ledger | undefined;

export function ledger(): Ledger {
  current ??= new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), ledgerTableName());
  return current;
}

/** Replaces the ledger (local runner and tests only); returns a function that restores it. */
export function useLedger(replacement: Ledger): () => void {
  const previous = current;
  current = replacement;
  return () => {
    current = previous;
  };
}

/** What the slot functions work with, from this container's ledger, task responses, settings and clock. */
export function slotPorts(): SlotPorts {
  return { ledger: ledger(), responses: taskResponses(), settings: slotSettings(), now };
}
