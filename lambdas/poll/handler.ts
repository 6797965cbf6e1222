import * as z from "zod";
import { failedTaskError, KlingError } from "../errors";
import { now } from "../common/clock";
import { pollScheduleConfig } from "../common/config";
import { klingApi } from "../common/kling-api";
import { parseEvent } from "../common/parse-event";
import { nextWaitSeconds } from "../common/poll-schedule";
import { taskViewSchema, type TaskView } from "../common/task-view";
import { logger, observed } from "../observability/logger";
import { recordGenerationSucceeded } from "../observability/metrics";
import type { Task } from "../kling/wire";
import { slotPorts } from "../ledger/ports";
import { releaseHolds } from "../ledger/slots";

const pollEventSchema = z.object({
  task: taskViewSchema,
  /** Absent in executions started before the account ledger was deployed: they hold nothing in it. */
  executionArn: z.string().min(1).optional(),
});

/**
 * The task has ended at Kling: its slot is free there, so give it to the next waiter now, and
 * settle the credit reservation (Kling's final_unit_deduction is what was really spent).
 */
async function releaseEndedTask(executionArn: string | undefined, answer: Task): Promise<number | null> {
  const charged = answer.final_unit_deduction === undefined ? undefined : Number(answer.final_unit_deduction);
  if (executionArn === undefined) return charged ?? null;
  const released = await releaseHolds(executionArn, slotPorts());
  const unitsSpent = charged ?? released.units;
  logger().info("slot released", { ...released, unitsSpent });
  return unitsSpent;
}

/**
 * Poll: asks Kling how the task is doing. Returns the task with the wait before the next poll;
 * a finished task carries its video. A failed task and a passed deadline are thrown.
 */
async function poll(event: unknown): Promise<TaskView> {
  const { task, executionArn } = parseEvent(pollEventSchema, event, "Poll");
  const kling = await klingApi();
  const answer = await kling.getTask(task.kind, task.taskId);
  const polls = task.polls + 1;

  const ended = answer.task_status === "failed" || answer.task_status === "succeed";
  const unitsSpent = ended ? await releaseEndedTask(executionArn, answer) : (task.unitsSpent ?? null);
  if (answer.task_status === "failed") {
    throw failedTaskError(answer.task_status_msg ?? "", task.taskId);
  }
  if (answer.task_status === "succeed") {
    const video = answer.task_result?.videos[0];
    if (!video) throw new KlingError("Kling.ServerError", `Kling task ${task.taskId} succeeded without a video`);
    recordGenerationSucceeded();
    logger().info("video ready", { taskId: task.taskId, polls });
    return {
      ...task,
      status: "succeed",
      polls,
      nextWaitSeconds: 0,
      video: { id: video.id, url: video.url, duration: video.duration },
      unitsSpent,
    };
  }

  const schedule = pollScheduleConfig();
  const elapsedSeconds = (now() - task.submittedAt) / 1000;
  const wait = nextWaitSeconds(schedule, task.typicalSeconds ?? 0, elapsedSeconds);
  if (wait === undefined) {
    throw new KlingError(
      "Kling.PollTimeout",
      `Kling task ${task.taskId} was still ${answer.task_status} ${Math.round(elapsedSeconds)} s after submission, past the ${schedule.deadlineSeconds} s deadline`,
    );
  }
  return { ...task, status: answer.task_status, polls, nextWaitSeconds: wait, unitsSpent };
}

export const handler = observed(poll);
