import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { JsonPath } from "aws-cdk-lib/aws-stepfunctions";
import { LOG_CONTEXT_FIELD } from "../lambdas/observability/catalog";

/** What differs between the workflows' Lambda tasks; the rest (retries, Catch) the workflow adds. */
export interface LambdaTaskProps {
  readonly comment: string;
  readonly lambdaFunction: IFunction;
  readonly payload: Record<string, unknown>;
  readonly resultSelector: Record<string, unknown>;
  readonly resultPath?: string;
}

/**
 * A pipeline Lambda's payload fields, plus the execution and state that invoke it, which every
 * log line of the function carries. The state name is written in, not read from `$$.State.Name`:
 * the local engine's context object has no State.
 */
export function withLogContext(stateName: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { ...fields, [LOG_CONTEXT_FIELD]: { executionName: JsonPath.executionName, stateName } };
}
