import { Names } from "aws-cdk-lib";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { LogLevel, type LogOptions } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { PipelineConfig } from "./pipeline-config";

export type ExecutionLogSettings = PipelineConfig["executionLogs"];

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

/** A state machine's logging as configured (`executionLogs`): by default errors only, without the states' data. */
export function executionLogOptions(destination: LogGroup, settings: ExecutionLogSettings): LogOptions {
  return { destination, level: LogLevel[settings.level], includeExecutionData: settings.includeExecutionData };
}
