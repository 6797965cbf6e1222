/**
 * AwaitVideo, behind WaitForVideo when callbacks are on (a waitForTaskToken Task): records the
 * Task's token in the ledger under the Kling task, and returns; Kling's callback, confirmed,
 * answers the token (lambdas/kling-callback). If the end was claimed before the token was
 * recorded (the callback came while the fallback poll ran), it answers its own token at once.
 */
import * as z from "zod";
import { wallClock } from "../common/clock";
import { parseEvent } from "../common/parse-event";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { answerWait, releaseEndedTask } from "../common/task-end";
import { sfnTaskResponses } from "../common/task-responses";
import { taskViewSchema } from "../common/task-view";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { dynamoDbTaskWaitsFrom } from "../ledger/task-waits";
import { logger, observed } from "../observability/logger";

/** How long a task's wait stays in the ledger: past Step Functions' 14 days of redrive, nothing can resume it. */
const TASK_WAIT_KEPT_MS = 14 * 24 * 3600 * 1000;

const awaitVideoEventSchema = z.object({
  taskToken: z.string().min(1),
  task: taskViewSchema,
  executionArn: z.string().min(1),
});

type AwaitVideoPorts = Pick<HandlerPorts, "ledger" | "taskWaits" | "taskResponses" | "settings" | "clock">;

export function awaitVideoHandler(ports: AwaitVideoPorts) {
  return observed(async (event: unknown): Promise<"waiting" | "ended"> => {
    const { taskToken, task, executionArn } = parseEvent(awaitVideoEventSchema, event, "WaitForVideo");
    const end = await ports.taskWaits().recordTaskWait(task.externalTaskId, { executionArn, task, taskToken }, ports.clock.now() + TASK_WAIT_KEPT_MS);
    if (!end) return "waiting";
    // Whoever claimed the end released already, unless it stopped in between: a repeat releases nothing.
    const unitsSpent = await releaseEndedTask(slotPortsOf(ports), executionArn, end);
    await answerWait(ports.taskResponses, taskToken, task, end, unitsSpent);
    await ports.taskWaits().settleTaskEnd(task.externalTaskId);
    logger().info("the task had ended before its wait was recorded", { taskId: task.taskId, status: end.status });
    return "ended";
  });
}

export const handler = awaitVideoHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  ledger: dynamoDbLedgerFrom(process.env),
  taskWaits: dynamoDbTaskWaitsFrom(process.env),
  taskResponses: sfnTaskResponses(),
});
