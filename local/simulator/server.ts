/**
 * The embedded Kling simulator: a real HTTP server on 127.0.0.1 that speaks both standards of
 * Kling's API documentation (legacy `/v1`, and the new path-based one, API key only) for every video
 * product it serves (endpoints.ts), checks create bodies with its own rule tables (validation.ts,
 * validation-v2.ts, products/), charges resource packs at its own prices (kling-tables.ts),
 * enforces the concurrency limit, and injects the faults of a scenario or any FaultPlan on every
 * product's requests. It imports only types from the pipeline (lambdas/): it is an independent oracle.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Clock } from "#lambdas/common/clock";
import type { KlingCredentials } from "#lambdas/kling/port";
import type { ResourcePack } from "#lambdas/kling/wire";
import type { AcceptedCreate } from "./accepted";
import { identifyFace, productContext, serveAudio, serveFaceImage } from "./account-media";
import { failure, faultAnswer, readBody, send, success, type Answer } from "./answers";
import { isNewKind, type LegacyKind, type SimulatorTaskKind } from "./endpoints";
import { authenticate } from "./auth";
import { seededCallbackFaults, type CallbackFaultOptions } from "./callback-faults";
import { CallbackSender, clockTimers, signingKeyOf, type CallbackLogEntry, type CallbackScheduler } from "./callbacks";
import type { ApiRequestInfo, FaultPlan } from "./faults";
import { externalTaskIdOf, isRecord } from "./json";
import { ResourcePacks, type PackSeed } from "./packs";
import { RETENTION_MS, type FaceSession } from "./products/context";
import { validateCreate } from "./products/index";
import { syntheticMp4 } from "./mp4";
import { OtherUsers, type HeldSlot, type OtherUsersTask } from "./other-users";
import { isNewStandardRoute, queriedIds, routeOf, type Route } from "./routes";
import { perItemPlan } from "./per-item-plan";
import { CONCURRENCY_LIMIT_MESSAGE, scenarioNamed, type ScenarioName } from "./scenarios";
import { StatsRecorder, type RequestKind, type SimulatorStats } from "./stats";
import { createdTaskWire, newTaskWire, statusChanges, taskAsOf, taskWire, TaskStore, type SimulatedTask } from "./tasks";

const wallClock: Clock = { now: () => Date.now() };

/** Accepted when no credentials are configured; printed by the CLI. Not a secret. */
export const DEV_API_KEY = "sim-dev-api-key";
export const DEFAULT_GENERATION_SECONDS = 30;
export const DEFAULT_MAX_CONCURRENT_TASKS = 5;
export const DEFAULT_UNITS = 10_000;

/** Base64 images are at most 10 MB, about 13.4 MB as base64, and a request holds two. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
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
  /** Tasks other users of the same account run, taking slots when they can (other-users.ts); none by default. */
  readonly otherUsers?: readonly OtherUsersTask[];
  /** Units of the single default resource pack. */
  readonly units?: number;
  /** The account's resource packs (instead of one pack of `units`). */
  readonly resourcePacks?: readonly PackSeed[];
  readonly scenario?: ScenarioName;
  /** Replaces the scenario's request faults and task outcomes (the scenario's packs still apply). */
  readonly faultPlan?: FaultPlan;
  /** Drives task progress and token expiry; defaults to the wall clock. */
  readonly clock?: Clock;
  /** The size of each video's media data, in bytes (the MP4's boxes add about 150). */
  readonly videoMediaBytes?: number;
  /** Called once per request, after its answer went out (or the connection was dropped). */
  readonly onRequest?: (entry: RequestLogEntry) => void;
  /** Serve HTTPS with this PEM key and certificate (for clients that accept only `https://`); HTTP by default. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Signs callbacks the Standard Webhooks way with this `whsec_<base64>` secret; unsigned without it. */
  readonly callbackSigningSecret?: string;
  /** Seeded random callback faults (instead of the scenario's or the fault plan's). */
  readonly callbackFaults?: CallbackFaultOptions;
  /**
   * Timers on the simulated clock, at which callbacks are sent (a local runner's LocalClock is
   * one); by default timers that look at `clock` every few real milliseconds.
   */
  readonly scheduler?: CallbackScheduler;
  /** Called once per callback delivery, and for each callback not sent. */
  readonly onCallback?: (entry: CallbackLogEntry) => void;
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
  /** e.g. `http://127.0.0.1:43121` (`https://` with `tls`), with no trailing slash. */
  readonly baseUrl: string;
  readonly port: number;
  readonly scenario: ScenarioName;
  readonly credentials: readonly KlingCredentials[];
  readonly maxConcurrentTasks: number;
  readonly generationSeconds: number;
  /** Whether callbacks carry Standard Webhooks signatures (a `callbackSigningSecret` was given). */
  readonly callbacksSigned: boolean;
  readonly stats: SimulatorStats;
  /** Every task so far, brought up to the clock's current time. */
  tasks(): SimulatedTask[];
  /** The slots other users of the account have held so far. */
  otherUsersSlots(): readonly HeldSlot[];
  /** The packs as they really are (not as a lagging account endpoint might show them). */
  resourcePacks(): ResourcePack[];
  /** The bytes the simulator serves for a video (whole, without faults); undefined for a video it never made. */
  videoBytes(videoId: string, watermarked?: boolean): Buffer | undefined;
  /** Resolves once every callback delivery under way has ended (callbacks not yet due are not waited for). */
  settleCallbacks(): Promise<void>;
  /** Stops the server; callbacks not yet due are never sent, those under way are aborted. */
  close(): Promise<void>;
}

