/**
 * What the pipeline posts to a requester's `callbackUrl` once a generation ends: one JSON body
 * per outcome, in the Standard Webhooks payload shape (`type`, `timestamp`, `data`), and the
 * webhook-id that names the outcome. README, "Requester callbacks", documents both.
 */
import { createHash } from "node:crypto";
import { succeededVideoOf } from "../api/generation-view";
import { type Diagnosis, diagnosisOfEndedExecution } from "../diagnose/diagnosis";
import type { EndedStatus } from "../release-slot/status-change";


export const NOTIFICATION_TYPES: Readonly<Record<EndedStatus, string>> = {
  SUCCEEDED: "generation.succeeded",
  FAILED: "generation.failed",
  TIMED_OUT: "generation.timed_out",
  ABORTED: "generation.aborted",
};

/** An ended execution, as its status change event (or DescribeExecution) tells it. */
export interface EndedExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly status: EndedStatus;
  /** Which run of the execution ended: 0, then one more per redrive. */
  readonly redriveCount: number;
  /** When it ended (ISO 8601): the same in every delivery of the same outcome. */
  readonly endedAt: string;
  readonly output: string | undefined;
  readonly error: string | undefined;
  readonly cause: string | undefined;
}

/** The archived video of a succeeded generation: where it is kept (GET /generations/{id} hands out a link to it). */
interface NotifiedVideo {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly duration: string;
}

export interface RequesterNotification {
  readonly type: string;
  readonly timestamp: string;
  readonly data: {
    readonly generationId: string;
    readonly status: EndedStatus;
    readonly redriveCount: number;
    readonly video: NotifiedVideo | null;
    readonly diagnosis: Diagnosis | null;
  };
}

/**
 * The webhook-id of an outcome: the same for every retry and every repeated event of it, and a
 * new one for a redriven run's outcome.
 */
export function webhookIdOf(execution: Pick<EndedExecution, "executionArn" | "status" | "redriveCount">): string {
  const digest = createHash("sha256").update(JSON.stringify([execution.executionArn, execution.status, execution.redriveCount])).digest("base64url");
  return `msg_${digest.slice(0, 32)}`;
}

function videoOf(execution: EndedExecution): NotifiedVideo | null {
  const archive = succeededVideoOf(execution.name, execution.output);
  if (!archive?.archive) return null;
  const { bucket, video } = archive.archive;
  return { bucket, key: video.key, sha256: video.sha256, bytes: video.bytes, duration: archive.task.video.duration };
}

export function notificationOf(execution: EndedExecution): RequesterNotification {
  const { status } = execution;
  return {
    type: NOTIFICATION_TYPES[status],
    timestamp: execution.endedAt,
    data: {
      generationId: execution.name,
      status,
      redriveCount: execution.redriveCount,
      video: status === "SUCCEEDED" ? videoOf(execution) : null,
      diagnosis: status === "SUCCEEDED" ? null : diagnosisOfEndedExecution(execution.name, status, execution.error, execution.cause),
    },
  };
}
