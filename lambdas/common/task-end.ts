/**
 * A Kling task's end as the workflow acts on it, whoever noticed it: Poll (asking Kling), or
 * the callback function (told by Kling, then asking it to confirm). Both release the slot and
 * settle the credits the same way here, and give WaitForVideo the same result.
 */
import { failedTaskError, KlingError } from "../errors";
import type { Task } from "../kling/wire";
import { isGoneToken, type SlotPorts, releaseHolds } from "../ledger/slots";
import type { TaskResponses } from "./task-responses";
import { logger } from "../observability/logger";
import type { TaskView } from "./task-view";
import type { TaskEnd } from "../ledger/task-waits";


/** The end Kling's answer says the task reached, or undefined while it still runs. */
export function taskEndOf(answer: Task): TaskEnd | undefined {
  const unitsSpent = answer.final_unit_deduction === undefined ? {} : { unitsSpent: Number(answer.final_unit_deduction) };
  if (answer.task_status === "failed") return { status: "failed", message: answer.task_status_msg ?? "", ...unitsSpent };
  if (answer.task_status !== "succeed") return undefined;
  const video = answer.task_result?.videos[0];
  if (!video) throw new KlingError("Kling.ServerError", `Kling task ${answer.task_id} succeeded without a video`);
  return {
    status: "succeed",
    video: { id: video.id, url: video.url, ...(video.watermark_url ? { watermarkUrl: video.watermark_url } : {}), duration: video.duration },
    ...unitsSpent,
  };
}

/**
 * The task has ended at Kling: its slot is free there, so give it to the next waiter now, and
 * settle the credit reservation. Returns what it cost: Kling's final_unit_deduction, else the
 * units the ledger had reserved (null when a repeat finds none). Safe to repeat: a second
 * release finds nothing to give back.
 */
export async function releaseEndedTask(slots: SlotPorts, executionArn: string, end: TaskEnd): Promise<number | null> {
  const released = await releaseHolds(executionArn, slots);
  // A repeat release gives nothing back: then only Kling's own figure can say what was spent.
  const unitsSpent = end.unitsSpent ?? (released.units > 0 ? released.units : null);
  logger().info("slot released", { ...released, unitsSpent });
  return unitsSpent;
}

/** WaitForVideo's result for an ended task: the TaskView carrying its video; a failed task is thrown as Poll throws it. */
export function endedTaskView(task: TaskView, end: TaskEnd, unitsSpent: number | null): TaskView {
  if (end.status === "failed") throw failedTaskError(end.message, task.taskId);
  return { ...task, status: "succeed", nextWaitSeconds: 0, video: end.video, unitsSpent };
}

/**
 * Ends a WaitForVideo wait with the task's end, as Poll would have: its TaskView, or its error
 * (Error and a Cause shaped as Lambda's, which Diagnose reads). False when the token is gone
 * (answered, timed out: the fallback poll has taken over).
 */
export async function answerWait(responses: TaskResponses, taskToken: string, task: TaskView, end: TaskEnd, unitsSpent: number | null): Promise<boolean> {
  try {
    try {
      await responses.succeed(taskToken, JSON.stringify(endedTaskView(task, end, unitsSpent)));
    } catch (error) {
      if (!(error instanceof KlingError)) throw error;
      await responses.fail(taskToken, error.name, JSON.stringify({ errorType: error.name, errorMessage: error.message }));
    }
    return true;
  } catch (error) {
    if (isGoneToken(error)) return false;
    throw error;
  }
}
