/** What Step Functions puts on the default bus when an execution changes status: the part the backstop reads. */
import * as z from "zod";

export const EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change";

/** The statuses an execution ends in: the rule on them releases what it still holds and notifies its requester. */
export const ENDED_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;
export type EndedStatus = (typeof ENDED_STATUSES)[number];

export const statusChangeSchema = z.object({
  source: z.literal("aws.states"),
  "detail-type": z.literal(EXECUTION_STATUS_CHANGE),
  detail: z.object({
    executionArn: z.string().min(1),
    status: z.string(),
    /** The run that ended: a late event must not free what a later redrive took. */
    redriveCount: z.number().int().min(0).optional(),
  }),
});
