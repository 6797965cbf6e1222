/**
 * The Ledger in one DynamoDB table (partition key `pk`, sort key `sk`, both strings), with
 * single-item conditional writes only (no transactions):
 * - the slots: one item whose `holders` map is keyed by execution ARN, so "take one if fewer
 *   than the limit are held, or keep the one held" is one conditional update; beside it the
 *   effective limit learnt from Kling's 1303s (effective-limit.ts), so a grant, a probe and a
 *   slot given back after a 1303 each change holders and limit in one write;
 * - the queue: one item per waiter in one partition, its sort key the enqueue time, so a
 *   Query reads it oldest first;
 * - the credits: one item with the reservations map and their total `reservedUnits`, so
 *   "reserve if the packs, less the total, cover the price" is one conditional update.
 * - the task waits (task-waits.ts): one item per Kling task whose WaitForVideo waits on a token.
 * - the requester notifications: one item per webhook-id, claimed before sending and marked
 *   delivered after, each expiring (DynamoDB's TTL) once no retry or repeated event can come.
 * The two maps bound what is in flight: an item holds at most 400 KB, some 2,000 reservations.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type AdmissionState, afterRefusal, effectiveLimit, probedLimit } from "./effective-limit";
import type {
  CreditReservation,
  Ledger,
  LedgerHoldings,
  NotificationClaim,
  RefusedSlotGivenBack,
  SlotAdmission,
  SlotHolder,
  SlotLimits,
  Waiter,
} from "./ledger";

/** The table's key attributes: the stack's table and the local one are made from this. */
export const LEDGER_KEY_ATTRIBUTES = { partitionKey: "pk", sortKey: "sk" } as const;

/** The attribute DynamoDB's time to live reads (epoch seconds): the stack's table enables it. */
export const LEDGER_EXPIRY_ATTRIBUTE = "expiresAt";

/** The slots item: holders (`{redriveCount, acquiredAt}` by execution ARN) and the effective limit (a test clears the limit it learnt between its cases); in-flight.ts reads it too. */
export const SLOTS_KEY = { pk: "slots", sk: "holders" } as const;
const notificationKey = (id: string) => ({ pk: `requester-notification#${id}`, sk: "delivery" });
const NOTIFICATION_STATES = { sending: "sending", delivered: "delivered" } as const;
export const epochSeconds = (ms: number) => Math.ceil(ms / 1000);
/** The credits item (its `reservations` map: `{units, reservedAt}` by execution ARN, and `reservedUnits`); in-flight.ts reads it too. */
export const CREDITS_KEY = { pk: "credits", sk: "reservations" } as const;
const QUEUE_PARTITION = "slot-queue";

/** Sort keys order as strings: enough digits for any epoch ms, then the ARN for ties. */
const queueSortKey = (enqueuedAt: number, executionArn: string) => `${String(enqueuedAt).padStart(15, "0")}#${executionArn}`;

/** The slots item's attributes beside `holders` (names, since DynamoDB reserves words like `limit`). */
const ADMISSION_NAMES = { "#limit": "effectiveLimit", "#changedAt": "limitChangedAt", "#resumeAt": "grantsResumeAt" } as const;

/**
 * Giving a refused slot back reads the item, then writes if nobody changed it; another writer in
 * between means read again, this many times before a write that only needs the slot still held.
 */
const REFUSAL_ATTEMPTS = 5;

/** The slots item as a probe or a refusal decides from it. */
interface SlotsItem extends AdmissionState {
  readonly holders: Readonly<Record<string, unknown>>;
}

/** Settling reads the reservation, then removes exactly it; another writer in between means read again. */
const SETTLE_ATTEMPTS = 5;

/** A queue item: its key, and the waiter it holds. */
interface QueueEntry {
  readonly key: { readonly pk: string; readonly sk: string };
  readonly waiter: Waiter;
}

export function isConditionFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === "ConditionalCheckFailedException");
}

/** Runs a conditional write; false when its condition did not hold. */
async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

function toQueueEntry(item: Record<string, unknown>): QueueEntry {
  const { pk, sk, executionArn, redriveCount, taskToken, enqueuedAt } = item;
  if (
    typeof pk !== "string" ||
    typeof sk !== "string" ||
    typeof executionArn !== "string" ||
    typeof redriveCount !== "number" ||
    typeof taskToken !== "string" ||
    typeof enqueuedAt !== "number"
  ) {
    throw new Error(`the ledger's queue holds an entry it cannot read: ${String(sk)}`);
  }
  return { key: { pk, sk }, waiter: { executionArn, redriveCount, taskToken, enqueuedAt } };
}

