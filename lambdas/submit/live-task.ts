/**
 * Which Kling task a Submit continues with: the one of its own id (a repeat after a lost
 * answer), else the newest earlier one that has not failed (a redrive after a Submit or Poll
 * failure), so a repeated or redriven Submit never pays twice. An earlier task that failed is
 * never resumed: a redrive of a failed generation must generate again.
 */
import type { KlingApi, KlingTaskKind } from "../kling/port";
import type { Task } from "../kling/wire";

interface LiveTask {
  readonly task: Task;
  readonly externalTaskId: string;
}

/** `externalTaskIds` newest first, the first being this attempt's own. */
export async function findLiveTask(kling: KlingApi, kind: KlingTaskKind, externalTaskIds: readonly string[]): Promise<LiveTask | undefined> {
  for (const [index, externalTaskId] of externalTaskIds.entries()) {
    const task = await kling.findTaskByExternalId(kind, externalTaskId);
    if (task && (index === 0 || task.task_status !== "failed")) return { task, externalTaskId };
  }
  return undefined;
}
