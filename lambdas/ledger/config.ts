/**
 * What the ledger's functions read from the environment the stack sets (lib/account-ledger.ts);
 * a missing or bad value is a clear error naming the variable.
 */
import * as z from "zod";
import { type Environment, parseJsonVariable, requireVariable } from "../common/config";
import { ENV } from "../common/settings";
import type { SlotLimits } from "./ledger";

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
     * How long the effective limit stays as it is after a 1303 or a probe before the head of the
     * queue may probe one slot past it; also how long a generation sent back to the queue parks
     * before it looks again (nothing of the pipeline's may be left to end and wake it).
     */
    probeSeconds: z.number().int().min(5).max(3600).default(60),
  })
  .refine((queue) => queue.parkSeconds <= queue.deadlineSeconds, {
    message: "parkSeconds must not be above deadlineSeconds",
    path: ["parkSeconds"],
  })
  .refine((queue) => queue.probeSeconds <= queue.deadlineSeconds, {
    message: "probeSeconds must not be above deadlineSeconds",
    path: ["probeSeconds"],
  });
export type SlotQueue = z.infer<typeof slotQueueSchema>;

export interface SlotSettings {
  /** The ceiling of the slots granted (`klingConcurrency`): the effective limit learnt from Kling never goes above it. */
  readonly limit: number;
  readonly queue: SlotQueue;
}

/** What bounds a grant, from the settings: the ceiling, and the quiet period before a probe. */
export function slotLimitsOf(settings: SlotSettings): SlotLimits {
  return { ceiling: settings.limit, quietMs: settings.queue.probeSeconds * 1000 };
}

export function ledgerTableName(env: Environment): string {
  return requireVariable(env, ENV.ledgerTableName);
}

export function slotSettings(env: Environment): SlotSettings {
  const limit = Number(requireVariable(env, ENV.klingConcurrency));
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`environment variable ${ENV.klingConcurrency} must be a whole number of 1 or more`);
  return { limit, queue: parseJsonVariable(env, ENV.slotQueue, slotQueueSchema) };
}
