/**
 * Kling's wire format (legacy `/v1` standard), as Kling's API documentation describes it.
 * The client parses every answer with these schemas; the simulator's tests check its
 * answers against them too.
 */
import * as z from "zod";
import { CAMERA_CONTROL_TYPES, type CameraControlType, type Duration, type Mode } from "../schemas/models";

/** The envelope of every answer. An error answer may have no `data`. */
export const envelopeSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  request_id: z.string(),
  data: z.unknown().optional(),
});

export const TASK_STATUSES = ["submitted", "processing", "succeed", "failed"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Which legacy endpoint a task lives under. */
export const TASK_KINDS = ["text2video", "image2video"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

const videoSchema = z.object({
  id: z.string(),
  url: z.string(),
  watermark_url: z.string().optional(),
  duration: z.string(),
});
export type Video = z.infer<typeof videoSchema>;

/** The task object of a create or query answer (`data`). */
export const taskSchema = z.object({
  task_id: z.string(),
  task_status: z.enum(TASK_STATUSES),
  task_status_msg: z.string().optional(),
  task_info: z.object({ external_task_id: z.string().optional() }).optional(),
  task_result: z.object({ videos: z.array(videoSchema) }).optional(),
  final_unit_deduction: z.string().optional(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type Task = z.infer<typeof taskSchema>;

export const taskListSchema = z.array(taskSchema);

const RESOURCE_PACK_STATUSES = ["toBeOnline", "online", "expired", "runOut"] as const;

const resourcePackSchema = z.object({
  resource_pack_name: z.string(),
  resource_pack_id: z.string(),
  resource_pack_type: z.enum(["decreasing_total", "constant_period"]),
  total_quantity: z.number(),
  remaining_quantity: z.number(),
  purchase_time: z.number(),
  effective_time: z.number(),
  invalid_time: z.number(),
  status: z.enum(RESOURCE_PACK_STATUSES),
});
export type ResourcePack = z.infer<typeof resourcePackSchema>;

export const accountCostsSchema = z.object({
  resource_pack_subscribe_infos: z.array(resourcePackSchema),
});

/** The camera moves live with the model rules that say which model takes which (schemas/models.ts). */
export { CAMERA_CONTROL_TYPES };
export const CAMERA_AXES = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"] as const;
export type CameraAxis = (typeof CAMERA_AXES)[number];

interface CameraControl {
  type: CameraControlType;
  config?: Partial<Record<CameraAxis, number>>;
}

/**
 * The body of `POST /v1/videos/text2video` and `/image2video` (snake_case, as Kling wants it).
 * The client port takes it for both standards; the new standard's client translates it.
 */
export interface CreateTaskBody {
  model_name: string;
  prompt?: string;
  negative_prompt?: string;
  cfg_scale?: number;
  mode?: Mode;
  aspect_ratio?: "16:9" | "9:16" | "1:1";
  /** "5" or "10"; "3" to "15" for kling-v3 (lambdas/schemas/models.ts). */
  duration?: Duration;
  sound?: "on" | "off";
  camera_control?: CameraControl;
  image?: string;
  image_tail?: string;
  /** Sent whenever the model has the switch (it defaults to true on 3.0); the new standard's `settings.multi_shot`. */
  multi_shot?: boolean;
  /** kling-v3's shots, given one by one (`customize`), with `multi_shot: true`. */
  shot_type?: "customize";
  multi_prompt?: { index: number; prompt: string; duration: string }[];
  callback_url?: string;
  external_task_id?: string;
}
