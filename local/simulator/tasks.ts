/**
 * The simulator's tasks and their lifecycle: `submitted`, then `processing` after a tenth of
 * the generation time, then the outcome the fault plan chose once the time has passed. Status
 * is derived from the clock, so a scaled or fake clock drives it.
 */
import type { AcceptedCreate, ParentVideo } from "./accepted";
import { isNewKind, type LegacyKind, type SimulatorTaskKind } from "./endpoints";
import type { TaskOutcome } from "./faults";
import type { HeldSlot } from "./other-users";
import type { Charge } from "./packs";

/** Kling's task statuses on the legacy standard (the new one writes `succeeded`). */
export type TaskStatus = "submitted" | "processing" | "succeed" | "failed";

interface VideoWire {
  id: string;
  url: string;
  watermark_url?: string;
  duration: string;
}

interface AudioWire {
  id: string;
  url_mp3: string;
  url_wav: string;
  duration_mp3: string;
  duration_wav: string;
}

/** A task as the legacy standard writes it (create answers, queries, lists and callbacks), per Kling's product pages. */
export interface LegacyTaskWire {
  task_id: string;
  task_status: TaskStatus;
  task_status_msg?: string;
  task_info: { external_task_id?: string; parent_video?: ParentVideo };
  task_result?: { videos: VideoWire[]; audios?: AudioWire[] };
  final_unit_deduction?: string;
  created_at: number;
  updated_at: number;
}

/** A task as the new standard writes it: `succeeded`, `outputs[]`, `billing[]`. */
export interface NewTaskWire {
  id: string;
  status: "submitted" | "processing" | "succeeded" | "failed";
  message?: string;
  create_time: number;
  update_time: number;
  external_id?: string;
  outputs?: ({ type: "video" } & VideoWire)[];
  billing?: { charge_type: "unit"; amount: string; package_type: "video" | "audio" }[];
}

/** The share of the generation time a task spends `submitted` before `processing`. */
const SUBMITTED_SHARE = 0.1;

export interface SimulatedTask {
  readonly taskId: string;
  /** A legacy kind, or a new-standard one (endpoints.ts). */
  readonly kind: SimulatorTaskKind;
  readonly request: AcceptedCreate;
  readonly units: number;
  readonly charges: readonly Charge[];
  readonly outcome: TaskOutcome;
  readonly videoId: string;
  /** The audio a video-to-audio task makes. */
  readonly audioId: string | undefined;
  readonly createdAt: number;
  /** Simulated ms from create to the end of the task (a stuck task never gets there). */
  readonly generationMs: number;
  readonly status: TaskStatus;
  readonly statusMessage: string;
  readonly updatedAt: number;
  /** When a query first answered with the ended status: the caller could know from then on. */
  readonly endSeenAt: number | undefined;
}

interface StoredTask extends SimulatedTask {
  status: TaskStatus;
  statusMessage: string;
  updatedAt: number;
  endSeenAt: number | undefined;
}

type NewTask = Omit<SimulatedTask, "status" | "statusMessage" | "updatedAt" | "endSeenAt">;

const isEnded = (status: TaskStatus) => status === "succeed" || status === "failed";

/** A moment a task's status changes: when a query starts to show it, and when Kling calls back. */
export interface StatusChange {
  readonly status: TaskStatus;
  readonly statusMessage: string;
  /** Simulated epoch ms. */
  readonly at: number;
}

/** Every status a task goes through, in order: `submitted` at its create, `processing`, then its outcome (none for a stuck task). */
export function statusChanges(task: Pick<SimulatedTask, "createdAt" | "generationMs" | "outcome">): StatusChange[] {
  const changes: StatusChange[] = [
    { status: "submitted", statusMessage: "", at: task.createdAt },
    { status: "processing", statusMessage: "", at: task.createdAt + Math.round(task.generationMs * SUBMITTED_SHARE) },
  ];
  const { outcome } = task;
  if (outcome.status !== "stuck") {
    changes.push({ status: outcome.status, statusMessage: outcome.status === "failed" ? outcome.message : "", at: task.createdAt + task.generationMs });
  }
  return changes;
}

/** The task as it was right after this change of its status (what a callback for the change carries). */
export function taskAsOf(task: SimulatedTask, change: StatusChange): SimulatedTask {
  return { ...task, status: change.status, statusMessage: change.statusMessage, updatedAt: change.at };
}

export class TaskStore {
  private readonly tasks: StoredTask[] = [];

  add(task: NewTask): SimulatedTask {
    const stored: StoredTask = { ...task, status: "submitted", statusMessage: "", updatedAt: task.createdAt, endSeenAt: undefined };
    this.tasks.push(stored);
    return stored;
  }

  /** Brings every unfinished task up to `now`; returns the tasks that have just failed. */
  advance(now: number): SimulatedTask[] {
    const failed: SimulatedTask[] = [];
    for (const task of this.tasks) {
      if (isEnded(task.status)) continue;
      const latest = statusChanges(task).filter((change) => change.at <= now).at(-1);
      if (!latest || latest.status === task.status) continue;
      task.status = latest.status;
      task.statusMessage = latest.statusMessage;
      task.updatedAt = latest.at;
      if (task.status === "failed") failed.push(task);
    }
    return failed;
  }

  /** Tasks that hold a concurrency slot: from `submitted` until they end. */
  activeCount(): number {
    return this.tasks.filter((task) => !isEnded(task.status)).length;
  }

