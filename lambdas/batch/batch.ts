/**
 * Batches: the shape of a batch request (an EventBridge event's `detail`), each item's
 * outcome, the summary, and the outcome events put back on the bus.
 */
import * as z from "zod";
import type { Diagnosis } from "../diagnose/diagnosis";

/** The detail-types of the batch's events on the bus. */
export const BATCH_EVENTS = {
  requested: "Video Generation Batch Requested",
  generated: "Video Generated",
  failed: "Video Generation Failed",
  skipped: "Video Generation Skipped",
  completed: "Video Generation Batch Completed",
} as const;

/**
 * An EventBridge event carries at most 256 KB, and a prompt up to 2500 characters: a hundred
 * items is what one event can hold. The Map's outcomes replace the requests in the batch's
 * state, and each is bounded (MAX_DIAGNOSIS_MESSAGE_BYTES), so no state passes 256 KiB.
 */
export const MAX_BATCH_ITEMS = 100;

/**
 * The key Step Functions' "associate with parent" adds to a child's input: the batch execution
 * that started it. It makes a repeated delivery's StartExecution differ in input, so Step
 * Functions refuses it (ExecutionAlreadyExists) even while the first child still runs, instead
 * of returning that child to a second batch that would report it again. Not part of the request.
 */
export const STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID";

/** `batch-<batchId>-<index>` must fit Step Functions' 80-character execution names. */
const BATCH_ID = /^[A-Za-z0-9_-]{1,64}$/;

const TOO_FEW_ITEMS = "items must hold at least one generation request";
const TOO_MANY_ITEMS = `items must hold at most ${MAX_BATCH_ITEMS} generation requests`;

/** The schedule time of a batch that no schedule sent. */
export const NOT_SCHEDULED = "not-scheduled";

/**
 * What ValidateBatch checks: the batch's id, how many items it holds, and the schedule's time
 * for a scheduled run (NOT_SCHEDULED otherwise). The items themselves never reach it: a batch can fill
 * the 256 KiB a state may hold, and each item is validated by its own generation.
 */
export const batchHeaderSchema = z.object({
  batchId: z.string().regex(BATCH_ID, "batchId must be 1 to 64 letters, digits, '-' or '_'"),
  itemCount: z.number().int().min(1, TOO_FEW_ITEMS).max(MAX_BATCH_ITEMS, TOO_MANY_ITEMS),
  /** Set by a scheduled rule (the event's time): each scheduled run becomes its own batch. */
  scheduledAt: z.string(),
});

/** A batch event's detail, as the local command reads it from a file: ValidateBatch's rules, on the items themselves. */
export const batchRequestSchema = z.object({
  batchId: batchHeaderSchema.shape.batchId,
  items: z.array(z.unknown()).min(1, TOO_FEW_ITEMS).max(MAX_BATCH_ITEMS, TOO_MANY_ITEMS),
  scheduledAt: z.string().optional(),
});
export type BatchRequest = z.infer<typeof batchRequestSchema>;

/** A failed item's errorMessage, as UTF-8 bytes of its JSON: what keeps 100 outcomes well within 256 KiB. */
export const MAX_DIAGNOSIS_MESSAGE_BYTES = 1024;

type ItemStatus = "SUCCEEDED" | "FAILED" | "DUPLICATE";

export interface ItemOutcome {
  readonly index: number;
  readonly executionName: string;
  readonly status: ItemStatus;
  readonly videoUrl?: string;
  /** Where the archived video is kept (`s3://<bucket>/videos/<jobId>/<videoId>.mp4`): the copy that outlives Kling's URL. */
  readonly videoKey?: string;
  readonly videoBucket?: string;
  readonly diagnosis?: Diagnosis;
}

export interface BatchSummary {
  readonly batchId: string;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Failed items a later attempt can still turn into a video. */
  readonly recoverable: number;
  /** Items an earlier delivery of the same batch already started: their outcome is that run's. */
  readonly duplicates: number;
  readonly items: readonly ItemOutcome[];
}

export function summarizeBatch(batchId: string, items: readonly ItemOutcome[]): BatchSummary {
  const sorted = [...items].sort((a, b) => a.index - b.index);
  const failed = sorted.filter((item) => item.status === "FAILED");
  return {
    batchId,
    total: sorted.length,
    succeeded: sorted.filter((item) => item.status === "SUCCEEDED").length,
    failed: failed.length,
    recoverable: failed.filter((item) => item.diagnosis?.recoverable === true).length,
    duplicates: sorted.filter((item) => item.status === "DUPLICATE").length,
    items: sorted,
  };
}
