/**
 * Properties of the HTTP API, on generated events: whatever method, path, headers and body a
 * caller sends, the answer is a JSON 2xx or 4xx (never a 5xx, an exception or a stack), and an
 * Idempotency-Key always leads back to the same generation. Executions are kept in memory by a
 * fake of the GenerationExecutions port that honours Step Functions' name idempotency and limits.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { executionNameFor, isGenerationId } from "#lambdas/api/execution-names";
import type { ExecutionDescription, GenerationExecutions, StartOutcome } from "#lambdas/api/executions";
import { canonicalJson } from "#lambdas/api/http";
import { GENERATIONS_PATH, IDEMPOTENCY_KEY_HEADER, MAX_REQUEST_BODY_BYTES, handleApiRequest } from "#lambdas/api/routes";
import { ASPECT_RATIOS, MODEL_NAMES, MODELS } from "#lambdas/schemas/models";
import { validateGenerationRequest, type ValidationOptions } from "#lambdas/schemas/validation";
import { apiGatewayEvent } from "../support/api-gateway-event";

/** Fixed seeds: a failure in CI replays the same way on any machine. */
const SEED = 0x61706921;

const ENV = { DEFAULT_MODEL: "kling-v2-6", BLOCKED_TERMS: JSON.stringify(["gore"]) };
const OPTIONS: ValidationOptions = { defaultModel: "kling-v2-6", blockedTerms: ["gore"] };

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_EXECUTION_INPUT_BYTES = 256 * 1024;

/**
 * Step Functions in memory: a name is taken once; StartExecution again with the name and the
 * input of a RUNNING execution succeeds again (idempotent), anything else is "exists". Names and
 * inputs Step Functions would refuse (InvalidName, InvalidExecutionInput) throw, as the SDK does.
 */
class InMemoryExecutions implements GenerationExecutions {
  readonly executions = new Map<string, ExecutionDescription>();

  constructor(seeded: readonly ExecutionDescription[] = []) {
    for (const execution of seeded) this.executions.set(execution.name, execution);
  }

  async start(name: string, input: string): Promise<StartOutcome> {
    if (!EXECUTION_NAME.test(name)) throw new Error(`InvalidName: ${name}`);
    if (Buffer.byteLength(input, "utf8") > MAX_EXECUTION_INPUT_BYTES) throw new Error("InvalidExecutionInput: too large");
    JSON.parse(input);
    const existing = this.executions.get(name);
    if (existing === undefined) {
      this.executions.set(name, { name, status: "RUNNING", input });
      return { kind: "started", name };
    }
    return existing.status === "RUNNING" && existing.input === input ? { kind: "started", name } : { kind: "exists", name };
  }

  async describe(name: string): Promise<ExecutionDescription | undefined> {
    return this.executions.get(name);
  }
}

const KNOWN_EXECUTIONS: readonly ExecutionDescription[] = [
  { name: "api-known-running", status: "RUNNING", input: '{"prompt":"a cat"}' },
  {
    name: "batch-job-7",
    status: "SUCCEEDED",
    input: '{"prompt":"a cat"}',
    output: JSON.stringify({ task: { video: { url: "https://cdn.example.com/v.mp4", duration: "5" } } }),
  },
  { name: "local-run-3", status: "FAILED", input: "{}", error: "States.Timeout", cause: "the task timed out" },
  { name: "api-redrive", status: "PENDING_REDRIVE", input: "{}", error: "Kling.Throttled", cause: "{not json" },
];
const KNOWN_IDS = KNOWN_EXECUTIONS.map((execution) => execution.name);

