/**
 * The API Lambda (API Gateway REST API, Lambda proxy integration). The Step Functions client
 * and the adapter are made once per cold start; a missing state machine ARN fails the first
 * cold start, loudly.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { ENV } from "../common/config";
import { handleApiRequest } from "./routes";
import { SfnGenerationExecutions } from "./sfn-executions";

function stateMachineArn(): string {
  const value = process.env[ENV.generationStateMachineArn];
  if (value === undefined || value === "") throw new Error(`environment variable ${ENV.generationStateMachineArn} is not set`);
  return value;
}

const executions = new SfnGenerationExecutions(stateMachineArn());

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleApiRequest(event, executions);
