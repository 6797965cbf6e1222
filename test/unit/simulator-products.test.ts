/**
 * The simulator's other video products, each as Kling's pages describe it (aself101/kling-api
 * docs/api): created, queried on its own standard, refused as Kling refuses (400/1201 naming the
 * parameter), charged at Kling's price, ending with a real file, and called back in its
 * standard's shape; the scenario tags and fault plans reach every product.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { audioFormatOf, wavSeconds } from "#local/simulator/audio";
import { chaosPlan, ruleBasedPlan, errorFault, startSimulator, type Simulator, type SimulatorOptions } from "#local/simulator/index";
import { call, manualClock, pngBase64, wavBase64, type ManualClock } from "#local/simulator/test-support";

const GENERATION_SECONDS = 10;
const IMAGE = "https://example.com/character.png";

interface Envelope {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  readonly data: Record<string, unknown>;
}

const simulators: Simulator[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const sim of simulators.splice(0)) await sim.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = manualClock();
  const sim = await startSimulator({ clock, scheduler: clock, generationSeconds: GENERATION_SECONDS, ...options });
  simulators.push(sim);
  return { sim, clock };
}

async function post(sim: Simulator, path: string, body: unknown): Promise<Envelope> {
  const result = await call(sim, path, { body });
  const json = result.json as { code: number; message: string; data?: Record<string, unknown> };
  return { status: result.status, code: json.code, message: json.message, data: json.data ?? {} };
}

async function get(sim: Simulator, path: string): Promise<Envelope & { readonly list: Record<string, unknown>[] }> {
  const result = await call(sim, path);
  const json = result.json as { code: number; message: string; data?: unknown };
  const data = json.data;
  return {
    status: result.status,
    code: json.code,
    message: json.message,
    data: (Array.isArray(data) ? {} : (data ?? {})) as Record<string, unknown>,
    list: (Array.isArray(data) ? data : []) as Record<string, unknown>[],
  };
}

function expectRefused(answer: Envelope, parameter: string): void {
  expect({ status: answer.status, code: answer.code }).toEqual({ status: 400, code: 1201 });
  expect(answer.message).toContain(parameter);
}

/** A succeeded legacy video of the simulator's own: its id and URL. */
async function earlierVideo(sim: Simulator, clock: ManualClock, body: Record<string, unknown> = {}): Promise<{ id: string; url: string }> {
  const created = await post(sim, "/v1/videos/text2video", { model_name: "kling-v1-6", prompt: "a cat", ...body });
  expect(created.code).toBe(0);
  clock.advanceSeconds(GENERATION_SECONDS);
  const queried = await get(sim, `/v1/videos/text2video/${String(created.data.task_id)}`);
  const video = (queried.data.task_result as { videos: { id: string; url: string }[] }).videos[0];
  if (!video) throw new Error("the earlier video did not succeed");
  return video;
}

async function newTask(sim: Simulator, id: string): Promise<Record<string, unknown>> {
  const answer = await get(sim, `/tasks?task_ids=${id}`);
  const task = answer.list[0];
  if (!task) throw new Error(`no task ${id}`);
  return task;
}

async function legacyTask(sim: Simulator, path: string, id: string): Promise<Record<string, unknown>> {
  const answer = await get(sim, `${path}/${id}`);
  expect(answer.code).toBe(0);
  return answer.data;
}

const unitsLeft = (sim: Simulator) => sim.resourcePacks().reduce((sum, pack) => sum + pack.remaining_quantity, 0);

async function download(url: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get("content-type"), bytes: Buffer.from(await response.arrayBuffer()) };
}


