import type { ApiStandard, VideoInput } from "../schemas/models";
import { TASK_KINDS, type CreateTaskBody, type ResourcePack, type Task, type TaskKind } from "./wire";
import { NEW_TASK_KINDS, type NewTaskKind } from "./wire-v2";

/**
 * Where a task lives, and so which API standard serves it: a legacy endpoint (`text2video`,
 * `image2video`) or a new-standard one (`text-to-video`, `image-to-video`). The workflow keeps
 * it with the task id, so Poll and a redriven Submit reach the task whatever its standard.
 */
export const KLING_TASK_KINDS = [...TASK_KINDS, ...NEW_TASK_KINDS] as const;
export type KlingTaskKind = TaskKind | NewTaskKind;

const TASK_KINDS_BY_STANDARD: Readonly<Record<ApiStandard, Readonly<Record<VideoInput, KlingTaskKind>>>> = {
  legacy: { text: "text2video", image: "image2video" },
  new: { text: "text-to-video", image: "image-to-video" },
};

/** The kind of task a video from this input is, on this standard. */
export function taskKindOn(standard: ApiStandard, input: VideoInput): KlingTaskKind {
  return TASK_KINDS_BY_STANDARD[standard][input];
}

export function isNewTaskKind(kind: KlingTaskKind): kind is NewTaskKind {
  return (NEW_TASK_KINDS as readonly string[]).includes(kind);
}

/** Kling credentials: an API key, or an AccessKey/SecretKey pair that signs short-lived JWTs. */
export type KlingCredentials =
  | { readonly apiKey: string }
  | { readonly accessKey: string; readonly secretKey: string };

/**
 * What the Lambdas need from Kling, over both standards (or, for one standard's client, the
 * kinds it serves). Tasks, bodies and statuses are in the legacy words (`task_id`, `succeed`):
 * the new standard's client translates. Every method throws a `KlingError` (lambdas/errors)
 * whose `name` is the Step Functions error name; nothing else escapes.
 */
export interface KlingApi<Kind extends KlingTaskKind = KlingTaskKind> {
  /** The body names its model (`model_name`); the kind says which standard's endpoint creates it. */
  createTask(kind: Kind, body: CreateTaskBody): Promise<Task>;
  /** `id` is Kling's task_id (on the legacy standard, also the caller's external_task_id). */
  getTask(kind: Kind, id: string): Promise<Task>;
  /** The task created with this external_task_id, or undefined when Kling has none. */
  findTaskByExternalId(kind: Kind, externalTaskId: string): Promise<Task | undefined>;
  listTasks(kind: Kind, page: { pageNum: number; pageSize: number }): Promise<Task[]>;
  /** The account's resource packs whose lifetime overlaps [startTime, endTime] (epoch ms). */
  getResourcePacks(range: { startTime: number; endTime: number }): Promise<ResourcePack[]>;
}

/** What a function that only reads the account's resource packs needs of Kling. */
export type KlingAccount = Pick<KlingApi, "getResourcePacks">;

/** The KlingApi operation an HTTP request to Kling belongs to. */
export type KlingOperation = "createTask" | "getTask" | "listTasks" | "getResourcePacks";

/** What one HTTP request to Kling ended with. */
export interface KlingCallOutcome {
  /** The HTTP status of Kling's answer; undefined when none came (a timeout, a broken connection). */
  readonly httpStatus: number | undefined;
  /** Kling's business code: 0 for a success, undefined when the answer had none. */
  readonly klingCode: number | undefined;
  /** The Step Functions error name the request failed with; undefined for a success. */
  readonly errorName: string | undefined;
  readonly requestId: string | undefined;
}

/** Sees each HTTP request to Kling (traces, metrics, logs). It must not throw. */
export interface KlingCallObserver {
  /** Called as a request starts; the function it returns is called once, as the request ends. */
  started(operation: KlingOperation): (outcome: KlingCallOutcome) => void;
}
