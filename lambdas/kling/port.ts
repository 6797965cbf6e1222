import type { CreateTaskBody, ResourcePack, Task, TaskKind } from "./wire";

/** Kling credentials: an API key, or an AccessKey/SecretKey pair that signs short-lived JWTs. */
export type KlingCredentials =
  | { readonly apiKey: string }
  | { readonly accessKey: string; readonly secretKey: string };

/**
 * What the Lambdas need from Kling. Every method throws a `KlingError` (lambdas/errors) whose
 * `name` is the Step Functions error name; nothing else escapes.
 */
export interface KlingApi {
  createTask(kind: TaskKind, body: CreateTaskBody): Promise<Task>;
  /** `id` is Kling's task_id or the caller's external_task_id. */
  getTask(kind: TaskKind, id: string): Promise<Task>;
  /** The task created with this external_task_id, or undefined when Kling has none. */
  findTaskByExternalId(kind: TaskKind, externalTaskId: string): Promise<Task | undefined>;
  listTasks(kind: TaskKind, page: { pageNum: number; pageSize: number }): Promise<Task[]>;
  /** The account's resource packs whose lifetime overlaps [startTime, endTime] (epoch ms). */
  getResourcePacks(range: { startTime: number; endTime: number }): Promise<ResourcePack[]>;
}