/** What a running simulator holds: its settings and its account's state. */
interface SimulatorState {
  readonly clock: Clock;
  readonly plan: FaultPlan;
  readonly credentials: readonly KlingCredentials[];
  readonly maxConcurrentTasks: number;
  readonly packs: ResourcePacks;
  readonly tasks: TaskStore;
  readonly otherUsers: OtherUsers;
  readonly stats: StatsRecorder;
  readonly generationMsFor: (request: AcceptedCreate) => number;
  readonly onRequest: SimulatorOptions["onRequest"];
  readonly videoMediaBytes: number;
  readonly callbacks: CallbackSender;
  /** Lip-sync's face identifications, by session id. */
  readonly faceSessions: Map<string, FaceSession>;
  /** Set once the server listens: the new standard's answers carry absolute URLs. */
  baseUrl: string;
}

/** Kling's HTTP API over a simulator's state: each request routed, authenticated, maybe faulted, and answered. */
class SimulatedKling {
  /** The videos purged (a "purged" download): Kling's answers for their tasks give no URL any more. */
  private readonly purged = new Set<string>();

  constructor(readonly s: SimulatorState) {}

  /** Tasks change status only when someone looks, so every look first catches up with the this.s.clock. */
  catchUp(at: number): void {
    this.s.otherUsers.advance(at, this.s.tasks.slotsHeld(), this.s.maxConcurrentTasks);
    for (const failed of this.s.tasks.advance(at)) this.s.packs.refund(failed.charges);
  }

  createTask(route: Extract<Route, { kind: "create" }>, body: unknown, at: number): Answer {
    if (route.taskKind === "identify-face") return identifyFace(this.s, body, at);
    const taskKind: SimulatorTaskKind = route.taskKind;
    const validation = validateCreate(taskKind, route.model ?? "", body, productContext(this.s, at));
    if (!validation.ok) return failure(400, 1201, validation.message);
    const request = validation.create;
    if (request.externalTaskId !== undefined && this.s.tasks.hasExternalId(request.externalTaskId)) {
      return failure(400, 1201, `external_task_id ${request.externalTaskId} already exists`);
    }
    if (this.s.tasks.activeCount() + this.s.otherUsers.heldAt(at) >= this.s.maxConcurrentTasks) return failure(429, 1303, CONCURRENCY_LIMIT_MESSAGE);
    const units = request.units;
    const charges = this.s.packs.charge(units, at);
    if (!charges) return failure(429, 1102, `Resource pack exhausted or expired: this video costs ${units} units`);

    const taskId = randomUUID();
    const outcome = this.s.plan.taskOutcome({ taskId, kind: taskKind, model: request.model, externalTaskId: request.externalTaskId });
    if (outcome.status !== "succeed") this.s.stats.countFault();
    const task = this.s.tasks.add({
      taskId,
      kind: taskKind,
      request,
      units,
      charges,
      outcome,
      videoId: randomUUID(),
      audioId: request.result === "audio" ? randomUUID() : undefined,
      createdAt: at,
      generationMs: this.s.generationMsFor(request),
    });
    this.s.stats.countTaskCreated(request.externalTaskId);
    if (request.callbackUrl !== undefined) this.followWithCallbacks(task, request.callbackUrl);
    return success(isNewKind(taskKind) ? newTaskWire(task, this.s.baseUrl) : createdTaskWire(task));
  }

