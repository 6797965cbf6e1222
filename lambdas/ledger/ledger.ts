/**
 * The Ledger port: the account's Kling slots, the queue of executions waiting for one, and the
 * credits reserved by jobs in flight, shared by every generation whatever started it. The
 * adapter (dynamodb-ledger.ts) keeps it in one DynamoDB table, on AWS and locally (dynalite).
 * Executions are named by ARN: several pipelines may share one table.
 */

/** An execution holding a slot, and the redrive it acquired it in (a late event of an earlier run must not free it). */
export interface SlotHolder {
  readonly executionArn: string;
  readonly redriveCount: number;
}

/** An execution parked until a slot is free: its task token ends its WaitForSlot state. */
export interface Waiter extends SlotHolder {
  readonly taskToken: string;
  /** Epoch ms of its first arrival in the queue; its place in the queue for good. */
  readonly enqueuedAt: number;
}

/** What bounds a grant: the configured ceiling (`klingConcurrency`) and the quiet period before a probe. */
export interface SlotLimits {
  readonly ceiling: number;
  readonly quietMs: number;
}

/** The account's slots as the ledger has learnt them (lambdas/ledger/effective-limit.ts). */
export interface SlotAdmission {
  /** Slots the ledger grants now: the ceiling until a 1303, then what Kling let the pipeline run, climbing by probes. */
  readonly limit: number;
  /** Epoch ms of the limit's last change (a 1303 or a probe); undefined while it never changed. */
  readonly changedAt: number | undefined;
  /** Slots held now. */
  readonly held: number;
}

/** What giving a slot back after Kling's 1303 did. */
export interface RefusedSlotGivenBack {
  /** False when the execution held no slot (a repeat): the limit was left as it was. */
  readonly given: boolean;
  /** The effective limit afterwards. */
  readonly limit: number;
}

export interface CreditReservation {
  /** Whether this execution now holds a reservation (false: the packs, less the others', cannot pay). */
  readonly reserved: boolean;
  /** Units reserved by the other jobs in flight when the reservation was decided. */
  readonly reservedByOthers: number;
}

/** Everything the ledger holds now: 0, 0, 0 when nothing is in flight. */
export interface LedgerHoldings {
  readonly slotHolders: readonly string[];
  readonly waiters: number;
  readonly reservedUnits: number;
}

/** Where the delivery of one notification to a requester stands, as a claim on it finds it. */
export type NotificationClaim =
  /** Nobody delivered it and no live claim holds it: the claimant sends it now. */
  | "claimed"
  /** A delivery succeeded: it is never sent again. */
  | "delivered"
  /** Another claimant is sending it, its lease not yet over. */
  | "in-progress";

export interface Ledger {
  /**
   * Takes a slot unless `ceiling` or the effective limit are held (or grants are paused after a
   * 1303 that left nothing held). True when the execution holds one afterwards, including when
   * it already did (a retry, a re-run, a redrive never holds two).
   */
  takeSlot(holder: SlotHolder, ceiling: number, at: number): Promise<boolean>;
  /**
   * Takes one slot past the effective limit, raising it by one, when a probe is due (the limit
   * below the ceiling and quiet for `limits.quietMs`) and the limit's slots are all held.
   */
  probeSlot(holder: SlotHolder, limits: SlotLimits, at: number): Promise<boolean>;
  /**
   * Gives back the slot of an execution whose create Kling refused for concurrency (1303) and
   * lowers the effective limit to what the others hold (never below 1), in one write.
   */
  giveBackRefusedSlot(executionArn: string, limits: SlotLimits, at: number): Promise<RefusedSlotGivenBack>;
  /** The effective limit and the slots held, as the slots item says now. */
  admission(ceiling: number): Promise<SlotAdmission>;
  /** Whether the execution holds a slot now. */
  holdsSlot(executionArn: string): Promise<boolean>;
  /**
   * Gives the execution's slot back; false when it held none. With `acquiredUpTo`, only a slot
   * taken in that redrive or an earlier one.
   */
  giveBackSlot(executionArn: string, acquiredUpTo?: number): Promise<boolean>;
  /** Queues the execution, or gives its entry a new token keeping its place; returns the entry. */
  enqueue(holder: SlotHolder, taskToken: string, at: number): Promise<Waiter>;
  /**
   * Removes the execution's entry; with `taskToken`, only the entry holding that token (the one
   * who removes it is the one who answers it). Returns the entry removed.
   */
  leaveQueue(executionArn: string, taskToken?: string): Promise<Waiter | undefined>;
  /** The queue, oldest first; at most `limit` entries when given. */
  waiters(limit?: number): Promise<Waiter[]>;
  /** Reserves `units` for the execution if `availableUnits` less the others' reservations cover them; idempotent. */
  reserveCredits(executionArn: string, units: number, availableUnits: number, at: number): Promise<CreditReservation>;
  /** Ends the execution's reservation; returns the units it held (0 when none). */
  settleCredits(executionArn: string): Promise<number>;
  holdings(): Promise<LedgerHoldings>;
  /**
   * Claims the delivery of the requester notification `id` (its webhook-id) for `claimant`
   * until `leaseUntil` (epoch ms): a lapsed claim (a sender that died) may be taken over.
   */
  claimNotification(id: string, claimant: string, at: number, leaseUntil: number): Promise<NotificationClaim>;
  /**
   * Ends the claimant's claim: delivered, the notification is recorded until `keepUntil` (epoch
   * ms) and never claimed again; not delivered, the claim is given up for the next attempt.
   */
  settleNotification(id: string, claimant: string, delivered: boolean, keepUntil: number): Promise<void>;
}
