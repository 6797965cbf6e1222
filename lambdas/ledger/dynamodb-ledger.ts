/**
 * The Ledger in one DynamoDB table (partition key `pk`, sort key `sk`, both strings), with
 * single-item conditional writes only (no transactions: dynalite has none), each operation a
 * bounded number of reads and writes whatever the queue's length or the jobs in flight:
 * - the slots: one item whose `holders` map is keyed by execution ARN, so "take one if fewer
 *   than the limit are held, or keep the one held" is one conditional update; beside it the
 *   effective limit learnt from Kling's 1303s (effective-limit.ts), so a grant, a probe and a
 *   slot given back after a 1303 each change holders and limit in one write;
 * - the queue: one entry per waiter in one partition, its sort key the enqueue time, so the
 *   head is one `Limit 1` query; beside each entry, its place, keyed by execution ARN (which
 *   entry is its own, and its ticket), and the queue's counters (tickets handed out, entries
 *   removed): a waiter is found by its key, its position and the queue's length are counted.
 *   A place is written before its entry and removed after it, so a crash between the two
 *   leaves a place without an entry, which the execution's next enqueue or leave completes.
 *   A lane (a priority, a tenant) becomes a partition of its own, `slot-queue#<lane>`, with its
 *   own counters: places and counters already name the partition their entry is in;
 * - the credits: one item per reservation and a total item with their sum `reservedUnits`, so
 *   "reserve if the packs, less the total, cover the price" is one conditional update of the
 *   total. The total marks a reservation while its own item is written or removed (a `moving`
 *   attribute), so a crash between the two writes is completed by the next reserve or settle
 *   of that execution, never counted twice;
 * - the task waits (task-waits.ts): one item per Kling task whose WaitForVideo waits on a token.
 * - the requester notifications: one item per webhook-id, claimed before sending and marked
 *   delivered after, each expiring (DynamoDB's TTL) once no retry or repeated event can come.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { type AdmissionState, afterRefusal, effectiveLimit, probedLimit } from "./effective-limit";
import type {
  CreditReservation,
  LedgerReleases,
  Ledger,
  LedgerHoldings,
  NotificationClaim,
  RefusedSlotGivenBack,
  SlotAdmission,
  SlotHolder,
  SlotLimits,
  Waiter,
} from "./ledger";
import { CREDITS_KEY, type CreditsTotal, MOVING_PREFIX, type Moving, readCreditsTotal } from "./credits-total";

/** The table's key attributes: the stack's table and the local one are made from this. */
export const LEDGER_KEY_ATTRIBUTES = { partitionKey: "pk", sortKey: "sk" } as const;

/** The attribute DynamoDB's time to live reads (epoch seconds): the stack's table enables it. */
export const LEDGER_EXPIRY_ATTRIBUTE = "expiresAt";

/** The slots item: holders (`{redriveCount, acquiredAt}` by execution ARN) and the effective limit (a test clears the limit it learnt between its cases); in-flight.ts reads it too. */
export const SLOTS_KEY = { pk: "slots", sk: "holders" } as const;
const notificationKey = (id: string) => ({ pk: `requester-notification#${id}`, sk: "delivery" });
const NOTIFICATION_STATES = { sending: "sending", delivered: "delivered" } as const;
export const epochSeconds = (ms: number) => Math.ceil(ms / 1000);
/** The partition key of a reservation's own item begins so, then the execution's ARN (in-flight.ts lists them). */
export const RESERVATION_PARTITION_PREFIX = "credit-reservation#";
const reservationKey = (executionArn: string) => ({ pk: `${RESERVATION_PARTITION_PREFIX}${executionArn}`, sk: "reservation" });
const QUEUE_PARTITION = "slot-queue";
const queueCountersKey = (partition: string) => ({ pk: "slot-queue-counters", sk: partition });
const placeKey = (executionArn: string) => ({ pk: `slot-waiter#${executionArn}`, sk: "place" });

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

/** A read then a conditional write: another writer in between means read again, this many times at most. */
const WRITE_ATTEMPTS = 5;

interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** A queue item: its key, the waiter it holds, and its ticket (absent in entries queued before tickets). */
interface QueueEntry {
  readonly key: ItemKey;
  readonly waiter: Waiter;
  readonly ticket: number | undefined;
}

/** A waiter's place: its entry's key and ticket, and a version that a claim of the place changes. */
interface Place {
  readonly entryKey: ItemKey;
  readonly enqueuedAt: number;
  readonly ticket: number;
  readonly version: number;
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
  const { pk, sk, executionArn, redriveCount, taskToken, enqueuedAt, ticket } = item;
  if (
    typeof pk !== "string" ||
    typeof sk !== "string" ||
    typeof executionArn !== "string" ||
    typeof redriveCount !== "number" ||
    typeof taskToken !== "string" ||
    typeof enqueuedAt !== "number" ||
    (ticket !== undefined && typeof ticket !== "number")
  ) {
    throw new Error(`the ledger's queue holds an entry it cannot read: ${String(sk)}`);
  }
  return { key: { pk, sk }, waiter: { executionArn, redriveCount, taskToken, enqueuedAt }, ticket };
}

function toPlace(item: Record<string, unknown>): Place {
  const { entryPk, entrySk, enqueuedAt, ticket, version } = item;
  if (typeof entryPk !== "string" || typeof entrySk !== "string" || typeof enqueuedAt !== "number" || typeof ticket !== "number" || typeof version !== "number") {
    throw new Error(`the ledger holds a queue place it cannot read: ${String(item.pk)}`);
  }
  return { entryKey: { pk: entryPk, sk: entrySk }, enqueuedAt, ticket, version };
}



/**
 * What a release does with the ledger (give back, leave, settle, hand free slots over), in a
 * class of its own: a function that only releases bundles only this (lambdas/ledger/ports.ts).
 */
export class DynamoDbReleasingLedger implements LedgerReleases {
  /** The slots and credits items exist once made; each container makes sure of it once. */
  private readonly made = new Map<string, Promise<void>>();

  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    protected readonly tableName: string,
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

  async leaveQueue(executionArn: string, entry?: Pick<Waiter, "taskToken" | "enqueuedAt">): Promise<Waiter | undefined> {
    const place = await this.placeOf(executionArn);
    const entryKey = entry ? { pk: QUEUE_PARTITION, sk: queueSortKey(entry.enqueuedAt, executionArn) } : place?.entryKey;
    if (!entryKey) return undefined;
    const removed = await this.deleteEntry(entryKey, entry?.taskToken);
    // By token only the remover goes on; without one, a place whose entry is already gone (a leave half done) goes too.
    if (entry && !removed) return undefined;
    if (place && place.entryKey.sk === entryKey.sk && (await this.removePlace(executionArn, place))) await this.countLeft(entryKey.pk);
    return removed;
  }

  async waiters(limit?: number): Promise<Waiter[]> {
    const items = await this.queueItems(limit);
    return items.map((entry) => entry.waiter);
  }

