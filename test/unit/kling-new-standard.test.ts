/**
 * The new standard's client on the wire, against Kling's API documentation ("The new standard"): the paths,
 * bodies and query strings it sends, how it reads Kling's answers back into the port's words,
 * and that an AccessKey/SecretKey pair is refused before anything is sent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KlingError } from "#lambdas/errors/index";
import { KlingStandardsClient } from "#lambdas/kling/both-standards";
import type { KlingCredentials } from "#lambdas/kling/port";
import { FakeKling } from "./fake-kling";

const kling = new FakeKling();
beforeAll(() => kling.start());
afterAll(() => kling.stop());
beforeEach(() => kling.reset());

/** Each `data` answered in a success envelope, in order. */
function answer(...data: unknown[]): void {
  kling.script(...data.map((item) => ({ status: 200, json: { code: 0, message: "SUCCEED", request_id: "req-1", data: item } })));
}

/** What the stand-in received: method, path and query, bearer, and the JSON body. */
function received() {
  return kling.received.map((request) => ({
    method: request.method,
    url: request.url,
    authorization: request.headers.authorization,
    body: request.body === "" ? undefined : (JSON.parse(request.body) as unknown),
  }));
}

const API_KEY = "test-new-standard-key";
const client = (credentials: KlingCredentials = { apiKey: API_KEY }) => new KlingStandardsClient({ baseUrl: kling.url, credentials });

const CREATED = { id: "893605946402811985", status: "submitted", create_time: 1_700_000_000_000, update_time: 1_700_000_000_000, external_id: "job-1" };

describe("creating a task on the new standard", () => {
  it("text to video: POST /text-to-video/{model} with prompt, settings {resolution, aspect_ratio, duration as a number, audio} and options", async () => {
    answer(CREATED);
    const task = await client().createTask("text-to-video", {
      model_name: "kling-3.0",
      prompt: "a red fox in the snow",
      mode: "pro",
      duration: "7",
      aspect_ratio: "9:16",
      sound: "on",
      callback_url: "https://hooks.example.com/kling",
      external_task_id: "job-1",
    });
    expect(received()).toEqual([
      {
        method: "POST",
        url: "/text-to-video/kling-3.0",
        authorization: `Bearer ${API_KEY}`,
        body: {
          prompt: "a red fox in the snow",
          settings: { resolution: "1080p", aspect_ratio: "9:16", duration: 7, audio: "native" },
          options: { callback_url: "https://hooks.example.com/kling", external_task_id: "job-1" },
        },
      },
    ]);
    expect(task).toEqual({
      task_id: "893605946402811985",
      task_status: "submitted",
      task_info: { external_task_id: "job-1" },
      created_at: 1_700_000_000_000,
      updated_at: 1_700_000_000_000,
    });
  });

  it("image to video: POST /image-to-video/{model} with contents [prompt, first_frame, last_frame] and no aspect ratio", async () => {
    answer(CREATED);
    await client().createTask("image-to-video", {
      model_name: "kling-2.6",
      prompt: "she turns and smiles",
      mode: "pro",
      duration: "5",
      sound: "off",
      image: "https://images.example.com/first.png",
      image_tail: "https://images.example.com/last.png",
      external_task_id: "job-2",
    });
    expect(received()[0]).toMatchObject({
      url: "/image-to-video/kling-2.6",
      body: {
        contents: [
          { type: "prompt", text: "she turns and smiles" },
          { type: "first_frame", url: "https://images.example.com/first.png" },
          { type: "last_frame", url: "https://images.example.com/last.png" },
        ],
        settings: { resolution: "1080p", duration: 5, audio: "off" },
        options: { external_task_id: "job-2" },
      },
    });
  });

  it("std mode is 720p, and a body without sound sends no audio setting", async () => {
    answer(CREATED);
    await client().createTask("text-to-video", { model_name: "kling-3.0-turbo", prompt: "a cat", mode: "std", duration: "5", external_task_id: "job-3" });
    expect(received()[0]?.body).toEqual({ prompt: "a cat", settings: { resolution: "720p", duration: 5 }, options: { external_task_id: "job-3" } });
  });

  it("sends multi_shot as settings.multi_shot (3.0 defaults it to true, so it is always sent there)", async () => {
    answer(CREATED);
    await client().createTask("text-to-video", { model_name: "kling-3.0", prompt: "a cat", mode: "std", duration: "5", multi_shot: false, external_task_id: "job-4" });
    expect(received()[0]?.body).toEqual({ prompt: "a cat", settings: { resolution: "720p", duration: 5, multi_shot: false }, options: { external_task_id: "job-4" } });
  });

  it("4k mode is settings.resolution 4k (kling-3.0)", async () => {
    answer(CREATED);
    await client().createTask("text-to-video", { model_name: "kling-3.0", prompt: "a cat", mode: "4k", duration: "5", external_task_id: "job-5" });
    expect(received()[0]?.body).toMatchObject({ settings: { resolution: "4k", duration: 5 } });
  });

  it("refuses, before sending, the legacy fields the new standard has no place for, naming them", async () => {
    const create = client().createTask("text-to-video", { model_name: "kling-2.6", prompt: "a cat", negative_prompt: "blur", cfg_scale: 0.5 });
    await expect(create).rejects.toMatchObject({ name: "Kling.InvalidRequest", message: expect.stringContaining("negative_prompt, cfg_scale not accepted by kling-2.6") });
    expect(kling.received).toEqual([]);
  });
});

