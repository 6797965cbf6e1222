import { createHash } from "node:crypto";

/**
 * The Kling `external_task_id` of an execution: its name (readable in Kling's console) plus a
 * digest of its ARN, which is unique per state machine and execution. Every attempt of the
 * same execution (a Step Functions retry, a Lambda retry, a redrive) derives the same id,
 * and two deployments sharing a Kling account never collide.
 */
export function externalTaskIdFor(executionName: string, executionId: string): string {
  const digest = createHash("sha256").update(executionId).digest("hex").slice(0, 12);
  const readable = executionName.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 48);
  return `${readable}-${digest}`;
}