  /** When each task holds (or held) its slot: from its create until it ends, for ever if it never does. */
  slotsHeld(): HeldSlot[] {
    return this.tasks.map((task) => ({ from: task.createdAt, until: task.outcome.status === "stuck" ? Infinity : task.createdAt + task.generationMs }));
  }

  /** A query is answering with this task's status now: the first answer that shows it ended is when the caller learns. */
  answered(task: SimulatedTask, at: number): void {
    const stored = this.tasks.find((candidate) => candidate.taskId === task.taskId);
    if (stored && isEnded(stored.status) && stored.endSeenAt === undefined) stored.endSeenAt = at;
  }

  /** By Kling's task_id or the caller's external_task_id, within one legacy kind. */
  find(kind: LegacyKind, id: string): SimulatedTask | undefined {
    return this.tasks.find((task) => task.kind === kind && (task.taskId === id || task.request.externalTaskId === id));
  }

  /** The new standard's tasks with these task ids (`task_ids`) or external ids (`external_task_ids`), in the order asked. */
  findNew(by: "task_ids" | "external_task_ids", ids: readonly string[]): SimulatedTask[] {
    const ofNew = this.tasks.filter((task) => isNewKind(task.kind));
    return ids.flatMap((id) => ofNew.filter((task) => (by === "task_ids" ? task.taskId : task.request.externalTaskId) === id));
  }

  /** The new standard's tasks, newest first, from `offset` (the cursor), at most `limit`. */
  pageNew(offset: number, limit: number): SimulatedTask[] {
    return this.tasks.filter((task) => isNewKind(task.kind)).reverse().slice(offset, offset + limit);
  }

  /** external_task_id is unique per account, across kinds. */
  hasExternalId(externalTaskId: string): boolean {
    return this.tasks.some((task) => task.request.externalTaskId === externalTaskId);
  }

  /** Newest first, as a task list reads. */
  page(kind: LegacyKind, pageNum: number, pageSize: number): SimulatedTask[] {
    const ofKind = this.tasks.filter((task) => task.kind === kind).reverse();
    return ofKind.slice((pageNum - 1) * pageSize, pageNum * pageSize);
  }

  byVideoId(videoId: string): SimulatedTask | undefined {
    return this.tasks.find((task) => task.videoId === videoId);
  }

  byAudioId(audioId: string): SimulatedTask | undefined {
    return this.tasks.find((task) => task.audioId !== undefined && task.audioId === audioId);
  }

  all(): SimulatedTask[] {
    return this.tasks.map((task) => ({ ...task }));
  }
}

export function videoUrl(baseUrl: string, task: Pick<SimulatedTask, "videoId">): string {
  return `${baseUrl}/videos/${task.videoId}.mp4`;
}

export function audioUrl(baseUrl: string, audioId: string, format: "mp3" | "wav"): string {
  return `${baseUrl}/audios/${audioId}.${format}`;
}

/** The `data` of a create answer. */
export function createdTaskWire(task: SimulatedTask): LegacyTaskWire {
  return {
    task_id: task.taskId,
    task_info: taskInfo(task),
    task_status: task.status,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}

/** The `data` of a query answer (and an item of a list answer, and a callback's body). */
export function taskWire(task: SimulatedTask, baseUrl: string): LegacyTaskWire {
  const wire: LegacyTaskWire = {
    task_id: task.taskId,
    task_status: task.status,
    task_status_msg: task.statusMessage,
    task_info: taskInfo(task),
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
  if (task.status === "succeed") {
    const url = videoUrl(baseUrl, task);
    wire.task_result = {
      videos: [{ id: task.videoId, url, watermark_url: `${url}?watermark=1`, duration: task.request.duration }],
      ...(task.audioId === undefined ? {} : { audios: [audioWire(baseUrl, task.audioId, task.request.duration)] }),
    };
    wire.final_unit_deduction = String(task.units);
  } else if (task.status === "failed") {
    // A failed generation is refunded, so nothing is finally deducted.
    wire.final_unit_deduction = "0";
  }
  return wire;
}

function audioWire(baseUrl: string, audioId: string, duration: string): AudioWire {
  return { id: audioId, url_mp3: audioUrl(baseUrl, audioId, "mp3"), url_wav: audioUrl(baseUrl, audioId, "wav"), duration_mp3: duration, duration_wav: duration };
}

function taskInfo(task: SimulatedTask): LegacyTaskWire["task_info"] {
  return {
    ...(task.request.externalTaskId === undefined ? {} : { external_task_id: task.request.externalTaskId }),
    ...(task.request.parentVideo === undefined ? {} : { parent_video: task.request.parentVideo }),
  };
}

/** A task as the new standard writes it (create answer, query and page items): `succeeded`, `outputs[]`, `billing[]`. */
export function newTaskWire(task: SimulatedTask, baseUrl: string): NewTaskWire {
  const wire: NewTaskWire = {
    id: task.taskId,
    status: task.status === "succeed" ? "succeeded" : task.status,
    create_time: task.createdAt,
    update_time: task.updatedAt,
    ...(task.request.externalTaskId === undefined ? {} : { external_id: task.request.externalTaskId }),
  };
  if (task.status === "failed") wire.message = task.statusMessage;
  if (task.status === "succeed") {
    const url = videoUrl(baseUrl, task);
    wire.outputs = [{ type: "video", id: task.videoId, url, watermark_url: `${url}?watermark=1`, duration: task.request.duration }];
    wire.billing = [{ charge_type: "unit", amount: String(task.units), package_type: "video" }];
  }
  return wire;
}
