/**
 * The ledger's reconciliation on the DynamoDB adapter against dynalite, with Step Functions'
 * DescribeExecution played by a table of statuses: what ended executions still hold is freed
 * (their slot handed to the oldest waiter), what running ones hold stays, an execution Step
 * Functions does not know is freed, other state machines' entries are left to their own
 * pipeline, and one run asks about at most so many executions, the oldest first.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { TaskResponses } from "#lambdas/common/task-responses";
import type { SlotPorts } from "#lambdas/ledger/slots";
import { reconcileLedgerHandler } from "#lambdas/reconcile-ledger/handler";
import type { ExecutionStatus, ExecutionStatuses } from "#lambdas/reconcile-ledger/execution-statuses";
import { reconcileLedger } from "#lambdas/reconcile-ledger/reconcile";
import { settingsFrom } from "#lambdas/common/ports";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const arn = (name: string) => dynalite.arn(name);
const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Generation";
const OTHER_PIPELINE_EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:OtherPipeline:job-1";

class RecordedResponses implements TaskResponses {
  readonly answered: string[] = [];
  async succeed(taskToken: string): Promise<void> {
    this.answered.push(taskToken);
  }
  async fail(): Promise<void> {
    throw new Error("the reconciliation never fails a token");
  }
}

/** DescribeExecution over a table of statuses: an ARN not in it is ExecutionDoesNotExist, as Step Functions answers. */
class DescribedExecutions implements ExecutionStatuses {
  readonly stateMachineArn = STATE_MACHINE_ARN;
  readonly asked: string[] = [];
  constructor(private readonly statuses: ReadonlyMap<string, ExecutionStatus | Error>) {}
  async describe(executionArn: string): Promise<ExecutionStatus> {
    this.asked.push(executionArn);
    const status = this.statuses.get(executionArn);
    if (status instanceof Error) throw status;
    if (!status) throw Object.assign(new Error(`Execution Does Not Exist: '${executionArn}'`), { name: "ExecutionDoesNotExist" });
    return status;
  }
}

let responses: RecordedResponses;
let ports: SlotPorts;

beforeEach(async () => {
  // The file's ledger frees slots and queue places before each test; the reservations too, here.
  for (const { executionArn } of (await dynalite.inFlight.inFlight()).reservations) await dynalite.ledger.settleCredits(executionArn);
  responses = new RecordedResponses();
  ports = { ledger: dynalite.ledger, responses, settings: { limit: 2, queue: { parkSeconds: 60, deadlineSeconds: 600, probeSeconds: 60 } }, now: () => 1_000_000 };
});

const holder = (name: string, redriveCount = 0) => ({ executionArn: arn(name), redriveCount });
const held = async () => {
  const inFlight = await dynalite.inFlight.inFlight();
  const own = (entries: readonly { executionArn: string }[]) => entries.map((entry) => entry.executionArn).filter((executionArn) => executionArn.startsWith(arn("")));
  return { holders: own(inFlight.holders), waiters: own(inFlight.waiters), reservations: own(inFlight.reservations) };
};

