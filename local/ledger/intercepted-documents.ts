/**
 * A DynamoDB document client whose every request passes through a function first: to count
 * what the ledger's operations cost (local/bench/ledger-units.ts), or to fail one request as a
 * Lambda killed between two writes would (the ledger's tests). Everything else is the client's.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type DocumentCommand = Parameters<DynamoDBDocumentClient["send"]>[0];

/** Sends the command on (`send`), or not; its answer is what the client answers. */
export type AroundRequest = (command: DocumentCommand, send: () => Promise<unknown>) => Promise<unknown>;

export function interceptedDocuments(documents: DynamoDBDocumentClient, around: AroundRequest): DynamoDBDocumentClient {
  const intercepted = Object.create(documents) as DynamoDBDocumentClient;
  const send = (command: DocumentCommand) => around(command, () => documents.send(command));
  intercepted.send = send as DynamoDBDocumentClient["send"];
  return intercepted;
}

/** The request's kind as DynamoDB names it: GetItem, Query, PutItem, UpdateItem, DeleteItem. */
export function requestKind(command: DocumentCommand): string {
  return command.constructor.name.replace(/Command$/, "").replace(/^(Get|Put|Update|Delete)$/, "$1Item");
}