  /** Each status change of the task is POSTed to its callback URL, as its standard's query shows the task. */
  followWithCallbacks(task: SimulatedTask, callbackUrl: string): void {
    const wire = isNewKind(task.kind) ? newTaskWire : taskWire;
    this.s.callbacks.follow({
      taskId: task.taskId,
      externalTaskId: task.request.externalTaskId,
      callbackUrl,
      changes: statusChanges(task),
      body: (change) => JSON.stringify(wire(taskAsOf(task, change), this.s.baseUrl)),
    });
  }

  /** The this.s.tasks `GET /this.s.tasks?task_ids=a,b` or `?external_task_ids=a,b` asks for; undefined unless exactly one of the two is given. */
  queriedNewTasks(query: URLSearchParams): SimulatedTask[] | undefined {
    const byId = query.get("task_ids");
    const byExternalId = query.get("external_task_ids");
    if ((byId === null) === (byExternalId === null)) return undefined;
    return this.s.tasks.findNew(byId === null ? "external_task_ids" : "task_ids", (byId ?? byExternalId ?? "").split(","));
  }

  /** The new standard answers a query with a list of the this.s.tasks found (none: an empty list). */
  queryNewTasks(query: URLSearchParams): Answer {
    const found = this.queriedNewTasks(query);
    if (!found) return failure(400, 1201, "exactly one of task_ids and external_task_ids is required");
    return success(
      found.map((task) => {
        const wire = newTaskWire(task, this.s.baseUrl);
        return this.purged.has(task.videoId) ? { ...wire, outputs: [] } : wire;
      }),
    );
  }

