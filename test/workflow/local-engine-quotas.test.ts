/**
 * The limits AWS enforces, enforced by the local runner as AWS does: 256 KiB per state's data
 * (States.DataLimitExceeded, which no Catch takes), execution names, StartExecution's input and
 * idempotency, and Lambda's synchronous payload limits. Small definitions on the local engine.
 */
import { describe, expect, it } from "vitest";
import type { StateMachineDefinition } from "#local/runner/definition";
import { LocalEventBus } from "#local/runner/event-bus";
import { LocalExecutions, startExecutionSync } from "#local/runner/executions";
import { invokeLikeLambda } from "#local/runner/lambda-binding";
import { engineDefinition, type ExecutionReport, LocalStateMachine, type TaskBinding } from "#local/runner/local-engine";
import { awsError, PUT_EVENTS_ENTRY_LIMIT_BYTES, STATE_PAYLOAD_LIMIT_BYTES } from "#local/runner/quotas";
import { ScaledClock } from "#local/runner/scaled-clock";

const ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Quotas";
const LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:Quotas";
const clock = new ScaledClock(0.001);

/** A value whose JSON text is exactly `bytes` UTF-8 bytes, written with 2-byte characters where it can. */
function jsonOfBytes(bytes: number): string {
  // JSON of a string: 2 quotes plus its UTF-8 bytes; "é" is 2 bytes, "a" is 1.
  const content = bytes - 2;
  return "é".repeat(Math.floor(content / 2)) + "a".repeat(content % 2);
}

function machine(definition: StateMachineDefinition, tasks: Record<string, TaskBinding>): LocalStateMachine {
  return new LocalStateMachine({ definition, stateMachineArn: ARN, clock, bindTask: (name) => tasks[name] });
}

/** Produce (a Task returning `value`) with a Catch of States.ALL to Fallback, then Consume. */
function producing(calls: string[], value: unknown): LocalStateMachine {
  return machine(
    {
      StartAt: "Produce",
      States: {
        Produce: {
          Type: "Task",
          Resource: "arn:aws:states:::lambda:invoke",
          Parameters: { FunctionName: LAMBDA, "Payload.$": "$" },
          Catch: [{ ErrorEquals: ["States.ALL"], Next: "Fallback" }],
          Next: "Consume",
        },
        Fallback: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, End: true },
        Consume: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, End: true },
      },
    },
    {
      Produce: async () => value,
      Fallback: async () => calls.push("Fallback"),
      Consume: async () => calls.push("Consume"),
    },
  );
}

describe("256 KiB of data per state, measured in UTF-8 bytes of the JSON", () => {
  it("a Task result of exactly 256 KiB passes", async () => {
    const calls: string[] = [];
    const report = await producing(calls, jsonOfBytes(STATE_PAYLOAD_LIMIT_BYTES)).run({}, "exactly-the-limit");
    expect(report.status).toBe("SUCCEEDED");
    expect(calls).toEqual(["Consume"]);
  });

  it("one byte more fails the execution with States.DataLimitExceeded: no Catch takes it, nothing after it runs", async () => {
    const calls: string[] = [];
    const value = jsonOfBytes(STATE_PAYLOAD_LIMIT_BYTES + 1);
    expect(value.length).toBeLessThan(STATE_PAYLOAD_LIMIT_BYTES); // in characters it would pass
    const report = await producing(calls, value).run({}, "one-byte-over");
    expect(report).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(report.cause).toContain("'Produce' returned a result with a size exceeding the maximum number of bytes service limit");
    expect(calls).toEqual([]);
  });

  it("a state whose output passes the limit (a Pass that adds to its input) stops the execution before the next Task", async () => {
    const calls: string[] = [];
    const big = jsonOfBytes(STATE_PAYLOAD_LIMIT_BYTES - 100);
    const report: ExecutionReport = await machine(
      {
        StartAt: "Grow",
        States: {
          Grow: { Type: "Pass", Result: big, ResultPath: "$.copy", Next: "After" },
          After: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, End: true },
        },
      },
      { After: async () => calls.push("After") },
    ).run({ original: big }, "grows-past-the-limit");
    expect(report).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(report.cause).toContain("The output of the state 'Grow'");
    expect(calls).toEqual([]);
  });

  it("a Task whose parameters pass the limit never runs", async () => {
    const calls: string[] = [];
    const half = jsonOfBytes(STATE_PAYLOAD_LIMIT_BYTES / 2);
    const report = await machine(
      {
        StartAt: "Twice",
        States: {
          Twice: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke",
            Parameters: { FunctionName: LAMBDA, Payload: { "a.$": "$.half", "b.$": "$.half" } },
            Catch: [{ ErrorEquals: ["States.ALL"], Next: "Fallback" }],
            End: true,
          },
          Fallback: { Type: "Pass", End: true },
        },
      },
      { Twice: async () => calls.push("Twice") },
    ).run({ half }, "parameters-past-the-limit");
    expect(report).toMatchObject({ status: "FAILED", error: "States.DataLimitExceeded" });
    expect(calls).toEqual([]);
  });
});

