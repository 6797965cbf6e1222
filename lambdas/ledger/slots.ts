/**
 * The account's Kling slots as the workflow uses them. WaitForSlot takes a slot or parks its
 * task token in the queue; a release gives the slot straight to the oldest waiter by answering
 * that token. Order matters where two writes race: a waiter queues first and then looks for a
 * free slot again, a release frees first and then looks at the queue, so one of them always
 * sees the other. Whoever removes a queue entry (by its token) is the one who answers it.
 */
import * as z from "zod";
import type { TaskResponses } from "../common/task-responses";
import { KlingError } from "../errors";
import { logger } from "../observability/logger";
import { recordSlotQueue, recordTimeQueued } from "../observability/metrics";
import type { SlotSettings } from "./config";
import type { Ledger, LedgerReleases, SlotHolder, Waiter } from "./ledger";

/** What the slot functions work with; a release needs only the ledger's `LedgerReleases`. */
export interface SlotPorts<L extends LedgerReleases = Ledger> {
  readonly ledger: L;
  readonly responses: TaskResponses;
  readonly settings: SlotSettings;
  readonly now: () => number;
}

export const waitForSlotEventSchema = z.object({
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  /** `$$.Execution.RedriveCount`: a late release for an earlier run never frees this one's slot. */
  redriveCount: z.number().int().min(0),
});
export type WaitForSlotEvent = z.infer<typeof waitForSlotEventSchema>;

/** WaitForSlot's result (under `$.slot`): how long the generation waited for its slot. */
export interface SlotGranted {
  readonly queuedSeconds: number;
}

/** A token nobody waits on any more: already answered, timed out, or its execution ended. */
const GONE_TOKEN_ERRORS = new Set(["TaskDoesNotExist", "TaskTimedOut", "InvalidToken"]);

/** Whether answering a token failed only because nobody waits on it any more. */
export function isGoneToken(error: unknown): boolean {
  return error instanceof Error && GONE_TOKEN_ERRORS.has(error.name);
}

async function grant(ports: SlotPorts<LedgerReleases>, taskToken: string, enqueuedAt: number | undefined): Promise<boolean> {
  const granted: SlotGranted = { queuedSeconds: enqueuedAt === undefined ? 0 : Math.max(0, Math.round((ports.now() - enqueuedAt) / 1000)) };
  try {
    await ports.responses.succeed(taskToken, JSON.stringify(granted));
    recordTimeQueued(granted.queuedSeconds);
    return true;
  } catch (error) {
    if (isGoneToken(error)) return false;
    throw error;
  }
}

/**
 * WaitForSlot (a waitForTaskToken Task): answers its own token at once when a slot is free;
 * otherwise leaves the token in the queue and returns, and a release answers it. Invoked again
 * after the state's timeout (a wake-up that got lost), it keeps its place in the queue; past the
 * queue deadline it leaves the queue and fails with Kling.QueueTimeout.
 */
export async function waitForSlot(event: WaitForSlotEvent, ports: SlotPorts): Promise<"acquired" | "queued"> {
  const { ledger, settings, now } = ports;
  const holder: SlotHolder = { executionArn: event.executionArn, redriveCount: event.redriveCount };
  if (await ledger.takeSlot(holder, settings.limit, now())) {
    // A waiter that timed out and came back may still have its entry: it has its slot now.
    const entry = await ledger.leaveQueue(event.executionArn);
    await grant(ports, event.taskToken, entry?.enqueuedAt);
    return "acquired";
  }
  const entry = await ledger.enqueue(holder, event.taskToken, now());
  const queuedSeconds = (now() - entry.enqueuedAt) / 1000;
  if (queuedSeconds > settings.queue.deadlineSeconds) {
    await ledger.leaveQueue(event.executionArn);
    throw new KlingError(
      "Kling.QueueTimeout",
      `waited ${Math.round(queuedSeconds)} s for one of the account's ${settings.limit} Kling slots, past the ${settings.queue.deadlineSeconds} s queue deadline`,
    );
  }
  // A release may have freed a slot between the first look and the queueing: look again.
  if (await ledger.takeSlot(holder, settings.limit, now())) {
    // Removed by token: if a release removed it first, that release answers the token.
    const own = await ledger.leaveQueue(event.executionArn, entry);
    if (own) await grant(ports, event.taskToken, own.enqueuedAt);
    return "acquired";
  }
  logger().info("waiting for a Kling slot", { queuedSince: new Date(entry.enqueuedAt).toISOString() });
  await measureQueue(ports);
  return "queued";
}

/** What a release gave back. */
export interface Released {
  readonly slot: boolean;
  readonly units: number;
  /** Waiters given a slot by this release. */
  readonly woken: number;
}

/**
 * Gives back what the execution holds: its slot (with `acquiredUpTo`, only one taken in that
 * redrive or before), its place in the queue, its credit reservation; then hands free slots to
 * the oldest waiters. Safe to repeat: a second release finds nothing to give back.
 */
export async function releaseHolds(executionArn: string, ports: SlotPorts<LedgerReleases>, acquiredUpTo?: number): Promise<Released> {
  const { ledger } = ports;
  // Independent items, written at once; the credits, which no waiter waits on, settle while the freed slot is handed over.
  const settled = ledger.settleCredits(executionArn);
  settled.catch(() => undefined); // Surfaces below, once the hand-over is done.
  const [slot] = await Promise.all([ledger.giveBackSlot(executionArn, acquiredUpTo), ledger.leaveQueue(executionArn)]);
  const woken = await wakeWaiters(ports);
  const units = await settled;
  await measureQueue(ports);
  return { slot, units, woken };
}

/** Slots in use, queue length and the oldest wait, as the dashboard and the oldest-waiter alarm read them. */
async function measureQueue({ ledger, now }: SlotPorts<LedgerReleases>): Promise<void> {
  const [holdings, [oldest]] = await Promise.all([ledger.holdings(), ledger.waiters(1)]);
  recordSlotQueue({
    slotsInUse: holdings.slotHolders.length,
    queueLength: holdings.waiters,
    oldestWaiterSeconds: oldest ? Math.max(0, Math.round((now() - oldest.enqueuedAt) / 1000)) : 0,
  });
}

/**
 * Hands free slots to the oldest waiters, one at a time, until the slots or the queue run out.
 * Also what ends a lost wake-up early: any release looks at the whole queue's head.
 */
async function wakeWaiters(ports: SlotPorts<LedgerReleases>): Promise<number> {
  const { ledger, settings, now } = ports;
  let woken = 0;
  for (;;) {
    const [oldest]: Waiter[] = await ledger.waiters(1);
    if (!oldest) return woken;
    if (!(await ledger.takeSlot(oldest, settings.limit, now()))) return woken;
    // Another release, or the waiter itself, may have got there first: only the remover answers.
    const removed = await ledger.leaveQueue(oldest.executionArn, oldest);
    if (removed && (await grant(ports, removed.taskToken, removed.enqueuedAt))) woken += 1;
  }
}