interface EventParts {
  readonly httpMethod: string;
  readonly path: string;
  readonly resource: string;
  readonly pathParameters: Record<string, string> | null;
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

function eventOf(parts: EventParts): APIGatewayProxyEvent {
  return apiGatewayEvent(parts);
}

function post(body: string, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return eventOf({
    httpMethod: "POST",
    path: GENERATIONS_PATH,
    resource: GENERATIONS_PATH,
    pathParameters: null,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    body,
    isBase64Encoded: false,
  });
}

function get(id: string): APIGatewayProxyEvent {
  return eventOf({
    httpMethod: "GET",
    path: `${GENERATIONS_PATH}/${id}`,
    resource: `${GENERATIONS_PATH}/{id}`,
    pathParameters: { id },
    headers: {},
    multiValueHeaders: {},
    body: null,
    isBase64Encoded: false,
  });
}

/** Every string anywhere in a JSON value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The body parsed, once the promises every answer keeps are checked. */
function expectJsonAnswer(response: APIGatewayProxyResult): unknown {
  expect(response.headers?.["content-type"]).toBe("application/json");
  const body: unknown = JSON.parse(response.body);
  for (const text of stringsIn(body)) {
    expect(text).not.toMatch(/^\s+at \S/m);
    expect(text).not.toMatch(/\b(Type|Reference|Syntax|Range)Error\b/);
    expect(text).not.toContain("[object ");
  }
  return body;
}

function expectRefusal(response: APIGatewayProxyResult): void {
  const body = expectJsonAnswer(response);
  expect(Object.keys(body as object)).toEqual(["errors"]);
  const { errors } = body as { errors: unknown };
  expect(Array.isArray(errors)).toBe(true);
  expect((errors as unknown[]).length).toBeGreaterThan(0);
  for (const error of errors as unknown[]) {
    expect(typeof error).toBe("string");
    expect((error as string).trim()).not.toBe("");
  }
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const;

type RouteParts = Pick<EventParts, "path" | "resource" | "pathParameters">;

/** A path as API Gateway passes it: matched to one of our resources, or through {proxy+}. */
/** Through the resource API Gateway matched, or through {proxy+}. */
function routeTo(path: string, matched: boolean): RouteParts {
  const proxy = { resource: "/{proxy+}", pathParameters: { proxy: path.replace(/^\//, "") } };
  if (!matched) return { path, ...proxy };
  if (path === GENERATIONS_PATH) return { path, resource: GENERATIONS_PATH, pathParameters: null };
  const id = path.slice(`${GENERATIONS_PATH}/`.length);
  return { path, resource: `${GENERATIONS_PATH}/{id}`, pathParameters: { id } };
}

const itemId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_IDS) },
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.stringMatching(/^(api|batch|local)-[A-Za-z0-9_-]{1,90}$/),
);

const route: fc.Arbitrary<RouteParts> = fc.oneof(
  { weight: 3, arbitrary: fc.boolean().map((matched) => routeTo(GENERATIONS_PATH, matched)) },
  fc.constantFrom(`${GENERATIONS_PATH}/`, `${GENERATIONS_PATH}//`, "/", "").map((path) => routeTo(path, false)),
  fc.tuple(itemId, fc.boolean()).map(([id, matched]) => routeTo(`${GENERATIONS_PATH}/${id}`, matched)),
  fc.oneof(fc.webPath(), fc.string({ unit: "binary", maxLength: 60 })).map((path) => routeTo(path, false)),
);

/** Requests valid for their model, built from the capability table. */
const validRequest: fc.Arbitrary<Record<string, unknown>> = fc
  .constantFrom(...MODEL_NAMES.filter((model) => MODELS[model].inputs.includes("text")))
  .chain((model) => {
    const capabilities = MODELS[model];
    return fc.record(
      {
        prompt: fc
          .string({ unit: "grapheme", minLength: 1, maxLength: 80 })
          .filter((text) => text.trim() !== "" && !/gore/i.test(text.normalize("NFKC"))),
        model: fc.constant<string>(model),
        mode: fc.constantFrom(...capabilities.modes),
        duration: fc.constantFrom("5", "10", 5, 10),
        aspectRatio: fc.constantFrom(...ASPECT_RATIOS),
        ...(capabilities.negativePrompt ? { negativePrompt: fc.string({ maxLength: 40 }).filter((text) => !/gore/i.test(text)) } : {}),
        ...(capabilities.cfgScale ? { cfgScale: fc.double({ min: 0, max: 1, noNaN: true }) } : {}),
        // Silent: native audio is made in some modes only (the validator's own tests cover which).
        ...(capabilities.sound ? { sound: fc.constant("off") } : {}),
        callbackUrl: fc.constant("https://hooks.example.com/kling"),
      },
      { requiredKeys: ["prompt", "model"] },
    );
  });

const anyJson = fc.jsonValue({ maxDepth: 3 });

const TOO_LARGE_BODY = JSON.stringify({ prompt: "a".repeat(MAX_REQUEST_BODY_BYTES) });

/** The body as API Gateway hands it over: any text, any bytes (base64), any JSON, valid requests. */
const bodyParts = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(validRequest, fc.boolean()).map(([value, base64]) => {
      const text = JSON.stringify(value);
      return { body: base64 ? Buffer.from(text, "utf8").toString("base64") : text, isBase64Encoded: base64 };
    }),
  },
  fc.constant({ body: null, isBase64Encoded: false }),
  // Just over the limit, as text and as base64.
  fc.constantFrom(
    { body: TOO_LARGE_BODY, isBase64Encoded: false },
    { body: Buffer.from(TOO_LARGE_BODY, "utf8").toString("base64"), isBase64Encoded: true },
  ),
  fc.tuple(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })), fc.boolean()).map(([body, isBase64Encoded]) => ({
    body,
    isBase64Encoded,
  })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ body: Buffer.from(bytes).toString("base64"), isBase64Encoded: true })),
  fc.tuple(anyJson, fc.boolean()).map(([value, base64]) => {
    const text = JSON.stringify(value);
    return { body: base64 ? Buffer.from(text, "utf8").toString("base64") : text, isBase64Encoded: base64 };
  }),
);