  async settleCredits(executionArn: string): Promise<number> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const [own, total] = await Promise.all([this.reservationOf(executionArn), this.creditsTotal()]);
      const legacy = total.legacy[executionArn];
      const moving = total.moving[executionArn];
      if (legacy) {
        if (await this.takeOut(executionArn, legacy.units, "legacy")) return legacy.units;
      } else if (moving?.direction === "out") {
        // Another settle took it out of the total (or stopped half way): only its item and mark are left to remove.
        await this.completeSettle(executionArn, own !== undefined);
        return 0;
      } else {
        // Reserved, or being reserved (counted in the total, its own item perhaps not written yet).
        const reserved = moving ?? own;
        if (!reserved) return 0;
        if (await this.takeOut(executionArn, reserved.units, moving ? "moving-in" : "own")) {
          await this.completeSettle(executionArn, own !== undefined);
          return reserved.units;
        }
      }
    }
    throw new Error(`could not settle the credit reservation of ${executionArn}: it kept changing`);
  }

  async holdings(): Promise<LedgerHoldings> {
    const [slots, credits, queue] = await Promise.all([
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: SLOTS_KEY, ConsistentRead: true })),
      this.creditsTotal(),
      this.queueCount(),
    ]);
    // An empty queue whose counters say otherwise (a crash between an entry's write and its count): the counters are set right.
    if (queue.waiters === 0 && queue.counted !== 0) await this.resetCounters(QUEUE_PARTITION, queue.tickets, queue.left);
    const holders = (slots.Item?.holders ?? {}) as Record<string, unknown>;
    return { slotHolders: Object.keys(holders), waiters: queue.waiters, reservedUnits: credits.reservedUnits };
  }

  protected creditsTotal(): Promise<CreditsTotal> {
    return readCreditsTotal(this.documents, this.tableName);
  }

  protected async reservationOf(executionArn: string): Promise<{ readonly units: number } | undefined> {
    const answer = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: reservationKey(executionArn), ConsistentRead: true }));
    return answer.Item ? { units: Number(answer.Item.units) } : undefined;
  }

  /**
   * Takes the reservation's units out of the total if `condition` holds: a reservation from
   * before reservations had items (`legacy`) leaves the map; any other is marked `out` until
   * its item is removed.
   */
  protected takeOut(executionArn: string, units: number, from: "legacy" | "moving-in" | "own"): Promise<boolean> {
    const conditions = {
      legacy: "reservations.#execution.units = :units",
      "moving-in": "#moving.direction = :in",
      own: "attribute_not_exists(#moving) AND attribute_not_exists(reservations.#execution)",
    } as const;
    const legacy = from === "legacy";
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: CREDITS_KEY,
          UpdateExpression: legacy ? "SET reservedUnits = reservedUnits - :units REMOVE reservations.#execution" : "SET reservedUnits = reservedUnits - :units, #moving = :out",
          ConditionExpression: conditions[from],
          ExpressionAttributeNames: legacy ? { "#execution": executionArn } : { "#moving": `${MOVING_PREFIX}${executionArn}`, ...(from === "own" ? { "#execution": executionArn } : {}) },
          ExpressionAttributeValues: {
            ":units": units,
            ...(legacy ? {} : { ":out": { units, direction: "out" } }),
            ...(from === "moving-in" ? { ":in": "in" } : {}),
          },
        }),
      ),
    );
  }

  /** After the units left the total: the reservation's item goes, then its mark. */
  protected async completeSettle(executionArn: string, ownItem: boolean): Promise<void> {
    if (ownItem) await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: reservationKey(executionArn) }));
    await this.endMove(executionArn, "out");
  }

  /** Removes the reservation's mark from the total, if it still moves that way. */
  protected async endMove(executionArn: string, direction: Moving["direction"]): Promise<void> {
    await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: CREDITS_KEY,
          UpdateExpression: "REMOVE #moving",
          ConditionExpression: "#moving.direction = :direction",
          ExpressionAttributeNames: { "#moving": `${MOVING_PREFIX}${executionArn}` },
          ExpressionAttributeValues: { ":direction": direction },
        }),
      ),
    );
  }

  protected async placeOf(executionArn: string): Promise<Place | undefined> {
    const answer = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: placeKey(executionArn), ConsistentRead: true }));
    return answer.Item ? toPlace(answer.Item) : undefined;
  }

  /** Removes the place as it was read; false when it changed (claimed again) or is gone. */
  protected removePlace(executionArn: string, place: Place): Promise<boolean> {
    return conditionally(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: placeKey(executionArn),
          ConditionExpression: "version = :version",
          ExpressionAttributeValues: { ":version": place.version },
        }),
      ),
    );
  }

  /** Removes the entry (with a token, only while it holds that token); the waiter it held, when this call removed it. */
  protected async deleteEntry(entryKey: ItemKey, taskToken: string | undefined): Promise<Waiter | undefined> {
    try {
      const answer = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: entryKey,
          ConditionExpression: taskToken === undefined ? "attribute_exists(pk)" : "taskToken = :token",
          ...(taskToken === undefined ? {} : { ExpressionAttributeValues: { ":token": taskToken } }),
          ReturnValues: "ALL_OLD",
        }),
      );
      return answer.Attributes ? toQueueEntry(answer.Attributes).waiter : undefined;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  protected async countLeft(partition: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({ TableName: this.tableName, Key: queueCountersKey(partition), UpdateExpression: "ADD #left :one", ExpressionAttributeNames: { "#left": "left" }, ExpressionAttributeValues: { ":one": 1 } }),
    );
  }

  /**
   * The queue's length: tickets handed out less entries removed, read with the head. An empty
   * head is an empty queue, whatever the counters say (`counted`).
   */
  protected async queueCount(): Promise<{ waiters: number; counted: number; tickets: number; left: number; head: QueueEntry | undefined }> {
    const [counters, [head]] = await Promise.all([
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: queueCountersKey(QUEUE_PARTITION), ConsistentRead: true })),
      this.queueItems(1),
    ]);
    const tickets = Number(counters.Item?.tickets ?? 0);
    const left = Number(counters.Item?.left ?? 0);
    const counted = tickets - left;
    return { waiters: head ? Math.max(1, counted) : 0, counted, tickets, left, head };
  }

  /** Sets the counters of an empty queue to say so, unless a waiter came or left since they were read. */
  protected async resetCounters(partition: string, tickets: number, left: number): Promise<void> {
    await conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: queueCountersKey(partition),
          UpdateExpression: "SET #left = :tickets",
          ConditionExpression: "tickets = :tickets AND #left = :left",
          ExpressionAttributeNames: { "#left": "left" },
          ExpressionAttributeValues: { ":tickets": tickets, ":left": left },
        }),
      ),
    );
  }

  /** The queue partition, oldest first: the first `limit` entries, or every page without one. */
  protected async queueItems(limit?: number): Promise<QueueEntry[]> {
    const items: QueueEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :queue",
          ConsistentRead: true,
          ScanIndexForward: true,
          ExpressionAttributeValues: { ":queue": QUEUE_PARTITION },
          ...(limit === undefined ? {} : { Limit: limit - items.length }),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []).map(toQueueEntry));
      startKey = page.LastEvaluatedKey;
    } while (startKey && (limit === undefined || items.length < limit));
    return items;
  }

  /** Makes the item with these attributes unless it exists. */
  protected ensure(key: Record<string, string>, attributes: Record<string, unknown>): Promise<void> {
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

  protected async slotsItem(): Promise<SlotsItem> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: SLOTS_KEY, ConsistentRead: true }));
    const { holders, effectiveLimit: limit, limitChangedAt: changedAt } = Item ?? {};
    return {
      holders: (holders ?? {}) as Record<string, unknown>,
      limit: typeof limit === "number" ? limit : undefined,
      changedAt: typeof changedAt === "number" ? changedAt : undefined,
    };
  }
}

