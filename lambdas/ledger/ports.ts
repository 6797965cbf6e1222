/**
 * The account ledger on AWS: the DynamoDB table the stack names (lib/account-ledger.ts), with
 * what the slot functions work with derived from a container's ports.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { HandlerPorts } from "../common/ports";
import type { Environment } from "../common/config";
import { ledgerTableName } from "./config";
import { DynamoDbLedger, DynamoDbReleasingLedger } from "./dynamodb-ledger";
import type { Ledger, LedgerReleases } from "./ledger";
import type { SlotPorts } from "./slots";

/** The environment's ledger table, with its client, made on first use. */
export function dynamoDbLedgerFrom(env: Environment): () => Ledger {
  let ledger: Ledger | undefined;
  return () => {
    ledger ??= new DynamoDbLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), ledgerTableName(env));
    return ledger;
  };
}

/**
 * The environment's ledger as a release uses it, made on first use: a function that only
 * releases (Poll, ReleaseSlot, KlingCallback) bundles no more of the adapter.
 */
export function dynamoDbReleasingLedgerFrom(env: Environment): () => LedgerReleases {
  let ledger: LedgerReleases | undefined;
  return () => {
    ledger ??= new DynamoDbReleasingLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), ledgerTableName(env));
    return ledger;
  };
}

/** The ports of a function that only releases what executions hold in the ledger. */
export type ReleasingPorts<K extends keyof HandlerPorts> = Pick<HandlerPorts, Exclude<K, "ledger">> & { readonly ledger: () => LedgerReleases };

/** What the slot functions work with, from a container's ledger, task responses, settings and clock. */
export function slotPortsOf<L extends LedgerReleases>(
  ports: Pick<HandlerPorts, "taskResponses" | "settings" | "clock"> & { readonly ledger: () => L },
): SlotPorts<L> {
  return { ledger: ports.ledger(), responses: ports.taskResponses, settings: ports.settings.slots(), now: () => ports.clock.now() };
}
