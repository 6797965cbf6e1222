/**
 * The embedded Kling simulator: a real HTTP server on 127.0.0.1 that speaks Kling's legacy
 * `/v1` wire format (lambdas/kling/wire.ts), charges resource packs with the project's
 * pricing table, enforces the concurrency limit, and injects the faults of a scenario or any
 * FaultPlan.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { now, type Clock } from "../../lambdas/common/clock";
import type { KlingCredentials } from "../../lambdas/kling/port";
import type { ResourcePack, TaskKind } from "../../lambdas/kling/wire";
import { priceUnits } from "../../lambdas/schemas/pricing";
import { failure, faultAnswer, readBody, send, success, type Answer } from "./answers";
import { authenticate } from "./auth";
import type { ApiRequestInfo, FaultPlan } from "./faults";
import { isRecord } from "./json";
import { ResourcePacks, type PackSeed } from "./packs";
import { routeOf, type Route } from "./routes";
import { syntheticMp4 } from "./mp4";
import { perItemPlan } from "./per-item-plan";
import { CONCURRENCY_LIMIT_MESSAGE, scenarioNamed, type ScenarioName } from "./scenarios";
import { StatsRecorder, type RequestKind, type SimulatorStats } from "./stats";
import { createdTaskWire, taskWire, TaskStore, type SimulatedTask } from "./tasks";
import { validateCreateBody, type AcceptedCreate } from "./validation";

/** Accepted when no credentials are configured; printed by the CLI. Not a secret. */
export const DEV_API_KEY = "sim-dev-api-key";
export const DEFAULT_GENERATION_SECONDS = 30;
export const DEFAULT_MAX_CONCURRENT_TASKS = 5;
export const DEFAULT_UNITS = 10_000;

/** Base64 images are at most 10 MB, about 13.4 MB as base64, and a request holds two. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Kling purges video URLs after 30 days. */
const VIDEO_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** The media bytes of each video the simulator makes (local/simulator/mp4.ts): 256 KiB by default. */
const DEFAULT_VIDEO_MEDIA_BYTES = 256 * 1024;

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** The credentials the simulator accepts; by default the API key {@link DEV_API_KEY}. */
  readonly credentials?: KlingCredentials | readonly KlingCredentials[];
  /** Simulated seconds from create to the end of a task; it is `processing` after a tenth of it. */
  readonly generationSeconds?: number;
  /** Each task's own generation time, in simulated seconds (instead of `generationSeconds`). */
  readonly generationSecondsFor?: (request: AcceptedCreate) => number;
  /** Tasks that may be unfinished at once; past that, creates answer 429/1303. */
  readonly maxConcurrentTasks?: number;
  /** Units of the single default resource pack. */
  readonly units?: number;
  /** The account's resource packs (instead of one pack of `units`). */
  readonly resourcePacks?: readonly PackSeed[];
  readonly scenario?: ScenarioName;
  /** Replaces the scenario's request faults and task outcomes (the scenario's packs still apply). */
  readonly faultPlan?: FaultPlan;
  /** Drives task progress and token expiry; defaults to the project clock (lambdas/common/clock). */
  readonly clock?: Clock;
  /** The size of each video's media data, in bytes (the MP4's boxes add about 150). */
  readonly videoMediaBytes?: number;
  /** Called once per request, after its answer went out (or the connection was dropped). */
  readonly onRequest?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly kind: RequestKind;
  /** undefined when the connection was dropped without an answer. */
  readonly status: number | undefined;
  readonly code?: number;
  /** The label of the injected fault, if any. */
  readonly fault?: string;
}

export interface Simulator {
  /** e.g. `http://127.0.0.1:43121`, with no trailing slash. */
  readonly baseUrl: string;
  readonly port: number;
  readonly scenario: ScenarioName;
  readonly credentials: readonly KlingCredentials[];
  readonly maxConcurrentTasks: number;
  readonly generationSeconds: number;
  readonly stats: SimulatorStats;
  /** Every task so far, brought up to the clock's current time. */
  tasks(): SimulatedTask[];
  /** The packs as they really are (not as a lagging account endpoint might show them). */
  resourcePacks(): ResourcePack[];
  /** The bytes the simulator serves for a video (whole, without faults); undefined for a video it never made. */
  videoBytes(videoId: string, watermarked?: boolean): Buffer | undefined;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? { now };
  const scenario = scenarioNamed(options.scenario ?? "happy");
  // Prompts tagged [scenario:NAME] get that scenario; the rest get the run's.
  const plan = options.faultPlan ?? perItemPlan(scenario.name);
  const credentials = acceptedCredentials(options.credentials);
  const generationSeconds = options.generationSeconds ?? DEFAULT_GENERATION_SECONDS;
  const maxConcurrentTasks = options.maxConcurrentTasks ?? DEFAULT_MAX_CONCURRENT_TASKS;
  if (!(generationSeconds >= 0)) throw new RangeError("generationSeconds must be 0 or more");
  if (!Number.isInteger(maxConcurrentTasks) || maxConcurrentTasks < 1) throw new RangeError("maxConcurrentTasks must be a whole number of 1 or more");

