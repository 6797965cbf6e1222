/**
 * Batches: the shape of a batch request (an EventBridge event's `detail`), each item's
 * outcome, the summary, and the outcome events put back on the bus.
 */
import * as z from "zod";
import type { Diagnosis } from "../diagnose/diagnosis";
import { sumUnits } from "../schemas/pricing";

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

/**
 * What PriceBatch found before anything started: the batch's price (its valid items, with
 * Validate's defaults, from the one pricing table) against what the packs hold less the ledger's
 * reservations. Advisory, not a reservation of the whole batch: each item still reserves its own
 * price in CheckCredits. Refused, it is the Cause of the batch's Kling.InsufficientCredits.
 */
export const batchPricingSchema = z.object({
  itemCount: z.number().int().min(0),
  priceUnits: z.number(),
  availableUnits: z.number(),
  /** What the online packs hold; availableUnits is this less reservedUnits. */
  onlineUnits: z.number(),
  /** What the jobs in flight have reserved in the ledger. */
  reservedUnits: z.number(),
  /** Items Validate would refuse: unpriced, they fail alone later and cost nothing. */
  unpricedItems: z.number().int().min(0),
  reason: z.string(),
});
export type BatchPricing = z.infer<typeof batchPricingSchema>;

/** Why a batch started no item: the error, and the pricing that refused it. */
export interface NotStarted extends BatchPricing {
  readonly errorCode: string;
}

/** Units the batch's items reserved in CheckCredits, and what Kling charged for them (final_unit_deduction). */
export interface BatchUnits {
  readonly reservedUnits: number;
  readonly spentUnits: number;
}

export interface ItemOutcome {
  readonly index: number;
  readonly executionName: string;
  readonly status: ItemStatus;
  readonly videoUrl?: string;
  /** Where the archived video is kept (`s3://<bucket>/videos/<jobId>/<videoId>.mp4`): the copy that outlives Kling's URL. */
  readonly videoKey?: string;
  readonly videoBucket?: string;
  readonly diagnosis?: Diagnosis;
  /** What the item's generation reserved and Kling charged, when it succeeded. */
  readonly units?: BatchUnits;
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
  /** Summed over the items: what they reserved and what Kling charged. */
  readonly units: BatchUnits;
  /** Present when the batch started nothing: why, with its price and what was available. */
  readonly notStarted?: NotStarted;
  readonly items: readonly ItemOutcome[];
}


/** The summary of a batch that started nothing: every item counted, none run. */
export function summarizeNotStarted(batchId: string, notStarted: NotStarted): BatchSummary {
  return { batchId, total: notStarted.itemCount, succeeded: 0, failed: 0, recoverable: 0, duplicates: 0, units: { reservedUnits: 0, spentUnits: 0 }, notStarted, items: [] };
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
    units: {
      reservedUnits: sumUnits(sorted.map((item) => item.units?.reservedUnits ?? 0)),
      spentUnits: sumUnits(sorted.map((item) => item.units?.spentUnits ?? 0)),
    },
    items: sorted,
  };
}