describe("StartExecution's rules", () => {
  const quick = () => machine({ StartAt: "Done", States: { Done: { Type: "Pass", End: true } } }, {});

  it("an input past 256 KiB is refused before anything runs", async () => {
    await expect(quick().run({ big: jsonOfBytes(STATE_PAYLOAD_LIMIT_BYTES) }, "big-input")).rejects.toMatchObject({ name: "InvalidExecutionInput" });
  });

  it.each([
    ["", "empty"],
    ["x".repeat(81), "81 characters"],
    ["has space", "whitespace"],
    ["a:b", "a colon"],
    ["a/b", "a slash"],
    ["a[1]", "brackets"],
    ["what?", "a wildcard"],
    ["tab\there", "a control character"],
    ["del\u007fhere", "U+007F"],
  ])("refuses the name %j (%s) with InvalidName", async (name) => {
    await expect(quick().run({}, name)).rejects.toMatchObject({ name: "InvalidName" });
  });

  it.each([["x".repeat(80)], ["vidéo-été_1"], ["batch-launch-99"]])("accepts the name %j", async (name) => {
    expect((await quick().run({}, name)).status).toBe("SUCCEEDED");
  });

  it("the same name and input while it runs is the same execution; another input, or once it has ended, is ExecutionAlreadyExists", async () => {
    let finish = () => undefined as void;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const waiting = machine(
      { StartAt: "Hold", States: { Hold: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, End: true } } },
      { Hold: async () => held },
    );
    const executions = new LocalExecutions(waiting);
    expect(await executions.start("held-1", '{"a":1}')).toEqual({ kind: "started", name: "held-1" });
    expect(await executions.start("held-1", '{"a":1}')).toEqual({ kind: "started", name: "held-1" });
    expect(await executions.start("held-1", '{"a":2}')).toEqual({ kind: "exists", name: "held-1" });
    finish();
    await executions.finished("held-1");
    expect(await executions.start("held-1", '{"a":1}')).toEqual({ kind: "exists", name: "held-1" });
  });

  it("startExecution.sync:2 with a name StartExecution refuses fails the Task with StepFunctions.InvalidNameException", async () => {
    const executions = new LocalExecutions(quick());
    await expect(startExecutionSync(executions, { Name: "no spaces allowed", Input: {}, StateMachineArn: ARN })).rejects.toMatchObject({
      name: "StepFunctions.InvalidNameException",
    });
  });
});

describe("DescribeExecution by ARN, as Step Functions answers it", () => {
  it("says RUNNING while an execution runs, then how it ended with its dates and redrives; an ARN it never ran is ExecutionDoesNotExist, a malformed one InvalidArn", async () => {
    let finish = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const failing = machine(
      { StartAt: "Hold", States: { Hold: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, Next: "Stop" }, Stop: { Type: "Fail", Error: "Job.Failed", Cause: "on purpose" } } },
      { Hold: async () => held },
    );
    const executions = new LocalExecutions(failing);
    await executions.start("described", '{"a":1}');
    const arn = executions.arnOf("described");
    expect(await executions.describeExecution(arn)).toMatchObject({ executionArn: arn, stateMachineArn: ARN, name: "described", status: "RUNNING", input: '{"a":1}', redriveCount: 0 });
    expect((await executions.describeExecution(arn)).stopDate).toBeUndefined();
    finish();
    await executions.finished("described");
    const ended = await executions.describeExecution(arn);
    expect(ended).toMatchObject({ status: "FAILED", error: "Job.Failed", cause: "on purpose", redriveCount: 0 });
    expect(ended.stopDate?.getTime()).toBeGreaterThanOrEqual(ended.startDate?.getTime() ?? Number.POSITIVE_INFINITY);

    await expect(executions.describeExecution(executions.arnOf("never-ran"))).rejects.toMatchObject({ name: "ExecutionDoesNotExist", message: `Execution Does Not Exist: '${executions.arnOf("never-ran")}'` });
    await expect(executions.describeExecution("arn:aws:states:us-east-1:123456789012:execution:OtherMachine:described")).rejects.toMatchObject({ name: "ExecutionDoesNotExist" });
    await expect(executions.describeExecution(ARN)).rejects.toMatchObject({ name: "InvalidArn" });
  });
});

