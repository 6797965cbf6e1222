import { createHash } from "node:crypto";

/**
 * The Kling `external_task_id` of an execution: its name (readable in Kling's console) plus a
 * digest of its ARN, which is unique per state machine and execution. Every attempt of the
 * same execution (a Step Functions retry, a Lambda retry, a redrive) derives the same id,
 * and two deployments sharing a Kling account never collide. A redrive may also use the id
 * of its own redrive count (`-r1`, `-r2`...) for a new task when every earlier one failed.
 */
export function externalTaskIdFor(executionName: string, executionId: string, redriveCount = 0): string {
  const digest = createHash("sha256").update(executionId).digest("hex").slice(0, 12);
  const readable = executionName.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 48);
  return redriveCount === 0 ? `${readable}-${digest}` : `${readable}-${digest}-r${redriveCount}`;
}

/** The ids an execution may have used by this redrive, newest first. */
export function externalTaskIdsUpTo(executionName: string, executionId: string, redriveCount: number): string[] {
  return Array.from({ length: redriveCount + 1 }, (_, index) => externalTaskIdFor(executionName, executionId, redriveCount - index));
}