describe("omni video (new standard: /omni-video/kling-3.0-omni and /omni-video/kling-o1)", () => {
  it("makes a video from a prompt, a first frame and a reference video of its own, charged at the with-video rate", async () => {
    const { sim, clock } = await start();
    const reference = await earlierVideo(sim, clock);
    const before = unitsLeft(sim);
    const created = await post(sim, "/omni-video/kling-3.0-omni", {
      contents: [
        { type: "prompt", text: "the parrot of @image_1 moves like @video_1" },
        { type: "first_frame", url: IMAGE, id: "image_1" },
        { type: "feature_video", url: reference.url, id: "video_1" },
      ],
      settings: { duration: 5 },
      options: { external_task_id: "omni-1" },
    });
    expect(created.code).toBe(0);
    expect(created.data).toMatchObject({ status: "submitted", external_id: "omni-1" });
    // 3.0 Omni with a video input at 720p: 0.9 units/s.
    expect(unitsLeft(sim)).toBeCloseTo(before - 4.5, 5);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await newTask(sim, String(created.data.id));
    expect(task.status).toBe("succeeded");
    expect(task.billing).toEqual([{ charge_type: "unit", amount: "4.5", package_type: "video" }]);
    const output = (task.outputs as { type: string; url: string; duration: string }[])[0];
    expect(output).toMatchObject({ type: "video", duration: "5" });
    const file = await download(output?.url ?? "");
    expect(file.type).toBe("video/mp4");
    expect(file.bytes.toString("ascii", 4, 8)).toBe("ftyp");
  });

  it("charges 3.0 Omni without a video by its audio, and O1 at its own rates", async () => {
    const { sim } = await start();
    const cases: [string, Record<string, unknown>, number][] = [
      ["kling-3.0-omni", { aspect_ratio: "16:9", duration: 5, audio: "native" }, 0.8 * 5],
      ["kling-3.0-omni", { aspect_ratio: "16:9", duration: 10, resolution: "4k" }, 3.0 * 10],
      ["kling-o1", { aspect_ratio: "1:1", duration: 4, resolution: "1080p" }, 0.8 * 4],
    ];
    for (const [model, settings, units] of cases) {
      const before = unitsLeft(sim);
      const created = await post(sim, `/omni-video/${model}`, { contents: [{ type: "prompt", text: "a lighthouse" }], settings });
      expect(created.code, created.message).toBe(0);
      expect(unitsLeft(sim)).toBeCloseTo(before - units, 5);
    }
  });

  it("refuses what Kling's pages refuse, naming the parameter", async () => {
    const { sim, clock } = await start();
    const fifteen = await earlierVideo(sim, clock, { model_name: "kling-v3", duration: "15" });
    const prompt = { type: "prompt", text: "a parrot" };
    const frame = (type: string, id: string) => ({ type, url: IMAGE, id });
    const refused: [string, string, unknown, string][] = [
      ["a model the path does not serve", "kling-3.0", { contents: [prompt] }, "kling-3.0"],
      ["no prompt", "kling-3.0-omni", { contents: [frame("first_frame", "a")] }, "prompt"],
      ["a last frame alone", "kling-3.0-omni", { contents: [prompt, frame("last_frame", "a")] }, "last_frame"],
      ["two reference videos", "kling-3.0-omni", { contents: [prompt, { type: "feature_video", url: fifteen.url }, { type: "base_video", url: fifteen.url }] }, "reference video"],
      ["eight reference images", "kling-3.0-omni", { contents: [prompt, ...Array.from({ length: 8 }, (_, i) => frame("refer_image", `r${i}`))], settings: { aspect_ratio: "16:9" } }, "refer_image"],
      ["five references with a video", "kling-3.0-omni", { contents: [prompt, { type: "feature_video", url: fifteen.url }, ...Array.from({ length: 5 }, (_, i) => frame("refer_image", `r${i}`))] }, "refer_image"],
      ["four elements with a first frame", "kling-3.0-omni", { contents: [prompt, frame("first_frame", "f"), ...Array.from({ length: 4 }, (_, i) => ({ type: "element", element_id: `${i}`, id: `e${i}` }))] }, "elements"],
      ["a base video with a first frame", "kling-3.0-omni", { contents: [prompt, frame("first_frame", "f"), { type: "base_video", url: fifteen.url }] }, "base_video"],
      ["native audio with a reference video", "kling-3.0-omni", { contents: [prompt, { type: "feature_video", url: fifteen.url }], settings: { audio: "native" } }, "settings.audio"],
      ["original audio without a video", "kling-3.0-omni", { contents: [prompt], settings: { aspect_ratio: "16:9", audio: "original" } }, "settings.audio"],
      ["no aspect ratio without a frame or video", "kling-3.0-omni", { contents: [prompt] }, "settings.aspect_ratio"],
      ["4k on O1", "kling-o1", { contents: [prompt], settings: { aspect_ratio: "16:9", resolution: "4k" } }, "settings.resolution"],
      ["11 s on O1", "kling-o1", { contents: [prompt], settings: { aspect_ratio: "16:9", duration: 11 } }, "settings.duration"],
      ["a 15 s reference video on O1 (3 to 10 s)", "kling-o1", { contents: [prompt, { type: "feature_video", url: fifteen.url }] }, "contents[1].url"],
      ["multi_shot on O1", "kling-o1", { contents: [prompt], settings: { aspect_ratio: "16:9", multi_shot: false } }, "settings.multi_shot"],
      ["an element without its id", "kling-3.0-omni", { contents: [prompt, { type: "element", element_id: "162" }], settings: { aspect_ratio: "16:9" } }, "contents[1].id"],
      ["an id used twice", "kling-3.0-omni", { contents: [prompt, frame("first_frame", "x"), frame("refer_image", "x")] }, "contents[2].id"],
      ["shots not adding up (multi_shot true when absent)", "kling-3.0-omni", { contents: [{ type: "prompt", text: "shot 1, 2, a; shot 2, 2, b;" }], settings: { aspect_ratio: "16:9", duration: 5 } }, "contents[0].text"],
      ["a video URL over http elsewhere", "kling-3.0-omni", { contents: [prompt, { type: "feature_video", url: "http://example.com/a.mp4" }] }, "contents[1].url"],
    ];
    for (const [label, model, body, parameter] of refused) {
      const answer = await post(sim, `/omni-video/${model}`, body);
      expect({ label, status: answer.status, code: answer.code }).toEqual({ label, status: 400, code: 1201 });
      expect(answer.message, label).toContain(parameter);
    }
    // 3.0 Omni takes the same 15 s video (3 to 15.5 s), and shots that add up.
    expect((await post(sim, "/omni-video/kling-3.0-omni", { contents: [prompt, { type: "feature_video", url: fifteen.url }] })).code).toBe(0);
    expect((await post(sim, "/omni-video/kling-3.0-omni", { contents: [{ type: "prompt", text: "shot 1, 2, a; shot 2, 3, b;" }], settings: { aspect_ratio: "16:9" } })).code).toBe(0);
  });
});

