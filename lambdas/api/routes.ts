/**
 * The HTTP API: POST /generations starts a generation, GET /generations/{id} reports on one.
 * Pure of AWS: executions come through the GenerationExecutions port, so the same code serves
 * API Gateway (sfn-executions.ts) and the local engine.
 */
import type { Environment } from "../common/config";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { logger } from "../observability/logger";
import type { QueuePositions } from "../ledger/queue-position";
import { validateGenerationRequest } from "../schemas/validation";
import { readValidateConfig } from "../validate/config";
import type { ExecutionDescription, GenerationExecutions } from "./executions";
import { executionNameFor, idempotencyKeyProblem, isGenerationId } from "./execution-names";
import { generationStatus, generationView } from "./generation-view";
import type { VideoLinks } from "./video-links";
import { canonicalJson, errorResponse, headerValues, jsonResponse, readJsonBody } from "./http";

/**
 * The largest body POST accepts. A Step Functions execution input is at most 256 KiB, and the
 * input is the normalized request, which is never much larger than the body it came from (the
 * defaults it adds are a few bytes; validation caps inline images at 192 KiB); a larger body
 * could only fail later, at StartExecution.
 */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

export const GENERATIONS_PATH = "/generations";

/** Without video links (a caller that never reads a generation), an archived video cannot be linked: a fault, loudly. */
const NO_LINKS: VideoLinks = {
  lifetimeSeconds: 0,
  linkTo: () => Promise.reject(new Error("the API was given no way to sign links to the video bucket")),
};

/** A malformed id is echoed in its 404 only this far (an id is at most 80 characters). */
const MAX_SHOWN_ID_CHARACTERS = 100;

/** What GET /generations/{id} reads besides the execution. */
interface GenerationReaders {
  /** Signs links to archived videos. */
  readonly links?: VideoLinks;
  /** The account ledger's queue: a running generation waiting for a Kling slot is QUEUED. */
  readonly queue?: QueuePositions;
}

type Route =
  | { readonly kind: "collection" }
  | { readonly kind: "item"; readonly id: string }
  | { readonly kind: "none" };

/**
 * Answers one API Gateway event. Bad input is a 4xx listing its problems; a failure of the
 * executions port (or of the configuration) is a 500 saying only "internal error", logged as
 * one structured line without the request's body.
 */
export async function handleApiRequest(
  event: APIGatewayProxyEvent,
  executions: GenerationExecutions,
  env: Environment = process.env,
  readers: GenerationReaders = {},
): Promise<APIGatewayProxyResult> {
  const route = routeOf(event);
  try {
    switch (route.kind) {
      case "collection":
        if (event.httpMethod !== "POST") return methodNotAllowed(event.httpMethod, "POST");
        return await startGeneration(event, executions, env);
      case "item":
        if (event.httpMethod !== "GET") return methodNotAllowed(event.httpMethod, "GET");
        return await describeGeneration(route.id, executions, readers);
      case "none":
        return errorResponse(404, [`there is no ${event.httpMethod} ${event.path}; the API has POST ${GENERATIONS_PATH} and GET ${GENERATIONS_PATH}/{id}`]);
    }
  } catch (error) {
    logger().error("the API request failed unexpectedly", {
      method: event.httpMethod,
      resource: event.resource,
      requestId: event.requestContext?.requestId,
      ...describeError(error),
    });
    return errorResponse(500, ["internal error"]);
  }
}

/**
 * By the resource API Gateway matched when it is one of ours; by the path otherwise (a
 * `{proxy+}` resource). An id is taken as it is: anything outside the id pattern is a 404 anyway.
 */
function routeOf(event: APIGatewayProxyEvent): Route {
  if (event.resource === GENERATIONS_PATH) return { kind: "collection" };
  if (event.resource === `${GENERATIONS_PATH}/{id}`) return { kind: "item", id: event.pathParameters?.id ?? "" };
  // The lookbehind starts a match only at the first slash of a run: linear, where /\/+$/ is quadratic in a run of slashes.
  const path = (event.path ?? "").replace(/(?<!\/)\/+$/, "");
  if (path === GENERATIONS_PATH) return { kind: "collection" };
  const item = /^\/generations\/([^/]+)$/.exec(path);
  return item?.[1] === undefined ? { kind: "none" } : { kind: "item", id: item[1] };
}

