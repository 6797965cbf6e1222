/**
 * Fault injection: the simulator asks a {@link FaultPlan} about every authenticated API
 * request and every new task. Named scenarios (scenarios.ts) are one kind of plan; a seeded
 * random "chaos" plan can implement the same two hooks.
 */
import type { CreateKind, SimulatorTaskKind } from "./endpoints";
import type { TaskStatus } from "./tasks";
import type { VideoDeliveryFault } from "./video-delivery";

/** The API requests a plan is consulted for (video downloads have a hook of their own). */
export const API_REQUEST_KINDS = ["create", "query", "list", "account"] as const;
export type ApiRequestKind = (typeof API_REQUEST_KINDS)[number];

export interface ApiRequestInfo {
  readonly kind: ApiRequestKind;
  readonly method: string;
  readonly path: string;
  readonly taskKind?: CreateKind;
  /** The parsed JSON body of a create, when it parsed. */
  readonly createBody?: unknown;
  /** The ids a query asks for: the legacy path's task or external id, or the new standard's `task_ids` / `external_task_ids`. */
  readonly taskIds?: readonly string[];
}

export type FaultAnswer =
  /** An error envelope with no `data`. */
  | { readonly type: "error"; readonly status: number; readonly code: number; readonly message: string }
  /** HTTP 200 whose body is not JSON (e.g. truncated), as a misbehaving proxy would send. */
  | { readonly type: "malformed"; readonly body: string; readonly contentType: string }
  /** The connection is destroyed without any answer. */
  | { readonly type: "drop" };

export interface Fault {
  /** Short name for logs, e.g. "rate-limit". */
  readonly label: string;
  readonly answer: FaultAnswer;
  /**
   * Handle the request first (a create then really creates and charges a task) and only
   * replace its answer: the "lost response" that makes a blind retry pay twice.
   */
  readonly afterHandling?: boolean;
}

/** How a task ends once its generation time has passed. */
export type TaskOutcome =
  | { readonly status: "succeed" }
  | { readonly status: "failed"; readonly message: string }
  /** Stays `processing` forever, holding its concurrency slot. */
  | { readonly status: "stuck" };

export interface NewTaskInfo {
  readonly taskId: string;
  readonly kind: SimulatorTaskKind;
  readonly model: string;
  readonly externalTaskId?: string;
}

/**
 * How a video download goes wrong: a fault on the way, Kling's CDN no longer has it (404, and
 * from then on Kling's answers for the task give no URL), or it refuses the URL (403, as for an
 * expired URL: a fresh query's URL works).
 */
export type VideoDelivery = VideoDeliveryFault | "purged" | "forbidden";

/** A video download is the video of this task. */
interface VideoDownloadInfo {
  readonly taskId: string;
  readonly externalTaskId?: string | undefined;
}

/** A fault applied to video downloads, optionally only to the first `times` of them. */
export interface VideoRule {
  readonly times?: number;
  readonly delivery: VideoDelivery;
}

/** How a callback goes wrong (callbacks.ts sends them). */
export const CALLBACK_FAULT_KINDS = ["drop", "duplicate", "delay", "reorder", "mis-sign"] as const;
export type CallbackFaultKind = (typeof CALLBACK_FAULT_KINDS)[number];

export type CallbackFault =
  /** Never sent. */
  | { readonly kind: "drop" }
  /** Sent twice, the same message (same `webhook-id`) each time. */
  | { readonly kind: "duplicate" }
  /** Sent this many simulated seconds after the status changed. */
  | { readonly kind: "delay"; readonly seconds: number }
  /** Held until the task's next status has been called back, then sent (a task's last status is sent as it is). */
  | { readonly kind: "reorder" }
  /** Sent with a signature made with another key. */
  | { readonly kind: "mis-sign" };

/** A callback about to be sent: the task and the status it reports. */
export interface CallbackInfo {
  readonly taskId: string;
  readonly externalTaskId?: string | undefined;
  readonly status: TaskStatus;
}

/** A fault applied to the callbacks of one status (or of any), optionally only to the first `times` of them. */
export interface CallbackRule {
  readonly on: TaskStatus | "end" | "any";
  readonly times?: number;
  readonly fault: CallbackFault;
}

export interface FaultPlan {
  /** Consulted once per authenticated API request, before it is handled. */
  onRequest(request: ApiRequestInfo): Fault | undefined;
  /** Decides at creation how a task will end. */
  taskOutcome(task: NewTaskInfo): TaskOutcome;
  /** Consulted once per video download; none means every video is sent whole. */
  onVideoDownload?(download: VideoDownloadInfo): VideoDelivery | undefined;
  /** Consulted once per callback, when its status changes; none means every callback is sent as it is. */
  onCallback?(callback: CallbackInfo): CallbackFault | undefined;
}

export const SUCCEED: TaskOutcome = { status: "succeed" };

export const noFaults: FaultPlan = {
  onRequest: () => undefined,
  taskOutcome: () => SUCCEED,
};

export function errorFault(label: string, status: number, code: number, message: string): Fault {
  return { label, answer: { type: "error", status, code, message } };
}

/** A fault applied to requests of one kind (or any kind), optionally only to the first `times` of them. */
export interface FaultRule {
  readonly on: ApiRequestKind | "any";
  /** How many matching requests get the fault; every one when absent. */
  readonly times?: number;
  readonly fault: Fault;
}

/** A plan from data: the first rule that matches and still has uses left decides. */
export function ruleBasedPlan(
  rules: readonly FaultRule[],
  outcome: TaskOutcome = SUCCEED,
  videoRules: readonly VideoRule[] = [],
  callbackRules: readonly CallbackRule[] = [],
): FaultPlan {
  const used = rules.map(() => 0);
  const videoUsed = videoRules.map(() => 0);
  const callbackUsed = callbackRules.map(() => 0);
  return {
    onCallback(callback) {
      const ended = callback.status === "succeed" || callback.status === "failed";
      return take(callbackRules, callbackUsed, (rule) => rule.on === "any" || rule.on === callback.status || (rule.on === "end" && ended))?.fault;
    },
    onVideoDownload: () => take(videoRules, videoUsed, () => true)?.delivery,
    onRequest: (request) => take(rules, used, (rule) => rule.on === "any" || rule.on === request.kind)?.fault,
    taskOutcome: () => outcome,
  };
}

/** The first rule that matches and still has uses left, counted as used. */
function take<Rule extends { readonly times?: number }>(rules: readonly Rule[], used: number[], matches: (rule: Rule) => boolean): Rule | undefined {
  for (const [index, rule] of rules.entries()) {
    if (!matches(rule) || (rule.times !== undefined && used[index] >= rule.times)) continue;
    used[index] += 1;
    return rule;
  }
  return undefined;
}