describe("motion control (new standard: /motion-control/kling-3.0 and /motion-control/kling-2.6)", () => {
  it("makes a video as long as its reference video, charged per second of it", async () => {
    const { sim, clock } = await start();
    const motion = await earlierVideo(sim, clock, { duration: "10" });
    const before = unitsLeft(sim);
    const created = await post(sim, "/motion-control/kling-3.0", {
      contents: [{ type: "image", url: IMAGE }, { type: "video", url: motion.url }],
      settings: { character_orientation: "image", resolution: "1080p" },
    });
    expect(created.code, created.message).toBe(0);
    expect(unitsLeft(sim)).toBeCloseTo(before - 1.2 * 10, 5);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await newTask(sim, String(created.data.id));
    expect(task.outputs).toEqual([expect.objectContaining({ type: "video", duration: "10" })]);
    expect(task.billing).toEqual([{ charge_type: "unit", amount: "12", package_type: "video" }]);
  });

  it("refuses a missing orientation, a reference video too long for it, a missing video and an element on 2.6", async () => {
    const { sim, clock } = await start();
    const fifteen = await earlierVideo(sim, clock, { model_name: "kling-v3", duration: "15" });
    const contents = [{ type: "image", url: IMAGE }, { type: "video", url: fifteen.url }];
    expectRefused(await post(sim, "/motion-control/kling-2.6", { contents }), "settings.character_orientation");
    expectRefused(await post(sim, "/motion-control/kling-2.6", { contents, settings: { character_orientation: "image" } }), "contents[1].url");
    expectRefused(await post(sim, "/motion-control/kling-2.6", { contents: [contents[0]], settings: { character_orientation: "video" } }), "video");
    expectRefused(
      await post(sim, "/motion-control/kling-2.6", { contents: [...contents, { type: "element", element_id: "1", id: "e" }], settings: { character_orientation: "video" } }),
      "contents[2].type",
    );
    // Facing as in the video, the reference video may last up to 30 s; 2.6 at 720p is 0.5 units/s.
    const before = unitsLeft(sim);
    expect((await post(sim, "/motion-control/kling-2.6", { contents, settings: { character_orientation: "video" } })).code).toBe(0);
    expect(unitsLeft(sim)).toBeCloseTo(before - 0.5 * 15, 5);
  });
});