describe("Lambda's synchronous payload limits", () => {
  it("a response past 6291556 bytes is the function error Function.ResponseSizeTooLarge", async () => {
    await expect(invokeLikeLambda(async () => "a".repeat(6_291_556), {})).rejects.toMatchObject({ name: "Function.ResponseSizeTooLarge" });
    await expect(invokeLikeLambda(async () => "a".repeat(6_291_554), {})).resolves.toMatchObject({ StatusCode: 200 });
  });

  it("a request past 6291456 bytes is refused by Lambda (Lambda.RequestTooLargeException) before the handler runs", async () => {
    let ran = false;
    const handler = async () => {
      ran = true;
      return null;
    };
    await expect(invokeLikeLambda(handler, { Payload: "a".repeat(6_291_455) })).rejects.toMatchObject({ name: "Lambda.RequestTooLargeException" });
    expect(ran).toBe(false);
  });
});

describe("EventBridge PutEvents: an entry's Source, DetailType and Detail in UTF-8 bytes, at most 256 KB", () => {
  const entry = (detailBytes: number) => ({ Source: "kling-pipeline", DetailType: "Video Generated", Detail: JSON.stringify(jsonOfBytes(detailBytes)) });
  const overhead = "kling-pipeline".length + "Video Generated".length;

  it("an entry of exactly the limit is put on the bus", () => {
    const bus = new LocalEventBus();
    expect(bus.putEvents({ Entries: [entry(PUT_EVENTS_ENTRY_LIMIT_BYTES - overhead)] })).toMatchObject({ FailedEntryCount: 0 });
    expect(bus.events).toHaveLength(1);
  });

  it("one byte more is refused with ValidationException and nothing reaches the bus", () => {
    const bus = new LocalEventBus();
    expect(() => bus.putEvents({ Entries: [entry(PUT_EVENTS_ENTRY_LIMIT_BYTES - overhead + 1)] })).toThrow(
      expect.objectContaining({ name: "ValidationException" }),
    );
    expect(bus.events).toEqual([]);
  });
});

describe("Task timeouts", () => {
  it("are never the engine's real-time ones: it gets a timeout it never reaches for every Task (its default is 60 real seconds, AWS sets none), the run keeps the real ones", () => {
    const definition: StateMachineDefinition = {
      StartAt: "Plain",
      States: {
        Plain: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 62 }], Next: "Parked" },
        Parked: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken", Parameters: { FunctionName: LAMBDA }, TimeoutSeconds: 300, Next: "ByPath" },
        ByPath: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken", Parameters: { FunctionName: LAMBDA }, TimeoutSecondsPath: "$.seconds", Next: "Done" },
        Done: { Type: "Succeed" },
      },
    };
    const engines = engineDefinition(definition).States;
    const timeouts = Object.values(engines).filter((state) => state.Type === "Task").map((state) => [state.TimeoutSeconds, state.TimeoutSecondsPath]);
    // 24 days, the longest a Node timer waits: past any local run, retries' waits included.
    expect(timeouts).toEqual([[2_073_600, undefined], [2_073_600, undefined], [2_073_600, undefined]]);
    // The run reads the real ones from the definition it was given.
    expect(definition.States.Parked?.TimeoutSeconds).toBe(300);
    expect(definition.States.ByPath?.TimeoutSecondsPath).toBe("$.seconds");
  });
});

describe("terminal errors", () => {
  it("a States.Runtime error is neither retried nor caught by States.ALL: the execution fails with it, as on AWS", async () => {
    const calls: string[] = [];
    const report = await machine(
      {
        StartAt: "Broken",
        States: {
          Broken: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke",
            Parameters: { FunctionName: LAMBDA },
            Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 1, MaxAttempts: 3 }],
            Catch: [{ ErrorEquals: ["States.ALL"], Next: "Fallback" }],
            End: true,
          },
          Fallback: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: LAMBDA }, End: true },
        },
      },
      {
        Broken: async () => {
          calls.push("Broken");
          throw awsError("States.Runtime", "a path selected nothing");
        },
        Fallback: async () => calls.push("Fallback"),
      },
    ).run({}, "terminal");
    expect(report).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(calls).toEqual(["Broken"]);
  });
});
