import type { ApiRequestKind } from "./faults";

/** Every request is counted under one kind; `other` is an unknown path or a wrong method. */
/** `video`: a media download (a video, an audio, a face image). */
export type RequestKind = ApiRequestKind | "video" | "other";

/** What happened to the callbacks of tasks created with a callback URL (callbacks.ts). */
export interface CallbackCounts {
  /** POSTs made, each copy of a duplicate included, whatever their answer. */
  readonly sent: number;
  /** Of those, the ones that got no 2xx answer (receiver down, refused, timed out, or not on this machine). */
  readonly failed: number;
  /** Callbacks the fault plan dropped (never sent). */
  readonly dropped: number;
  readonly duplicated: number;
  readonly delayed: number;
  readonly reordered: number;
  readonly misSigned: number;
}

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
  /** Request faults answered plus tasks the plan made fail or hang (callback faults are counted in `callbacks`). */
  readonly faultsInjected: number;
  readonly callbacks: CallbackCounts;
}

export class StatsRecorder implements SimulatorStats {
  requests = 0;
  readonly requestsByKind: Record<RequestKind, number> = { create: 0, query: 0, list: 0, account: 0, video: 0, other: 0 };
  tasksCreated = 0;
  readonly tasksCreatedPerExternalId = new Map<string, number>();
  readonly createAttemptsPerExternalId = new Map<string, number>();
  faultsInjected = 0;
  readonly callbacks: Record<keyof CallbackCounts, number> = { sent: 0, failed: 0, dropped: 0, duplicated: 0, delayed: 0, reordered: 0, misSigned: 0 };

  countCallback(what: keyof CallbackCounts): void {
    this.callbacks[what] += 1;
  }

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