describe("avatar (legacy: /v1/videos/avatar/image2video)", () => {
  it("makes a video as long as its audio, queried on its own path, charged 0.4 or 0.8 units a second", async () => {
    const { sim, clock } = await start();
    const before = unitsLeft(sim);
    const created = await post(sim, "/v1/videos/avatar/image2video", { image: pngBase64(512, 512), sound_file: wavBase64(3), mode: "pro", external_task_id: "av-1" });
    expect(created.code, created.message).toBe(0);
    expect(created.data).toMatchObject({ task_status: "submitted", task_info: { external_task_id: "av-1" } });
    expect(unitsLeft(sim)).toBeCloseTo(before - 0.8 * 3, 5);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await legacyTask(sim, "/v1/videos/avatar/image2video", "av-1");
    expect(task).toMatchObject({ task_status: "succeed", final_unit_deduction: "2.4" });
    expect((task.task_result as { videos: { duration: string }[] }).videos[0]?.duration).toBe("3");
    expect((await get(sim, "/v1/videos/avatar/image2video")).list).toHaveLength(1);
    expect((await get(sim, "/v1/videos/image2video/av-1")).code).toBe(1201);
  });

  it("refuses an audio under 2 s, both audio_id and sound_file, neither, an http image and an unknown field", async () => {
    const { sim } = await start();
    const path = "/v1/videos/avatar/image2video";
    expectRefused(await post(sim, path, { image: IMAGE, sound_file: wavBase64(1) }), "sound_file");
    expectRefused(await post(sim, path, { image: IMAGE, sound_file: wavBase64(3), audio_id: "a" }), "audio_id");
    expectRefused(await post(sim, path, { image: IMAGE }), "sound_file");
    expectRefused(await post(sim, path, { image: "http://example.com/a.png", sound_file: wavBase64(3) }), "image");
    expectRefused(await post(sim, path, { image: IMAGE, soundFile: wavBase64(3) }), "soundFile");
  });
});

describe("lip-sync (legacy: /v1/videos/identify-face, then /v1/videos/advanced-lip-sync)", () => {
  it("identifies the face of an earlier video at once, then makes it speak the audio, as long as the video", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    const before = unitsLeft(sim);
    const identified = await post(sim, "/v1/videos/identify-face", { video_id: video.id });
    expect(identified.code, identified.message).toBe(0);
    expect(identified.data).toMatchObject({ final_unit_deduction: "0.05", face_data: [{ face_id: "0", start_time: 0, end_time: 5000 }] });
    expect(unitsLeft(sim)).toBeCloseTo(before - 0.05, 5);
    const face = (identified.data.face_data as { face_image: string }[])[0];
    expect((await download(face?.face_image ?? "")).type).toBe("image/png");

    const choice = { face_id: "0", sound_file: wavBase64(4), sound_start_time: 0, sound_end_time: 3000, sound_insert_time: 1000 };
    const created = await post(sim, "/v1/videos/advanced-lip-sync", { session_id: identified.data.session_id, face_choose: [choice] });
    expect(created.code, created.message).toBe(0);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await legacyTask(sim, "/v1/videos/advanced-lip-sync", String(created.data.task_id));
    expect(task).toMatchObject({ task_status: "succeed", final_unit_deduction: "0.5", task_info: { parent_video: { id: video.id, url: video.url, duration: "5" } } });
  });

  it("refuses an unknown session, two faces, a crop under 2 s, a sound past the video's end and a video URL over http", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    expectRefused(await post(sim, "/v1/videos/identify-face", { video_id: video.id, video_url: video.url }), "video_id");
    expectRefused(await post(sim, "/v1/videos/identify-face", { video_url: "http://example.com/a.mp4" }), "video_url");
    expectRefused(await post(sim, "/v1/videos/identify-face", { video_id: "no-such-video" }), "video_id");
    const session = (await post(sim, "/v1/videos/identify-face", { video_url: video.url })).data.session_id;
    const choice = { face_id: "0", sound_file: wavBase64(4), sound_start_time: 0, sound_end_time: 3000, sound_insert_time: 0 };
    const path = "/v1/videos/advanced-lip-sync";
    expectRefused(await post(sim, path, { session_id: "unknown", face_choose: [choice] }), "session_id");
    expectRefused(await post(sim, path, { session_id: session, face_choose: [choice, choice] }), "face_choose");
    expectRefused(await post(sim, path, { session_id: session, face_choose: [{ ...choice, face_id: "1" }] }), "face_id");
    expectRefused(await post(sim, path, { session_id: session, face_choose: [{ ...choice, sound_end_time: 1500 }] }), "sound_end_time");
    expectRefused(await post(sim, path, { session_id: session, face_choose: [{ ...choice, sound_insert_time: 3000 }] }), "sound_insert_time");
    expectRefused(await post(sim, path, { session_id: session, face_choose: [{ ...choice, sound_volume: 3 }] }), "sound_volume");
  });
});

