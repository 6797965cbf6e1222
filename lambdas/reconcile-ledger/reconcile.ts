/**
 * The ledger's reconciliation: frees what executions that have ended still hold (a slot, a queue
 * place, a credit reservation) when both their own release and the status-change backstop were
 * lost. Each run lists what the ledger holds, asks Step Functions about the state machine's
 * executions among them, the oldest first and at most `maxExecutions` (the rest wait for the
 * next run), and releases each one that no longer runs as the backstop would.
 */
import { logger } from "../observability/logger";
import type { InFlight, LedgerInFlight } from "../ledger/in-flight";
import { releaseHolds, type SlotPorts } from "../ledger/slots";
import { type ExecutionStatus, type ExecutionStatuses, executionArnPrefix } from "./execution-statuses";

/** The statuses of an execution that may still take or use what it holds. */
const STILL_RUNNING: ReadonlySet<string> = new Set(["RUNNING", "PENDING_REDRIVE"]);

/** What one run found and did. */
export interface Reconciled {
  /** Executions of this state machine the ledger holds something for. */
  readonly inFlight: number;
  /** Of those, the ones asked about (at most maxExecutions, the oldest first). */
  readonly checked: number;
  readonly running: number;
  /** Ended (or unknown to Step Functions) and released by this run. */
  readonly released: number;
  /** Not asked about in this run: past maxExecutions. */
  readonly left: number;
  /** DescribeExecution failed (throttled, say): asked again next run. */
  readonly unreadable: number;
  /** Entries of executions of other state machines sharing the table. */
  readonly otherStateMachines: number;
}

/** Each execution once, with its oldest entry of any kind: the order runs take them in. */
function executionsByAge(inFlight: InFlight): { executionArn: string; since: number }[] {
  const oldest = new Map<string, number>();
  for (const { executionArn, since } of [...inFlight.holders, ...inFlight.waiters, ...inFlight.reservations]) {
    oldest.set(executionArn, Math.min(oldest.get(executionArn) ?? Number.POSITIVE_INFINITY, since));
  }
  return [...oldest].map(([executionArn, since]) => ({ executionArn, since })).sort((a, b) => a.since - b.since);
}

/** The execution's status, or "unknown" when Step Functions has no such execution (its history expired, or it never ran). */
async function statusOf(executions: ExecutionStatuses, executionArn: string): Promise<ExecutionStatus | "unknown"> {
  try {
    return await executions.describe(executionArn);
  } catch (error) {
    if (error instanceof Error && error.name === "ExecutionDoesNotExist") return "unknown";
    throw error;
  }
}

export async function reconcileLedger(ports: SlotPorts, ledger: LedgerInFlight, executions: ExecutionStatuses, maxExecutions: number): Promise<Reconciled> {
  const prefix = executionArnPrefix(executions.stateMachineArn);
  const all = executionsByAge(await ledger.inFlight());
  const own = all.filter(({ executionArn }) => executionArn.startsWith(prefix));
  const checked = own.slice(0, maxExecutions);
  let running = 0;
  let released = 0;
  let unreadable = 0;
  // One at a time: DescribeExecution is throttled per account, shared with everything else.
  for (const { executionArn } of checked) {
    let status: ExecutionStatus | "unknown";
    try {
      status = await statusOf(executions, executionArn);
    } catch (error) {
      unreadable += 1;
      logger().warn("could not describe an execution the ledger holds for; the next run asks again", {
        executionArn,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      continue;
    }
    if (status !== "unknown" && STILL_RUNNING.has(status.status ?? "")) {
      running += 1;
      continue;
    }
    // As the backstop does: a slot taken by a later redrive than the one that ended stays.
    const holds = await releaseHolds(executionArn, ports, status === "unknown" ? undefined : (status.redriveCount ?? 0));
    released += 1;
    logger().warn("ledger holds of an ended execution released by the reconciliation: its release and the status-change backstop were both lost", {
      executionArn,
      executionStatus: status === "unknown" ? "ExecutionDoesNotExist" : status.status,
      ...holds,
    });
  }
  const reconciled: Reconciled = {
    inFlight: own.length,
    checked: checked.length,
    running,
    released,
    left: own.length - checked.length,
    unreadable,
    otherStateMachines: all.length - own.length,
  };
  logger().info("ledger reconciled", { ...reconciled });
  return reconciled;
}