export class DynamoDbLedger implements Ledger {
  /** The slots and credits items exist once made; each container makes sure of it once. */
  private readonly made = new Map<string, Promise<void>>();

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async takeSlot(holder: SlotHolder, ceiling: number, at: number): Promise<boolean> {
    await this.ensure(SLOTS_KEY, { holders: {} });
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SLOTS_KEY,
          UpdateExpression: "SET holders.#execution = if_not_exists(holders.#execution, :holder)",
          // Held already; or below the ceiling and the effective limit, grants not paused by a 1303.
          ConditionExpression:
            "attribute_exists(holders.#execution) OR (size(holders) < :ceiling AND (attribute_not_exists(#limit) OR size(holders) < #limit) " +
            "AND (attribute_not_exists(#resumeAt) OR #resumeAt <= :at))",
          ExpressionAttributeNames: { "#execution": holder.executionArn, "#limit": ADMISSION_NAMES["#limit"], "#resumeAt": ADMISSION_NAMES["#resumeAt"] },
          ExpressionAttributeValues: { ":holder": { redriveCount: holder.redriveCount, acquiredAt: at }, ":ceiling": ceiling, ":at": at },
        }),
      ),
    );
  }

  async probeSlot(holder: SlotHolder, limits: SlotLimits, at: number): Promise<boolean> {
    await this.ensure(SLOTS_KEY, { holders: {} });
    const item = await this.slotsItem();
    if (item.holders[holder.executionArn] !== undefined) return true;
    const held = Object.keys(item.holders).length;
    const raised = probedLimit(item, limits.ceiling, limits.quietMs, at);
    // Only past a full limit: below it an ordinary grant is the way (or grants are paused).
    if (raised === undefined || held < effectiveLimit(item, limits.ceiling)) return false;
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SLOTS_KEY,
          UpdateExpression: "SET holders.#execution = :holder, #limit = :raised, #changedAt = :at",
          // Nobody granted, gave back or changed the limit since the read.
          ConditionExpression: "attribute_not_exists(holders.#execution) AND size(holders) = :held AND #changedAt = :changedAt",
          ExpressionAttributeNames: { "#execution": holder.executionArn, "#limit": ADMISSION_NAMES["#limit"], "#changedAt": ADMISSION_NAMES["#changedAt"] },
          ExpressionAttributeValues: {
            ":holder": { redriveCount: holder.redriveCount, acquiredAt: at },
            ":raised": raised,
            ":at": at,
            ":held": held,
            ":changedAt": item.changedAt ?? null,
          },
        }),
      ),
    );
  }

  async giveBackRefusedSlot(executionArn: string, limits: SlotLimits, at: number): Promise<RefusedSlotGivenBack> {
    await this.ensure(SLOTS_KEY, { holders: {} });
    for (let attempt = 0; ; attempt += 1) {
      const item = await this.slotsItem();
      if (item.holders[executionArn] === undefined) return { given: false, limit: effectiveLimit(item, limits.ceiling) };
      const held = Object.keys(item.holders).length;
      const refusal = afterRefusal(item, limits.ceiling, held - 1, limits.quietMs, at);
      // Nobody granted, gave back or changed the limit since the read, so the count lowered to is
      // the one read; when the slots keep changing, the last try only needs the slot still held.
      const unchanged = attempt < REFUSAL_ATTEMPTS;
      const names: Record<string, string> = { "#execution": executionArn, "#limit": ADMISSION_NAMES["#limit"], "#changedAt": ADMISSION_NAMES["#changedAt"] };
      const values: Record<string, unknown> = { ":limit": refusal.limit, ":at": refusal.changedAt };
      let update = "REMOVE holders.#execution SET #limit = :limit, #changedAt = :at";
      if (refusal.grantsResumeAt !== undefined) {
        update += ", #resumeAt = :resumeAt";
        names["#resumeAt"] = ADMISSION_NAMES["#resumeAt"];
        values[":resumeAt"] = refusal.grantsResumeAt;
      }
      let condition = "attribute_exists(holders.#execution)";
      if (unchanged) {
        condition += " AND size(holders) = :held AND (attribute_not_exists(#changedAt) OR #changedAt = :changedAt)";
        values[":held"] = held;
        values[":changedAt"] = item.changedAt ?? null;
      }
      const given = await conditionally(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: SLOTS_KEY,
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      if (given) return { given: true, limit: refusal.limit };
    }
  }

  async admission(ceiling: number): Promise<SlotAdmission> {
    const item = await this.slotsItem();
    return { limit: effectiveLimit(item, ceiling), changedAt: item.changedAt, held: Object.keys(item.holders).length };
  }

  async holdsSlot(executionArn: string): Promise<boolean> {
    return (await this.slotsItem()).holders[executionArn] !== undefined;
  }

  async giveBackSlot(executionArn: string, acquiredUpTo?: number): Promise<boolean> {
    await this.ensure(SLOTS_KEY, { holders: {} });
    const upTo = acquiredUpTo === undefined ? {} : { ":upTo": acquiredUpTo };
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SLOTS_KEY,
          UpdateExpression: "REMOVE holders.#execution",
          ConditionExpression:
            acquiredUpTo === undefined
              ? "attribute_exists(holders.#execution)"
              : "attribute_exists(holders.#execution) AND holders.#execution.redriveCount <= :upTo",
          ExpressionAttributeNames: { "#execution": executionArn },
          ...(acquiredUpTo === undefined ? {} : { ExpressionAttributeValues: upTo }),
        }),
      ),
    );
  }

  async enqueue(holder: SlotHolder, taskToken: string, at: number): Promise<Waiter> {
    const existing = await this.queueItemOf(holder.executionArn);
    if (existing) {
      const refreshed = await conditionally(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: existing.key,
            UpdateExpression: "SET taskToken = :token, redriveCount = :redriveCount",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":token": taskToken, ":redriveCount": holder.redriveCount },
          }),
        ),
      );
      if (refreshed) return { ...existing.waiter, taskToken, redriveCount: holder.redriveCount };
    }
    const waiter: Waiter = { ...holder, taskToken, enqueuedAt: existing?.waiter.enqueuedAt ?? at };
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: QUEUE_PARTITION, sk: queueSortKey(waiter.enqueuedAt, waiter.executionArn), ...waiter },
      }),
    );
    return waiter;
  }

  async leaveQueue(executionArn: string, taskToken?: string): Promise<Waiter | undefined> {
    const existing = await this.queueItemOf(executionArn);
    if (!existing) return undefined;
    const removed = await conditionally(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: existing.key,
          ConditionExpression: taskToken === undefined ? "attribute_exists(pk)" : "taskToken = :token",
          ...(taskToken === undefined ? {} : { ExpressionAttributeValues: { ":token": taskToken } }),
        }),
      ),
    );
    return removed ? existing.waiter : undefined;
  }

  async waiters(limit?: number): Promise<Waiter[]> {
    const items = await this.queueItems(limit === undefined ? {} : { Limit: limit });
    return items.map((entry) => entry.waiter);
  }

  async reserveCredits(executionArn: string, units: number, availableUnits: number, at: number): Promise<CreditReservation> {
    await this.ensure(CREDITS_KEY, { reservations: {}, reservedUnits: 0 });
    try {
      const answer = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: CREDITS_KEY,
          UpdateExpression: "SET reservations.#execution = :reservation, reservedUnits = reservedUnits + :units",
          ConditionExpression: "attribute_not_exists(reservations.#execution) AND reservedUnits <= :room",
          ExpressionAttributeNames: { "#execution": executionArn },
          ExpressionAttributeValues: { ":reservation": { units, reservedAt: at }, ":units": units, ":room": availableUnits - units },
          ReturnValues: "UPDATED_OLD",
        }),
      );
      return { reserved: true, reservedByOthers: Number(answer.Attributes?.reservedUnits ?? 0) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    // Already reserved (a retry or a redrive), or the room was too small: the item says which.
    const credits = await this.creditsItem();
    const own = credits.reservations[executionArn];
    return own === undefined
      ? { reserved: false, reservedByOthers: credits.reservedUnits }
      : { reserved: true, reservedByOthers: credits.reservedUnits - own.units };
  }

  async settleCredits(executionArn: string): Promise<number> {
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt += 1) {
      const own = (await this.creditsItem()).reservations[executionArn];
      if (own === undefined) return 0;
      const settled = await conditionally(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: CREDITS_KEY,
            UpdateExpression: "REMOVE reservations.#execution SET reservedUnits = reservedUnits - :units",
            ConditionExpression: "reservations.#execution.units = :units",
            ExpressionAttributeNames: { "#execution": executionArn },
            ExpressionAttributeValues: { ":units": own.units },
          }),
        ),
      );
      if (settled) return own.units;
    }
    throw new Error(`could not settle the credit reservation of ${executionArn}: it kept changing`);
  }

  async holdings(): Promise<LedgerHoldings> {
    const [slots, credits, queue] = await Promise.all([
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: SLOTS_KEY, ConsistentRead: true })),
      this.creditsItem(),
      this.queueItems({}),
    ]);
    const holders = (slots.Item?.holders ?? {}) as Record<string, unknown>;
    return { slotHolders: Object.keys(holders), waiters: queue.length, reservedUnits: credits.reservedUnits };
  }

  async claimNotification(id: string, claimant: string, at: number, leaseUntil: number): Promise<NotificationClaim> {
    const key = notificationKey(id);
    const claimed = await conditionally(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, state: NOTIFICATION_STATES.sending, claimant, leaseUntil, [LEDGER_EXPIRY_ATTRIBUTE]: epochSeconds(leaseUntil) },
          ConditionExpression: "attribute_not_exists(pk) OR (#state = :sending AND leaseUntil < :at)",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":sending": NOTIFICATION_STATES.sending, ":at": at },
        }),
      ),
    );
    if (claimed) return "claimed";
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item?.state === NOTIFICATION_STATES.delivered ? "delivered" : "in-progress";
  }

  async settleNotification(id: string, claimant: string, delivered: boolean, keepUntil: number): Promise<void> {
    const key = notificationKey(id);
    if (delivered) {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, state: NOTIFICATION_STATES.delivered, claimant, [LEDGER_EXPIRY_ATTRIBUTE]: epochSeconds(keepUntil) },
        }),
      );
      return;
    }
    // Only its own claim: another claimant may have taken a lapsed one over.
    await conditionally(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: "#state = :sending AND claimant = :claimant",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":sending": NOTIFICATION_STATES.sending, ":claimant": claimant },
        }),
      ),
    );
  }

  private async slotsItem(): Promise<SlotsItem> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: SLOTS_KEY, ConsistentRead: true }));
    const { holders, effectiveLimit: limit, limitChangedAt: changedAt } = Item ?? {};
    return {
      holders: (holders ?? {}) as Record<string, unknown>,
      limit: typeof limit === "number" ? limit : undefined,
      changedAt: typeof changedAt === "number" ? changedAt : undefined,
    };
  }

  private async creditsItem(): Promise<{ reservedUnits: number; reservations: Record<string, { units: number }> }> {
    const answer = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: CREDITS_KEY, ConsistentRead: true }));
    const item = answer.Item ?? {};
    return {
      reservedUnits: Number(item.reservedUnits ?? 0),
      reservations: (item.reservations ?? {}) as Record<string, { units: number }>,
    };
  }

  private async queueItemOf(executionArn: string): Promise<QueueEntry | undefined> {
    const [item] = await this.queueItems({
      FilterExpression: "executionArn = :execution",
      ExpressionAttributeValues: { ":execution": executionArn },
    });
    return item;
  }

  /** The queue partition, oldest first, every page (a Limit stops after that many). */
  private async queueItems(query: Partial<QueryCommandInput>): Promise<QueueEntry[]> {
    const items: QueueEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :queue",
          ConsistentRead: true,
          ScanIndexForward: true,
          ...query,
          ExpressionAttributeValues: { ":queue": QUEUE_PARTITION, ...query.ExpressionAttributeValues },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map(toQueueEntry));
      startKey = page.LastEvaluatedKey;
    } while (startKey && (query.Limit === undefined || items.length < query.Limit));
    return items;
  }

  /** Makes the item with these attributes unless it exists. */
  private ensure(key: Record<string, string>, attributes: Record<string, unknown>): Promise<void> {
    const name = `${key.pk}/${key.sk}`;
    let made = this.made.get(name);
    if (!made) {
      made = conditionally(() =>
        this.documents.send(
          new PutCommand({ TableName: this.tableName, Item: { ...key, ...attributes }, ConditionExpression: "attribute_not_exists(pk)" }),
        ),
      ).then(() => undefined);
      made.catch(() => this.made.delete(name));
      this.made.set(name, made);
    }
    return made;
  }
}
