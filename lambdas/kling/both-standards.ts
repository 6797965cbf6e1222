/**
 * The Kling client the Lambdas use: one `KlingApi` over both standards. A task's kind says which
 * standard serves it (port.ts), so every call goes to the legacy client or the new-standard one
 * by its kind alone; the account endpoint is shared.
 */
import { KlingClient, type KlingClientOptions } from "./client";
import { NewStandardClient } from "./new-standard";
import { isNewTaskKind, type KlingApi, type KlingTaskKind } from "./port";
import type { CreateTaskBody, ResourcePack, Task } from "./wire";

export class KlingStandardsClient implements KlingApi {
  private readonly legacy: KlingClient;
  private readonly current: NewStandardClient;

  /** Throws as `KlingClient` does for configuration that cannot work. */
  constructor(options: KlingClientOptions) {
    this.legacy = new KlingClient(options);
    this.current = new NewStandardClient(this.legacy, options.credentials);
  }

  createTask(kind: KlingTaskKind, body: CreateTaskBody): Promise<Task> {
    return isNewTaskKind(kind) ? this.current.createTask(kind, body) : this.legacy.createTask(kind, body);
  }

  getTask(kind: KlingTaskKind, id: string): Promise<Task> {
    return isNewTaskKind(kind) ? this.current.getTask(kind, id) : this.legacy.getTask(kind, id);
  }

  findTaskByExternalId(kind: KlingTaskKind, externalTaskId: string): Promise<Task | undefined> {
    return isNewTaskKind(kind) ? this.current.findTaskByExternalId(kind, externalTaskId) : this.legacy.findTaskByExternalId(kind, externalTaskId);
  }

  listTasks(kind: KlingTaskKind, page: { pageNum: number; pageSize: number }): Promise<Task[]> {
    return isNewTaskKind(kind) ? this.current.listTasks(kind, page) : this.legacy.listTasks(kind, page);
  }

  getResourcePacks(range: { startTime: number; endTime: number }): Promise<ResourcePack[]> {
    return this.legacy.getResourcePacks(range);
  }
}
