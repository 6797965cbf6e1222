/** WaitForSlot: takes one of the account's Kling slots, or parks the execution's task token in the queue (lambdas/ledger/slots.ts). */
import { parseEvent } from "../common/parse-event";
import { slotPorts } from "../ledger/ports";
import { waitForSlot, waitForSlotEventSchema } from "../ledger/slots";
import { observed } from "../observability/logger";

export const handler = observed((event) => waitForSlot(parseEvent(waitForSlotEventSchema, event, "WaitForSlot"), slotPorts()));