  const packSeeds = scenario.resourcePacks ?? options.resourcePacks ?? [{ total: options.units ?? DEFAULT_UNITS }];
  const packs = new ResourcePacks(packSeeds, clock.now());
  const tasks = new TaskStore();
  const generationMsFor = (request: AcceptedCreate): number => {
    const seconds = options.generationSecondsFor?.(request) ?? generationSeconds;
    if (!(seconds >= 0)) throw new RangeError(`a task's generation time must be 0 or more seconds, got ${seconds}`);
    return Math.round(seconds * 1000);
  };
  const stats = new StatsRecorder();
  let baseUrl = "";

  /** Tasks change status only when someone looks, so every look first catches up with the clock. */
  function catchUp(at: number): void {
    for (const failed of tasks.advance(at)) packs.refund(failed.charges);
  }

  function createTask(taskKind: TaskKind, body: unknown, at: number): Answer {
    const validation = validateCreateBody(taskKind, body);
    if (!validation.ok) return failure(400, 1201, validation.message);
    const request = validation.create;
    if (request.externalTaskId !== undefined && tasks.hasExternalId(request.externalTaskId)) {
      return failure(400, 1201, `external_task_id ${request.externalTaskId} already exists`);
    }
    if (tasks.activeCount() >= maxConcurrentTasks) return failure(429, 1303, CONCURRENCY_LIMIT_MESSAGE);
    const units = priceUnits({ model: request.model, mode: request.mode, duration: request.duration, sound: request.sound });
    const charges = packs.charge(units, at);
    if (!charges) return failure(429, 1102, `Resource pack exhausted or expired: this video costs ${units} units`);

    const taskId = randomUUID();
    const outcome = plan.taskOutcome({ taskId, kind: taskKind, model: request.model, externalTaskId: request.externalTaskId });
    if (outcome.status !== "succeed") stats.countFault();
    const task = tasks.add({
      taskId,
      kind: taskKind,
      request,
      units,
      charges,
      outcome,
      videoId: randomUUID(),
      createdAt: at,
      generationMs: generationMsFor(request),
    });
    stats.countTaskCreated(request.externalTaskId);
    return success(createdTaskWire(task));
  }

  function queryTask(taskKind: TaskKind, id: string): Answer {
    const task = tasks.find(taskKind, id);
    return task ? success(taskWire(task, baseUrl)) : failure(400, 1201, "Task not found");
  }

  function listTasks(taskKind: TaskKind, query: URLSearchParams): Answer {
    const pageNum = integerParam(query, "pageNum", 1, 1, 1000);
    if (pageNum === undefined) return failure(400, 1201, "pageNum must be a whole number from 1 to 1000");
    const pageSize = integerParam(query, "pageSize", 30, 1, 500);
    if (pageSize === undefined) return failure(400, 1201, "pageSize must be a whole number from 1 to 500");
    return success(tasks.page(taskKind, pageNum, pageSize).map((task) => taskWire(task, baseUrl)));
  }

  function accountCosts(query: URLSearchParams, at: number): Answer {
    const startTime = integerParam(query, "start_time", undefined, 0, Number.MAX_SAFE_INTEGER);
    if (startTime === undefined) return failure(400, 1201, "start_time is required, in epoch milliseconds");
    const endTime = integerParam(query, "end_time", undefined, 0, Number.MAX_SAFE_INTEGER);
    if (endTime === undefined) return failure(400, 1201, "end_time is required, in epoch milliseconds");
    if (endTime < startTime) return failure(400, 1201, "end_time must not be before start_time");
    const infos = packs.view(at, { startTime, endTime, name: query.get("resource_pack_name") ?? undefined });
    return success({ resource_pack_subscribe_infos: infos });
  }

