/**
 * ReleaseSlot: gives back what an execution holds in the ledger (its slot, its queue place, its
 * credit reservation) and hands free slots to the oldest waiters. Invoked by the workflow on its
 * failure path, and by the EventBridge rule on the state machine's "Step Functions Execution
 * Status Change" events: the backstop for executions that timed out, were aborted or crashed.
 */
import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { sfnTaskResponses } from "../common/task-responses";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { type Released, releaseHolds } from "../ledger/slots";
import { logger, observed } from "../observability/logger";
import { statusChangeSchema } from "./status-change";

type ReleasePorts = Pick<HandlerPorts, "ledger" | "taskResponses" | "settings" | "clock">;

/** The failure path's payload. */
const workflowReleaseSchema = z.object({ executionArn: z.string().min(1) });

async function release(ports: ReleasePorts, event: unknown): Promise<Released> {
  const changed = statusChangeSchema.safeParse(event);
  const [executionArn, acquiredUpTo] = changed.success
    ? [changed.data.detail.executionArn, changed.data.detail.redriveCount]
    : [parseEvent(workflowReleaseSchema, event, "ReleaseSlot").executionArn, undefined];
  const released = await releaseHolds(executionArn, slotPortsOf(ports), acquiredUpTo);
  if (released.slot || released.units > 0) {
    logger().info("ledger holds released", { executionArn, ...released, ...(changed.success ? { executionStatus: changed.data.detail.status } : {}) });
  }
  return released;
}

export function releaseSlotHandler(ports: ReleasePorts) {
  return observed((event: unknown) => release(ports, event));
}

export const handler = releaseSlotHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  ledger: dynamoDbLedgerFrom(process.env),
  taskResponses: sfnTaskResponses(),
});
