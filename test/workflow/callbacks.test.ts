/**
 * Completion by Kling's callback, through the synthesized state machine on the local engine,
 * the simulator calling back at the pipeline's local endpoint: a callback ends WaitForVideo at
 * once (no poll, the slot free at that moment); a lost one is caught by the fallback poll; a
 * duplicate or a forged one changes nothing; a failed task ends in Kling.GenerationFailed with
 * Kling's reason. And with callbacks off, polling as before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilityToken } from "#lambdas/common/capability-token";
import { LOCAL_CALLBACK_SECRET_VARIABLES } from "#lambdas/common/callback-secrets";
import { callbackUrlFor } from "#lambdas/common/callback-url";
import { CALLBACK_ENV } from "#lambdas/common/settings";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import type { EngineEvent, ExecutionReport } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { parseDiagnosis } from "#local/runner/trace";
import { DEV_API_KEY, type ScenarioName, type Simulator, startSimulator } from "#local/simulator/index";
import { GENERATION_FAILED_MESSAGE } from "#local/simulator/scenarios";
import { synthesizedPlan } from "#local/runner/synthesize";

/** 0.005 real s per simulated s: a 75 s generation takes about 0.4 s. */
const clock = new ScaledClock(0.005);
let pipeline: LocalPipeline;
let runs = 0;

beforeAll(() => {
  pipeline = new LocalPipeline({ clock, plan: synthesizedPlan() });
});
afterAll(() => pipeline.close());

interface CallbackRun {
  readonly report: ExecutionReport;
  readonly simulator: Simulator;
  /** Simulated epoch ms at which each state was entered, in order. */
  readonly entered: readonly { readonly state: string; readonly at: number }[];
  /** Whether the execution still held its Kling slot when WaitForVideo ended. */
  readonly heldSlotAfterWait: boolean;
}

async function run(scenario: ScenarioName, during?: (simulator: Simulator, name: string) => Promise<void>): Promise<CallbackRun> {
  const credentials = { apiKey: DEV_API_KEY };
  const simulator = await startSimulator({ scenario, clock, scheduler: clock, credentials });
  pipeline.connect(simulator.baseUrl, credentials);
  runs += 1;
  const name = `callbacks-${scenario}-${runs}`;
  const entered: { state: string; at: number }[] = [];
  let slotAfterWait: Promise<boolean> | undefined;
  const onEvent = (event: EngineEvent) => {
    if (event.type === "StateEntered" && event.stateName) entered.push({ state: event.stateName, at: event.at });
    if (event.type === "StateExited" && event.stateName === "WaitForVideo") {
      slotAfterWait = pipeline.ledger.ledger.holdings().then((holdings) => holdings.slotHolders.some((holder) => holder.endsWith(`:${name}`)));
    }
  };
  try {
    const running = pipeline.runGeneration({ prompt: "a corgi surfing a wave" }, name, onEvent);
    await during?.(simulator, name);
    const report = await running;
    await simulator.settleCallbacks();
    return { report, simulator, entered, heldSlotAfterWait: (await slotAfterWait) ?? true };
  } finally {
    await simulator.close();
  }
}

const statesOf = (result: CallbackRun) => result.entered.map((entry) => entry.state);

