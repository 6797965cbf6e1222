/**
 * WaitForSlot: takes one of the account's Kling slots, or parks the execution's task token in the
 * queue; and BackToQueue, the same wait after Kling refused Submit's create, which gives the slot
 * back first and keeps the generation's first place (lambdas/ledger/slots.ts).
 */
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { sfnTaskResponses } from "../common/task-responses";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { backToQueue, backToQueueEventSchema, waitForSlot, waitForSlotEventSchema } from "../ledger/slots";
import { observed } from "../observability/logger";

/** BackToQueue's payload is WaitForSlot's with the refusal that sent the generation back. */
function isBackToQueue(event: unknown): boolean {
  return typeof event === "object" && event !== null && "refusal" in event;
}

export function waitForSlotHandler(ports: Pick<HandlerPorts, "ledger" | "taskResponses" | "settings" | "clock">) {
  return observed((event: unknown) =>
    isBackToQueue(event)
      ? backToQueue(parseEvent(backToQueueEventSchema, event, "BackToQueue"), slotPortsOf(ports))
      : waitForSlot(parseEvent(waitForSlotEventSchema, event, "WaitForSlot"), slotPortsOf(ports)),
  );
}

export const handler = waitForSlotHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  ledger: dynamoDbLedgerFrom(process.env),
  taskResponses: sfnTaskResponses(),
});