const headerName = fc.oneof(
  fc.constantFrom(IDEMPOTENCY_KEY_HEADER, "idempotency-key", "IDEMPOTENCY-KEY", "iDeMpOtEnCy-KeY", "Idempotency-key", "Content-Type", "X-Amzn-Trace-Id"),
  fc.string({ minLength: 1, maxLength: 20 }),
);

const headerValue = fc.oneof(
  fc.constantFrom("", " ", "\t", "retry-1", "application/json", " padded-key "),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme-ascii", minLength: 250, maxLength: 270 }),
  fc.string({ unit: "binary", minLength: 1000, maxLength: 3000 }),
);

/**
 * Headers as API Gateway hands them over: `headers` has the last value of each name and
 * `multiValueHeaders` all of them; or the two made up independently, as a test console might.
 */
const headerParts = fc.oneof(
  fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }).map((pairs) => {
    // Maps, so that names like "__proto__" or "constructor" are names like any other.
    const last = new Map<string, string>();
    const all = new Map<string, string[]>();
    for (const [name, value] of pairs) {
      last.set(name, value);
      all.set(name, [...(all.get(name) ?? []), value]);
    }
    return { headers: Object.fromEntries(last), multiValueHeaders: Object.fromEntries(all) };
  }),
  fc.record({
    headers: fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
    multiValueHeaders: fc.dictionary(headerName, fc.array(headerValue, { maxLength: 3 }), { maxKeys: 3 }),
  }),
);

/** Any method on any path, with any body and headers. */
const anyEvent = fc
  .record({ httpMethod: fc.constantFrom(...METHODS), route, bodyParts, headerParts })
  .map(({ httpMethod, route, bodyParts, headerParts }) => eventOf({ httpMethod, ...route, ...bodyParts, ...headerParts }));

/** POST /generations with a valid request and any headers: the events that get as far as starting an execution. */
const startingEvent = fc
  .record({ request: validRequest, base64: fc.boolean(), headerParts })
  .map(({ request, base64, headerParts }) => {
    const text = JSON.stringify(request);
    const body = base64 ? Buffer.from(text, "utf8").toString("base64") : text;
    return eventOf({ httpMethod: "POST", path: GENERATIONS_PATH, resource: GENERATIONS_PATH, pathParameters: null, body, isBase64Encoded: base64, ...headerParts });
  });