describe("with callbacks on (the default, as when the API is deployed)", () => {
  it("a callback ends the wait: the execution never polls, and its slot is free when WaitForVideo ends", async () => {
    expect(pipeline.callbacksOn).toBe(true);
    const result = await run("happy");
    expect(result.report.status).toBe("SUCCEEDED");
    expect(statesOf(result)).toEqual(["Validate", "CheckCredits", "WaitForSlot", "Submit", "WaitForVideo", "Archive"]);
    expect(result.heldSlotAfterWait).toBe(false);
    // The task's end came by callback (submitted, processing, succeed), confirmed by one query
    // (the others are Submit's look-up for a task an earlier attempt made, and Archive's for the video's URL).
    expect(result.simulator.stats.callbacks).toMatchObject({ sent: 3, failed: 0 });
    expect(result.simulator.stats.requestsByKind.query).toBe(3);
  });

  it("a lost callback is caught by the fallback poll: one poll, at the sparser schedule's first, and the video all the same", async () => {
    const result = await run("callback-lost");
    expect(result.report.status).toBe("SUCCEEDED");
    expect(result.simulator.stats.callbacks.dropped).toBe(1);
    expect(statesOf(result)).toEqual(["Validate", "CheckCredits", "WaitForSlot", "Submit", "WaitForVideo", "Poll", "VideoReady?", "Archive"]);
    // Not before the fallback schedule's first poll: 1.5 x the typical 75 s of this request.
    const at = (state: string) => result.entered.find((entry) => entry.state === state)?.at ?? Number.NaN;
    expect((at("Poll") - at("WaitForVideo")) / 1000).toBeGreaterThanOrEqual(Math.round(1.5 * 75) - 1);
  });

  it("a duplicated callback resumes the execution once; the copies change nothing", async () => {
    const result = await run("callback-duplicated");
    expect(result.report.status).toBe("SUCCEEDED");
    expect(result.simulator.stats.callbacks).toMatchObject({ sent: 6, duplicated: 3, failed: 0 });
    expect(statesOf(result).filter((state) => state === "WaitForVideo")).toHaveLength(1);
    expect(statesOf(result)).not.toContain("Poll");
    // Only the first copy of the end was confirmed with Kling (Submit's look-up and Archive's are the
    // other queries): the ledger's claim stops the second before it asks.
    expect(result.simulator.stats.requestsByKind.query).toBe(3);
  });

  it("a forged callback (another task's token, or a made-up one) is refused with 401, and the execution goes on unaffected", async () => {
    const refusals: number[] = [];
    const result = await run("happy", async (_simulator, name) => {
      // Once WaitForVideo waits, claim the task succeeded with a token that is not its own.
      const externalTaskId = await waitForTaskOf(name);
      const baseUrl = pipeline.functionEnvironment[CALLBACK_ENV.baseUrl] ?? "";
      const key = pipeline.functionEnvironment[LOCAL_CALLBACK_SECRET_VARIABLES.capabilityKey] ?? "";
      const forged = [
        callbackUrlFor(baseUrl, key, "another-task-000000000000", Date.now() + 86_400_000).replace("another-task-000000000000", externalTaskId),
        `${baseUrl}/kling/callbacks/${externalTaskId}/${capabilityToken("a-key-that-is-not-the-pipelines-own-key", externalTaskId, Date.now() + 86_400_000)}`,
      ];
      for (const url of forged) {
        const answer = await fetch(url, { method: "POST", body: JSON.stringify({ task_id: "t", task_status: "succeed", task_info: { external_task_id: externalTaskId } }) });
        refusals.push(answer.status);
      }
    });
    expect(refusals).toEqual([401, 401]);
    expect(result.report.status).toBe("SUCCEEDED");
    expect(statesOf(result)).not.toContain("Poll");
  });

  it("a callback for a failed task ends in Kling.GenerationFailed with Kling's reason, without a poll", async () => {
    const result = await run("generation-failed");
    expect(result.report.status).toBe("FAILED");
    expect(result.report.error).toBe("Kling.GenerationFailed");
    expect(parseDiagnosis(result.report.cause)).toMatchObject({ errorCode: "Kling.GenerationFailed", failedState: "WaitForVideo" });
    expect(parseDiagnosis(result.report.cause)?.errorMessage).toContain(GENERATION_FAILED_MESSAGE);
    expect(statesOf(result)).not.toContain("Poll");
    expect(result.heldSlotAfterWait).toBe(false);
  });
});

describe("with callbacks off", () => {
  it("WaitForVideo is the Wait before each poll, Kling is given no callback URL, and polling finds the video", async () => {
    const polling = new LocalPipeline({ clock, plan: synthesizedPlan({ callbacks: { enabled: false } }) });
    const credentials = { apiKey: DEV_API_KEY };
    const simulator = await startSimulator({ scenario: "happy", clock, scheduler: clock, credentials });
    try {
      expect(polling.callbacksOn).toBe(false);
      polling.connect(simulator.baseUrl, credentials);
      const report = await polling.runGeneration({ prompt: "a corgi surfing a wave" }, "callbacks-off-1");
      expect(report.status).toBe("SUCCEEDED");
      expect(report.events.some((event) => event.type === "StateEntered" && event.stateName === "WaitForVideo" && event.stateType === "Wait")).toBe(true);
      expect(report.events.some((event) => event.type === "StateEntered" && event.stateName === "Poll")).toBe(true);
      expect(simulator.stats.callbacks.sent).toBe(0);
    } finally {
      await simulator.close();
      await polling.close();
    }
  });
});

/** The external_task_id of the execution's task, once WaitForVideo has recorded its wait in the ledger. */
async function waitForTaskOf(name: string): Promise<string> {
  const externalTaskId = externalTaskIdFor(name, pipeline.executions.arnOf(name));
  while (!(await pipeline.ledger.taskWaits.taskWait(externalTaskId))) await new Promise((resolve) => setTimeout(resolve, 5));
  return externalTaskId;
}
