/**
 * ReconcileLedger, on a schedule (lib/ledger-reconciliation.ts): frees what ended executions
 * still hold in the account ledger when their release and the status-change backstop were both
 * lost (reconcile.ts).
 */
import * as z from "zod";
import { wallClock } from "../common/clock";
import { generationStateMachineArn } from "../common/config";
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { sfnTaskResponses } from "../common/task-responses";
import { dynamoDbLedgerInFlightFrom, type LedgerInFlight } from "../ledger/in-flight";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { observed } from "../observability/logger";
import { type ExecutionStatuses, sfnExecutionStatuses } from "./execution-statuses";
import { reconcileLedger } from "./reconcile";

/** What the schedule's rule sends: how many executions one run may ask Step Functions about. */
export const reconcileEventSchema = z.object({ maxExecutions: z.number().int().min(1) });
export type ReconcileEvent = z.infer<typeof reconcileEventSchema>;

type ReconcilePorts = Pick<HandlerPorts, "ledger" | "taskResponses" | "settings" | "clock"> & {
  /** What the ledger holds, by execution (lambdas/ledger/in-flight.ts). */
  readonly inFlight: () => LedgerInFlight;
  readonly executions: () => ExecutionStatuses;
};

export function reconcileLedgerHandler(ports: ReconcilePorts) {
  return observed(async (event: unknown) => {
    const { maxExecutions } = parseEvent(reconcileEventSchema, event, "ReconcileLedger");
    return reconcileLedger(slotPortsOf(ports), ports.inFlight(), ports.executions(), maxExecutions);
  });
}

let executions: ExecutionStatuses | undefined;

export const handler = reconcileLedgerHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  ledger: dynamoDbLedgerFrom(process.env),
  taskResponses: sfnTaskResponses(),
  inFlight: dynamoDbLedgerInFlightFrom(process.env),
  executions: () => (executions ??= sfnExecutionStatuses(generationStateMachineArn(process.env))),
});