function methodNotAllowed(method: string, allowed: string): APIGatewayProxyResult {
  return errorResponse(405, [`${method} is not allowed here; use ${allowed}`], { allow: allowed });
}

async function startGeneration(
  event: APIGatewayProxyEvent,
  executions: GenerationExecutions,
  env: Environment,
): Promise<APIGatewayProxyResult> {
  const body = readJsonBody(event, MAX_REQUEST_BODY_BYTES);
  if (!body.ok && body.statusCode === 413) return errorResponse(413, [body.problem]);
  const key = readIdempotencyKey(event);
  const problems = [...key.problems];
  if (!body.ok) return errorResponse(400, [...problems, body.problem]);

  // Read per request, as the Validate Lambda does: the same rules on both sides.
  const result = validateGenerationRequest(body.value, readValidateConfig(env));
  if (!result.ok) problems.push(...result.problems);
  if (problems.length > 0 || !result.ok) return errorResponse(400, problems);

  const input = canonicalJson(result.request);
  const name = executionNameFor(key.value);
  const outcome = await executions.start(name, input);
  if (outcome.kind === "started") return accepted(outcome.name, "RUNNING");

  // The name is taken: the same request again (a retry) is answered as the first time was.
  const existing = await executions.describe(outcome.name);
  if (existing === undefined) throw new Error(`execution ${outcome.name} exists but cannot be described`);
  if (!sameInput(existing, input)) {
    return errorResponse(409, [
      `${IDEMPOTENCY_KEY_HEADER} ${JSON.stringify(key.value ?? "")} was already used with a different request; send a new key for a new request`,
    ]);
  }
  return accepted(existing.name, generationStatus(existing.status));
}

interface IdempotencyKey {
  readonly value: string | undefined;
  readonly problems: readonly string[];
}

function readIdempotencyKey(event: APIGatewayProxyEvent): IdempotencyKey {
  const values = headerValues(event, IDEMPOTENCY_KEY_HEADER);
  const [value] = values;
  if (value === undefined) return { value: undefined, problems: [] };
  if (values.length > 1) {
    return { value: undefined, problems: [`${IDEMPOTENCY_KEY_HEADER} was sent ${values.length} times with different values; send it once`] };
  }
  const problem = idempotencyKeyProblem(value);
  return { value, problems: problem ? [problem] : [] };
}

/** Inputs compared as values: an execution started elsewhere may have written its keys in another order. */
function sameInput(existing: ExecutionDescription, input: string): boolean {
  try {
    return canonicalJson(JSON.parse(existing.input)) === input;
  } catch {
    return false;
  }
}

function accepted(id: string, status: string): APIGatewayProxyResult {
  const self = `${GENERATIONS_PATH}/${id}`;
  return jsonResponse(202, { id, status, links: { self } }, { location: self });
}

async function describeGeneration(id: string, executions: GenerationExecutions, { links, queue }: GenerationReaders): Promise<APIGatewayProxyResult> {
  const shown = id.length > MAX_SHOWN_ID_CHARACTERS ? `${id.slice(0, MAX_SHOWN_ID_CHARACTERS)}...` : id;
  const notFound = errorResponse(404, [`no generation ${shown}`]);
  if (!isGenerationId(id)) return notFound;
  const execution = await executions.describe(id);
  if (execution === undefined) return notFound;
  const queuePosition = execution.status === "RUNNING" ? await queue?.positionOf(execution.name) : undefined;
  return jsonResponse(200, await generationView(execution, links ?? NO_LINKS, queuePosition));
}

/** What the log may say about an error: its name, message and AWS metadata, never a request body. */
function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  const metadata = "$metadata" in error && typeof error.$metadata === "object" && error.$metadata !== null ? error.$metadata : undefined;
  return {
    errorName: error.name,
    errorMessage: error.message,
    ...(metadata && "httpStatusCode" in metadata ? { httpStatusCode: metadata.httpStatusCode } : {}),
    ...(metadata && "requestId" in metadata ? { awsRequestId: metadata.requestId } : {}),
  };
}
