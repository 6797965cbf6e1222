/**
 * The Kling HTTP client (Kling's legacy `/v1` standard API). Every answer is read
 * with the wire.ts schemas, and every failure leaves as a `KlingError` whose `name` is the
 * Step Functions error name. Credentials never reach a message, an error or a return value.
 */
import * as z from "zod";
import { DEFAULTS } from "../common/settings";
import { redactorFor, type Redactor } from "../common/redaction";
import { KlingError, klingErrorFromAnswer } from "../errors";
import { createTokenSource, type TokenSource } from "./jwt";
import { type Clock, wallClock } from "../common/clock";
import type { KlingAccount, KlingApi, KlingCallObserver, KlingCallOutcome, KlingCredentials, KlingOperation } from "./port";
import type { NewCreateTaskBody, NewTaskPageRequest } from "./wire-v2";
import {
  accountCostsSchema,
  envelopeSchema,
  taskListSchema,
  taskSchema,
  type CreateTaskBody,
  type ResourcePack,
  type Task,
  type TaskKind,
} from "./wire";

export interface KlingClientOptions {
  /** For example `https://api-singapore.klingai.com`; a trailing slash is tolerated. */
  readonly baseUrl: string;
  readonly credentials: KlingCredentials;
  /** Limit for one request, from connecting to the last byte of the answer. */
  readonly timeoutMs?: number;
  /** Sees each HTTP request: how the Lambdas trace, count and log their Kling calls. */
  readonly observer?: KlingCallObserver;
  /** The time the JWTs are signed at; the wall clock unless the caller runs on another. */
  readonly clock?: Clock;
}

export const TASK_PATHS: Readonly<Record<TaskKind, string>> = {
  text2video: "/v1/videos/text2video",
  image2video: "/v1/videos/image2video",
};

const ACCOUNT_COSTS_PATH = "/account/costs";

/** 1003 (not yet valid) and 1004 (expired): a freshly signed JWT may be accepted. */
const STALE_TOKEN_CODES: ReadonlySet<number> = new Set([1003, 1004]);

const PAGE_NUM_RANGE = { min: 1, max: 1000 } as const;
const PAGE_SIZE_RANGE = { min: 1, max: 500 } as const;

const MAX_QUOTED_MESSAGE_CHARS = 300;
const MAX_QUOTED_BODY_CHARS = 100;
const MAX_REQUEST_ID_CHARS = 100;

/** One HTTP request to Kling, on either standard (new-standard.ts sends its own through `call`). */
interface KlingRequest<T> {
  readonly operation: KlingOperation;
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly query?: Readonly<Record<string, number | string>>;
  readonly body?: CreateTaskBody | NewCreateTaskBody | NewTaskPageRequest;
  /** The schema of the envelope's `data` on success. */
  readonly data: z.ZodType<T>;
  /** What `data` should be, for messages. */
  readonly dataName: string;
}

interface RawAnswer {
  readonly status: number;
  readonly text: string;
}

/** Reads `code`, `message` and `request_id` from an error answer without requiring the full envelope. */
const errorBodySchema = z.object({
  code: z.number().int().optional().catch(undefined),
  message: z.string().optional().catch(undefined),
  request_id: z.string().optional().catch(undefined),
});

/**
 * The transport (signing, timeouts, redaction, error classification, observation) and the
 * account endpoint, which both standards share: all a function that only reads the resource
 * packs needs (PriceBatch), so its bundle carries no task endpoints.
 */
export class KlingAccountClient implements KlingAccount {
  protected readonly baseUrl: string;
  private readonly tokens: TokenSource;
  private readonly timeoutMs: number;
  private readonly observer: KlingCallObserver | undefined;

  /**
   * Throws `Kling.AuthFailed` for empty or unusable credentials, and a plain Error for a
   * base URL or timeout that is not valid configuration.
   */
  constructor(options: KlingClientOptions) {
    this.baseUrl = readBaseUrl(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.klingRequestTimeoutMs;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new Error(`The Kling timeout must be a positive number of milliseconds, got ${String(options.timeoutMs)}`);
    }
    this.tokens = createTokenSource(options.credentials, options.clock ?? wallClock);
    this.observer = options.observer;
  }

  async getResourcePacks(range: { startTime: number; endTime: number }): Promise<ResourcePack[]> {
    const costs = await this.call({
      operation: "getResourcePacks",
      method: "GET",
      path: ACCOUNT_COSTS_PATH,
      query: {
        start_time: epochMillis(range.startTime, "startTime"),
        end_time: epochMillis(range.endTime, "endTime"),
      },
      data: accountCostsSchema,
      dataName: "account costs",
    });
    return costs.resource_pack_subscribe_infos;
  }

