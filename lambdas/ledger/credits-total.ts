/**
 * The credits' total item in the ledger's table: the sum of the reservations in flight, which
 * the DynamoDB ledger reserves against and PriceBatch prices a batch against. A module of its
 * own so that PriceBatch, which only reads the total, carries no more (its bundle is bounded).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Environment } from "../common/config";
import { ledgerTableName } from "./config";
import type { Ledger } from "./ledger";

/** The total's key; its `reservations` map holds the reservations made before each had an item of its own (settled from there). */
export const CREDITS_KEY = { pk: "credits", sk: "reservations" } as const;

/** The total's mark of a reservation whose own item is being written (`in`) or removed (`out`): a top-level attribute per execution. */
export const MOVING_PREFIX = "moving#";

export interface Moving {
  readonly units: number;
  readonly direction: "in" | "out";
}

export interface CreditsTotal {
  readonly reservedUnits: number;
  /** The reservations whose own item is being written or removed, by execution ARN. */
  readonly moving: Readonly<Record<string, Moving>>;
  /** Reservations made before they had items of their own, by execution ARN. */
  readonly legacy: Readonly<Record<string, { readonly units: number }>>;
}

function toCreditsTotal(item: Record<string, unknown> | undefined): CreditsTotal {
  const moving: Record<string, Moving> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (!name.startsWith(MOVING_PREFIX)) continue;
    const { units, direction } = (value ?? {}) as Record<string, unknown>;
    if (typeof units !== "number" || (direction !== "in" && direction !== "out")) throw new Error(`the ledger's credit total holds a mark it cannot read: ${name}`);
    moving[name.slice(MOVING_PREFIX.length)] = { units, direction };
  }
  return {
    reservedUnits: Number(item?.reservedUnits ?? 0),
    moving,
    legacy: (item?.reservations ?? {}) as Record<string, { units: number }>,
  };
}

export async function readCreditsTotal(documents: DynamoDBDocumentClient, tableName: string): Promise<CreditsTotal> {
  const answer = await documents.send(new GetCommand({ TableName: tableName, Key: CREDITS_KEY, ConsistentRead: true }));
  return toCreditsTotal(answer.Item);
}

/** The environment's credits total, read alone (one GetItem), with its client made on first use. */
export function dynamoDbCreditsTotalFrom(env: Environment): () => Pick<Ledger, "reservedUnits"> {
  let documents: DynamoDBDocumentClient | undefined;
  const reader = {
    async reservedUnits() {
      documents ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
      return (await readCreditsTotal(documents, ledgerTableName(env))).reservedUnits;
    },
  };
  return () => reader;
}