describe("video effects (legacy: /v1/videos/effects)", () => {
  it("makes a 5 s video of a single-image scene and of a dual-image scene, 2 units each (the simulator's convention)", async () => {
    const { sim, clock } = await start();
    const single = await post(sim, "/v1/videos/effects", { effect_scene: "color_mixing", input: { image: IMAGE } });
    const dual = await post(sim, "/v1/videos/effects", { effect_scene: "hug_pro", input: { images: [IMAGE, pngBase64(400, 600)] } });
    expect([single.code, dual.code]).toEqual([0, 0]);
    clock.advanceSeconds(GENERATION_SECONDS);
    for (const created of [single, dual]) {
      const task = await legacyTask(sim, "/v1/videos/effects", String(created.data.task_id));
      expect(task).toMatchObject({ task_status: "succeed", final_unit_deduction: "2" });
      expect((task.task_result as { videos: { duration: string }[] }).videos[0]?.duration).toBe("5");
    }
  });

  it("refuses a scene Kling does not list, one image for a dual scene and two for a single one", async () => {
    const { sim } = await start();
    expectRefused(await post(sim, "/v1/videos/effects", { effect_scene: "moonwalk", input: { image: IMAGE } }), "effect_scene");
    expectRefused(await post(sim, "/v1/videos/effects", { effect_scene: "hug_pro", input: { image: IMAGE } }), "input.image");
    expectRefused(await post(sim, "/v1/videos/effects", { effect_scene: "hug_pro", input: { images: [IMAGE] } }), "input.images");
    expectRefused(await post(sim, "/v1/videos/effects", { effect_scene: "color_mixing", input: { images: [IMAGE, IMAGE] } }), "input.images");
    expectRefused(await post(sim, "/v1/videos/effects", { effect_scene: "color_mixing" }), "input");
  });
});

describe("video extend (legacy: /v1/videos/video-extend)", () => {
  it("adds 5 s to a kling-v1-6 video of this account, charged at its model's rate", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    const created = await post(sim, "/v1/videos/video-extend", { video_id: video.id, prompt: "the cat jumps" });
    expect(created.code, created.message).toBe(0);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await legacyTask(sim, "/v1/videos/video-extend", String(created.data.task_id));
    expect(task).toMatchObject({ task_status: "succeed", final_unit_deduction: "2", task_info: { parent_video: { id: video.id } } });
    expect((task.task_result as { videos: { duration: string }[] }).videos[0]?.duration).toBe("10");
  });

  it("refuses a video of a model that does not extend, an unknown video id and a video past the 30 days", async () => {
    const { sim, clock } = await start();
    const v26 = await earlierVideo(sim, clock, { model_name: "kling-v2-6" });
    expectRefused(await post(sim, "/v1/videos/video-extend", { video_id: v26.id }), "kling-v2-6");
    expectRefused(await post(sim, "/v1/videos/video-extend", { video_id: "no-such-video" }), "video_id");
    const old = await earlierVideo(sim, clock);
    clock.advanceSeconds(31 * 24 * 3600);
    expectRefused(await post(sim, "/v1/videos/video-extend", { video_id: old.id }), "30 days");
  });
});