  /** One request, repeated once with a re-signed JWT when Kling says the token is stale. */
  async call<T>(request: KlingRequest<T>): Promise<T> {
    try {
      return await this.attempt(request);
    } catch (error) {
      if (!isStaleTokenAnswer(error) || !this.tokens.renew()) throw error;
    }
    try {
      return await this.attempt(request);
    } catch (error) {
      if (!isStaleTokenAnswer(error)) throw error;
      throw new KlingError(
        "Kling.AuthFailed",
        `${error.klingMessage} (refused again after re-signing the JWT: check the system clock)`,
        { httpStatus: error.httpStatus, klingCode: error.klingCode, requestId: error.requestId },
      );
    }
  }

  private async attempt<T>(request: KlingRequest<T>): Promise<T> {
    const token = this.tokens.token();
    const redact = redactorFor([...this.tokens.secrets(), token]);
    const finished = this.observer?.started(request.operation);
    try {
      const answer = await this.exchange(request, token);
      const data = readAnswer(request, answer, redact);
      // readAnswer only returns data for a 2xx answer whose code is 0.
      finished?.({ httpStatus: answer.status, klingCode: 0, errorName: undefined, requestId: undefined });
      return data;
    } catch (error) {
      finished?.(outcomeOf(error));
      throw error;
    }
  }

  private async exchange(request: KlingRequest<unknown>, token: string): Promise<RawAnswer> {
    let status: number | undefined;
    try {
      const response = await fetch(this.urlFor(request), {
        method: request.method,
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          Accept: "application/json",
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        // Following a redirect would resend the request (a create!) somewhere not configured.
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      return { status, text: await response.text() };
    } catch (error) {
      throw this.transportError(request, error, status);
    }
  }

  private transportError(request: KlingRequest<unknown>, error: unknown, status: number | undefined): KlingError {
    const during = status === undefined ? "" : ` while reading its HTTP ${status} answer`;
    let what: string;
    if (isTimeout(error)) {
      what = `Kling did not answer ${describe(request)} within the timeout of ${this.timeoutMs} ms${during}`;
    } else if (status === undefined) {
      what = `Kling could not be reached for ${describe(request)}: ${connectionProblem(error)}`;
    } else {
      what = `The connection to Kling broke${during} to ${describe(request)}: ${connectionProblem(error)}`;
    }
    // The lost answer may have been a created task; repeating the create blindly would pay twice.
    const advice =
      request.method === "POST"
        ? ". The task may have been created: look it up by its external_task_id before creating it again"
        : "";
    return new KlingError("Kling.ServerError", `${what}${advice}`);
  }

  private urlFor(request: KlingRequest<unknown>): string {
    const query = request.query
      ? `?${new URLSearchParams(Object.entries(request.query).map(([name, value]): [string, string] => [name, String(value)]))}`
      : "";
    return `${this.baseUrl}${request.path}${query}`;
  }
}

/** The legacy standard's task endpoints, over the same transport. */
export class KlingClient extends KlingAccountClient implements KlingApi<TaskKind> {
  async createTask(kind: TaskKind, body: CreateTaskBody): Promise<Task> {
    return this.call({ operation: "createTask", method: "POST", path: taskPath(kind), body, data: taskSchema, dataName: "task" });
  }

  async getTask(kind: TaskKind, id: string): Promise<Task> {
    return this.call({
      operation: "getTask",
      method: "GET",
      path: `${taskPath(kind)}/${taskIdSegment(id)}`,
      data: taskSchema,
      dataName: "task",
    });
  }

  async findTaskByExternalId(kind: TaskKind, externalTaskId: string): Promise<Task | undefined> {
    try {
      return await this.getTask(kind, externalTaskId);
    } catch (error) {
      if (error instanceof KlingError && error.refusal === "task-not-found") return undefined;
      throw error;
    }
  }

  async listTasks(kind: TaskKind, page: { pageNum: number; pageSize: number }): Promise<Task[]> {
    return this.call({
      operation: "listTasks",
      method: "GET",
      path: taskPath(kind),
      query: {
        pageNum: integerIn(page.pageNum, PAGE_NUM_RANGE, "pageNum"),
        pageSize: integerIn(page.pageSize, PAGE_SIZE_RANGE, "pageSize"),
      },
      data: taskListSchema,
      dataName: "task list",
    });
  }
}

function readAnswer<T>(request: KlingRequest<T>, answer: RawAnswer, redact: Redactor): T {
  const { status, text } = answer;
  const json = parseJson(text);

  if (status < 200 || status > 299) {
    const fields = json.ok ? errorBodySchema.safeParse(json.value) : undefined;
    const known = fields?.success ? fields.data : {};
    const message = known.message?.trim()
      ? quote(known.message, redact, MAX_QUOTED_MESSAGE_CHARS)
      : `Kling answered HTTP ${status} ${describeBody(text, json.ok, redact)}`;
    throw klingErrorFromAnswer(status, known.code, message, requestIdOf(known.request_id, redact));
  }

  if (!json.ok) {
    const message = `Kling answered HTTP ${status} ${describeBody(text, false, redact)}`;
    throw new KlingError("Kling.ServerError", message, { httpStatus: status });
  }
  const envelope = envelopeSchema.safeParse(json.value);
  if (!envelope.success) {
    const message = `Kling answered HTTP ${status} with JSON that is not its response envelope {code, message, request_id, data}: ${quote(text, redact, MAX_QUOTED_BODY_CHARS)}`;
    throw new KlingError("Kling.ServerError", message, { httpStatus: status });
  }

  const { code, message, request_id } = envelope.data;
  const requestId = requestIdOf(request_id, redact);
  if (code !== 0) {
    throw klingErrorFromAnswer(status, code, quote(message, redact, MAX_QUOTED_MESSAGE_CHARS), requestId);
  }
  const data = request.data.safeParse(envelope.data.data);
  if (!data.success) {
    const issues = quote(summarizeIssues(data.error), redact, MAX_QUOTED_MESSAGE_CHARS);
    const problem = `Kling answered ${describe(request)} with data that is not the documented ${request.dataName}: ${issues}`;
    throw new KlingError("Kling.ServerError", problem, { httpStatus: status, requestId });
  }
  return data.data;
}

/** A failed request's outcome: a KlingError carries what Kling answered, if it answered. */
function outcomeOf(error: unknown): KlingCallOutcome {
  const kling = error instanceof KlingError ? error : undefined;
  return {
    httpStatus: kling?.httpStatus,
    klingCode: kling?.klingCode,
    errorName: error instanceof Error ? error.name : "Error",
    requestId: kling?.requestId,
  };
}

/** Redacts before truncating, so a secret is never cut into a prefix that survives. */
function quote(text: string, redact: Redactor, maxChars: number): string {
  const clean = redact(text).replace(/\s+/g, " ").trim();
  return clean.length <= maxChars ? clean : `${clean.slice(0, maxChars)}…`;
}

function describeBody(text: string, isJson: boolean, redact: Redactor): string {
  if (text.trim() === "") return "with an empty body";
  const excerpt = quote(text, redact, MAX_QUOTED_BODY_CHARS);
  return isJson ? `without a message: ${excerpt}` : `with a body that is not JSON: ${excerpt}`;
}

/** The error message's details suffix cannot carry whitespace or `]` in the request id. */
function requestIdOf(requestId: string | undefined, redact: Redactor): string | undefined {
  if (requestId === undefined) return undefined;
  const clean = redact(requestId).replace(/[\s\]]+/g, "_").slice(0, MAX_REQUEST_ID_CHARS);
  return clean === "" ? undefined : clean;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

function describe(request: KlingRequest<unknown>): string {
  return `${request.method} ${request.path}`;
}

function isStaleTokenAnswer(error: unknown): error is KlingError {
  return (
    error instanceof KlingError &&
    error.httpStatus === 401 &&
    error.klingCode !== undefined &&
    STALE_TOKEN_CODES.has(error.klingCode)
  );
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === "TimeoutError";
}

/** Names the failure from the system error code only: the HTTP layer's own messages can quote header values. */
function connectionProblem(error: unknown): string {
  const code = systemErrorCode(error);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return "connection reset";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    case undefined:
      return "connection failed";
    default:
      return `connection failed (${code})`;
  }
}

function systemErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    if ("code" in current && typeof current.code === "string" && /^[A-Z][A-Z0-9_]*$/.test(current.code)) {
      return current.code;
    }
    current = current.cause;
  }
  return undefined;
}