describe("the ledger's reconciliation", () => {
  it("frees what an ended execution holds and hands its slot to the oldest waiter; a running execution keeps its own", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("ended"), 2, 100);
    await ledger.reserveCredits(arn("ended"), 10, 1_000_000, 100);
    await ledger.takeSlot(holder("running"), 2, 200);
    await ledger.reserveCredits(arn("running"), 5, 1_000_000, 200);
    await ledger.enqueue(holder("waiting"), "token-waiting", 300);
    const executions = new DescribedExecutions(
      new Map([
        [arn("ended"), { status: "FAILED", redriveCount: 0 }],
        [arn("running"), { status: "RUNNING", redriveCount: 0 }],
        [arn("waiting"), { status: "RUNNING", redriveCount: 0 }],
      ]),
    );

    const reconciled = await reconcileLedger(ports, dynalite.inFlight, executions, 100);

    expect(reconciled).toMatchObject({ inFlight: 3, checked: 3, running: 2, released: 1, left: 0, unreadable: 0 });
    expect(responses.answered).toEqual(["token-waiting"]);
    expect(await held()).toEqual({ holders: [arn("running"), arn("waiting")], waiters: [], reservations: [arn("running")] });
  });

  it("frees the queue place and the reservation of an execution Step Functions does not know (ExecutionDoesNotExist)", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("a"), 2, 100);
    await ledger.takeSlot(holder("b"), 2, 100);
    await ledger.enqueue(holder("gone"), "token-gone", 150);
    await ledger.reserveCredits(arn("gone"), 7, 1_000_000, 150);
    const executions = new DescribedExecutions(new Map([[arn("a"), { status: "RUNNING" }], [arn("b"), { status: "RUNNING" }]]));

    expect(await reconcileLedger(ports, dynalite.inFlight, executions, 100)).toMatchObject({ checked: 3, released: 1 });
    expect(await held()).toEqual({ holders: [arn("a"), arn("b")], waiters: [], reservations: [] });
    expect(responses.answered).toEqual([]);
  });

  it("leaves a slot a later redrive took: a FAILED run's release frees only what its own redrive or an earlier one took", async () => {
    await dynalite.ledger.takeSlot(holder("redriven", 2), 2, 100);
    // DescribeExecution answered before the second redrive started: the first had failed.
    const executions = new DescribedExecutions(new Map([[arn("redriven"), { status: "FAILED", redriveCount: 1 }]]));
    await reconcileLedger(ports, dynalite.inFlight, executions, 100);
    expect((await held()).holders).toEqual([arn("redriven")]);
  });

  it("counts a redrive under way (PENDING_REDRIVE) as running", async () => {
    await dynalite.ledger.takeSlot(holder("pending"), 2, 100);
    const executions = new DescribedExecutions(new Map([[arn("pending"), { status: "PENDING_REDRIVE", redriveCount: 0 }]]));
    expect(await reconcileLedger(ports, dynalite.inFlight, executions, 100)).toMatchObject({ running: 1, released: 0 });
    expect((await held()).holders).toEqual([arn("pending")]);
  });

  it("never asks about another state machine's executions sharing the table", async () => {
    await dynalite.ledger.takeSlot({ executionArn: OTHER_PIPELINE_EXECUTION, redriveCount: 0 }, 2, 100);
    const executions = new DescribedExecutions(new Map());
    try {
      const reconciled = await reconcileLedger(ports, dynalite.inFlight, executions, 100);
      expect(reconciled.otherStateMachines).toBeGreaterThanOrEqual(1);
      expect(executions.asked).not.toContain(OTHER_PIPELINE_EXECUTION);
      expect((await dynalite.ledger.holdings()).slotHolders).toContain(OTHER_PIPELINE_EXECUTION);
    } finally {
      await dynalite.ledger.giveBackSlot(OTHER_PIPELINE_EXECUTION);
    }
  });

  it("asks about at most maxExecutions per run, the oldest first, and each execution once whatever it holds", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("newest"), 2, 500);
    await ledger.reserveCredits(arn("newest"), 1, 1_000_000, 50);
    await ledger.takeSlot(holder("middle"), 2, 300);
    await ledger.enqueue(holder("oldest"), "token-oldest", 10);
    await ledger.enqueue(holder("young"), "token-young", 400);
    const executions = new DescribedExecutions(new Map());

    // "newest" holds a slot since 500 but a reservation since 50: its oldest entry places it.
    expect(await reconcileLedger(ports, dynalite.inFlight, executions, 2)).toMatchObject({ inFlight: 4, checked: 2, released: 2, left: 2 });
    expect(executions.asked).toEqual([arn("oldest"), arn("newest")]);
    expect(await reconcileLedger(ports, dynalite.inFlight, executions, 2)).toMatchObject({ inFlight: 2, checked: 2, released: 2, left: 0 });
    expect(await held()).toEqual({ holders: [], waiters: [], reservations: [] });
  });

  it("goes on past an execution it could not describe (throttled), and asks about it again next run", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("throttled"), 2, 100);
    await ledger.takeSlot(holder("ended"), 2, 200);
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const executions = new DescribedExecutions(new Map<string, ExecutionStatus | Error>([[arn("throttled"), throttled], [arn("ended"), { status: "SUCCEEDED", redriveCount: 0 }]]));
    expect(await reconcileLedger(ports, dynalite.inFlight, executions, 100)).toMatchObject({ checked: 2, unreadable: 1, released: 1 });
    expect((await held()).holders).toEqual([arn("throttled")]);
  });

  it("runs from the schedule's event, and refuses one it cannot read, naming the field", async () => {
    await dynalite.ledger.takeSlot(holder("ended"), 2, 100);
    const handler = reconcileLedgerHandler({
      clock: { now: () => 1_000_000 },
      settings: settingsFrom({ KLING_CONCURRENCY: "2", SLOT_QUEUE: JSON.stringify({ parkSeconds: 60, deadlineSeconds: 600 }) }),
      ledger: () => dynalite.ledger,
      taskResponses: responses,
      inFlight: () => dynalite.inFlight,
      executions: () => new DescribedExecutions(new Map([[arn("ended"), { status: "ABORTED", redriveCount: 0 }]])),
    });
    expect(await handler({ maxExecutions: 10 })).toMatchObject({ released: 1 });
    await expect(handler({ maxExecutions: 0 })).rejects.toThrow(/ReconcileLedger received an event it cannot read: maxExecutions/);
  });
});
