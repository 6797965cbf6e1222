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
