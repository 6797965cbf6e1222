/**
 * The GenerationExecutions port on AWS: executions of the generation state machine through
 * the Step Functions API. Names become ARNs here and nowhere else.
 */
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, type DescribeExecutionCommandOutput } from "@aws-sdk/client-sfn";
import { EXECUTION_STATUSES, type ExecutionDescription, type ExecutionStatus, type GenerationExecutions, type StartOutcome } from "./executions";

export const STATE_MACHINE_ARN = /^arn:[^:]+:states:[^:]+:\d{12}:stateMachine:[^:]+$/;

export class SfnGenerationExecutions implements GenerationExecutions {
  constructor(
    private readonly stateMachineArn: string,
    private readonly client: SFNClient = new SFNClient({}),
  ) {
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new Error(`${JSON.stringify(stateMachineArn)} is not a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)`);
    }
  }

  /** arn:aws:states:eu-west-1:123456789012:stateMachine:Gen -> ...:execution:Gen:<name>. */
  executionArn(name: string): string {
    return `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
  }

  async start(name: string, input: string): Promise<StartOutcome> {
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input }));
      return { kind: "started", name };
    } catch (error) {
      if (errorNamed(error, "ExecutionAlreadyExists")) return { kind: "exists", name };
      throw error;
    }
  }

  async describe(name: string): Promise<ExecutionDescription | undefined> {
    const described = await this.describeExecution(name);
    if (described === undefined) return undefined;
    return {
      name: described.name ?? name,
      status: executionStatus(described.status),
      input: described.input ?? "",
      output: described.output,
      error: described.error,
      cause: described.cause,
    };
  }

  private async describeExecution(name: string): Promise<DescribeExecutionCommandOutput | undefined> {
    try {
      return await this.client.send(new DescribeExecutionCommand({ executionArn: this.executionArn(name) }));
    } catch (error) {
      if (errorNamed(error, "ExecutionDoesNotExist")) return undefined;
      throw error;
    }
  }
}

function errorNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function executionStatus(status: string | undefined): ExecutionStatus {
  const known = EXECUTION_STATUSES.find((candidate) => candidate === status);
  if (known === undefined) throw new Error(`Step Functions reported an execution status this API does not know: ${String(status)}`);
  return known;
}
