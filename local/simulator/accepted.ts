/** What the simulator keeps of a create it accepted, whatever the product: the rules' verdict. */

/** A video a task was made from (lip-sync, extend, video to audio): Kling's `task_info.parent_video`. */
export interface ParentVideo {
  readonly id: string;
  readonly url: string;
  /** Seconds, as a string. */
  readonly duration: string;
}

export interface AcceptedCreate {
  /** The model, or the product's name for a product without models (avatar, lip-sync, effects, ...). */
  readonly model: string;
  /** std is 720p, pro 1080p; kling-v3 and the new 3.0 models also make 4k. */
  readonly mode: "std" | "pro" | "4k";
  /** Seconds of the output, as the legacy standard writes them. */
  readonly duration: string;
  readonly sound?: "on" | "off";
  /** Kept so a run can tell whose task it is even without an external_task_id (the chaos run's accounting). */
  readonly prompt?: string;
  readonly externalTaskId?: string;
  readonly callbackUrl?: string;
  /** What the task costs, in units, by the simulator's own tables (kling-tables.ts). */
  readonly units: number;
  /** `audio`: video to audio, which makes the video with its new sound and the audio alone. */
  readonly result: "video" | "audio";
  readonly parentVideo?: ParentVideo;
}

export type CreateValidation = { readonly ok: true; readonly create: AcceptedCreate } | { readonly ok: false; readonly message: string };

export const refuse = (message: string): CreateValidation => ({ ok: false, message });
