/**
 * The Ledger port: the account's Kling slots, the queue of executions waiting for one, and the
 * credits reserved by jobs in flight, shared by every generation whatever started it. The
 * adapter (dynamodb-ledger.ts) keeps it in one DynamoDB table, on AWS and locally (dynalite).
 * Executions are named by ARN: several pipelines may share one table.
 */
import type { TaskEnd } from "../common/task-end";
import type { TaskView } from "../common/task-view";

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

/**
 * A Kling task whose WaitForVideo waits on a task token, kept under its external_task_id until
 * Kling's callback, or the fallback poll, confirms its end.
 */
export interface TaskWait {
  readonly executionArn: string;
  /** The task as WaitForVideo received it: what the callback answers the token with, plus the video. */
  readonly task: TaskView;
  /** The token of the latest WaitForVideo; an earlier one has timed out. */
  readonly taskToken: string;
  /** The end, once someone confirmed and claimed it. */
  readonly end?: TaskEnd | undefined;
}

/** Who confirmed a task's end first and acts on it. */
export type TaskEndClaim =
  /** This caller did: it releases the slot and answers the token. */
  | { readonly outcome: "claimed"; readonly wait: TaskWait }
  /** Someone did before (a duplicate, late or out-of-order callback, or the other of callback and poll). */
  | { readonly outcome: "claimed-before" }
  /** No WaitForVideo waits on this task (callbacks off, or a task this pipeline does not know). */
  | { readonly outcome: "unknown-task" };

export interface Ledger {
  /**
   * Takes a slot unless `limit` are held. True when the execution holds one afterwards,
   * including when it already did (a retry, a re-run, a redrive never holds two).
   */
  takeSlot(holder: SlotHolder, limit: number, at: number): Promise<boolean>;
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
   * Records the token WaitForVideo waits on for this task (one item per external_task_id, kept
   * until `expiresAt`, epoch ms). Returns the end if one was claimed before: the wait is then over.
   */
  recordTaskWait(externalTaskId: string, wait: Omit<TaskWait, "end">, expiresAt: number): Promise<TaskEnd | undefined>;
  /** The wait recorded for this task, if any. */
  taskWait(externalTaskId: string): Promise<TaskWait | undefined>;
  /** Claims the task's confirmed end, once: only the first caller for a task gets "claimed". */
  claimTaskEnd(externalTaskId: string, end: TaskEnd): Promise<TaskEndClaim>;
}
