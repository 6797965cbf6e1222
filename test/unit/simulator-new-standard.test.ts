/**
 * The simulator speaks Kling's new standard (Kling's API documentation "The new standard"), with its own rule
 * tables, and its scenarios work there as on the legacy standard. Driven with plain HTTP calls
 * (test-support's `call`), not with the pipeline's client, so the two check each other.
 */
import { afterEach, describe, expect, it } from "vitest";
import { envelopeSchema } from "#lambdas/kling/wire";
import { newTaskListSchema, newTaskPageSchema, newTaskSchema, type NewTask } from "#lambdas/kling/wire-v2";
import { priceUnits } from "#lambdas/schemas/pricing";
import { startSimulator, type ScenarioName, type Simulator, type SimulatorOptions } from "#local/simulator/index";
import { GENERATION_FAILED_MESSAGE } from "#local/simulator/scenarios";
import { call, manualClock, pngBase64, signJwt, type CallResult, type ManualClock } from "#local/simulator/test-support";

const API_KEY = "new-standard-key";
const ACCESS_KEY = "ak-new";
const SECRET_KEY = "sk-new";

/** The simulators a test started, closed after it. */
const started: Simulator[] = [];
afterEach(() => Promise.all(started.splice(0).map((sim) => sim.close())));

/** A simulator on a manual clock that takes the API key and an AccessKey/SecretKey pair. */
async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = manualClock();
  const credentials = [{ apiKey: API_KEY }, { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }];
  const sim = await startSimulator({ credentials, clock, generationSeconds: 60, maxConcurrentTasks: 100, units: 100_000, ...options });
  started.push(sim);
  return { sim, clock };
}

function answer(result: CallResult): { status: number; code: number; message: string; data: unknown } {
  const envelope = envelopeSchema.parse(result.json);
  return { status: result.status, code: envelope.code, message: envelope.message, data: envelope.data };
}

function created(result: CallResult): NewTask {
  const { status, code, message, data } = answer(result);
  expect({ status, code }, message).toEqual({ status: 200, code: 0 });
  return newTaskSchema.parse(data);
}

const text = (extra: Record<string, unknown> = {}) => ({ prompt: "a paper boat on a river", ...extra });
const frames = (...types: string[]) => types.map((type) => (type === "prompt" ? { type, text: "it drifts away" } : { type, url: pngBase64(1280, 720) }));
const image = (extra: Record<string, unknown> = {}, ...types: string[]) => ({ contents: frames(...(types.length > 0 ? types : ["prompt", "first_frame"])), ...extra });

