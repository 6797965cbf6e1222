/**
 * The hard edges of a pipeline that spends money on every call: a function stopped before it
 * could answer, a Kling answer that never comes, a create that succeeded at Kling whose
 * Lambda crashed. Each ends with exactly one Kling task and exactly one outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { DEV_API_KEY, errorFault, ruleBasedPlan, startSimulator } from "#local/simulator/index";
import { startDelayingProxy } from "#local/chaos/delaying-proxy";
import { lambdaError } from "#local/runner/lambda-binding";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { synthesizedPlan } from "#local/runner/synthesize";

/** Which Lambda invocations to stop after they did their work, by state name: the first N of each. */
const stopAfterWork = new Map<string, { times: number; errorType: string; message: string }>();

let clock: ScaledClock;
let pipeline: LocalPipeline;
beforeAll(() => {
  clock = new ScaledClock(0.002);
  pipeline = new LocalPipeline({
    clock,
    plan: synthesizedPlan({ klingRequestTimeoutMs: 1000 }),
    aroundInvoke: async (stateName, invoke) => {
      const result = await invoke();
      const stop = stopAfterWork.get(stateName);
      if (stop && stop.times > 0) {
        stop.times -= 1;
        throw lambdaError(stop.errorType, stop.message);
      }
      return result;
    },
  });
});
afterAll(() => pipeline.close());

async function runWith(name: string, simulatorOptions: Parameters<typeof startSimulator>[0] = {}) {
  const credentials = { apiKey: DEV_API_KEY };
  const simulator = await startSimulator({ ...simulatorOptions, clock, credentials });
  pipeline.connect(simulator.baseUrl, credentials);
  try {
    const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave" }, name);
    const outcomes = report.events.filter((event) => event.type === "ExecutionSucceeded" || event.type === "ExecutionFailed");
    return { report, outcomes, tasksCreated: simulator.stats.tasksCreated };
  } finally {
    await simulator.close();
  }
}

describe("hard edges", () => {
  it("Submit stopped by its timeout after creating the task is retried and finds that task", async () => {
    stopAfterWork.set("Submit", { times: 1, errorType: "Sandbox.Timedout", message: "Task timed out after 50.00 seconds" });
    const { report, outcomes, tasksCreated } = await runWith("edge-timeout");
    expect(report.status).toBe("SUCCEEDED");
    expect(report.retries).toEqual({ Submit: 1 });
    expect(tasksCreated).toBe(1);
    expect(outcomes).toHaveLength(1);
  });

  it("Submit crashed after Kling created the task is retried and finds that task", async () => {
    stopAfterWork.set("Submit", { times: 1, errorType: "Runtime.ExitError", message: "RequestId: 1 Error: Runtime exited with error: signal: killed" });
    const { report, outcomes, tasksCreated } = await runWith("edge-crash");
    expect(report.status).toBe("SUCCEEDED");
    expect(tasksCreated).toBe(1);
    expect(outcomes).toHaveLength(1);
  });

  it("a create whose answer never comes in time is given up, retried, and finds the task Kling did create", async () => {
    const credentials = { apiKey: DEV_API_KEY };
    const simulator = await startSimulator({ clock, credentials });
    let held = false;
    // The first create is handled at once (the task exists) but its answer is held far past the client's timeout.
    const proxy = await startDelayingProxy(simulator.baseUrl, {
      delayFor: (request) => {
        if (request.kind !== "create" || held) return undefined;
        held = true;
        return { label: "late-answer-after-handling", delayMs: 5_000, afterHandling: true };
      },
    });
    pipeline.connect(proxy.baseUrl, credentials);
    try {
      const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave" }, "edge-no-answer");
      expect(report.status).toBe("SUCCEEDED");
      expect(report.retries).toEqual({ Submit: 1 });
      expect(report.events.find((event) => event.type === "StateFailed")?.cause).toMatch(/within the timeout/);
      expect(simulator.stats.tasksCreated).toBe(1);
    } finally {
      await proxy.close();
      await simulator.close();
    }
  }, 30_000);

  it("a create that reaches Kling after the client gave up (the retry's create is refused as a duplicate) finds that task", async () => {
    const name = "edge-late-create";
    const executionArn = `${pipeline.generation.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
    const externalTaskId = externalTaskIdFor(name, executionArn);
    // The retry's look-up comes before the late create lands: it finds nothing.
    const lateCreate = ruleBasedPlan([{ on: "query", times: 1, fault: errorFault("not yet", 400, 1201, "Task not found") }]);
    const credentials = { apiKey: DEV_API_KEY };
    const simulator = await startSimulator({ faultPlan: lateCreate, clock, credentials });
    pipeline.connect(simulator.baseUrl, credentials);
    try {
      // The late create, landed: Kling holds the task before the retry's own create.
      const landed = await fetch(`${simulator.baseUrl}/v1/videos/text2video`, {
        method: "POST",
        headers: { authorization: `Bearer ${DEV_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model_name: "kling-v2-6", prompt: "a corgi surfing a wave", external_task_id: externalTaskId }),
      });
      expect(landed.status).toBe(200);
      const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave" }, name);
      expect(report.status).toBe("SUCCEEDED");
      expect(simulator.stats.createAttemptsByExternalId(externalTaskId)).toBe(2);
      expect(simulator.stats.tasksCreatedByExternalId(externalTaskId)).toBe(1);
    } finally {
      await simulator.close();
    }
  });

  it("a function stopped again and again ends in one diagnosed failure, still with one task", async () => {
    // WaitForVideo: with callbacks on (the default) it, not Poll, ends each wait.
    stopAfterWork.set("WaitForVideo", { times: 10, errorType: "Sandbox.Timedout", message: "Task timed out after 30.00 seconds" });
    const { report, outcomes, tasksCreated } = await runWith("edge-wait-timeouts");
    stopAfterWork.delete("WaitForVideo");
    expect(report.status).toBe("FAILED");
    expect(report.error).toBe("Sandbox.Timedout");
    expect(JSON.parse(report.cause ?? "null")).toMatchObject({ failedState: "WaitForVideo", recoverable: true, action: "retry-later" });
    expect(report.retries).toEqual({ WaitForVideo: 2 });
    expect(tasksCreated).toBe(1);
    expect(outcomes).toHaveLength(1);
  });
});
