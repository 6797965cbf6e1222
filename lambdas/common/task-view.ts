/**
 * What the workflow keeps about a Kling task between Submit and Poll (`$.task` in the state).
 * Enough to resume tracking after any restart: the task id and its kind (which says the API
 * standard too). Its status is in the port's (legacy) words whatever the standard.
 */
import * as z from "zod";
import { KLING_TASK_KINDS } from "../kling/port";
import { TASK_STATUSES } from "../kling/wire";

export const taskViewSchema = z.object({
  taskId: z.string().min(1),
  externalTaskId: z.string().min(1),
  kind: z.enum(KLING_TASK_KINDS),
  status: z.enum(TASK_STATUSES),
  /**
   * How long such a video typically takes (generation-time.ts): the poll schedule plans with it.
   * Absent in executions started before a deploy that added it (they keep their definition but
   * call the new Poll): those are polled by the time spent alone.
   */
  typicalSeconds: z.number().int().min(1).optional(),
  /** When Submit found or created the task, on the workflow's clock (epoch ms). */
  submittedAt: z.number(),
  /** Polls done so far. */
  polls: z.number().int().min(0),
  /** The wait before the next poll (read by WaitForVideo's SecondsPath); 0 once finished. */
  nextWaitSeconds: z.number().int().min(0),
  /** Kling's URLs (purged 30 days after the task): Archive copies the video from `url` (and `watermarkUrl`, when configured). */
  video: z.object({ id: z.string(), url: z.string(), watermarkUrl: z.string().optional(), duration: z.string() }).nullable(),
  /**
   * What Kling charged once the task ended (its final_unit_deduction, else the units the ledger had
   * reserved), settled with the reservation; null until then, absent in executions started before.
   */
  unitsSpent: z.number().min(0).nullable().optional(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

/** The fields of a TaskView, in order: the state machine selects each one from the Lambda's Payload. */
export const TASK_VIEW_FIELDS = Object.keys(taskViewSchema.shape) as (keyof TaskView)[];

