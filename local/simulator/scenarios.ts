/**
 * Named fault scenarios, one per run. Each is data: fault rules, how tasks end, and
 * optionally the account's resource packs. `faultPlanFor` turns one into a FaultPlan.
 */
import { errorFault, ruleBasedPlan, type CallbackRule, type FaultPlan, type FaultRule, type TaskOutcome, type VideoRule } from "./faults";
import type { PackSeed } from "./packs";

export const SCENARIO_NAMES = [
  "happy",
  "rate-limit",
  "concurrency-limit",
  "server-error",
  "unauthorized",
  "insufficient-credits",
  "resource-pack-exhausted",
  "content-policy",
  "invalid-params",
  "generation-failed",
  "poll-timeout",
  "lost-create-response",
  "lost-create-connection",
  "malformed-response",
  "download-dropped",
  "video-purged",
  "video-forbidden-once",
  "callback-lost",
  "callback-duplicated",
  "callback-late",
  "callback-reordered",
  "callback-missigned",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Scenario {
  readonly name: ScenarioName;
  readonly description: string;
  readonly rules: readonly FaultRule[];
  readonly outcome?: TaskOutcome;
  /** Replaces the configured packs for this scenario. */
  readonly resourcePacks?: readonly PackSeed[];
  /** Faults on the video downloads. */
  readonly videoRules?: readonly VideoRule[];
  /** Faults on the callbacks of tasks created with a callback URL. */
  readonly callbackRules?: readonly CallbackRule[];
}

export const CONCURRENCY_LIMIT_MESSAGE = "parallel task over resource pack limit";
export const GENERATION_FAILED_MESSAGE =
  "Video generation failed: the scene is too complex to render in the requested duration; try a shorter duration or a simpler prompt";

const rateLimited = errorFault("rate-limit", 429, 1302, "Too many requests, please slow down and retry later");
const concurrencyLimited = errorFault("concurrency-limit", 429, 1303, CONCURRENCY_LIMIT_MESSAGE);
const internalError = errorFault("server-error", 500, 5000, "Internal server error, please retry later");
const invalidKey = errorFault("unauthorized", 401, 1002, "Authorization is invalid");
/** How late the `callback-late` scenario's end callbacks come, in simulated seconds. */
export const LATE_CALLBACK_SECONDS = 120;

const packExhausted = errorFault("resource-pack-exhausted", 429, 1102, "Resource pack exhausted or expired");

export const SCENARIOS: readonly Scenario[] = [
  { name: "happy", description: "every request succeeds and every task ends with a video", rules: [] },
  {
    name: "rate-limit",
    description: "the first two creates answer 429/1302 (rate limit), then creates succeed",
    rules: [{ on: "create", times: 2, fault: rateLimited }],
  },
  {
    name: "concurrency-limit",
    description: "the first two creates answer 429/1303 as if every slot were taken, then creates succeed",
    rules: [{ on: "create", times: 2, fault: concurrencyLimited }],
  },
  {
    name: "server-error",
    description: "the first two creates and the first query answer 500/5000, then requests succeed",
    rules: [
      { on: "create", times: 2, fault: internalError },
      { on: "query", times: 1, fault: internalError },
    ],
  },
  {
    name: "unauthorized",
    description: "every credential is rejected with 401/1002",
    rules: [{ on: "any", fault: invalidKey }],
  },
  {
    name: "insufficient-credits",
    description: "the packs are online but hold 1 unit, less than any video: the account shows it and creates answer 429/1102",
    rules: [],
    resourcePacks: [{ name: "Nearly empty video pack", total: 100, remaining: 1 }],
  },
  {
    name: "resource-pack-exhausted",
    description: "the account still shows plenty (its figures lag up to 12 h) but every create answers 429/1102",
    rules: [{ on: "create", fault: packExhausted }],
  },
  {
    name: "content-policy",
    description: "every create answers 400/1301 (content safety policy)",
    rules: [{ on: "create", fault: errorFault("content-policy", 400, 1301, "The prompt was refused by the content safety policy") }],
  },
  {
    name: "invalid-params",
    description: "every create answers 400/1201 naming a parameter (aspect_ratio)",
    rules: [
      {
        on: "create",
        fault: errorFault("invalid-params", 400, 1201, "Invalid parameter aspect_ratio: the value is not supported for this model"),
      },
    ],
  },
  {
    name: "generation-failed",
    description: "tasks are accepted but end with status failed and a reason (scene too complex)",
    rules: [],
    outcome: { status: "failed", message: GENERATION_FAILED_MESSAGE },
  },
  {
    name: "poll-timeout",
    description: "tasks are accepted but stay processing forever",
    rules: [],
    outcome: { status: "stuck" },
  },
  {
    name: "lost-create-response",
    description: "the first create really creates (and charges) its task but answers 504/5002",
    rules: [
      {
        on: "create",
        times: 1,
        fault: { ...errorFault("lost-create-response", 504, 5002, "Internal timeout, please retry later"), afterHandling: true },
      },
    ],
  },
  {
    name: "lost-create-connection",
    description: "the first create really creates (and charges) its task but the connection drops without an answer",
    rules: [{ on: "create", times: 1, fault: { label: "lost-create-connection", answer: { type: "drop" }, afterHandling: true } }],
  },
  {
    name: "malformed-response",
    description: "the first query answers HTTP 200 with a body that is not JSON",
    rules: [
      {
        on: "query",
        times: 1,
        fault: {
          label: "malformed-response",
          answer: { type: "malformed", body: '{"code":0,"message":"SUCCEED","data":{"task_id":', contentType: "application/json" },
        },
      },
    ],
  },
  {
    name: "download-dropped",
    description: "the first download of a video drops the connection in the middle of the body, then downloads succeed",
    rules: [],
    videoRules: [{ times: 1, delivery: "download-dropped" }],
  },
  {
    name: "video-purged",
    description: "tasks succeed but their video URL answers 404 and Kling's answers then give no URL, as once Kling has purged the video (30 days after the task)",
    rules: [],
    videoRules: [{ delivery: "purged" }],
  },
  {
    name: "video-forbidden-once",
    description: "the first download of a video answers 403, as an expired URL does; a fresh query's URL works",
    rules: [],
    videoRules: [{ times: 1, delivery: "forbidden" }],
  },
  {
    name: "callback-lost",
    description: "tasks with a callback URL get their submitted and processing callbacks, but the one of their end is lost",
    rules: [],
    callbackRules: [{ on: "end", fault: { kind: "drop" } }],
  },
  {
    name: "callback-duplicated",
    description: "every callback is sent twice, the same message (same webhook-id) each time",
    rules: [],
    callbackRules: [{ on: "any", fault: { kind: "duplicate" } }],
  },
  {
    name: "callback-late",
    description: `the callback of a task's end comes ${LATE_CALLBACK_SECONDS} simulated seconds after the task ended`,
    rules: [],
    callbackRules: [{ on: "end", fault: { kind: "delay", seconds: LATE_CALLBACK_SECONDS } }],
  },
  {
    name: "callback-reordered",
    description: "the processing callback is sent after the callback of the task's end",
    rules: [],
    callbackRules: [{ on: "processing", fault: { kind: "reorder" } }],
  },
  {
    name: "callback-missigned",
    description: "every callback carries a webhook-signature made with another key",
    rules: [],
    callbackRules: [{ on: "any", fault: { kind: "mis-sign" } }],
  },
];

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}

export function scenarioNamed(name: ScenarioName): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) throw new Error(`no simulator scenario is named ${name}`);
  return scenario;
}

/** A fresh plan (its own counters) for one simulator run. */
export function faultPlanFor(scenario: Scenario): FaultPlan {
  return ruleBasedPlan(scenario.rules, scenario.outcome, scenario.videoRules, scenario.callbackRules);
}
