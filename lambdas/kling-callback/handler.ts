/**
 * KlingCallback, behind `POST /kling/callbacks/{externalTaskId}/{token}` (no AWS auth: Kling
 * cannot sign SigV4). A call is refused with 401 and no effect unless its capability token is
 * the task's and not expired (and, with a signing secret configured, its Standard Webhooks
 * signature checks out). The confirming queries one task's callbacks cause are counted in the
 * ledger: past `confirmingQueriesPerMinute` in a minute a callback is accepted without asking
 * Kling (the fallback poll still ends the wait), so a leaked URL costs a few queries a minute. Its body is only a hint: an end is acted on once Kling confirms it by query, and only by
 * the first to claim it in the ledger, so duplicate, late, out-of-order and unknown-task
 * callbacks change nothing. The claimant releases the slot, settles the credits and ends
 * WaitForVideo at once, with what Poll would have returned.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import * as z from "zod";
import { errorResponse, readJsonBody } from "../api/http";
import { verifyCapabilityToken } from "../common/capability-token";
import { acceptedCapabilityKeys, callbackPortFrom } from "../common/callback-secrets";
import { wallClock } from "../common/clock";
import { klingApiFrom } from "../common/kling-api";
import { type HandlerPorts, settingsFrom } from "../common/ports";
import { verifyWebhook, WebhookVerificationError } from "../common/standard-webhooks";
import { answerWait, releaseEndedTask, taskEndOf } from "../common/task-end";
import { sfnTaskResponses } from "../common/task-responses";
import { ERROR_KINDS, KlingError } from "../errors";
import type { KlingTaskKind } from "../kling/port";
import { legacyStatusOf } from "../kling/new-standard";
import { type Task, taskSchema, type TaskStatus } from "../kling/wire";
import { newTaskSchema } from "../kling/wire-v2";
import { dynamoDbLedgerFrom, slotPortsOf } from "../ledger/ports";
import { dynamoDbTaskWaitsFrom, type TaskEnd, type TaskWait } from "../ledger/task-waits";
import { logger, observed } from "../observability/logger";
import {
  type CallbackRefusal,
  recordCallbackConfirmed,
  recordCallbackReceived,
  recordCallbackRefused,
  recordGenerationSucceeded,
} from "../observability/metrics";

type KlingCallbackPorts = Pick<HandlerPorts, "kling" | "ledger" | "taskWaits" | "taskResponses" | "settings" | "clock" | "callbacks">;

/** A callback body is a task's JSON: far below this. */
const MAX_CALLBACK_BYTES = 64 * 1024;

const pathSchema = z.object({ externalTaskId: z.string().min(1), token: z.string().min(1) });

/**
 * What the handler reads of Kling's callback, the task as its standard's query shows it (legacy:
 * `task_id`, `task_status`; new: `id`, `status`): the status it hints at and the task it names.
 * The rest it asks Kling for.
 */
const legacyCallbackSchema = taskSchema
  .pick({ task_id: true, task_status: true, task_info: true })
  .transform((task) => ({ status: task.task_status, externalTaskId: task.task_info?.external_task_id }));
const newCallbackSchema = newTaskSchema
  .pick({ id: true, status: true, external_id: true })
  .transform((task) => ({ status: legacyStatusOf(task.status), externalTaskId: task.external_id }));
type CallbackHint = z.infer<typeof legacyCallbackSchema>;

/** The body read by its standard's schema (a body with `id` and no `task_id` is the new standard's). */
function readHint(body: unknown): { ok: true; hint: CallbackHint } | { ok: false; problem: string } {
  const isNew = typeof body === "object" && body !== null && "id" in body && !("task_id" in body);
  const result = (isNew ? newCallbackSchema : legacyCallbackSchema).safeParse(body);
  if (result.success) return { ok: true, hint: result.data };
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
  return { ok: false, problem: `the callback body is not a Kling task: ${problems.join("; ")}` };
}

/**
 * Accepted: 200, the answer Kling's "Test Callback" expects of a receiver (Kling's callback protocol page). Kling needs
 * to know no more, and an unknown task is not told apart from a known one.
 */
const ACCEPTED: APIGatewayProxyResult = { statusCode: 200, headers: {}, body: "" };

function refused(reason: CallbackRefusal, statusCode: 400 | 401 | 413, problem: string): APIGatewayProxyResult {
  recordCallbackRefused(reason);
  logger().warn("callback refused", { reason, problem });
  return errorResponse(statusCode, [problem]);
}

function rawBody(event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">): Buffer {
  return Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
}

