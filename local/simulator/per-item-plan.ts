/**
 * One scenario per task instead of one per run: a prompt tagged `[scenario:NAME]` gets that
 * scenario's faults and ending, with counters of its own ("two 1302s, then success" happens
 * to each such task). Untagged prompts get the run's scenario. Batches mix scenarios this way.
 */
import type { ApiRequestInfo, FaultPlan } from "./faults";
import { faultPlanFor, isScenarioName, scenarioNamed, type ScenarioName } from "./scenarios";

const TAG = /\[scenario:([a-z-]+)\]/;

/** The scenario a prompt asks for with its tag, if it names one. */
export function taggedScenario(prompt: unknown): ScenarioName | undefined {
  if (typeof prompt !== "string") return undefined;
  const name = TAG.exec(prompt)?.[1];
  return name !== undefined && isScenarioName(name) ? name : undefined;
}

export function perItemPlan(fallback: ScenarioName): FaultPlan {
  const runPlan = faultPlanFor(scenarioNamed(fallback));
  /** Each tagged task's own plan, by external_task_id, and the task ids that point to it. */
  const planByExternalId = new Map<string, FaultPlan>();
  const externalIdByTaskId = new Map<string, string>();

  const planForRequest = (request: ApiRequestInfo): FaultPlan => {
    if (request.kind === "create" && request.createBody && typeof request.createBody === "object") {
      const body = request.createBody as { prompt?: unknown; external_task_id?: unknown };
      const scenario = taggedScenario(body.prompt);
      if (scenario === undefined || typeof body.external_task_id !== "string") return runPlan;
      let plan = planByExternalId.get(body.external_task_id);
      if (!plan) {
        plan = faultPlanFor(scenarioNamed(scenario));
        planByExternalId.set(body.external_task_id, plan);
      }
      return plan;
    }
    if (request.kind === "query") {
      const id = decodeURIComponent(request.path.split("/").at(-1) ?? "");
      const plan = planByExternalId.get(externalIdByTaskId.get(id) ?? id);
      if (plan) return plan;
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
