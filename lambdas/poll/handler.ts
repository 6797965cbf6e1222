import * as z from "zod";
import { failedTaskError, KlingError } from "../errors";
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { klingApiFrom } from "../common/kling-api";
import { sfnTaskResponses } from "../common/task-responses";
import { nextWaitSeconds } from "../common/poll-schedule";
import { taskViewSchema, type TaskView } from "../common/task-view";
import { logger, observed } from "../observability/logger";
import { recordGenerationSucceeded } from "../observability/metrics";
import type { Task } from "../kling/wire";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { releaseHolds } from "../ledger/slots";

type PollPorts = Pick<HandlerPorts, "kling" | "clock" | "settings" | "ledger" | "taskResponses">;

const pollEventSchema = z.object({
  task: taskViewSchema,
  /** Absent in executions started before the account ledger was deployed: they hold nothing in it. */
  executionArn: z.string().min(1).optional(),
});

/**
 * The task has ended at Kling: its slot is free there, so give it to the next waiter now, and
 * settle the credit reservation (Kling's final_unit_deduction is what was really spent).
 */
async function releaseEndedTask(ports: PollPorts, executionArn: string | undefined, answer: Task): Promise<number | null> {
  const charged = answer.final_unit_deduction === undefined ? undefined : Number(answer.final_unit_deduction);
  if (executionArn === undefined) return charged ?? null;
  const released = await releaseHolds(executionArn, slotPortsOf(ports));
  const unitsSpent = charged ?? released.units;
  logger().info("slot released", { ...released, unitsSpent });
  return unitsSpent;
}

/**
 * Poll: asks Kling how the task is doing. Returns the task with the wait before the next poll;
 * a finished task carries its video. A failed task and a passed deadline are thrown.
 */
async function poll(ports: PollPorts, event: unknown): Promise<TaskView> {
  const { task, executionArn } = parseEvent(pollEventSchema, event, "Poll");
  const kling = await ports.kling();
  const answer = await kling.getTask(task.kind, task.taskId);
  const polls = task.polls + 1;

  const ended = answer.task_status === "failed" || answer.task_status === "succeed";
  const unitsSpent = ended ? await releaseEndedTask(ports, executionArn, answer) : (task.unitsSpent ?? null);
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
      video: { id: video.id, url: video.url, ...(video.watermark_url ? { watermarkUrl: video.watermark_url } : {}), duration: video.duration },
      unitsSpent,
    };
  }

  const schedule = ports.settings.pollSchedule();
  const elapsedSeconds = (ports.clock.now() - task.submittedAt) / 1000;
  const wait = nextWaitSeconds(schedule, task.typicalSeconds ?? 0, elapsedSeconds);
  if (wait === undefined) {
    throw new KlingError(
      "Kling.PollTimeout",
      `Kling task ${task.taskId} was still ${answer.task_status} ${Math.round(elapsedSeconds)} s after submission, past the ${schedule.deadlineSeconds} s deadline`,
    );
  }
  return { ...task, status: answer.task_status, polls, nextWaitSeconds: wait, unitsSpent };
}

export function pollHandler(ports: PollPorts) {
  return observed((event: unknown) => poll(ports, event));
}

export const handler = pollHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
  taskResponses: sfnTaskResponses(),
});