describe("a new-standard task's lifecycle", () => {
  it("created with POST /text-to-video/{model}, queried with GET /tasks?task_ids=, ends succeeded with a video and its billing", async () => {
    const { sim, clock } = await start();
    const task = created(
      await call(sim, "/text-to-video/kling-3.0-turbo", {
        body: text({ settings: { resolution: "1080p", aspect_ratio: "9:16", duration: 7 }, options: { external_task_id: "job-1" } }),
      }),
    );
    expect(task).toMatchObject({ status: "submitted", external_id: "job-1", create_time: clock.now(), update_time: clock.now() });

    const query = async (path: string) => newTaskListSchema.parse(answer(await call(sim, path)).data);
    clock.advanceSeconds(30);
    expect((await query(`/tasks?task_ids=${task.id}`))[0]?.status).toBe("processing");
    clock.advanceSeconds(30);
    const [done] = await query(`/tasks?task_ids=${task.id}`);
    expect(done).toMatchObject({ id: task.id, status: "succeeded", external_id: "job-1" });
    const units = String(priceUnits({ model: "kling-3.0-turbo", mode: "pro", duration: "7" }));
    expect(done?.billing).toEqual([{ charge_type: "unit", amount: units, package_type: "video" }]);
    const [video] = done?.outputs ?? [];
    expect(video).toMatchObject({ type: "video", duration: "7" });
    const download = await fetch((video as { url: string }).url);
    expect(download.status).toBe(200);

    expect((await query("/tasks?external_task_ids=job-1")).map((found) => found.id)).toEqual([task.id]);
    expect(await query("/tasks?external_task_ids=job-9")).toEqual([]);
    expect(answer(await call(sim, `/tasks?task_ids=${task.id}&external_task_ids=job-1`))).toMatchObject({ status: 400, code: 1201 });
  });

  it("an image-to-video task is created from contents[] and listed by POST /tasks, page by page with the cursor", async () => {
    const { sim } = await start();
    const first = created(await call(sim, "/image-to-video/kling-2.6", { body: image({ settings: { resolution: "1080p", duration: 10, audio: "off" } }, "prompt", "first_frame", "last_frame") }));
    const second = created(await call(sim, "/text-to-video/kling-2.5-turbo", { body: text() }));
    const page = (body: unknown) => call(sim, "/tasks", { body }).then((result) => newTaskPageSchema.parse(answer(result).data));
    const one = await page({ limit: 1 });
    expect(one.result.map((task) => task.id)).toEqual([second.id]);
    expect(one.has_more).toBe(true);
    const two = await page({ limit: 1, cursor: one.next_cursor });
    expect(two.result.map((task) => task.id)).toEqual([first.id]);
    expect(two.has_more).toBe(false);
  });

  it("refuses an AccessKey/SecretKey JWT on the new standard (API key only) while the legacy standard takes it", async () => {
    const { sim, clock } = await start();
    const token = signJwt({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, issuedAt: Math.floor(clock.now() / 1000) });
    expect(answer(await call(sim, "/text-to-video/kling-3.0", { token, body: text() }))).toMatchObject({ status: 401, code: 1002, message: expect.stringContaining("only an API key") });
    expect(answer(await call(sim, "/tasks?task_ids=1", { token }))).toMatchObject({ status: 401, code: 1002 });
    expect(answer(await call(sim, "/v1/videos/text2video", { token, body: { model_name: "kling-v3", prompt: "a cat" } })).code).toBe(0);
  });
});

