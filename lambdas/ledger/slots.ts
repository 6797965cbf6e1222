/**
 * The account's Kling slots as the workflow uses them. WaitForSlot takes a slot or parks its
 * task token in the queue; a release gives the slot straight to the oldest waiter by answering
 * that token. Order matters where two writes race: a waiter queues first and then looks for a
 * free slot again, a release frees first and then looks at the queue, so one of them always
 * sees the other. Whoever removes a queue entry (by its token) is the one who answers it.
 */
import * as z from "zod";
import type { TaskResponses } from "../common/task-responses";
import { ERROR_KINDS, isKlingErrorName, KlingError } from "../errors";
import { logger } from "../observability/logger";
import { recordBackToQueue, recordSlotQueue, recordTimeQueued } from "../observability/metrics";
import { type SlotSettings, slotLimitsOf } from "./config";
import type { Ledger, SlotHolder, Waiter } from "./ledger";

export interface SlotPorts {
  readonly ledger: Ledger;
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

/**
 * BackToQueue's event: Submit's create was refused (its Catch's `{Error, Cause}`), and the
 * generation goes back to the queue at its first arrival, WaitForSlot's `queuedSince`.
 */
export const backToQueueEventSchema = waitForSlotEventSchema.extend({
  queuedSince: z.number().int().min(0),
  refusal: z.object({ Error: z.string().min(1), Cause: z.string().optional() }),
});
export type BackToQueueEvent = z.infer<typeof backToQueueEventSchema>;

/** WaitForSlot's and BackToQueue's result (under `$.slot`). */
export interface SlotGranted {
  /** How long the generation waited for its slot, from its first arrival. */
  readonly queuedSeconds: number;
  /** Epoch ms of its first arrival: the place it keeps if Kling sends it back to the queue. */
  readonly queuedSince: number;
}

/** A token nobody waits on any more: already answered, timed out, or its execution ended. */
const GONE_TOKEN_ERRORS = new Set(["TaskDoesNotExist", "TaskTimedOut", "InvalidToken"]);

/** Whether answering a token failed only because nobody waits on it any more. */
export function isGoneToken(error: unknown): boolean {
  return error instanceof Error && GONE_TOKEN_ERRORS.has(error.name);
}

async function grant(ports: SlotPorts, taskToken: string, enqueuedAt: number | undefined): Promise<boolean> {
  const now = ports.now();
  const queuedSince = enqueuedAt ?? now;
  const granted: SlotGranted = { queuedSeconds: Math.max(0, Math.round((now - queuedSince) / 1000)), queuedSince };
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
 * WaitForSlot (a waitForTaskToken Task): answers its own token at once when a slot is free and
 * nobody waits before it; otherwise leaves the token in the queue and returns, and a release
 * answers it. Invoked again
 * after the state's timeout (a wake-up that got lost), it keeps its place in the queue; past the
 * queue deadline it leaves the queue and fails with Kling.QueueTimeout.
 */
export async function waitForSlot(event: WaitForSlotEvent, ports: SlotPorts): Promise<"acquired" | "queued"> {
  const { ledger, settings, now } = ports;
  const holder: SlotHolder = { executionArn: event.executionArn, redriveCount: event.redriveCount };
  // A free slot while others wait is theirs (a release is handing it over, or a refused
  // generation waits at its first place): a newcomer takes one only when nobody waits before it.
  const arrivedAt = now();
  const [head] = await ledger.waiters(1);
  if ((head === undefined || head.executionArn === event.executionArn) && (await ledger.takeSlot(holder, settings.limit, now()))) {
    // The look and the take are two requests: one who queued in between (a refused generation
    // at its first place) is before it. Then the slot is theirs: back, and into the queue.
    const [before] = await ledger.waiters(1);
    if (before !== undefined && before.executionArn !== event.executionArn && before.enqueuedAt <= arrivedAt) {
      await ledger.giveBackSlot(event.executionArn);
      return queue(holder, event.taskToken, arrivedAt, ports);
    }
    // A waiter that timed out and came back may still have its entry: it has its slot now. Its
    // place is when it first arrived (a newcomer's: when it came, not when the grant was written).
    const entry = await ledger.leaveQueue(event.executionArn);
    await grant(ports, event.taskToken, entry?.enqueuedAt ?? arrivedAt);
    return "acquired";
  }
  return queue(holder, event.taskToken, arrivedAt, ports);
}

/**
 * BackToQueue (a waitForTaskToken Task, WaitForSlot's function): Kling refused Submit's create.
 * The generation gives its slot back (on a 1303 lowering the effective limit to what the others
 * hold, in the same write) and queues again at its first arrival, so nothing that arrived after
 * it starts before it; then it waits as WaitForSlot does. Safe to repeat (its timeout, a crash
 * between the two writes): a second run finds no slot to give back and keeps its place.
 */
export async function backToQueue(event: BackToQueueEvent, ports: SlotPorts): Promise<"acquired" | "queued"> {
  const { ledger, settings, now } = ports;
  const holder: SlotHolder = { executionArn: event.executionArn, redriveCount: event.redriveCount };
  const reason = event.refusal.Error;
  const concurrency = isKlingErrorName(reason) && ERROR_KINDS[reason].backToQueue === "concurrency";
  // Queued at its first place before its slot goes back: a newcomer never finds the slot free
  // and the queue without it (a release meanwhile stops at it: it holds a slot still).
  const entry = await ledger.enqueue(holder, event.taskToken, event.queuedSince);
  const given = concurrency
    ? await ledger.giveBackRefusedSlot(event.executionArn, slotLimitsOf(settings), now())
    : { given: await ledger.giveBackSlot(event.executionArn), limit: undefined };
  if (given.given) {
    recordBackToQueue(reason, given.limit);
    logger().info("back to the queue", { reason, queuedSince: new Date(event.queuedSince).toISOString(), effectiveLimit: given.limit });
  }
  return waitInQueue(holder, entry, ports);
}

/**
 * Queues the token at `arrivedAt` (an entry already there keeps its own place), ends the wait
 * past the deadline, then hands free slots to the oldest waiters, this one perhaps: a release
 * may have freed one since the first look, or a probe may be due.
 */
async function queue(holder: SlotHolder, taskToken: string, arrivedAt: number, ports: SlotPorts): Promise<"acquired" | "queued"> {
  return waitInQueue(holder, await ports.ledger.enqueue(holder, taskToken, arrivedAt), ports);
}

/** After the queueing: the deadline, then the hand-over of free slots to the oldest waiters, this one perhaps. */
async function waitInQueue(holder: SlotHolder, entry: Waiter, ports: SlotPorts): Promise<"acquired" | "queued"> {
  const { ledger, settings, now } = ports;
  const { taskToken } = entry;
  const queuedSeconds = (now() - entry.enqueuedAt) / 1000;
  if (queuedSeconds > settings.queue.deadlineSeconds) {
    await ledger.leaveQueue(holder.executionArn);
    throw new KlingError(
      "Kling.QueueTimeout",
      `waited ${Math.round(queuedSeconds)} s for one of the account's ${settings.limit} Kling slots, past the ${settings.queue.deadlineSeconds} s queue deadline`,
    );
  }
  // Only the remover of an entry answers it: if this token was handed a slot, it is answered.
  const woken = await wakeWaiters(ports);
  if (woken.some((waiter) => waiter.taskToken === taskToken)) return "acquired";
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
export async function releaseHolds(executionArn: string, ports: SlotPorts, acquiredUpTo?: number): Promise<Released> {
  const { ledger } = ports;
  // Three items, independent of each other: written at once.
  const [slot, , units] = await Promise.all([
    ledger.giveBackSlot(executionArn, acquiredUpTo),
    ledger.leaveQueue(executionArn),
    ledger.settleCredits(executionArn),
  ]);
  const woken = await wakeWaiters(ports);
  await measureQueue(ports);
  return { slot, units, woken: woken.length };
}

/** Slots in use, the effective limit, queue length and the oldest wait, as the dashboard and the oldest-waiter alarm read them. */
async function measureQueue({ ledger, settings, now }: SlotPorts): Promise<void> {
  const [holdings, admission, [oldest]] = await Promise.all([ledger.holdings(), ledger.admission(settings.limit), ledger.waiters(1)]);
  recordSlotQueue({
    slotsInUse: holdings.slotHolders.length,
    slotLimit: admission.limit,
    queueLength: holdings.waiters,
    oldestWaiterSeconds: oldest ? Math.max(0, Math.round((now() - oldest.enqueuedAt) / 1000)) : 0,
  });
}

/**
 * Hands free slots to the oldest waiters, one at a time, until the slots or the queue run out;
 * past the effective limit, the head probes one more slot when a probe is due. Also what ends a
 * lost wake-up early: any release, and any look of a waiter, looks at the whole queue's head.
 * Returns the waiters it gave a slot.
 */
async function wakeWaiters(ports: SlotPorts): Promise<Waiter[]> {
  const { ledger, settings, now } = ports;
  const woken: Waiter[] = [];
  for (;;) {
    const [oldest]: Waiter[] = await ledger.waiters(1);
    if (!oldest) return woken;
    // A refused generation between its queueing and its slot's give-back: it wakes the queue itself next.
    if (await ledger.holdsSlot(oldest.executionArn)) return woken;
    if (!(await ledger.takeSlot(oldest, settings.limit, now())) && !(await ledger.probeSlot(oldest, slotLimitsOf(settings), now()))) return woken;
    // Another release, or the waiter itself, may have got there first: only the remover answers.
    const removed = await ledger.leaveQueue(oldest.executionArn, oldest.taskToken);
    if (!removed) continue;
    if (await grant(ports, removed.taskToken, removed.enqueuedAt)) {
      woken.push(removed);
      continue;
    }
    // Nobody waits on that token (its park timed out, or its execution ended): the slot goes
    // back rather than stay with it, where BackToQueue's next look would take it for the refused
    // one and lower the limit again. A park that timed out looks again in a moment and queues
    // at its place; the slot goes to the next waiter now.
    await ledger.giveBackSlot(removed.executionArn);
  }
}