  function serveVideo(videoId: string, url: URL, at: number): { answer: Answer; fault?: string } {
    const task = tasks.byVideoId(videoId);
    if (!task || task.status !== "succeed" || at - task.updatedAt > VIDEO_RETENTION_MS) {
      return { answer: failure(404, 1203, "Video not found") };
    }
    const delivery = plan.onVideoDownload?.({ taskId: task.taskId, externalTaskId: task.request.externalTaskId });
    if (delivery) stats.countFault();
    if (delivery === "purged") return { answer: failure(404, 1203, "Video not found"), fault: "video-purged" };
    const body = videoOf(task, url.searchParams.has("watermark"));
    return { answer: { type: "video", body, fault: delivery }, ...(delivery ? { fault: delivery } : {}) };
  }

  function videoOf(task: SimulatedTask, watermarked: boolean): Buffer {
    const seed = watermarked ? `${task.videoId}:watermark` : task.videoId;
    return syntheticMp4(seed, Number(task.request.duration), options.videoMediaBytes ?? DEFAULT_VIDEO_MEDIA_BYTES);
  }

  async function answerRequest(request: IncomingMessage, route: Route, url: URL): Promise<{ answer: Answer; fault?: string }> {
    const at = clock.now();
    catchUp(at);
    if (route.kind === "other") {
      request.resume();
      return { answer: failure(404, route.code, route.message) };
    }
    if (route.kind === "video") {
      request.resume();
      return serveVideo(route.videoId, url, at);
    }

    const raw = await readBody(request, MAX_BODY_BYTES);
    const auth = authenticate(request.headers.authorization, credentials, at);
    if (!auth.ok) return { answer: failure(401, auth.code, auth.message) };

    let body: unknown;
    if (route.kind === "create") {
      if (raw === undefined) return { answer: failure(400, 1201, "the request body is larger than 32 MB") };
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return { answer: failure(400, 1200, "the request body is not valid JSON") };
      }
    }

    const info: ApiRequestInfo = {
      kind: route.kind,
      method: request.method ?? "GET",
      path: url.pathname,
      taskKind: "taskKind" in route ? route.taskKind : undefined,
      createBody: body,
    };
    if (route.kind === "create") {
      stats.countCreateAttempt(isRecord(body) && typeof body.external_task_id === "string" ? body.external_task_id : undefined);
    }
    const fault = plan.onRequest(info);
    if (fault && !fault.afterHandling) {
      stats.countFault();
      return { answer: faultAnswer(fault), fault: fault.label };
    }

    let handled: Answer;
    switch (route.kind) {
      case "create":
        handled = createTask(route.taskKind, body, at);
        break;
      case "query":
        handled = queryTask(route.taskKind, route.id);
        break;
      case "list":
        handled = listTasks(route.taskKind, url.searchParams);
        break;
      case "account":
        handled = accountCosts(url.searchParams, at);
        break;
    }
    if (fault) {
      stats.countFault();
      return { answer: faultAnswer(fault), fault: fault.label };
    }
    if (route.kind === "query") {
      const task = tasks.find(route.taskKind, route.id);
      if (task) tasks.answered(task, at);
    }
    return { answer: handled };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const route = routeOf(method, url.pathname);
    stats.countRequest(route.kind);
    let result: { answer: Answer; fault?: string };
    try {
      result = await answerRequest(request, route, url);
    } catch (error) {
      result = { answer: failure(500, 5000, `simulator error: ${error instanceof Error ? error.message : String(error)}`) };
    }
    const status = send(request, response, result.answer);
    options.onRequest?.({
      method,
      path: url.pathname,
      kind: route.kind,
      status,
      code: result.answer.type === "envelope" ? result.answer.code : undefined,
      fault: result.fault,
    });
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    port,
    scenario: scenario.name,
    credentials,
    maxConcurrentTasks,
    generationSeconds,
    stats,
    tasks() {
      catchUp(clock.now());
      return tasks.all();
    },
    resourcePacks() {
      const at = clock.now();
      catchUp(at);
      return packs.view(at, { startTime: 0, endTime: Number.MAX_SAFE_INTEGER });
    },
    videoBytes(videoId, watermarked = false) {
      const task = tasks.byVideoId(videoId);
      return task ? videoOf(task, watermarked) : undefined;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function acceptedCredentials(given: SimulatorOptions["credentials"]): readonly KlingCredentials[] {
  if (given === undefined) return [{ apiKey: DEV_API_KEY }];
  const list: readonly KlingCredentials[] = isCredentialList(given) ? given : [given];
  if (list.length === 0) throw new RangeError("the simulator needs at least one accepted credential");
  return list;
}

function isCredentialList(given: KlingCredentials | readonly KlingCredentials[]): given is readonly KlingCredentials[] {
  return Array.isArray(given);
}

/** A whole-number query parameter within [min, max]; `fallback` when absent (undefined: required). */
function integerParam(query: URLSearchParams, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}