/** The call's own checks: the capability token, the signature, the body. A refusal, or what the body says. */
async function checkedCallback(
  ports: KlingCallbackPorts,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult | { externalTaskId: string; hint: CallbackHint }> {
  const path = pathSchema.safeParse(event.pathParameters ?? {});
  // Without both parts no token can match: the same refusal as a wrong one.
  if (!path.success) return refused("capability-token", 401, "the callback URL's capability token is not this task's");
  const { externalTaskId, token } = path.data;
  const secrets = await ports.callbacks.secrets();
  const now = ports.clock.now();
  const check = verifyCapabilityToken(acceptedCapabilityKeys(secrets, now), externalTaskId, token, now);
  if (check === "invalid") return refused("capability-token", 401, "the callback URL's capability token is not this task's");
  if (check === "expired") return refused("capability-token-expired", 401, "the callback URL's capability token has expired");
  if (secrets.klingSigningSecret !== undefined) {
    try {
      verifyWebhook(secrets.klingSigningSecret, event.headers ?? {}, rawBody(event), ports.clock.now() / 1000);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      return refused("signature", 401, `the callback's signature does not check out: ${error.message}`);
    }
  }
  const json = readJsonBody(event, MAX_CALLBACK_BYTES);
  if (!json.ok) return refused("body", json.statusCode, json.problem);
  const read = readHint(json.value);
  if (!read.ok) return refused("body", 400, read.problem);
  const named = read.hint.externalTaskId;
  if (named !== undefined && named !== externalTaskId) {
    return refused("body", 400, `the callback body is for the external_task_id ${named}, not this URL's task`);
  }
  return { externalTaskId, hint: read.hint };
}

/**
 * How often the confirming query is sent when Kling answers it with a server fault (a 5xx, a
 * dropped connection), a moment apart: Kling does not document that it sends a refused callback
 * again, and a callback given up costs the job the wait for its fallback poll. Twice at most:
 * two requests of klingRequestTimeoutMs each fit the function's timeout and API Gateway's 29 s
 * (a rate limit is not asked again: a moment later it still holds).
 */
const CONFIRM_ATTEMPTS = 2;
const CONFIRM_BACKOFF_MS = 100;

const MINUTE_MS = 60_000;

/** Counts a confirming query against the task's limit for this minute; false when it is reached. */
function mayQuery(ports: KlingCallbackPorts, externalTaskId: string): Promise<boolean> {
  const windowStart = Math.floor(ports.clock.now() / MINUTE_MS) * MINUTE_MS;
  return ports.taskWaits().takeConfirmingQuery(externalTaskId, windowStart, ports.callbacks.confirmingQueriesPerMinute());
}

/**
 * The task as Kling says it is now, asked again after a passing fault; each query counted
 * against the task's limit. Undefined when the limit allows none now.
 */
async function confirmingQuery(ports: KlingCallbackPorts, externalTaskId: string, kind: KlingTaskKind, taskId: string): Promise<Task | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (!(await mayQuery(ports, externalTaskId))) {
      if (attempt > 1) throw new Error("the confirming query failed, and the task's query limit allows no other now");
      return undefined;
    }
    try {
      return await (await ports.kling()).getTask(kind, taskId);
    } catch (error) {
      if (attempt >= CONFIRM_ATTEMPTS || !(error instanceof KlingError && ERROR_KINDS[error.name].retry === "server-error")) throw error;
      logger().warn("confirming query failed; asking again", { taskId, attempt, error: `${error.name}: ${error.message}` });
      await new Promise((resolve) => setTimeout(resolve, CONFIRM_BACKOFF_MS * attempt));
    }
  }
}

/** Confirms the end with Kling and, if this call is the first to claim it, acts on it. */
async function actOnHint(ports: KlingCallbackPorts, externalTaskId: string, hintedStatus: TaskStatus): Promise<void> {
  // A task still running needs nothing: only an end ends the wait.
  if (hintedStatus !== "succeed" && hintedStatus !== "failed") return;
  const waits = ports.taskWaits();
  const wait = await waits.taskWait(externalTaskId);
  // Unknown (or no longer waited on): nothing to do, and nothing to tell the caller.
  if (!wait || wait.settled) return;
  if (wait.end) {
    // Claimed, but its claimant failed before releasing or answering (and asked Kling to send
    // again): both are safe to repeat, so finish them.
    const resumed = await finishEnd(ports, externalTaskId, wait, wait.end);
    if (resumed && wait.end.status === "succeed") recordGenerationSucceeded();
    logger().info("callback finished an end claimed before", { taskId: wait.task.taskId, status: wait.end.status, resumed });
    return;
  }
  const answer = await confirmingQuery(ports, externalTaskId, wait.task.kind, wait.task.taskId);
  if (!answer) {
    logger().warn("callback not confirmed: the task's confirming queries reached their limit", { taskId: wait.task.taskId });
    return;
  }
  const end = taskEndOf(answer);
  if (!end) {
    logger().info("callback not confirmed: the task still runs", { taskId: wait.task.taskId, hinted: hintedStatus, status: answer.task_status });
    return;
  }
  const claim = await waits.claimTaskEnd(externalTaskId, end);
  if (claim.outcome !== "claimed") return;
  recordCallbackConfirmed();
  if (end.status === "succeed") recordGenerationSucceeded();
  const resumed = await finishEnd(ports, externalTaskId, claim.wait, end);
  logger().info("callback confirmed", { taskId: wait.task.taskId, status: end.status, resumed });
}

/** Releases the slot, answers the wait with the end, and records that done. True when the wait was answered. */
async function finishEnd(ports: KlingCallbackPorts, externalTaskId: string, wait: TaskWait, end: TaskEnd): Promise<boolean> {
  const unitsSpent = await releaseEndedTask(slotPortsOf(ports), wait.executionArn, end);
  const resumed = await answerWait(ports.taskResponses, wait.taskToken, wait.task, end, unitsSpent);
  await ports.taskWaits().settleTaskEnd(externalTaskId);
  return resumed;
}

export function klingCallbackHandler(ports: KlingCallbackPorts) {
  return observed(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const checked = await checkedCallback(ports, event);
    if ("statusCode" in checked) return checked;
    recordCallbackReceived();
    try {
      await actOnHint(ports, checked.externalTaskId, checked.hint.status);
    } catch (error) {
      // Kling, the ledger or Step Functions failed us: say so, so a sender that retries does; the fallback poll covers it either way.
      logger().error("callback could not be acted on", { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      return errorResponse(503, ["the callback could not be acted on now; send it again later"]);
    }
    return ACCEPTED;
  });
}

export const handler = klingCallbackHandler({
  clock: wallClock,
  settings: settingsFrom(process.env),
  kling: klingApiFrom(process.env, wallClock),
  ledger: dynamoDbLedgerFrom(process.env),
  taskWaits: dynamoDbTaskWaitsFrom(process.env),
  taskResponses: sfnTaskResponses(),
  callbacks: callbackPortFrom(process.env, wallClock),
});