describe("new-standard create validation: the simulator's own rules, each refused with 400/1201 naming the parameter", () => {
  const refused: Array<[string, string, unknown, string]> = [
    ["a model the path does not serve", "/text-to-video/kling-v2-6", text(), "kling-v2-6"],
    ["a negative_prompt (the new standard has none)", "/text-to-video/kling-2.6", text({ negative_prompt: "blur" }), "negative_prompt"],
    ["model_name in the body", "/text-to-video/kling-2.6", text({ model_name: "kling-2.6" }), "model_name"],
    ["no prompt", "/text-to-video/kling-3.0", {}, "prompt"],
    ["a prompt over 3072 characters on 3.0", "/text-to-video/kling-3.0", text({ prompt: "x".repeat(3073) }), "prompt"],
    ["a prompt over 2500 characters on 2.6", "/text-to-video/kling-2.6", text({ prompt: "x".repeat(2501) }), "prompt"],
    ["a duration as a string", "/text-to-video/kling-3.0", text({ settings: { duration: "5" } }), "settings.duration"],
    ["7 s on kling-2.6", "/text-to-video/kling-2.6", text({ settings: { duration: 7 } }), "settings.duration"],
    ["16 s on kling-3.0-turbo", "/text-to-video/kling-3.0-turbo", text({ settings: { duration: 16 } }), "settings.duration"],
    ["4k on kling-2.6 (3.0 only)", "/text-to-video/kling-2.6", text({ settings: { resolution: "4k" } }), "settings.resolution"],
    ["multi_shot on kling-2.6 (3.0 only)", "/text-to-video/kling-2.6", text({ settings: { multi_shot: false } }), "settings.multi_shot"],
    ["shots not adding up to the duration (multi_shot true when absent)", "/text-to-video/kling-3.0", text({ prompt: "shot 1, 2, a cat; shot 2, 2, a dog;" }), "prompt"],
    ["seven shots", "/text-to-video/kling-3.0", text({ prompt: Array.from({ length: 7 }, (_, i) => `shot ${i + 1}, 1, x;`).join(" "), settings: { duration: 7 } }), "prompt"],
    ["a shot under a second", "/text-to-video/kling-3.0", text({ prompt: "shot 1, 0, a cat; shot 2, 5, a dog;" }), "prompt"],
    ["a shot's words over 512 characters", "/text-to-video/kling-3.0", text({ prompt: `shot 1, 5, ${"x".repeat(513)};` }), "prompt"],
    ["shots not adding up on kling-3.0-turbo (no switch: a prompt written as shots is multi-shot)", "/text-to-video/kling-3.0-turbo", text({ prompt: "shot 1, 2, a; shot 2, 2, b;" }), "prompt"],
    ["multi_shot on kling-3.0-turbo (it has no switch)", "/text-to-video/kling-3.0-turbo", text({ settings: { multi_shot: true } }), "settings.multi_shot"],
    ["an element on kling-2.6", "/image-to-video/kling-2.6", { contents: [{ type: "first_frame", url: "https://example.com/a.png" }, { type: "element", element_id: "1", id: "e" }] }, "contents[1].type"],
    [
      "four elements on kling-3.0 (3 at most)",
      "/image-to-video/kling-3.0",
      { contents: [{ type: "first_frame", url: "https://example.com/a.png" }, ...[1, 2, 3, 4].map((n) => ({ type: "element", element_id: `${n}`, id: `e${n}` }))] },
      "elements",
    ],
    ["shots out of order in contents", "/image-to-video/kling-3.0", { contents: [{ type: "prompt", text: "shot 2, 3, a; shot 1, 2, b;" }, { type: "first_frame", url: "https://example.com/a.png" }] }, "contents[0].text"],
    ["native audio at 720p on kling-2.6", "/text-to-video/kling-2.6", text({ settings: { audio: "native" } }), "settings.audio"],
    ["audio on kling-2.5-turbo", "/text-to-video/kling-2.5-turbo", text({ settings: { audio: "off" } }), "settings.audio"],
    ["audio on kling-3.0-turbo", "/text-to-video/kling-3.0-turbo", text({ settings: { audio: "native" } }), "settings.audio"],
    ["a camera control (no such parameter)", "/text-to-video/kling-3.0", text({ camera_control: { type: "down_back" } }), "camera_control"],
    ["an aspect ratio on image to video", "/image-to-video/kling-3.0", image({ settings: { aspect_ratio: "16:9" } }), "settings.aspect_ratio"],
    ["no first frame", "/image-to-video/kling-3.0", image({}, "prompt", "last_frame"), "first_frame"],
    ["a last frame on kling-3.0-turbo", "/image-to-video/kling-3.0-turbo", image({ settings: { resolution: "1080p" } }, "first_frame", "last_frame"), "last_frame"],
    ["a last frame at 720p on kling-2.5-turbo", "/image-to-video/kling-2.5-turbo", image({}, "first_frame", "last_frame"), "last_frame"],
    ["a last frame with native audio on kling-2.6", "/image-to-video/kling-2.6", image({ settings: { resolution: "1080p", audio: "native" } }, "first_frame", "last_frame"), "last_frame"],
    ["a frame that is not an image", "/image-to-video/kling-3.0", { contents: [{ type: "first_frame", url: "http://example.com/a.png" }] }, "contents[0].url"],
    ["an empty external task id", "/text-to-video/kling-3.0", text({ options: { external_task_id: "" } }), "options.external_task_id"],
  ];

  it.each(refused)("refuses %s", async (_case, path, body, parameter) => {
    const { sim } = await start();
    const result = answer(await call(sim, path, { body }));
    expect({ status: result.status, code: result.code }).toEqual({ status: 400, code: 1201 });
    expect(result.message).toContain(parameter);
    expect(sim.stats.tasksCreated).toBe(0);
  });

  const accepted: Array<[string, string, unknown]> = [
    ["kling-3.0-turbo for 15 s at 1080p", "/text-to-video/kling-3.0-turbo", text({ settings: { resolution: "1080p", duration: 15 } })],
    ["kling-3.0 with native audio at 720p for 3 s", "/text-to-video/kling-3.0", text({ settings: { audio: "native", duration: 3 } })],
    ["kling-3.0 first and last frame", "/image-to-video/kling-3.0", image({}, "first_frame", "last_frame")],
    ["kling-3.0 from a first frame and an element", "/image-to-video/kling-3.0", { contents: [{ type: "first_frame", url: "https://example.com/a.png" }, { type: "element", element_id: "163", id: "element_1" }] }],
    ["kling-3.0-turbo with shots adding up to its 5 s", "/text-to-video/kling-3.0-turbo", text({ prompt: "shot 1, 1, a; shot 2, 4, b;" })],
    ["kling-3.0 in 4k with native audio", "/text-to-video/kling-3.0", text({ settings: { resolution: "4k", audio: "native" } })],
    ["kling-3.0 with shots adding up to its 5 s", "/text-to-video/kling-3.0", text({ prompt: "shot 1, 2, a cat; shot 2, 3, a dog;", settings: { multi_shot: true } })],
    ["a prompt written as shots with multi_shot false (one shot)", "/text-to-video/kling-3.0", text({ prompt: "shot 1, 2, a cat;", settings: { multi_shot: false } })],
    ["kling-2.6 with native audio at 1080p", "/text-to-video/kling-2.6", text({ settings: { resolution: "1080p", audio: "native" } })],
    ["kling-2.5-turbo first and last frame at 1080p", "/image-to-video/kling-2.5-turbo", image({ settings: { resolution: "1080p" } }, "prompt", "first_frame", "last_frame")],
    ["kling-3.0-turbo from a first frame alone", "/image-to-video/kling-3.0-turbo", image({}, "first_frame")],
  ];

  it.each(accepted)("accepts %s", async (_case, path, body) => {
    const { sim } = await start();
    expect(created(await call(sim, path, { body })).status).toBe("submitted");
  });
});