describe("the API answers any request a caller may send", () => {
  it("with JSON: 202 for a started generation, 200 for a known one, otherwise a 4xx listing problems; never a 5xx, a throw or a stack", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyEvent, startingEvent), async (event) => {
        const executions = new InMemoryExecutions(KNOWN_EXECUTIONS);
        const response = await handleApiRequest(event, executions, ENV);
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const body = expectJsonAnswer(response);

        if (response.statusCode === 202) {
          expect(event.httpMethod).toBe("POST");
          const { id, status, links } = body as { id: string; status: string; links: { self: string } };
          expect(isGenerationId(id)).toBe(true);
          expect(status).toBe("RUNNING");
          expect(links).toEqual({ self: `${GENERATIONS_PATH}/${id}` });
          expect(response.headers?.location).toBe(links.self);
          // The id it gives is one GET finds.
          const found = await handleApiRequest(get(id), executions, ENV);
          expect(found.statusCode).toBe(200);
          expect(expectJsonAnswer(found)).toMatchObject({ id, status: "RUNNING" });
        } else if (response.statusCode === 200) {
          expect(event.httpMethod).toBe("GET");
          const { id } = body as { id: string };
          expect(KNOWN_IDS).toContain(id);
        } else {
          expect(response.statusCode).toBeGreaterThanOrEqual(400);
          expect(response.statusCode).toBeLessThan(500);
          expectRefusal(response);
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
    // The generated events reach the answers that matter, not only one kind of refusal.
    for (const status of [200, 400, 404, 405, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(202) ?? 0).toBeGreaterThan(50);
  });

  // A quadratic trailing-slash match took seconds here; this test's own timeout catches a
  // return of it without timing anything on a shared machine.
  it("answers a path of a million slashes (the trailing-slash match is linear)", { timeout: 10_000 }, async () => {
    const path = `${"/".repeat(1_000_000)}x`;
    const response = await handleApiRequest(
      eventOf({ httpMethod: "GET", path, resource: "/{proxy+}", pathParameters: null, headers: {}, multiValueHeaders: {}, body: null, isBase64Encoded: false }),
      new InMemoryExecutions(),
      ENV,
    );
    expect(response.statusCode).toBe(404);
  });
});

/** Keys a caller may send: safe tokens used as they are, and any other text (hashed). */
const idempotencyKey = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{65,100}$/),
    fc.string({ unit: "binary", minLength: 1, maxLength: 256 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
  )
  .filter((key) => key.trim() !== "");

const keyHeaderName = fc.constantFrom(IDEMPOTENCY_KEY_HEADER, "idempotency-key", "IDEMPOTENCY-KEY", "iDeMpOtEnCy-KeY");

/** The same request as other JSON text: keys in reverse order, indented. */
function rewritten(request: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(request).reverse()), null, 2);
}

function normalized(request: Record<string, unknown>): string {
  const result = validateGenerationRequest(request, OPTIONS);
  if (!result.ok) throw new Error(`the generator made an invalid request: ${result.problems.join("; ")}`);
  return canonicalJson(result.request);
}

describe("an Idempotency-Key leads back to the same generation", () => {
  it("gives the same id to a retry with the same key and request, and 409 to the key with a different request", async () => {
    await fc.assert(
      fc.asyncProperty(validRequest, validRequest, idempotencyKey, keyHeaderName, keyHeaderName, async (request, other, key, firstName, retryName) => {
        fc.pre(normalized(request) !== normalized(other));
        const executions = new InMemoryExecutions();
        const send = (body: string, name: string) => handleApiRequest(post(body, { [name]: key }), executions, ENV);

        const first = await send(JSON.stringify(request), firstName);
        expect(first.statusCode).toBe(202);
        const { id } = expectJsonAnswer(first) as { id: string };
        expect(id).toBe(executionNameFor(key.trim()));

        const retry = await send(JSON.stringify(request), retryName);
        expect(retry.statusCode).toBe(202);
        expect(expectJsonAnswer(retry)).toMatchObject({ id });

        // The same request written differently is the same request.
        const respelled = await send(rewritten(request), retryName);
        expect(respelled.statusCode).toBe(202);
        expect(expectJsonAnswer(respelled)).toMatchObject({ id });

        const conflict = await send(JSON.stringify(other), retryName);
        expect(conflict.statusCode).toBe(409);
        expectRefusal(conflict);
        expect(expectJsonAnswer(conflict)).toEqual({
          errors: [`${IDEMPOTENCY_KEY_HEADER} ${JSON.stringify(key.trim())} was already used with a different request; send a new key for a new request`],
        });

        // The first execution is left as it was, and only one was ever started.
        expect([...executions.executions.keys()]).toEqual([id]);
        expect(executions.executions.get(id)?.input).toBe(normalized(request));
      }),
      { seed: SEED + 1, numRuns: 200 },
    );
  });

  it("never gives two different keys the same generation", async () => {
    await fc.assert(
      fc.asyncProperty(validRequest, idempotencyKey, idempotencyKey, async (request, key, otherKey) => {
        fc.pre(key.trim() !== otherKey.trim());
        const executions = new InMemoryExecutions();
        const body = JSON.stringify(request);
        const first = await handleApiRequest(post(body, { [IDEMPOTENCY_KEY_HEADER]: key }), executions, ENV);
        const second = await handleApiRequest(post(body, { [IDEMPOTENCY_KEY_HEADER]: otherKey }), executions, ENV);
        expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
        expect((expectJsonAnswer(first) as { id: string }).id).not.toBe((expectJsonAnswer(second) as { id: string }).id);
      }),
      { seed: SEED + 2, numRuns: 200 },
    );
  });
});