export class DynamoDbLedger extends DynamoDbReleasingLedger implements Ledger {
  async enqueue(holder: SlotHolder, taskToken: string, at: number): Promise<Waiter> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const place = await this.placeOf(holder.executionArn);
      if (place) {
        // Queued before: a new token, the same place.
        const waiter: Waiter = { ...holder, taskToken, enqueuedAt: place.enqueuedAt };
        if (await this.refreshEntry(place.entryKey, waiter)) return waiter;
        // Its entry is gone (a leave half done, or an enqueue that crashed between its writes): the place is claimed, then its entry written again.
        if (await this.claimPlace(holder.executionArn, place)) {
          await this.putEntry(place.entryKey, waiter, place.ticket);
          return waiter;
        }
        continue;
      }
      const entryKey = { pk: QUEUE_PARTITION, sk: queueSortKey(at, holder.executionArn) };
      const ticket = await this.takeTicket(entryKey.pk);
      if (!(await this.putPlace(holder.executionArn, { entryKey, enqueuedAt: at, ticket, version: 0 }))) {
        // Another enqueue of the same execution placed it first: its ticket counts, this one leaves at once.
        await this.countLeft(entryKey.pk);
        continue;
      }
      const waiter: Waiter = { ...holder, taskToken, enqueuedAt: at };
      await this.putEntry(entryKey, waiter, ticket);
      return waiter;
    }
    throw new Error(`could not queue ${holder.executionArn}: its place kept changing`);
  }

  async queueLength(): Promise<number> {
    return (await this.queueCount()).waiters;
  }

  async queuePosition(executionArn: string): Promise<number | undefined> {
    const [place, queue] = await Promise.all([this.placeOf(executionArn), this.queueCount()]);
    if (!place || !queue.head) return undefined;
    // Tickets from the head's to its own: an upper bound, as waiters that left from the middle still count; never more than wait.
    return Math.max(1, Math.min(place.ticket - (queue.head.ticket ?? 1) + 1, queue.waiters));
  }

  async reserveCredits(executionArn: string, units: number, availableUnits: number, at: number): Promise<CreditReservation> {
    await this.ensure(CREDITS_KEY, { reservedUnits: 0 });
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
      const [own, total] = await Promise.all([this.reservationOf(executionArn), this.creditsTotal()]);
      const legacy = total.legacy[executionArn];
      if (legacy) return { reserved: true, reservedByOthers: total.reservedUnits - legacy.units };
      const moving = total.moving[executionArn];
      if (moving?.direction === "in") {
        // Counted in the total by a reserve that stopped before its own item was written or the mark removed: completed.
        if (!own) await this.putReservation(executionArn, moving.units, at);
        await this.endMove(executionArn, "in");
        return { reserved: true, reservedByOthers: total.reservedUnits - moving.units };
      }
      if (moving?.direction === "out") {
        await this.completeSettle(executionArn, own !== undefined);
        continue;
      }
      if (own) return { reserved: true, reservedByOthers: total.reservedUnits - own.units };
      if (total.reservedUnits > availableUnits - units) return { reserved: false, reservedByOthers: total.reservedUnits };
      try {
        const answer = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: CREDITS_KEY,
            UpdateExpression: "SET reservedUnits = reservedUnits + :units, #moving = :moving",
            ConditionExpression: "attribute_not_exists(#moving) AND attribute_not_exists(reservations.#execution) AND reservedUnits <= :room",
            ExpressionAttributeNames: { "#moving": `${MOVING_PREFIX}${executionArn}`, "#execution": executionArn },
            ExpressionAttributeValues: { ":units": units, ":moving": { units, direction: "in" }, ":room": availableUnits - units },
            ReturnValues: "UPDATED_OLD",
          }),
        );
        await this.putReservation(executionArn, units, at);
        await this.endMove(executionArn, "in");
        return { reserved: true, reservedByOthers: Number(answer.Attributes?.reservedUnits ?? 0) };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
      // Another reservation took the room first, or another reserve of this execution marked it: read again.
    }
    throw new Error(`could not reserve credits for ${executionArn}: the total kept changing`);
  }

  async reservedUnits(): Promise<number> {
    return (await this.creditsTotal()).reservedUnits;
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



  private async putReservation(executionArn: string, units: number, at: number): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...reservationKey(executionArn), units, reservedAt: at } }));
  }

  private putPlace(executionArn: string, place: Place): Promise<boolean> {
    const { entryKey, ...rest } = place;
    return conditionally(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...placeKey(executionArn), entryPk: entryKey.pk, entrySk: entryKey.sk, ...rest },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  /** Makes the place this caller's: a leave that read it before cannot remove it any more. */
  private claimPlace(executionArn: string, place: Place): Promise<boolean> {
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: placeKey(executionArn),
          UpdateExpression: "SET version = :next",
          ConditionExpression: "version = :version",
          ExpressionAttributeValues: { ":version": place.version, ":next": place.version + 1 },
        }),
      ),
    );
  }

  private refreshEntry(entryKey: ItemKey, waiter: Waiter): Promise<boolean> {
    return conditionally(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: entryKey,
          UpdateExpression: "SET taskToken = :token, redriveCount = :redriveCount",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":token": waiter.taskToken, ":redriveCount": waiter.redriveCount },
        }),
      ),
    );
  }

  private async putEntry(entryKey: ItemKey, waiter: Waiter, ticket: number): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...entryKey, ...waiter, ticket } }));
  }

  /** The next ticket of the queue in `partition`: tickets count every waiter that ever came. */
  private async takeTicket(partition: string): Promise<number> {
    const answer = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: queueCountersKey(partition),
        UpdateExpression: "ADD tickets :one",
        ExpressionAttributeValues: { ":one": 1 },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    return Number(answer.Attributes?.tickets);
  }
}
