/**
 * What the reconciliation asks of the generation state machine: the status of one execution by
 * its ARN (DescribeExecution), as Step Functions answers it, ExecutionDoesNotExist included.
 * A port with one adapter on AWS (client-sfn) and one on this machine (local/runner/executions.ts).
 */
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, SFNClient } from "@aws-sdk/client-sfn";

/** What the reconciliation reads of DescribeExecution's answer. */
export type ExecutionStatus = Pick<DescribeExecutionCommandOutput, "status" | "redriveCount">;

export interface ExecutionStatuses {
  /** The state machine whose executions these are: the ledger's entries of other pipelines sharing the table are theirs to reconcile. */
  readonly stateMachineArn: string;
  /** DescribeExecution: throws as Step Functions does (an error named ExecutionDoesNotExist for an ARN it does not know). */
  describe(executionArn: string): Promise<ExecutionStatus>;
}

/** The state machine's executions through the Step Functions API. */
export function sfnExecutionStatuses(stateMachineArn: string, client: SFNClient = new SFNClient({})): ExecutionStatuses {
  return {
    stateMachineArn,
    describe: (executionArn) => client.send(new DescribeExecutionCommand({ executionArn })),
  };
}

/** arn:aws:states:eu-west-1:123456789012:stateMachine:Gen -> arn:aws:states:eu-west-1:123456789012:execution:Gen: (what its executions' ARNs start with). */
export function executionArnPrefix(stateMachineArn: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:`;
}
