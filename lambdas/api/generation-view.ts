/**
 * What GET /generations/{id} says about an execution: its status, the video once it
 * succeeded, the diagnosis once it failed.
 */
import * as z from "zod";
import { diagnosisOfEndedExecution, parseExecutionJson, type Diagnosis } from "../diagnose/diagnosis";
import { logger } from "../observability/logger";
import type { ExecutionDescription, ExecutionStatus } from "./executions";
import type { VideoLinks } from "./video-links";

/**
 * PENDING_REDRIVE is a failed execution an operator may redrive: to the caller it has failed.
 * QUEUED is a running execution waiting for one of the account's Kling slots.
 */
export type GenerationStatus = Exclude<ExecutionStatus, "PENDING_REDRIVE"> | "QUEUED";

interface GenerationVideo {
  /** A presigned link to the archived video (Kling's own URL for an execution from before Archive). */
  readonly url: string;
  readonly duration: string;
  /** Where the video is kept, and until when `url` works; absent for an execution from before Archive. */
  readonly archive?: { readonly bucket: string; readonly key: string; readonly sha256: string; readonly bytes: number; readonly linkExpiresAt: string };
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

/**
 * A SUCCEEDED execution's output holds Kling's video at `$.task.video` and, since Archive, the
 * archived copy at `$.archive` (lib/generation-workflow.ts).
 */
const succeededOutputSchema = z.object({
  task: z.object({ video: z.object({ url: z.string(), duration: z.string() }) }),
  archive: z.object({ bucket: z.string(), video: z.object({ key: z.string(), sha256: z.string(), bytes: z.number() }) }).optional(),
});

/** `queuePosition`: where the execution waits for a Kling slot, if it does. */
export async function generationView(
  execution: ExecutionDescription,
  links: VideoLinks,
  queuePosition?: number,
  now: Date = new Date(),
): Promise<GenerationView> {
  const status = generationStatus(execution.status);
  if (status === "RUNNING" && queuePosition !== undefined) {
    return { id: execution.name, status: "QUEUED", video: null, diagnosis: null, queuePosition };
  }
  return {
    id: execution.name,
    status,
    video: status === "SUCCEEDED" ? await videoOf(execution, links, now) : null,
    // Every ending but success has its diagnosis: a timed-out or stopped execution too, from what AWS reports of it.
    diagnosis: status === "FAILED" || status === "TIMED_OUT" || status === "ABORTED" ? diagnosisOfEndedExecution(execution.name, status, execution.error, execution.cause) : null,
  };
}

/**
 * The video in a SUCCEEDED execution's output, or undefined (logged) when it holds none: the
 * workflow always ends with a video, so an output without one is a fault to look into.
 */
export function succeededVideoOf(executionName: string, output: string | undefined): z.infer<typeof succeededOutputSchema> | undefined {
  const parsed = succeededOutputSchema.safeParse(parseExecutionJson(output));
  if (!parsed.success) logger().error("a succeeded execution has no video in its output", { id: executionName });
  return parsed.data;
}

async function videoOf(execution: ExecutionDescription, links: VideoLinks, now: Date): Promise<GenerationVideo | null> {
  const succeeded = succeededVideoOf(execution.name, execution.output);
  if (!succeeded) return null;
  const { task, archive } = succeeded;
  // An execution that succeeded before Archive was deployed has only Kling's URL (purged after 30 days).
  if (!archive) return { url: task.video.url, duration: task.video.duration };
  const { key, sha256, bytes } = archive.video;
  return {
    url: await links.linkTo(archive.bucket, key),
    duration: task.video.duration,
    archive: { bucket: archive.bucket, key, sha256, bytes, linkExpiresAt: new Date(now.getTime() + links.lifetimeSeconds * 1000).toISOString() },
  };
}
