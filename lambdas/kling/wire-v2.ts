/**
 * Kling's wire format for the new (path-based) standard, as Kling's API documentation ("The new
 * standard") documents it, with the field details of the copies of Kling's pages it names
 * (aself101/kling-api, docs/specs/appendices/B-new-standard-contracts.md, sections 2 and 3).
 * The envelope and the error codes are the legacy ones (wire.ts).
 */
import * as z from "zod";

/** The path segment of a create: `POST /{kind}/{model}`. */
export const NEW_TASK_KINDS = ["text-to-video", "image-to-video"] as const;
export type NewTaskKind = (typeof NEW_TASK_KINDS)[number];

/** `succeeded`, not the legacy `succeed`. */
export const NEW_TASK_STATUSES = ["submitted", "processing", "succeeded", "failed"] as const;

/** One item of an image-to-video `contents[]`: the prompt, or a frame (an https URL or raw base64). */
export type NewContent =
  | { type: "prompt"; text: string }
  | { type: "first_frame" | "last_frame"; url: string };

interface NewSettings {
  /** std is 720p, pro 1080p, 4k 4K (3.0). */
  resolution: "720p" | "1080p" | "4k";
  /** Text to video only. */
  aspect_ratio?: "16:9" | "9:16" | "1:1";
  /** Whole seconds, a number (the legacy standard writes a string). */
  duration: number;
  audio?: "native" | "off";
  /** Defaults to true on 3.0: always sent where the model has it (models.ts). */
  multi_shot?: boolean;
}

interface NewOptions {
  callback_url?: string;
  external_task_id?: string;
}

/** The body of `POST /text-to-video/{model}` (`prompt`) and `POST /image-to-video/{model}` (`contents`). */
export interface NewCreateTaskBody {
  prompt?: string;
  contents?: NewContent[];
  settings: NewSettings;
  options: NewOptions;
}

export const newVideoOutputSchema = z.object({
  type: z.literal("video"),
  id: z.string(),
  url: z.string(),
  watermark_url: z.string().optional(),
  duration: z.string(),
});

/** Outputs other than a video (audio, images, ...) are read only for their type. */
const newOutputSchema = z.union([newVideoOutputSchema, z.object({ type: z.string() }).loose()]);

const newBillingSchema = z.object({ charge_type: z.string(), amount: z.string() }).loose();

/** A task, in a create answer (`data`) or an item of a query answer (`data[]`). */
export const newTaskSchema = z.object({
  id: z.string(),
  status: z.enum(NEW_TASK_STATUSES),
  message: z.string().optional(),
  create_time: z.number(),
  update_time: z.number(),
  external_id: z.string().optional(),
  outputs: z.array(newOutputSchema).optional(),
  billing: z.array(newBillingSchema).optional(),
});
export type NewTask = z.infer<typeof newTaskSchema>;

/** `GET /tasks?task_ids=...` and `?external_task_ids=...` answer a list. */
export const newTaskListSchema = z.array(newTaskSchema);

/** `POST /tasks` (by cursor). */
export const newTaskPageSchema = z.object({
  result: z.array(newTaskSchema),
  next_cursor: z.string().optional(),
  has_more: z.boolean(),
});

/** The body of `POST /tasks`: the next page after `cursor`, `limit` tasks at most (1 to 500). */
export interface NewTaskPageRequest {
  limit: number;
  cursor?: string;
}