describe("the scenarios work on the new standard", () => {
  const scenario = (name: ScenarioName) => start({ scenario: name });
  const create = (sim: Simulator, externalTaskId: string) =>
    call(sim, "/text-to-video/kling-2.5-turbo", { body: text({ options: { external_task_id: externalTaskId } }) });

  it("rate-limit: the first two creates answer 429/1302, the third creates", async () => {
    const { sim } = await scenario("rate-limit");
    expect(answer(await create(sim, "job-1"))).toMatchObject({ status: 429, code: 1302 });
    expect(answer(await create(sim, "job-1"))).toMatchObject({ status: 429, code: 1302 });
    expect(created(await create(sim, "job-1")).status).toBe("submitted");
  });

  it("lost-create-response: the create answers 504/5002 but its task exists, found by external_task_ids and never created twice", async () => {
    const { sim } = await scenario("lost-create-response");
    expect(answer(await create(sim, "job-lost"))).toMatchObject({ status: 504, code: 5002 });
    const found = newTaskListSchema.parse(answer(await call(sim, "/tasks?external_task_ids=job-lost")).data);
    expect(found.map((task) => task.external_id)).toEqual(["job-lost"]);
    expect(answer(await create(sim, "job-lost"))).toMatchObject({ status: 400, code: 1201, message: expect.stringContaining("already exists") });
    expect(sim.stats.tasksCreatedByExternalId("job-lost")).toBe(1);
  });

  it("generation-failed: the task ends failed with Kling's reason as its message, and is refunded", async () => {
    const { sim, clock } = await scenario("generation-failed");
    const task = created(await create(sim, "job-fail"));
    clock.advanceSeconds(61);
    const [failed] = newTaskListSchema.parse(answer(await call(sim, `/tasks?task_ids=${task.id}`)).data);
    expect(failed).toMatchObject({ status: "failed", message: GENERATION_FAILED_MESSAGE });
    expect(sim.resourcePacks()[0]?.remaining_quantity).toBe(100_000);
  });

  it("server-error: the first query answers 500/5000, the next one the task", async () => {
    const { sim } = await scenario("server-error");
    await create(sim, "job-a");
    await create(sim, "job-b");
    const task = created(await create(sim, "job-c"));
    expect(answer(await call(sim, `/tasks?task_ids=${task.id}`))).toMatchObject({ status: 500, code: 5000 });
    expect(newTaskListSchema.parse(answer(await call(sim, `/tasks?task_ids=${task.id}`)).data)).toHaveLength(1);
  });
});
