/**
 * Kling's video products through the synthesized generation state machine on the local engine,
 * against the simulator (which checks each product with rules of its own, from Kling's pages):
 * each product the pipeline runs goes to SUCCEEDED, and an inconsistent request is refused at
 * Validate, naming the field, before Kling hears of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "#local/cli/run-command";
import type { RequestLogEntry } from "#local/simulator/index";
import { WorkflowHarness } from "./harness";

let harness: WorkflowHarness;
beforeAll(() => {
  harness = new WorkflowHarness(0.002);
});
afterAll(() => harness.close());

const IMAGE = "https://images.example.com/first-frame.png";
const TAIL = "https://images.example.com/last-frame.png";
const SHOTS = [
  { prompt: "a lighthouse at dusk", duration: 2 },
  { prompt: "the lamp turns on, waves crash below", duration: 3 },
];

function createPaths(log: readonly RequestLogEntry[]): string[] {
  return log.filter((entry) => entry.kind === "create").map((entry) => entry.path);
}

describe("multi-shot runs to SUCCEEDED on every model that offers it", () => {
  it.each([
    ["kling-v3", "/v1/videos/text2video"],
    ["kling-3.0", "/text-to-video/kling-3.0"],
    ["kling-3.0-turbo", "/text-to-video/kling-3.0-turbo"],
  ])("%s: its shots as Kling takes them there, created on %s", async (model, path) => {
    const log: RequestLogEntry[] = [];
    const run = await harness.run("happy", { product: "multi-shot", model, multiPrompt: SHOTS, duration: "5" }, { onRequest: (entry) => log.push(entry) });
    expect(run.report.error, run.report.cause ?? "").toBeNull();
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.report.output).toMatchObject({ task: { status: "succeed", video: { url: expect.stringMatching(/\.mp4$/) } } });
    expect(createPaths(log)).toEqual([path]);
  });

  it("with a first frame too, on 3.0 image-to-video", async () => {
    const log: RequestLogEntry[] = [];
    const run = await harness.run("happy", { product: "multi-shot", model: "kling-3.0", image: IMAGE, multiPrompt: SHOTS, duration: "5" }, { onRequest: (entry) => log.push(entry) });
    expect(run.report.status, run.report.cause ?? "").toBe("SUCCEEDED");
    expect(createPaths(log)).toEqual(["/image-to-video/kling-3.0"]);
  });
});

describe("4K runs to SUCCEEDED where it is offered, priced at its own rate", () => {
  it.each([
    ["kling-v3", "/v1/videos/text2video"],
    ["kling-3.0", "/text-to-video/kling-3.0"],
  ])("%s: created on %s", async (model, path) => {
    const log: RequestLogEntry[] = [];
    const run = await harness.run("happy", { product: "4k", model, prompt: "a lighthouse at dusk", duration: "5" }, { onRequest: (entry) => log.push(entry) });
    expect(run.report.status, run.report.cause ?? "").toBe("SUCCEEDED");
    expect(createPaths(log)).toEqual([path]);
    // 3.0 units/s at 4K (Kling's price page): what the simulator charged by its own table.
    expect(run.report.output).toMatchObject({ task: { status: "succeed", unitsSpent: 15 } });
  });
});

describe("an inconsistent request is refused at Validate, naming the field, before Kling hears of it", () => {
  it.each([
    [
      "a shot list not adding up to the duration",
      { product: "multi-shot", model: "kling-3.0", multiPrompt: SHOTS, duration: "8" },
      "multiPrompt lasts 2 + 3 = 5 s, but duration is 8 s: the shots must add up to it",
    ],
    [
      "a product on a model without it",
      { product: "multi-shot", model: "kling-2.6", multiPrompt: SHOTS },
      "product multi-shot is not offered by kling-2.6",
    ],
    ["a std last frame on kling-v1-5", { model: "kling-v1-5", image: IMAGE, imageTail: TAIL, mode: "std" }, "imageTail (first and last frame) is only accepted in pro mode (1080p) by kling-v1-5"],
    ["a product whose price Kling does not publish", { product: "video-effects", image: IMAGE }, "product video-effects is refused: its price is not known"],
  ])("%s", async (_case, request, problem) => {
    const run = await harness.run("happy", request);
    expect(run.diagnosis).toMatchObject({ errorCode: "Kling.InvalidRequest", failedState: "Validate" });
    expect(run.diagnosis?.errorMessage).toContain(problem);
    expect(run.requests).toBe(0);
  });
});

describe("npm start names the product with --product", () => {
  it('`npm start -- "a prompt" --product text-to-video --model kling-3.0` runs to a video', async () => {
    const out: string[] = [];
    const argv = ["a kite over the dunes", "--product", "text-to-video", "--model", "kling-3.0", "--json", "--time-scale", "0.002"];
    const code = await runCommand(argv, {}, { out: (line) => out.push(line), err: () => undefined });
    expect(code).toBe(0);
    expect(JSON.parse(out[0] ?? "")).toMatchObject({ status: "SUCCEEDED", output: { task: { kind: "text-to-video", status: "succeed" } } });
  }, 60_000);
});