describe("video to audio (legacy: /v1/audio/video-to-audio)", () => {
  it("makes the video's sound as a real WAV and MP3, as long as the video, for 0.25 units", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    const created = await post(sim, "/v1/audio/video-to-audio", { video_id: video.id, sound_effect_prompt: "purring", bgm_prompt: "calm piano" });
    expect(created.code, created.message).toBe(0);
    clock.advanceSeconds(GENERATION_SECONDS);
    const task = await legacyTask(sim, "/v1/audio/video-to-audio", String(created.data.task_id));
    expect(task).toMatchObject({ task_status: "succeed", final_unit_deduction: "0.25", task_info: { parent_video: { id: video.id, duration: "5" } } });
    const result = task.task_result as { videos: { duration: string }[]; audios: { url_mp3: string; url_wav: string; duration_mp3: string; duration_wav: string }[] };
    expect(result.videos[0]?.duration).toBe("5");
    const audio = result.audios[0];
    expect(audio).toMatchObject({ duration_mp3: "5", duration_wav: "5" });
    const wav = await download(audio?.url_wav ?? "");
    expect({ status: wav.status, type: wav.type, format: audioFormatOf(wav.bytes) }).toEqual({ status: 200, type: "audio/wav", format: "wav" });
    expect(wav.bytes.toString("ascii", 12, 16)).toBe("fmt ");
    expect(wavSeconds(wav.bytes)).toBe(5);
    const mp3 = await download(audio?.url_mp3 ?? "");
    expect({ status: mp3.status, type: mp3.type, sync: mp3.bytes.readUInt16BE(0) & 0xffe0, layer3: (mp3.bytes[1] ?? 0) & 0x06 }).toEqual({ status: 200, type: "audio/mpeg", sync: 0xffe0, layer3: 0x02 });
  });

  it("takes its own audio as an avatar's audio_id; refuses both video inputs, a prompt over 200 characters and a video too short", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    const created = await post(sim, "/v1/audio/video-to-audio", { video_url: video.url });
    clock.advanceSeconds(GENERATION_SECONDS);
    const audioId = ((await legacyTask(sim, "/v1/audio/video-to-audio", String(created.data.task_id))).task_result as { audios: { id: string }[] }).audios[0]?.id;
    expect((await post(sim, "/v1/videos/avatar/image2video", { image: IMAGE, audio_id: audioId })).code).toBe(0);
    expectRefused(await post(sim, "/v1/audio/video-to-audio", { video_id: video.id, video_url: video.url }), "video_id");
    expectRefused(await post(sim, "/v1/audio/video-to-audio", { video_id: video.id, bgm_prompt: "x".repeat(201) }), "bgm_prompt");
    const three = await earlierVideo(sim, clock, { model_name: "kling-v3", duration: "3" });
    expect((await post(sim, "/v1/audio/video-to-audio", { video_id: three.id })).code).toBe(0);
  });
});

