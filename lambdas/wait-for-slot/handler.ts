/** WaitForSlot: takes one of the account's Kling slots, or parks the execution's task token in the queue (lambdas/ledger/slots.ts). */
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { sfnTaskResponses } from "../common/task-responses";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { waitForSlot, waitForSlotEventSchema } from "../ledger/slots";
import { observed } from "../observability/logger";

export function waitForSlotHandler(ports: Pick<HandlerPorts, "ledger" | "taskResponses" | "settings" | "clock">) {
  return observed((event: unknown) => waitForSlot(parseEvent(waitForSlotEventSchema, event, "WaitForSlot"), slotPortsOf(ports)));
}

export const handler = waitForSlotHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  ledger: dynamoDbLedgerFrom(process.env),
  taskResponses: sfnTaskResponses(),
});
