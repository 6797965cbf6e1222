/**
 * What the ledger's functions read from the environment the stack sets (lib/account-ledger.ts);
 * a missing or bad value is a clear error naming the variable.
 */
import * as z from "zod";
import { type Environment, parseJsonVariable, requireVariable } from "../common/config";
import { DEFAULTS, ENV } from "../common/settings";

export const slotQueueSchema = z
  .object({
    /**
     * How long WaitForSlot waits for its task token before it looks again: the most a lost
     * wake-up (a release that crashed between its writes) can cost.
     */
    parkSeconds: z.number().int().min(10).max(3600),
    /** Past this many seconds in the queue a generation stops waiting with Kling.QueueTimeout. */
    deadlineSeconds: z.number().int().min(60),
    /**
     * While this many wait, POST /generations answers 429 with Retry-After instead of starting
     * one more; a batch's items still queue (the cap is the API's door, not WaitForSlot's).
     */
    maxWaiters: z.number().int().min(1).default(DEFAULTS.slotQueue.maxWaiters),
  })
  .refine((queue) => queue.parkSeconds <= queue.deadlineSeconds, {
    message: "parkSeconds must not be above deadlineSeconds",
    path: ["parkSeconds"],
  });
export type SlotQueue = z.infer<typeof slotQueueSchema>;

export interface SlotSettings {
  /** Slots the account has: tasks Kling runs at once. */
  readonly limit: number;
  readonly queue: SlotQueue;
}

export function ledgerTableName(env: Environment): string {
  return requireVariable(env, ENV.ledgerTableName);
}

export function slotSettings(env: Environment): SlotSettings {
  const limit = Number(requireVariable(env, ENV.klingConcurrency));
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`environment variable ${ENV.klingConcurrency} must be a whole number of 1 or more`);
  return { limit, queue: parseJsonVariable(env, ENV.slotQueue, slotQueueSchema) };
}
