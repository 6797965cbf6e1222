import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envelopeSchema, taskSchema, type TaskKind } from "#lambdas/kling/wire";
import { startSimulator, type Simulator } from "#local/simulator/index";
import { call, jpegBase64, manualClock, pngBase64 } from "#local/simulator/test-support";

let simulator: Simulator;
beforeAll(async () => {
  simulator = await startSimulator({ clock: manualClock(), maxConcurrentTasks: 1000, units: 1_000_000 });
});
afterAll(() => simulator.close());

async function create(kind: TaskKind, body: unknown) {
  const result = await call(simulator, `/v1/videos/${kind}`, { body });
  return { status: result.status, envelope: envelopeSchema.parse(result.json) };
}

const text = (extra: Record<string, unknown>) => ({ prompt: "a paper boat on a river", ...extra });
const image = (extra: Record<string, unknown>) => ({ image: pngBase64(1280, 720), ...extra });
const longText = "x".repeat(2501);

describe("create validation: a refused body answers 400/1201 naming the field", () => {
  const refused: Array<[string, TaskKind, unknown, string]> = [
    ["a body that is not an object", "text2video", [1, 2], "body"],
    ["an unknown model", "text2video", text({ model_name: "kling-v9" }), "model_name"],
    ["an image-only model for text", "text2video", text({ model_name: "kling-v1-5" }), "model_name"],
    ["no prompt for text", "text2video", {}, "prompt"],
    ["a prompt over 2500 characters", "text2video", text({ prompt: longText }), "prompt"],
    ["a negative_prompt over 2500 characters", "text2video", text({ negative_prompt: longText }), "negative_prompt"],
    ["cfg_scale out of range", "text2video", text({ cfg_scale: 1.5 }), "cfg_scale"],
    ["cfg_scale on a kling-v2 model", "text2video", text({ model_name: "kling-v2-master", cfg_scale: 0.5 }), "cfg_scale"],
    ["an unknown mode", "text2video", text({ mode: "ultra" }), "mode"],
    ["a duration given as a number", "text2video", text({ duration: 5 }), "duration"],
    ["an unknown duration", "text2video", text({ duration: "7" }), "duration"],
    ["an unknown aspect_ratio", "text2video", text({ aspect_ratio: "4:3" }), "aspect_ratio"],
    ["sound on a model without audio", "text2video", text({ model_name: "kling-v2-5-turbo", sound: "on" }), "sound"],
    ["an unknown sound value", "text2video", text({ model_name: "kling-v2-6", sound: "loud" }), "sound"],
    ["camera_control with pro mode", "text2video", text({ mode: "pro", camera_control: { type: "down_back" } }), "camera_control"],
    ["camera_control with another model", "text2video", text({ model_name: "kling-v1-6", camera_control: { type: "forward_up" } }), "camera_control"],
    ["a simple camera move on two axes", "text2video", text({ camera_control: { type: "simple", config: { pan: 2, zoom: 3 } } }), "camera_control"],
    ["a simple camera move out of range", "text2video", text({ camera_control: { type: "simple", config: { tilt: 11 } } }), "camera_control.config.tilt"],
    ["an unknown camera type", "text2video", text({ camera_control: { type: "orbit" } }), "camera_control.type"],
    ["a callback_url that is not a URL", "text2video", text({ callback_url: "not a url" }), "callback_url"],
    ["an empty external_task_id", "text2video", text({ external_task_id: "" }), "external_task_id"],
    ["an image on text2video", "text2video", text({ image: pngBase64(1280, 720) }), "image"],
    ["no image for image2video", "image2video", { prompt: "move" }, "image"],
    ["aspect_ratio on image2video", "image2video", image({ aspect_ratio: "16:9" }), "aspect_ratio"],
    ["a data: URL image", "image2video", { image: `data:image/png;base64,${pngBase64(1280, 720)}` }, "image"],
    ["an http image URL", "image2video", { image: "http://example.com/cat.png" }, "image"],
    ["an image that is not jpg or png", "image2video", { image: Buffer.from("GIF89a-not-accepted").toString("base64") }, "image"],
    ["an image under 300 px", "image2video", { image: pngBase64(299, 400) }, "image"],
    ["a jpeg under 300 px", "image2video", { image: jpegBase64(640, 200) }, "image"],
    ["an image wider than 2.5:1", "image2video", { image: pngBase64(2000, 700) }, "image"],
    ["an invalid image_tail", "image2video", image({ image_tail: pngBase64(100, 100) }), "image_tail"],
    ["native audio at 720p on kling-v2-6", "text2video", text({ model_name: "kling-v2-6", sound: "on" }), "sound"],
    ["a mode on kling-v2-master (it has none)", "text2video", text({ model_name: "kling-v2-master", mode: "pro" }), "mode"],
    ["std on kling-v2-1-master (1080p only)", "text2video", text({ model_name: "kling-v2-1-master", mode: "std" }), "mode"],
    ["16 s on kling-v3", "text2video", text({ model_name: "kling-v3", duration: "16" }), "duration"],
    ["3 s on kling-v2-6", "text2video", text({ model_name: "kling-v2-6", duration: "3" }), "duration"],
    ["a last frame at 720p on kling-v2-5-turbo", "image2video", image({ model_name: "kling-v2-5-turbo", image_tail: pngBase64(1280, 720) }), "image_tail"],
    ["a last frame with native audio on kling-v2-6", "image2video", image({ model_name: "kling-v2-6", mode: "pro", sound: "on", image_tail: pngBase64(1280, 720) }), "image_tail"],
    ["a last frame in std on kling-v1-5 (pro only)", "image2video", image({ model_name: "kling-v1-5", image_tail: pngBase64(1280, 720) }), "image_tail"],
    ["a last frame in std on kling-v1-6 (pro only)", "image2video", image({ model_name: "kling-v1-6", image_tail: pngBase64(1280, 720) }), "image_tail"],
    ["a last frame in std on kling-v2-1 (pro only)", "image2video", image({ model_name: "kling-v2-1", image_tail: pngBase64(1280, 720) }), "image_tail"],
    ["a camera preset on kling-v1-5 pro (simple only)", "image2video", image({ model_name: "kling-v1-5", mode: "pro", camera_control: { type: "down_back" } }), "camera_control"],
    ["4k on a model without it", "text2video", text({ model_name: "kling-v2-6", mode: "4k" }), "mode"],
    ["multi-shot fields on a model without them", "text2video", text({ model_name: "kling-v2-6", multi_shot: true }), "multi_shot"],
    ["multi-shot without a shot_type", "text2video", text({ model_name: "kling-v3", multi_shot: true }), "shot_type"],
    [
      "shots that do not add up to the duration",
      "text2video",
      text({ model_name: "kling-v3", duration: "5", multi_shot: true, shot_type: "customize", multi_prompt: [{ index: 1, prompt: "a", duration: "2" }, { index: 2, prompt: "b", duration: "2" }] }),
      "multi_prompt",
    ],
    [
      "seven shots",
      "text2video",
      text({ model_name: "kling-v3", duration: "7", multi_shot: true, shot_type: "customize", multi_prompt: Array.from({ length: 7 }, (_, i) => ({ index: i + 1, prompt: "x", duration: "1" })) }),
      "multi_prompt",
    ],
    ["a last frame with camera control", "image2video", image({ model_name: "kling-v1", image_tail: pngBase64(1280, 720), camera_control: { type: "down_back" } }), "camera_control"],
  ];

  it.each(refused)("refuses %s", async (_case, kind, body, field) => {
    const { status, envelope } = await create(kind, body);
    expect({ status, code: envelope.code }).toEqual({ status: 400, code: 1201 });
    expect(envelope.message).toContain(field);
    expect(envelope.data).toBeUndefined();
  });
});

