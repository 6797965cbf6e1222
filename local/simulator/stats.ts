import type { ApiRequestKind } from "./faults";

/** Every request is counted under one kind; `other` is an unknown path or a wrong method. */
export type RequestKind = ApiRequestKind | "video" | "other";

/** What a test or a runner reads after (or during) a run. Live: it always shows the current counts. */
export interface SimulatorStats {
  readonly requests: number;
  readonly requestsByKind: Readonly<Record<RequestKind, number>>;
  readonly tasksCreated: number;
  /** Tasks really created (and charged) per external_task_id: more than 1 would be a double charge. */
  readonly tasksCreatedPerExternalId: ReadonlyMap<string, number>;
  tasksCreatedByExternalId(externalTaskId: string): number;
  /** Authenticated create requests per external_task_id, whatever their answer. */
  readonly createAttemptsPerExternalId: ReadonlyMap<string, number>;
  createAttemptsByExternalId(externalTaskId: string): number;
  /** Request faults answered plus tasks the plan made fail or hang. */
  readonly faultsInjected: number;
}

export class StatsRecorder implements SimulatorStats {
  requests = 0;
  readonly requestsByKind: Record<RequestKind, number> = { create: 0, query: 0, list: 0, account: 0, video: 0, other: 0 };
  tasksCreated = 0;
  readonly tasksCreatedPerExternalId = new Map<string, number>();
  readonly createAttemptsPerExternalId = new Map<string, number>();
  faultsInjected = 0;

  countRequest(kind: RequestKind): void {
    this.requests += 1;
    this.requestsByKind[kind] += 1;
  }

  countCreateAttempt(externalTaskId: string | undefined): void {
    if (externalTaskId !== undefined) increment(this.createAttemptsPerExternalId, externalTaskId);
  }

  countTaskCreated(externalTaskId: string | undefined): void {
    this.tasksCreated += 1;
    if (externalTaskId !== undefined) increment(this.tasksCreatedPerExternalId, externalTaskId);
  }

  countFault(): void {
    this.faultsInjected += 1;
  }

  tasksCreatedByExternalId(externalTaskId: string): number {
    return this.tasksCreatedPerExternalId.get(externalTaskId) ?? 0;
  }

  createAttemptsByExternalId(externalTaskId: string): number {
    return this.createAttemptsPerExternalId.get(externalTaskId) ?? 0;
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
