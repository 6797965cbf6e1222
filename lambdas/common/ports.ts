/**
 * What the handlers depend on, beside their event: the ports. Each handler module exports a
 * factory that takes the ports it uses and returns the handler; its `handler` export, which
 * Lambda calls, is that factory applied to {@link portsFromEnvironment} once per container. The
 * local runner applies the same factories to its own ports (local/runner/pipeline.ts).
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import type { KlingApi } from "../kling/port";
import type { Ledger } from "../ledger/ledger";
import { type SlotSettings, slotSettings } from "../ledger/config";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { readValidateConfig, type ValidateConfig } from "../validate/config";
import { type Clock, wallClock } from "./clock";
import { creditCacheSeconds, type Environment, type PollSchedule, pollScheduleConfig } from "./config";
import { klingApiFrom } from "./kling-api";
import { SfnTaskResponses, type TaskResponses } from "./task-responses";

/**
 * The function's configuration, read from its environment when a handler asks, so a bad value
 * fails the invocation that needs it with an error naming the variable.
 */
export interface HandlerSettings {
  pollSchedule(): PollSchedule;
  creditCacheSeconds(): number;
  validate(): ValidateConfig;
  slots(): SlotSettings;
}

export interface HandlerPorts {
  readonly clock: Clock;
  readonly settings: HandlerSettings;
  /** The Kling client for this invocation's configuration and credentials. */
  readonly kling: () => Promise<KlingApi>;
  /** The account ledger (lambdas/ledger). */
  readonly ledger: () => Ledger;
  /** How a function invoked with a task token ends its Task. */
  readonly taskResponses: TaskResponses;
}

function settingsFrom(env: Environment): HandlerSettings {
  return {
    pollSchedule: () => pollScheduleConfig(env),
    creditCacheSeconds: () => creditCacheSeconds(env),
    validate: () => readValidateConfig(env),
    slots: () => slotSettings(env),
  };
}

/** A client made on first use: building the ports reads and connects nothing. */
function lazily<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/**
 * The ports on AWS: the environment the stack sets, the wall clock, Kling with the credentials
 * from the secret, the ledger's DynamoDB table, and Step Functions for task tokens.
 */
export function portsFromEnvironment(env: Environment, clock: Clock = wallClock): HandlerPorts {
  const sfn = lazily(() => new SfnTaskResponses(new SFNClient({})));
  return {
    clock,
    settings: settingsFrom(env),
    kling: klingApiFrom(env, clock),
    ledger: dynamoDbLedgerFrom(env),
    taskResponses: {
      succeed: (taskToken, output) => sfn().succeed(taskToken, output),
      fail: (taskToken, error, cause) => sfn().fail(taskToken, error, cause),
    },
  };
}
