/**
 * One scenario per task instead of one per run: a prompt tagged `[scenario:NAME]` gets that
 * scenario's faults and ending, with counters of its own ("two 1302s, then success" happens
 * to each such task). Untagged prompts get the run's scenario. Batches mix scenarios this way.
 *
 * Every product takes the tag, on either standard: in its prompt (`prompt`, a `contents[]`
 * prompt's `text`, `multi_prompt[].prompt`, `sound_effect_prompt`, `bgm_prompt`) or, for a
 * product without a prompt (lip-sync, effects), in its external_task_id itself
 * (`job-7[scenario:generation-failed]`). A tagged create needs an external_task_id (top-level, or
 * `options.external_task_id`): the task's own plan is kept by it, and its queries (by task id or
 * external id, legacy path or `GET /tasks`) find the plan again.
 */
import type { ApiRequestInfo, FaultPlan } from "./faults";
import { externalTaskIdOf, isRecord } from "./json";
import { faultPlanFor, isScenarioName, scenarioNamed, type ScenarioName } from "./scenarios";

const TAG = /\[scenario:([a-z-]+)\]/;

/** The scenario a prompt asks for with its tag, if it names one. */
export function taggedScenario(prompt: unknown): ScenarioName | undefined {
  if (typeof prompt !== "string") return undefined;
  const name = TAG.exec(prompt)?.[1];
  return name !== undefined && isScenarioName(name) ? name : undefined;
}

/** The texts of a create body a tag may be in: its prompts, and its external_task_id. */
function taggableTexts(body: Record<string, unknown>): unknown[] {
  const contents = Array.isArray(body.contents) ? body.contents : [];
  const shots = Array.isArray(body.multi_prompt) ? body.multi_prompt : [];
  return [
    body.prompt,
    ...contents.map((item) => (isRecord(item) && item.type === "prompt" ? item.text : undefined)),
    ...shots.map((shot) => (isRecord(shot) ? shot.prompt : undefined)),
    body.sound_effect_prompt,
    body.bgm_prompt,
    externalTaskIdOf(body),
  ];
}

/** The scenario a create body's tag asks for, in any of its prompts or its external_task_id. */
export function taggedScenarioOf(body: unknown): ScenarioName | undefined {
  if (!isRecord(body)) return undefined;
  for (const text of taggableTexts(body)) {
    const scenario = taggedScenario(text);
    if (scenario !== undefined) return scenario;
  }
  return undefined;
}

export function perItemPlan(fallback: ScenarioName): FaultPlan {
  const runPlan = faultPlanFor(scenarioNamed(fallback));
  /** Each tagged task's own plan, by external_task_id, and the task ids that point to it. */
  const planByExternalId = new Map<string, FaultPlan>();
  const externalIdByTaskId = new Map<string, string>();

  const planForRequest = (request: ApiRequestInfo): FaultPlan => {
    if (request.kind === "create") {
      const scenario = taggedScenarioOf(request.createBody);
      const externalTaskId = externalTaskIdOf(request.createBody);
      if (scenario === undefined || externalTaskId === undefined) return runPlan;
      let plan = planByExternalId.get(externalTaskId);
      if (!plan) {
        plan = faultPlanFor(scenarioNamed(scenario));
        planByExternalId.set(externalTaskId, plan);
      }
      return plan;
    }
    if (request.kind === "query") {
      for (const id of request.taskIds ?? [lastSegment(request.path)]) {
        const plan = planByExternalId.get(externalIdByTaskId.get(id) ?? id);
        if (plan) return plan;
      }
    }
    return runPlan;
  };

  /** The plan of a created task: its tag's, or the run's. */
  const planOfTask = (externalTaskId: string | undefined): FaultPlan => (externalTaskId === undefined ? undefined : planByExternalId.get(externalTaskId)) ?? runPlan;

  return {
    onRequest: (request) => planForRequest(request).onRequest(request),
    taskOutcome: (task) => {
      const plan = task.externalTaskId === undefined ? undefined : planByExternalId.get(task.externalTaskId);
      if (plan && task.externalTaskId !== undefined) externalIdByTaskId.set(task.taskId, task.externalTaskId);
      return (plan ?? runPlan).taskOutcome(task);
    },
    onVideoDownload: (download) => planOfTask(download.externalTaskId).onVideoDownload?.(download),
    onCallback: (callback) => planOfTask(callback.externalTaskId).onCallback?.(callback),
  };
}

function lastSegment(path: string): string {
  const segment = path.split("/").at(-1) ?? "";
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
