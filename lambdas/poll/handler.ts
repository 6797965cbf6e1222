import * as z from "zod";
import { KlingError } from "../errors";
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { klingApiFrom } from "../common/kling-api";
import { sfnTaskResponses } from "../common/task-responses";
import { nextWaitSeconds } from "../common/poll-schedule";
import { taskViewSchema, type TaskView } from "../common/task-view";
import type { TaskEnd } from "../ledger/task-waits";
import { logger, observed } from "../observability/logger";
import { recordEndFoundByPoll, recordGenerationSucceeded } from "../observability/metrics";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { dynamoDbTaskWaitsFrom } from "../ledger/task-waits";
import { callbackPortFrom } from "../common/callback-secrets";
import type { TaskEndClaim } from "../ledger/task-waits";
import { endedTaskView, releaseEndedTask, taskEndOf } from "../common/task-end";

type PollPorts = Pick<HandlerPorts, "kling" | "clock" | "settings" | "ledger" | "taskWaits" | "taskResponses" | "callbacks">;

const pollEventSchema = z.object({
  task: taskViewSchema,
  /** Absent in executions started before the account ledger was deployed: they hold nothing in it. */
  executionArn: z.string().min(1).optional(),
});

/**
 * The task has ended: with callbacks on, claim the end in the ledger, so a callback that comes
 * later changes nothing (and one that came first, and claimed it, counted the generation);
 * release the slot and settle the credits either way (a repeat releases nothing).
 */
async function settleEnd(ports: PollPorts, task: TaskView, executionArn: string | undefined, end: TaskEnd): Promise<number | null> {
  let claim: TaskEndClaim["outcome"] | undefined;
  let unitsSpent: number | null = end.unitsSpent ?? null;
  // Without an execution ARN (started before the ledger was deployed) the execution holds nothing in the ledger.
  if (executionArn !== undefined) {
    if (ports.callbacks.baseUrl() !== undefined) claim = (await ports.taskWaits().claimTaskEnd(task.externalTaskId, end)).outcome;
    if (claim === "claimed") recordEndFoundByPoll();
    unitsSpent = await releaseEndedTask(slotPortsOf(ports), executionArn, end);
    // The end goes to this execution as Poll's result: nothing is left for a later callback to finish.
    if (claim === "claimed" || claim === "claimed-before") await ports.taskWaits().settleTaskEnd(task.externalTaskId);
  }
  if (end.status === "succeed" && claim !== "claimed-before") recordGenerationSucceeded();
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

  const end = taskEndOf(answer);
  if (end) {
    const unitsSpent = await settleEnd(ports, task, executionArn, end);
    const view = endedTaskView({ ...task, polls }, end, unitsSpent);
    logger().info("video ready", { taskId: task.taskId, polls });
    return view;
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
  return { ...task, status: answer.task_status, polls, nextWaitSeconds: wait, unitsSpent: task.unitsSpent ?? null };
}

export function pollHandler(ports: PollPorts) {
  return observed((event: unknown) => poll(ports, event));
}

export const handler = pollHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
  taskWaits: dynamoDbTaskWaitsFrom(process.env),
  taskResponses: sfnTaskResponses(),
  callbacks: callbackPortFrom(process.env, wallClock),
});