describe("every product's callbacks, scenarios and faults", () => {
  async function receiver(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
    const bodies: Record<string, unknown>[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
        response.writeHead(200).end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`, bodies };
  }

  it("calls back a legacy product in the legacy shape (audios included) and a new one in the new shape", async () => {
    const { sim, clock } = await start();
    const video = await earlierVideo(sim, clock);
    const legacy = await receiver();
    const fresh = await receiver();
    await post(sim, "/v1/audio/video-to-audio", { video_id: video.id, callback_url: legacy.url, external_task_id: "v2a-cb" });
    await post(sim, "/motion-control/kling-3.0", {
      contents: [{ type: "image", url: IMAGE }, { type: "video", url: video.url }],
      settings: { character_orientation: "video" },
      options: { callback_url: fresh.url, external_task_id: "mc-cb" },
    });
    clock.advanceSeconds(GENERATION_SECONDS);
    await sim.settleCallbacks();
    expect(legacy.bodies.map((body) => body.task_status)).toEqual(["submitted", "processing", "succeed"]);
    expect(legacy.bodies.at(-1)).toMatchObject({
      task_info: { external_task_id: "v2a-cb", parent_video: { id: video.id } },
      task_result: { audios: [expect.objectContaining({ url_wav: expect.stringContaining(".wav") })] },
      final_unit_deduction: "0.25",
    });
    expect(fresh.bodies.map((body) => body.status)).toEqual(["submitted", "processing", "succeeded"]);
    expect(fresh.bodies.at(-1)).toMatchObject({ external_id: "mc-cb", outputs: [expect.objectContaining({ type: "video", duration: "5" })] });
  });

  it("a scenario tag reaches a product without a prompt (in its external_task_id) and a new-standard one (in its contents' prompt)", async () => {
    const { sim, clock } = await start();
    const failing = await post(sim, "/v1/videos/effects", { effect_scene: "color_mixing", input: { image: IMAGE }, external_task_id: "fx-1[scenario:generation-failed]" });
    expect(failing.code).toBe(0);
    const omni = { contents: [{ type: "prompt", text: "a parrot [scenario:rate-limit]" }], settings: { aspect_ratio: "16:9" }, options: { external_task_id: "omni-rl" } };
    expect((await post(sim, "/omni-video/kling-o1", omni)).code).toBe(1302);
    expect((await post(sim, "/omni-video/kling-o1", omni)).code).toBe(1302);
    const created = await post(sim, "/omni-video/kling-o1", omni);
    expect(created.code).toBe(0);
    clock.advanceSeconds(GENERATION_SECONDS);
    expect(await legacyTask(sim, "/v1/videos/effects", "fx-1[scenario:generation-failed]")).toMatchObject({ task_status: "failed", final_unit_deduction: "0" });
    expect((await newTask(sim, String(created.data.id))).status).toBe("succeeded");
  });

  it("a fault plan's create and query faults hit every product, and a chaos plan's too", async () => {
    const plan = ruleBasedPlan([
      { on: "create", times: 1, fault: errorFault("server-error", 500, 5000, "Internal server error") },
      { on: "query", times: 1, fault: errorFault("server-error", 500, 5000, "Internal server error") },
    ]);
    const { sim, clock } = await start({ faultPlan: plan });
    const body = { image: IMAGE, sound_file: wavBase64(3), external_task_id: "av-fault" };
    expect((await post(sim, "/v1/videos/avatar/image2video", body)).code).toBe(5000);
    expect((await post(sim, "/v1/videos/avatar/image2video", body)).code).toBe(0);
    clock.advanceSeconds(GENERATION_SECONDS);
    expect((await get(sim, "/v1/videos/avatar/image2video/av-fault")).code).toBe(5000);
    expect((await get(sim, "/v1/videos/avatar/image2video/av-fault")).data.task_status).toBe("succeed");

    const chaos = chaosPlan({ seed: 7, faultRate: 1, taskFaultRate: 0 });
    const { sim: chaotic } = await start({ faultPlan: chaos });
    const answers = await Promise.all(
      ["/v1/videos/identify-face", "/motion-control/kling-2.6", "/v1/videos/effects"].map((path) => call(chaotic, path, { body: { external_task_id: "x" } }).catch(() => undefined)),
    );
    expect(answers.every((answer) => answer === undefined || answer.status !== 400)).toBe(true);
    const queries = await Promise.all(["/v1/audio/video-to-audio/x", "/tasks?task_ids=x"].map((path) => call(chaotic, path).catch(() => undefined)));
    // Unfaulted, they would answer 400/1201 "Task not found" and 200/0 with an empty list; at rate 1 neither does.
    const code = (answer: (typeof queries)[number]) => (answer?.json as { code?: number } | undefined)?.code;
    expect(queries.map((answer) => [answer?.status, code(answer)])).not.toContainEqual([400, 1201]);
    expect(queries.map((answer) => [answer?.status, code(answer)])).not.toContainEqual([200, 0]);
    expect(chaos.total()).toBeGreaterThanOrEqual(5);
  });
});
