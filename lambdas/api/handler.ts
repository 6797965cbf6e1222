/**
 * The API Lambda (API Gateway REST API, Lambda proxy integration), observed like every pipeline
 * Lambda: its log lines go through the Powertools logger, with the same redaction. The Step
 * Functions client and the adapter are made once per cold start; a missing state machine ARN
 * fails the first cold start, loudly.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { generationStateMachineArn, videoLinkSeconds } from "../common/config";
import { videoBucketFrom } from "../common/video-bucket";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { LedgerQueuePositions } from "../ledger/queue-position";
import { observed } from "../observability/logger";
import { handleApiRequest } from "./routes";
import { SfnGenerationExecutions } from "./sfn-executions";
import { PresignedVideoLinks } from "./video-links";

const executions = new SfnGenerationExecutions(generationStateMachineArn(process.env));
const links = new PresignedVideoLinks(videoBucketFrom(process.env), videoLinkSeconds(process.env));
const queue = new LedgerQueuePositions(dynamoDbLedgerFrom(process.env)(), (name) => executions.executionArn(name));

export const handler = observed(
  (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handleApiRequest(event, executions, process.env, { links, queue }),
);
