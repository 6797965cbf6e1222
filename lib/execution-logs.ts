import { Names } from "aws-cdk-lib";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

/**
 * A state machine's execution log group, named under `/aws/vendedlogs/states/` as AWS advises:
 * Step Functions adds each log group it logs to to the account's CloudWatch Logs resource
 * policy, which is limited to 5,120 characters, unless the name starts with `/aws/vendedlogs/`.
 * The rest of the name is the workflow's path, so two pipelines never share one.
 */
export function executionLogGroup(workflow: Construct): LogGroup {
  return new LogGroup(workflow, "ExecutionLogs", {
    logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(workflow, { maxLength: 200, separator: "-" })}`,
    retention: RetentionDays.ONE_MONTH,
  });
}
