import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { wallClock } from "../common/clock";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { klingApiFrom } from "../common/kling-api";
import { nextWaitSeconds } from "../common/poll-schedule";
import type { TaskView } from "../common/task-view";
import { KlingError } from "../errors";
import { logger, observed } from "../observability/logger";
import { KLING_TASK_KINDS, type KlingApi, type KlingTaskKind } from "../kling/port";
import type { CreateTaskBody, Task } from "../kling/wire";
import { typicalGenerationSeconds } from "../schemas/generation-time";
import { generationRequestSchema, toCreateTaskBody } from "../schemas/validation";
import type { GenerationRequest } from "../schemas/generation-request";
import { callbackPortFrom } from "../common/callback-secrets";
import { externalTaskIdFor, externalTaskIdsUpTo } from "./external-task-id";
import { findLiveTask } from "./live-task";
import { callbackTokenExpiry, callbackUrlFor } from "../common/callback-url";

const submitEventSchema = z.object({
  jobId: z.string().min(1),
  executionId: z.string().min(1),
  kind: z.enum(KLING_TASK_KINDS),
  request: generationRequestSchema,
  /** `$$.Execution.RedriveCount`; absent when invoked outside Step Functions (a first attempt). */
  redriveCount: z.number().int().min(0).default(0),
});

/**
 * Creates the task; when Kling says the id is taken, an earlier attempt's create (one whose
 * answer timed out) landed after our look-up: that task is ours, so return it.
 */
async function createOrFindLateTask(kling: KlingApi, kind: KlingTaskKind, body: CreateTaskBody, externalTaskId: string): Promise<Task> {
  try {
    return await kling.createTask(kind, body);
  } catch (error) {
    if (!(error instanceof KlingError && error.refusal === "external-task-id-exists")) throw error;
    const existing = await kling.findTaskByExternalId(kind, externalTaskId);
    if (!existing) throw error;
    return existing;
  }
}

/** The create body, with callbacks on Kling's callback to the pipeline (never the requester's URL). */
async function createTaskBody(
  ports: Pick<HandlerPorts, "callbacks" | "clock" | "settings">,
  request: GenerationRequest,
  externalTaskId: string,
): Promise<CreateTaskBody> {
  const body = toCreateTaskBody(request, externalTaskId);
  const baseUrl = ports.callbacks.baseUrl();
  if (baseUrl === undefined) return body;
  const { capabilityKey } = await ports.callbacks.secrets();
  // The URL works until a while after the task's poll deadline, when its wait is over for good.
  const expiresAt = callbackTokenExpiry(ports.clock.now(), ports.settings.pollSchedule().deadlineSeconds);
  return { ...body, callback_url: callbackUrlFor(baseUrl, capabilityKey, externalTaskId, expiresAt) };
}

/**
 * Submit: creates the Kling task exactly once per execution. It looks the execution's
 * external_task_id up first, so a repeat after a lost answer, a 5xx, a timeout or a redrive
 * returns the task that already exists instead of paying for a second one; only a redrive
 * after the task failed creates another (live-task.ts).
 */
export function submitHandler(ports: Pick<HandlerPorts, "kling" | "clock" | "settings" | "callbacks">) {
  return observed(async (event: unknown): Promise<TaskView> => {
    const { jobId, executionId, kind, request, redriveCount } = parseEvent(submitEventSchema, event, "Submit");
    const kling = await ports.kling();
    const live = await findLiveTask(kling, kind, externalTaskIdsUpTo(jobId, executionId, redriveCount));
    const externalTaskId = live?.externalTaskId ?? externalTaskIdFor(jobId, executionId, redriveCount);
    const task = live?.task ?? (await createOrFindLateTask(kling, kind, await createTaskBody(ports, request, externalTaskId), externalTaskId));
    logger().info("Kling task submitted", { taskId: task.task_id, externalTaskId, status: task.task_status });
    const typicalSeconds = typicalGenerationSeconds(request);
    return {
      taskId: task.task_id,
      externalTaskId,
      kind,
      status: task.task_status,
      typicalSeconds,
      submittedAt: ports.clock.now(),
      polls: 0,
      nextWaitSeconds: nextWaitSeconds(ports.settings.pollSchedule(), typicalSeconds, 0) ?? 1,
      video: null,
      unitsSpent: null,
    };
  });
}

export const handler = submitHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  callbacks: callbackPortFrom(process.env, wallClock),
});
