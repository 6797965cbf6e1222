/**
 * RecordItemOutcome against the failures `states:startExecution.sync:2` really reports. Whatever
 * way the child ended (FAILED, TIMED_OUT, ABORTED), the Task fails with `States.TaskFailed` and
 * a Cause that is the child's DescribeExecution as JSON (Input and Output parsed, as .sync:2
 * returns them); `Error` and `Cause` are in it only when the child has them: a FAILED child's
 * come from its Fail state (our diagnosis, or a plain text when it failed before Diagnose), a
 * TIMED_OUT child has neither, an ABORTED one only what StopExecution was given.
 */
import { describe, expect, it } from "vitest";
import { BATCH_EVENTS, MAX_DIAGNOSIS_MESSAGE_BYTES } from "#lambdas/batch/batch";
import { diagnose, type Diagnosis } from "#lambdas/diagnose/diagnosis";
import { handler as recordItemOutcome, type RecordedItem } from "#lambdas/record-batch-item/handler";

const EXECUTION_NAME = "batch-launch-3";
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:GenerationStateMachine:${EXECUTION_NAME}`;

/** DescribeExecution of the child as the .sync:2 Task's Cause carries it; keys absent when AWS omits them. */
function describedChild(status: "FAILED" | "TIMED_OUT" | "ABORTED", failure: { Error?: string; Cause?: string } = {}): string {
  return JSON.stringify({
    ExecutionArn: EXECUTION_ARN,
    Input: { prompt: "a corgi surfing a wave" },
    InputDetails: { Included: true },
    Name: EXECUTION_NAME,
    RedriveCount: 0,
    RedriveStatus: "REDRIVABLE",
    StartDate: 1764111600000,
    StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:GenerationStateMachine",
    Status: status,
    StopDate: 1764113400000,
    ...failure,
  });
}

async function recordFailure(Error: string, Cause?: string): Promise<RecordedItem> {
  const item = { batchId: "launch", index: 3, executionName: EXECUTION_NAME, failure: { Error, ...(Cause === undefined ? {} : { Cause }) } };
  return recordItemOutcome({ item });
}

function diagnosisOf(recorded: RecordedItem): Diagnosis {
  expect(recorded.detailType).toBe(BATCH_EVENTS.failed);
  expect(recorded.detail).toMatchObject({ batchId: "launch", index: 3, executionName: EXECUTION_NAME, status: "FAILED" });
  const { diagnosis } = recorded.detail;
  if (!diagnosis) throw new Error("a failed item must carry its diagnosis");
  return diagnosis;
}

describe("a batch item whose generation did not succeed", () => {
  it("a FAILED child whose Cause is the generation's diagnosis keeps that diagnosis", async () => {
    const childDiagnosis = diagnose(EXECUTION_NAME, "Poll", {
      Error: "Kling.GenerationFailed",
      Cause: "Kling task d85c failed: the scene is too complex",
    });
    const recorded = await recordFailure("States.TaskFailed", describedChild("FAILED", { Error: "Kling.GenerationFailed", Cause: JSON.stringify(childDiagnosis) }));
    expect(diagnosisOf(recorded)).toEqual(childDiagnosis);
  });

  it("a FAILED child with a plain-text Cause (it failed before Diagnose) is diagnosed from its own Error and Cause", async () => {
    const cause = "An error occurred while executing the state 'Submit' (entered at the event id #12). The JSONPath '$.task' specified for the field 'task.$' could not be found in the input";
    const diagnosis = diagnosisOf(await recordFailure("States.TaskFailed", describedChild("FAILED", { Error: "States.Runtime", Cause: cause })));
    expect(diagnosis).toMatchObject({ jobId: EXECUTION_NAME, errorCode: "States.Runtime", errorMessage: cause, recoverable: false });
  });

  it("a TIMED_OUT child (no Error, no Cause) is a recoverable States.Timeout: a redrive resets its timeout", async () => {
    const diagnosis = diagnosisOf(await recordFailure("States.TaskFailed", describedChild("TIMED_OUT")));
    expect(diagnosis).toMatchObject({
      jobId: EXECUTION_NAME,
      errorCode: "States.Timeout",
      failedState: "StartGeneration",
      recoverable: true,
      action: "retry-later",
    });
    expect(diagnosis.errorMessage).toContain("TIMED_OUT");
  });

  it("an ABORTED child stopped without a reason says it was stopped, and that a redrive can still finish it", async () => {
    const diagnosis = diagnosisOf(await recordFailure("States.TaskFailed", describedChild("ABORTED")));
    expect(diagnosis).toMatchObject({ jobId: EXECUTION_NAME, errorCode: "Execution.Stopped", recoverable: true, action: "contact-support" });
    expect(diagnosis.errorMessage).toContain("ABORTED");
    expect(diagnosis.suggestion).toMatch(/stopped/);
  });

  it("an ABORTED child stopped with an error and a text cause keeps what StopExecution was given", async () => {
    const diagnosis = diagnosisOf(
      await recordFailure("States.TaskFailed", describedChild("ABORTED", { Error: "Operator.Stopped", Cause: "stopped during the Kling incident" })),
    );
    expect(diagnosis).toMatchObject({ errorCode: "Execution.Stopped", errorMessage: "Operator.Stopped: stopped during the Kling incident", recoverable: true });
  });

  it("a child that could not start (the Task's own error, a text Cause) is diagnosed from that error", async () => {
    const diagnosis = diagnosisOf(await recordFailure("StepFunctions.ExecutionLimitExceededException", "Execution limit exceeded (Service: AWSStepFunctions; Status Code: 400)"));
    expect(diagnosis).toMatchObject({ errorCode: "StepFunctions.ExecutionLimitExceededException", recoverable: false });
  });

  it("a diagnosis with a long message keeps its first KiB in the outcome, so a hundred outcomes fit in one state", async () => {
    const childDiagnosis = diagnose(EXECUTION_NAME, "Validate", { Error: "Kling.InvalidRequest", Cause: `unknown field "${"ü".repeat(5000)}"` });
    const diagnosis = diagnosisOf(await recordFailure("States.TaskFailed", describedChild("FAILED", { Error: "Kling.InvalidRequest", Cause: JSON.stringify(childDiagnosis) })));
    expect(Buffer.byteLength(JSON.stringify(diagnosis.errorMessage), "utf8")).toBeLessThanOrEqual(MAX_DIAGNOSIS_MESSAGE_BYTES);
    expect(Buffer.byteLength(JSON.stringify(diagnosis.errorMessage), "utf8")).toBeGreaterThan(MAX_DIAGNOSIS_MESSAGE_BYTES - 4);
    expect(diagnosis.errorMessage).toMatch(/^unknown field "ü+…$/);
    expect({ ...diagnosis, errorMessage: "" }).toEqual({ ...childDiagnosis, errorMessage: "" });
  });

  it("an execution name already taken is a duplicate, not a failure", async () => {
    const recorded = await recordFailure("StepFunctions.ExecutionAlreadyExistsException", `Execution Already Exists: '${EXECUTION_ARN}'`);
    expect(recorded).toEqual({ detailType: BATCH_EVENTS.skipped, detail: { batchId: "launch", index: 3, executionName: EXECUTION_NAME, status: "DUPLICATE" } });
  });
});
