/**
 * What the benchmark reads from the simulator: each task's own generation time, when a query
 * first told the caller a task had ended.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "#local/simulator/index";
import { call, manualClock } from "#local/simulator/test-support";

const TEXT = "/v1/videos/text2video";
let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

describe("per-task generation times and detection", () => {
  it("ends each task after its own time, and records the first query that saw it ended", async () => {
    const clock = manualClock();
    const seconds: Record<string, number> = { quick: 40, slow: 90 };
    simulator = await startSimulator({
      clock,
      generationSecondsFor: (request) => seconds[request.externalTaskId ?? ""] ?? 0,
    });
    const start = clock.now();
    for (const id of ["quick", "slow"]) {
      await call(simulator, TEXT, { body: { model_name: "kling-v2-6", prompt: "a fox", external_task_id: id } });
    }
    clock.advanceSeconds(45);
    const byId = () => Object.fromEntries(simulator?.tasks().map((task) => [task.request.externalTaskId, task]) ?? []);
    expect(byId().quick).toMatchObject({ status: "succeed", generationMs: 40_000, endSeenAt: undefined });
    expect(byId().slow).toMatchObject({ status: "processing", generationMs: 90_000 });

    await call(simulator, `${TEXT}/quick`);
    clock.advanceSeconds(5);
    await call(simulator, `${TEXT}/quick`); // a later look does not move the moment it was first seen
    expect(byId().quick?.endSeenAt).toBe(start + 45_000);
    await call(simulator, `${TEXT}/slow`);
    expect(byId().slow?.endSeenAt).toBeUndefined();
  });

  it("refuses a negative generation time with a clear error", async () => {
    simulator = await startSimulator({ clock: manualClock(), generationSecondsFor: () => -1 });
    const result = await call(simulator, TEXT, { body: { model_name: "kling-v2-6", prompt: "a fox" } });
    expect(result.status).toBe(500);
    expect(JSON.stringify(result.json)).toContain("generation time must be 0 or more seconds, got -1");
  });
});
