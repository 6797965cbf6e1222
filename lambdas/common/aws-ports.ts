/**
 * Every port as on AWS, over one environment: what a container of each function gets (each
 * handler module builds just the ports it uses), here all at once for the local runner, which
 * replaces the ledger and the task responses with its own, and for the handlers' tests.
 */
import type { Environment } from "./config";
import { type Clock, wallClock } from "./clock";
import { klingApiFrom } from "./kling-api";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { dynamoDbTaskWaitsFrom } from "../ledger/task-waits";
import { type HandlerPorts, settingsFrom } from "./ports";
import { sfnTaskResponses } from "./task-responses";
import { callbackPortFrom } from "./callback-secrets";
import { videoBucketFrom } from "./video-bucket";

export function portsFromEnvironment(env: Environment, clock: Clock = wallClock): HandlerPorts {
  return {
    clock,
    settings: settingsFrom(env),
    kling: klingApiFrom(env, clock),
    ledger: dynamoDbLedgerFrom(env),
    taskWaits: dynamoDbTaskWaitsFrom(env),
    taskResponses: sfnTaskResponses(),
    callbacks: callbackPortFrom(env, clock),
    videoBucket: videoBucketFrom(env),
  };
}