  /** `POST /this.s.tasks` with `{limit, cursor}`: the cursor is the offset of the next task, newest first. */
  pageNewTasks(body: unknown): Answer {
    const request = isRecord(body) ? body : {};
    const limit = request.limit ?? 100;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 500) return failure(400, 1201, "limit must be a whole number from 1 to 500");
    const cursor = request.cursor ?? "0";
    if (typeof cursor !== "string" || !/^\d+$/.test(cursor)) return failure(400, 1201, "cursor is not one this API returned");
    const offset = Number(cursor);
    const page = this.s.tasks.pageNew(offset, limit);
    const hasMore = this.s.tasks.pageNew(offset + limit, 1).length > 0;
    return success({ result: page.map((task) => newTaskWire(task, this.s.baseUrl)), count: page.length, has_more: hasMore, ...(hasMore ? { next_cursor: String(offset + limit) } : {}) });
  }

  queryTask(taskKind: LegacyKind, id: string): Answer {
    const task = this.s.tasks.find(taskKind, id);
    if (!task) return failure(400, 1201, "Task not found");
    const wire = taskWire(task, this.s.baseUrl);
    return success(this.purged.has(task.videoId) ? { ...wire, task_result: { videos: [] } } : wire);
  }

  listTasks(taskKind: LegacyKind, query: URLSearchParams): Answer {
    const pageNum = integerParam(query, "pageNum", 1, 1, 1000);
    if (pageNum === undefined) return failure(400, 1201, "pageNum must be a whole number from 1 to 1000");
    const pageSize = integerParam(query, "pageSize", 30, 1, 500);
    if (pageSize === undefined) return failure(400, 1201, "pageSize must be a whole number from 1 to 500");
    return success(this.s.tasks.page(taskKind, pageNum, pageSize).map((task) => taskWire(task, this.s.baseUrl)));
  }

  accountCosts(query: URLSearchParams, at: number): Answer {
    const startTime = integerParam(query, "start_time", undefined, 0, Number.MAX_SAFE_INTEGER);
    if (startTime === undefined) return failure(400, 1201, "start_time is required, in epoch milliseconds");
    const endTime = integerParam(query, "end_time", undefined, 0, Number.MAX_SAFE_INTEGER);
    if (endTime === undefined) return failure(400, 1201, "end_time is required, in epoch milliseconds");
    if (endTime < startTime) return failure(400, 1201, "end_time must not be before start_time");
    const infos = this.s.packs.view(at, { startTime, endTime, name: query.get("resource_pack_name") ?? undefined });
    return success({ resource_pack_subscribe_infos: infos });
  }

  serveVideo(videoId: string, url: URL, at: number): { answer: Answer; fault?: string } {
    const task = this.s.tasks.byVideoId(videoId);
    if (!task || task.status !== "succeed" || at - task.updatedAt > RETENTION_MS) {
      return { answer: failure(404, 1203, "Video not found") };
    }
    const delivery = this.s.plan.onVideoDownload?.({ taskId: task.taskId, externalTaskId: task.request.externalTaskId });
    if (delivery) this.s.stats.countFault();
    if (delivery === "purged") {
      this.purged.add(videoId);
      return { answer: failure(404, 1203, "Video not found"), fault: "video-purged" };
    }
    if (delivery === "forbidden") return { answer: failure(403, 1203, "Forbidden: the URL has expired"), fault: "video-forbidden" };
    const body = this.videoOf(task, url.searchParams.has("watermark"));
    return { answer: { type: "video", body, fault: delivery }, ...(delivery ? { fault: delivery } : {}) };
  }

  videoOf(task: SimulatedTask, watermarked: boolean): Buffer {
    const seed = watermarked ? `${task.videoId}:watermark` : task.videoId;
    return syntheticMp4(seed, Number(task.request.duration), this.s.videoMediaBytes);
  }

  async answerRequest(request: IncomingMessage, route: Route, url: URL): Promise<{ answer: Answer; fault?: string }> {
    const at = this.s.clock.now();
    this.catchUp(at);
    if (route.kind === "other") {
      request.resume();
      return { answer: failure(404, route.code, route.message) };
    }
    if (route.kind === "video") {
      request.resume();
      return this.serveVideo(route.videoId, url, at);
    }
    if (route.kind === "audio") {
      request.resume();
      return { answer: serveAudio(this.s, route.audioId, route.format, at) };
    }
    if (route.kind === "face") {
      request.resume();
      return { answer: serveFaceImage(this.s, route.sessionId, route.faceId) };
    }

    const raw = await readBody(request, MAX_BODY_BYTES);
    const auth = authenticate(request.headers.authorization, this.s.credentials, at, isNewStandardRoute(route));
    if (!auth.ok) return { answer: failure(401, auth.code, auth.message) };

    let body: unknown;
    if (route.kind === "create" || (route.kind === "list" && "standard" in route)) {
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
      ...(route.kind === "query" ? { taskIds: "id" in route ? [route.id] : queriedIds(url.searchParams) } : {}),
    };
    if (route.kind === "create") this.s.stats.countCreateAttempt(externalTaskIdOf(body));
    const fault = this.s.plan.onRequest(info);
    if (fault && !fault.afterHandling) {
      this.s.stats.countFault();
      return { answer: faultAnswer(fault), fault: fault.label };
    }

    const handled = this.answerApiRoute(route, body, url, at);
    if (fault) {
      this.s.stats.countFault();
      return { answer: faultAnswer(fault), fault: fault.label };
    }
    if (route.kind === "query") {
      const legacy = "standard" in route ? undefined : this.s.tasks.find(route.taskKind, route.id);
      const seen = "standard" in route ? (this.queriedNewTasks(url.searchParams) ?? []) : legacy ? [legacy] : [];
      for (const task of seen) this.s.tasks.answered(task, at);
    }
    return { answer: handled };
  }

  /** The answer of one of Kling's API operations (a fault may replace it). */
  private answerApiRoute(route: Exclude<Route, { kind: "other" | "video" | "audio" | "face" }>, body: unknown, url: URL, at: number): Answer {
    switch (route.kind) {
      case "create":
        return this.createTask(route, body, at);
      case "query":
        return "standard" in route ? this.queryNewTasks(url.searchParams) : this.queryTask(route.taskKind, route.id);
      case "list":
        return "standard" in route ? this.pageNewTasks(body) : this.listTasks(route.taskKind, url.searchParams);
      case "account":
        return this.accountCosts(url.searchParams, at);
    }
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const route = routeOf(method, url.pathname);
    // Audio and face images are media downloads, counted with the videos.
    const kind: RequestKind = route.kind === "audio" || route.kind === "face" ? "video" : route.kind;
    this.s.stats.countRequest(kind);
    let result: { answer: Answer; fault?: string };
    try {
      result = await this.answerRequest(request, route, url);
    } catch (error) {
      result = { answer: failure(500, 5000, `simulator error: ${error instanceof Error ? error.message : String(error)}`) };
    }
    const status = send(request, response, result.answer);
    this.s.onRequest?.({
      method,
      path: url.pathname,
      kind,
      status,
      code: result.answer.type === "envelope" ? result.answer.code : undefined,
      fault: result.fault,
    });
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const scenario = scenarioNamed(options.scenario ?? "happy");
  const generationSeconds = options.generationSeconds ?? DEFAULT_GENERATION_SECONDS;
  const state = simulatorState(options, scenario, generationSeconds);
  const kling = new SimulatedKling(state);
  const { server, port } = await listen(options, (request, response) => void kling.handle(request, response));
  state.baseUrl = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  const { clock, packs } = state;
  return {
    baseUrl: state.baseUrl,
    port,
    scenario: scenario.name,
    credentials: state.credentials,
    maxConcurrentTasks: state.maxConcurrentTasks,
    generationSeconds,
    callbacksSigned: options.callbackSigningSecret !== undefined,
    stats: state.stats,
    tasks() {
      kling.catchUp(clock.now());
      return state.tasks.all();
    },
    otherUsersSlots() {
      kling.catchUp(clock.now());
      return state.otherUsers.heldSlots();
    },
    resourcePacks() {
      const at = clock.now();
      kling.catchUp(at);
      return packs.view(at, { startTime: 0, endTime: Number.MAX_SAFE_INTEGER });
    },
    videoBytes(videoId, watermarked = false) {
      const task = state.tasks.byVideoId(videoId);
      return task ? kling.videoOf(task, watermarked) : undefined;
    },
    settleCallbacks: () => state.callbacks.settle(),
    close() {
      state.callbacks.close();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/** The simulator's settings from its options (a bad one is a RangeError), and its account as it starts. */
function simulatorState(options: SimulatorOptions, scenario: ReturnType<typeof scenarioNamed>, generationSeconds: number): SimulatorState {
  const clock = options.clock ?? wallClock;
  const maxConcurrentTasks = options.maxConcurrentTasks ?? DEFAULT_MAX_CONCURRENT_TASKS;
  if (!(generationSeconds >= 0)) throw new RangeError("generationSeconds must be 0 or more");
  if (!Number.isInteger(maxConcurrentTasks) || maxConcurrentTasks < 1) throw new RangeError("maxConcurrentTasks must be a whole number of 1 or more");
  const packSeeds = scenario.resourcePacks ?? options.resourcePacks ?? [{ total: options.units ?? DEFAULT_UNITS }];
  // Prompts tagged [scenario:NAME] get that scenario; the rest get the run's.
  const plan = options.faultPlan ?? perItemPlan(scenario.name);
  const stats = new StatsRecorder();
  return {
    clock,
    plan,
    credentials: acceptedCredentials(options.credentials),
    maxConcurrentTasks,
    packs: new ResourcePacks(packSeeds, clock.now()),
    tasks: new TaskStore(),
    otherUsers: new OtherUsers(options.otherUsers ?? [], clock.now()),
    stats,
    generationMsFor: (request) => {
      const seconds = options.generationSecondsFor?.(request) ?? generationSeconds;
      if (!(seconds >= 0)) throw new RangeError(`a task's generation time must be 0 or more seconds, got ${seconds}`);
      return Math.round(seconds * 1000);
    },
    onRequest: options.onRequest,
    videoMediaBytes: options.videoMediaBytes ?? DEFAULT_VIDEO_MEDIA_BYTES,
    faceSessions: new Map(),
    callbacks: new CallbackSender({
      clock,
      scheduler: options.scheduler ?? clockTimers(clock),
      signingKey: callbackSigningKey(options.callbackSigningSecret),
      faultFor: options.callbackFaults ? seededCallbackFaults(options.callbackFaults) : (callback) => plan.onCallback?.(callback),
      stats,
      onCallback: options.onCallback,
    }),
    baseUrl: "",
  };
}

/** An HTTP (or HTTPS) server on 127.0.0.1, listening on the options' port or a free one. */
async function listen(
  options: SimulatorOptions,
  listener: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function callbackSigningKey(secret: string | undefined): Buffer | undefined {
  if (secret === undefined) return undefined;
  const key = signingKeyOf(secret);
  if (!key) throw new RangeError("callbackSigningSecret must be whsec_ followed by the secret in base64");
  return key;
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