describe("create validation: documented bodies are accepted", () => {
  const accepted: Array<[string, TaskKind, unknown]> = [
    ["the defaults (kling-v1, std, 5 s)", "text2video", text({})],
    ["kling-v2-6 with sound, pro, 10 s, 9:16", "text2video", text({ model_name: "kling-v2-6", sound: "on", mode: "pro", duration: "10", aspect_ratio: "9:16" })],
    ["a simple camera move on kling-v1", "text2video", text({ model_name: "kling-v1", camera_control: { type: "simple", config: { zoom: -4, pan: 0 } } })],
    ["cfg_scale on kling-v1-6", "text2video", text({ model_name: "kling-v1-6", cfg_scale: 0.7, negative_prompt: "blur" })],
    ["a base64 png with a tail (pro on kling-v2-1)", "image2video", image({ model_name: "kling-v2-1", mode: "pro", image_tail: pngBase64(720, 1280) })],
    ["a simple camera move on kling-v1-5 pro", "image2video", image({ model_name: "kling-v1-5", mode: "pro", camera_control: { type: "simple", config: { pan: 3 } } })],
    ["kling-v3 in 4k", "text2video", text({ model_name: "kling-v3", mode: "4k" })],
    [
      "kling-v3 with two shots adding up to its 5 s",
      "text2video",
      { model_name: "kling-v3", duration: "5", multi_shot: true, shot_type: "customize", multi_prompt: [{ index: 1, prompt: "a cat", duration: "2" }, { index: 2, prompt: "a dog", duration: "3" }] },
    ],
    ["kling-v3 with shots of its own choosing", "text2video", text({ model_name: "kling-v3", multi_shot: true, shot_type: "intelligence" })],
    ["a base64 jpeg", "image2video", { image: jpegBase64(1024, 1024) }],
    ["an https image URL and no prompt", "image2video", { image: "https://example.com/cat.jpg", model_name: "kling-v1-5" }],
    ["kling-v3 for 3 s with native audio at 720p", "text2video", text({ model_name: "kling-v3", duration: "3", sound: "on" })],
    ["kling-v3 for 15 s at 1080p", "text2video", text({ model_name: "kling-v3", duration: "15", mode: "pro" })],
    ["kling-v2-master with no mode", "text2video", text({ model_name: "kling-v2-master" })],
    ["kling-v2-1-master in pro", "text2video", text({ model_name: "kling-v2-1-master", mode: "pro" })],
    ["a silent last frame at 1080p on kling-v2-6", "image2video", image({ model_name: "kling-v2-6", mode: "pro", sound: "off", image_tail: pngBase64(1280, 720) })],
  ];

  it.each(accepted)("accepts %s", async (_case, kind, body) => {
    const { status, envelope } = await create(kind, body);
    expect({ status, code: envelope.code }).toEqual({ status: 200, code: 0 });
    expect(taskSchema.parse(envelope.data).task_status).toBe("submitted");
  });
});
