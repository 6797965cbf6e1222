/**
 * A shared Kling account: the simulator's other users take slots now and then (local/simulator/
 * other-users.ts), so the pipeline's creates meet 429/1303 for real.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type OtherUsersTask, type Simulator } from "#local/simulator/index";
import { call, manualClock, type ManualClock } from "#local/simulator/test-support";

const TEXT = "/v1/videos/text2video";
const create = { model_name: "kling-v2-5-turbo", prompt: "a red fox in the snow" };
let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

async function start(slots: number, otherUsers: readonly OtherUsersTask[]): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = manualClock();
  simulator = await startSimulator({ clock, maxConcurrentTasks: slots, generationSeconds: 30, otherUsers });
  return { sim: simulator, clock };
}

async function answer(sim: Simulator): Promise<string> {
  const result = await call(sim, TEXT, { body: create });
  return `${result.status} ${String((result.json as { code?: unknown } | undefined)?.code)}`;
}

describe("other users of the same account", () => {
  it("take a free slot when they ask and hold it for their task's time: the pipeline's create then meets 429/1303", async () => {
    const { sim, clock } = await start(2, [{ startSeconds: 10, seconds: 100 }]);
    const startedAt = clock.now();
    expect(await answer(sim)).toBe("200 0");
    clock.advanceSeconds(10);
    expect(await answer(sim)).toBe("429 1303");
    clock.advanceSeconds(99);
    expect(await answer(sim)).toBe("200 0");
    expect(sim.otherUsersSlots()).toEqual([{ from: startedAt + 10_000, until: startedAt + 110_000 }]);
    expect(sim.stats.tasksCreated).toBe(2);
  });

  it("wait while the account is full and take the first slot that frees, before the pipeline's next create", async () => {
    const { sim, clock } = await start(1, [{ startSeconds: 5, seconds: 60 }]);
    const startedAt = clock.now();
    expect(await answer(sim)).toBe("200 0");
    // Our task ends at 30 s; the other user, waiting since 5 s, takes the slot at that instant.
    clock.advanceSeconds(31);
    expect(await answer(sim)).toBe("429 1303");
    expect(sim.otherUsersSlots()).toEqual([{ from: startedAt + 30_000, until: startedAt + 90_000 }]);
    clock.advanceSeconds(59);
    expect(await answer(sim)).toBe("200 0");
  });

  it("who ask at the very start get their slot at once", async () => {
    const { sim, clock } = await start(1, [{ startSeconds: 0, seconds: 40 }]);
    expect(await answer(sim)).toBe("429 1303");
    clock.advanceSeconds(40);
    expect(await answer(sim)).toBe("200 0");
  });

  it("are refused a start before 0 or a task of no length, with the reason", async () => {
    await expect(startSimulator({ clock: manualClock(), otherUsers: [{ startSeconds: 0, seconds: 0 }] })).rejects.toThrow(
      /another user's task needs a start of 0 or more seconds and a positive duration, got 0 s and 0 s/,
    );
  });
});