function readBaseUrl(baseUrl: string): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, "");
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  if (url && (url.username || url.password)) {
    throw new Error("The Kling base URL must not carry credentials; they belong in the Kling secret");
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash) {
    throw new Error(`The Kling base URL must be an absolute http(s) URL without a query, got "${baseUrl}"`);
  }
  return trimmed;
}

function taskPath(kind: TaskKind): string {
  if (!Object.hasOwn(TASK_PATHS, kind)) {
    throw new KlingError(
      "Kling.InvalidRequest",
      `Unknown Kling task kind "${String(kind).slice(0, 40)}": expected one of ${Object.keys(TASK_PATHS).join(", ")}`,
    );
  }
  return TASK_PATHS[kind];
}

/** URLs resolve "." and ".." segments (even percent-encoded), so such ids could never reach the task. */
function taskIdSegment(id: string): string {
  if (typeof id !== "string" || id === "" || id === "." || id === "..") {
    throw new KlingError("Kling.InvalidRequest", `A Kling task id must be a non-empty string other than "." or "..", got ${JSON.stringify(id)}`);
  }
  return encodeURIComponent(id);
}

function integerIn(value: number, range: { min: number; max: number }, name: string): number {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new KlingError("Kling.InvalidRequest", `${name} must be an integer from ${range.min} to ${range.max}, got ${value}`);
  }
  return value;
}

function epochMillis(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new KlingError("Kling.InvalidRequest", `${name} must be epoch milliseconds (a non-negative integer), got ${value}`);
  }
  return value;
}
