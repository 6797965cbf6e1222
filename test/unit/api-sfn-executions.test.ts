/** The GenerationExecutions adapter on Step Functions: names to ARNs, and SFN's errors to outcomes. */
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { SfnGenerationExecutions } from "#lambdas/api/sfn-executions";

const STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:GenerationWorkflow";
const sfn = mockClient(SFNClient);
const adapter = () => new SfnGenerationExecutions(STATE_MACHINE_ARN, new SFNClient({ region: "eu-west-1" }));

beforeEach(() => {
  sfn.reset();
});

describe("SfnGenerationExecutions", () => {
  it("derives an execution's ARN from the state machine's and the name", () => {
    expect(adapter().executionArn("api-x")).toBe("arn:aws:states:eu-west-1:123456789012:execution:GenerationWorkflow:api-x");
  });

  it("refuses anything that is not a state machine ARN", () => {
    expect(() => new SfnGenerationExecutions("arn:aws:lambda:eu-west-1:123456789012:function:f")).toThrow("is not a state machine ARN");
  });

  it("starts an execution with the name and input as given", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: "arn", startDate: new Date() });
    await expect(adapter().start("api-1", '{"prompt":"a cat"}')).resolves.toEqual({ kind: "started", name: "api-1" });
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: "api-1",
      input: '{"prompt":"a cat"}',
    });
  });

  it("reports a taken name as exists", async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", $metadata: {} }));
    await expect(adapter().start("api-1", "{}")).resolves.toEqual({ kind: "exists", name: "api-1" });
  });

  it("passes any other failure on", async () => {
    sfn.on(StartExecutionCommand).rejects(new Error("throttled"));
    await expect(adapter().start("api-1", "{}")).rejects.toThrow("throttled");
  });

  it("describes an execution, and an unknown one as undefined", async () => {
    sfn
      .on(DescribeExecutionCommand, { executionArn: adapter().executionArn("api-1") })
      .resolves({ name: "api-1", status: "FAILED", input: "{}", error: "E", cause: "C", executionArn: "x", stateMachineArn: STATE_MACHINE_ARN, startDate: new Date() })
      .on(DescribeExecutionCommand, { executionArn: adapter().executionArn("api-2") })
      .rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} }));

    await expect(adapter().describe("api-1")).resolves.toEqual({ name: "api-1", status: "FAILED", input: "{}", output: undefined, error: "E", cause: "C" });
    await expect(adapter().describe("api-2")).resolves.toBeUndefined();
  });
});