describe("querying tasks on the new standard", () => {
  it("GET /tasks?task_ids=: a succeeded task reads as the port's succeed, with its video and the units it cost", async () => {
    answer([
      {
        ...CREATED,
        status: "succeeded",
        update_time: 1_700_000_060_000,
        outputs: [
          { type: "audio", id: "a-1", mp3_url: "https://cdn.example.com/a.mp3" },
          { type: "video", id: "v-1", url: "https://cdn.example.com/v.mp4", watermark_url: "https://cdn.example.com/v-w.mp4", duration: "7" },
        ],
        billing: [{ charge_type: "unit", amount: "8.4", package_type: "video" }],
      },
    ]);
    const task = await client().getTask("text-to-video", "893605946402811985");
    expect(received()).toEqual([{ method: "GET", url: "/tasks?task_ids=893605946402811985", authorization: `Bearer ${API_KEY}`, body: undefined }]);
    expect(task).toEqual({
      task_id: "893605946402811985",
      task_status: "succeed",
      task_info: { external_task_id: "job-1" },
      task_result: { videos: [{ id: "v-1", url: "https://cdn.example.com/v.mp4", watermark_url: "https://cdn.example.com/v-w.mp4", duration: "7" }] },
      final_unit_deduction: "8.4",
      created_at: 1_700_000_000_000,
      updated_at: 1_700_000_060_000,
    });
  });

  it("a failed task carries Kling's message as its status message", async () => {
    answer([{ ...CREATED, status: "failed", message: "content risk control" }]);
    expect(await client().getTask("image-to-video", CREATED.id)).toMatchObject({ task_status: "failed", task_status_msg: "content risk control" });
  });

  it("a task id Kling does not list is Kling.InvalidRequest, naming it", async () => {
    answer([]);
    await expect(client().getTask("text-to-video", "404")).rejects.toMatchObject({ name: "Kling.InvalidRequest", message: expect.stringContaining('"404"') });
  });

  it("looks a task up by external id with GET /tasks?external_task_ids= (Submit's look-up before create); none is undefined", async () => {
    answer([CREATED], []);
    expect(await client().findTaskByExternalId("text-to-video", "job-1")).toMatchObject({ task_id: CREATED.id });
    expect(await client().findTaskByExternalId("text-to-video", "job-9")).toBeUndefined();
    expect(received().map((request) => `${request.method} ${request.url}`)).toEqual(["GET /tasks?external_task_ids=job-1", "GET /tasks?external_task_ids=job-9"]);
  });

  it("pages with POST /tasks and the cursor Kling returned", async () => {
    answer({ result: [CREATED], next_cursor: "c-2", has_more: true }, { result: [{ ...CREATED, id: "2" }], has_more: false });
    const page = await client().listTasks("text-to-video", { pageNum: 2, pageSize: 1 });
    expect(page.map((task) => task.task_id)).toEqual(["2"]);
    expect(received().map((request) => [request.method, request.url, request.body])).toEqual([
      ["POST", "/tasks", { limit: 1 }],
      ["POST", "/tasks", { limit: 1, cursor: "c-2" }],
    ]);
  });
});

describe("credentials", () => {
  it("an AccessKey/SecretKey pair is a configuration error on the new standard, raised before anything is sent", async () => {
    const signed = client({ accessKey: "ak-1", secretKey: "sk-secret-1" });
    for (const attempt of [
      () => signed.createTask("text-to-video", { model_name: "kling-3.0-turbo", prompt: "a cat" }),
      () => signed.getTask("text-to-video", "1"),
      () => signed.findTaskByExternalId("image-to-video", "job-1"),
    ]) {
      const error: unknown = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KlingError);
      expect(error).toMatchObject({ name: "Kling.AuthFailed", message: expect.stringMatching(/^Configuration: Kling's new API standard .* accepts only an API key/) });
      expect(String((error as Error).message)).not.toContain("sk-secret-1");
    }
    expect(kling.received).toEqual([]);
  });

  it("the same pair still reaches the legacy standard, signed as a JWT", async () => {
    answer({ task_id: "t-1", task_status: "submitted", created_at: 1, updated_at: 1 });
    const task = await client({ accessKey: "ak-1", secretKey: "sk-secret-1" }).createTask("text2video", { model_name: "kling-v3", prompt: "a cat", duration: "12" });
    expect(task.task_id).toBe("t-1");
    expect(received()[0]).toMatchObject({ url: "/v1/videos/text2video", body: { model_name: "kling-v3", duration: "12" } });
    expect(received()[0]?.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
