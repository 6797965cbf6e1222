/**
 * What GET /generations/{id} says about an execution: its status, the video once it
 * succeeded, the diagnosis once it failed.
 */
import * as z from "zod";
import { diagnosisOfExecution, parseExecutionJson, type Diagnosis } from "../diagnose/diagnosis";
import { logger } from "../observability/logger";
import type { ExecutionDescription, ExecutionStatus } from "./executions";

/**
 * PENDING_REDRIVE is a failed execution an operator may redrive: to the caller it has failed.
 * QUEUED is a running execution waiting for one of the account's Kling slots.
 */
export type GenerationStatus = Exclude<ExecutionStatus, "PENDING_REDRIVE"> | "QUEUED";

interface GenerationVideo {
  readonly url: string;
  readonly duration: string;
}

interface GenerationView {
  readonly id: string;
  readonly status: GenerationStatus;
  readonly video: GenerationVideo | null;
  readonly diagnosis: Diagnosis | null;
  /** While QUEUED: 1 for the next generation to get a slot. */
  readonly queuePosition?: number;
}

export function generationStatus(status: ExecutionStatus): Exclude<GenerationStatus, "QUEUED"> {
  return status === "PENDING_REDRIVE" ? "FAILED" : status;
}

/** A SUCCEEDED execution's output holds the video at `$.task.video` (lib/generation-workflow.ts). */
const succeededOutputSchema = z.object({
  task: z.object({ video: z.object({ url: z.string(), duration: z.string() }) }),
});

/** `queuePosition`: where the execution waits for a Kling slot, if it does. */
export function generationView(execution: ExecutionDescription, queuePosition?: number): GenerationView {
  const status = generationStatus(execution.status);
  if (status === "RUNNING" && queuePosition !== undefined) {
    return { id: execution.name, status: "QUEUED", video: null, diagnosis: null, queuePosition };
  }
  return {
    id: execution.name,
    status,
    video: status === "SUCCEEDED" ? videoOf(execution) : null,
    diagnosis: status === "FAILED" ? diagnosisOfExecution(execution.name, execution.error, execution.cause) : null,
  };
}

function videoOf(execution: ExecutionDescription): GenerationVideo | null {
  const parsed = succeededOutputSchema.safeParse(parseExecutionJson(execution.output));
  if (!parsed.success) {
    // The workflow always ends with a video; an output without one is a fault to look into.
    logger().error("a succeeded execution has no video in its output", { id: execution.name });
    return null;
  }
  const { url, duration } = parsed.data.task.video;
  return { url, duration };
}
