/**
 * What the handlers depend on, beside their event: the ports. Each handler module exports a
 * factory that takes the ports it uses and returns the handler; its `handler` export, which
 * Lambda calls, is that factory applied once per container to the AWS adapters of just those
 * ports (so a function's bundle holds no SDK client it does not use). The local runner applies
 * the same factories to its own ports (local/runner/pipeline.ts).
 */
import type { KlingApi } from "../kling/port";
import type { Ledger } from "../ledger/ledger";
import type { TaskWaits } from "../ledger/task-waits";
import { type SlotSettings, slotSettings } from "../ledger/config";
import { readValidateConfig, type ValidateConfig } from "../validate/config";
import type { Clock } from "./clock";
import { creditCacheSeconds, type Environment, type PollSchedule, pollScheduleConfig } from "./config";
import type { CallbackPort } from "./callback-secrets";
import type { TaskResponses } from "./task-responses";
import type { VideoBucket } from "./video-bucket";

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
  /** WaitForVideo's tokens and the tasks' claimed ends, in the ledger's table (lambdas/ledger/task-waits.ts). */
  readonly taskWaits: () => TaskWaits;
  /** How a function invoked with a task token ends its Task. */
  readonly taskResponses: TaskResponses;
  /** Kling's callbacks: on or off, the callback URLs' capability key, Kling's signing secret (lambdas/common/callback-secrets.ts). */
  readonly callbacks: CallbackPort;
  /** The bucket archived videos go to (Archive writes it, the API signs links to it). */
  readonly videoBucket: () => Promise<VideoBucket>;
}

export function settingsFrom(env: Environment): HandlerSettings {
  return {
    pollSchedule: () => pollScheduleConfig(env),
    creditCacheSeconds: () => creditCacheSeconds(env),
    validate: () => readValidateConfig(env),
    slots: () => slotSettings(env),
  };
}
