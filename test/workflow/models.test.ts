/**
 * Every model through the synthesized generation state machine on the local engine, against the
 * simulator: a request Kling would accept runs to SUCCEEDED on the standard the model table
 * names (legacy `/v1` or the new path-based API), and the workflow's promises (look up before
 * create, retries, the diagnosis of a failed video) hold on the new standard as on the legacy one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_NAMES, MODELS, type ModelName } from "#lambdas/schemas/models";
import { priceUnits } from "#lambdas/schemas/pricing";
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

/** Per model, a request that uses what the model offers (written from Kling's API documentation, not from the table). */
const REQUESTS: Readonly<Record<ModelName, Record<string, unknown>>> = {
  "kling-v1": { prompt: "a lighthouse at dusk", cfgScale: 0.4, cameraControl: { type: "simple", config: { zoom: 4 } } },
  "kling-v1-5": { image: IMAGE, prompt: "the waves roll in", mode: "pro" },
  "kling-v1-6": { prompt: "a lighthouse at dusk", negativePrompt: "blur", cfgScale: 0.6, duration: "10" },
  "kling-v2-master": { prompt: "a lighthouse at dusk", aspectRatio: "1:1" },
  "kling-v2-1": { image: IMAGE, imageTail: TAIL, mode: "pro" },
  "kling-v2-1-master": { prompt: "a lighthouse at dusk", mode: "pro", duration: "10" },
  "kling-v2-5-turbo": { image: IMAGE, imageTail: TAIL, mode: "pro" },
  "kling-v2-6": { prompt: "a lighthouse at dusk, waves crashing", mode: "pro", sound: "on" },
  "kling-v3": { prompt: "a lighthouse at dusk, waves crashing", duration: "15", sound: "on" },
  "kling-2.5-turbo": { image: IMAGE, imageTail: TAIL, mode: "pro", duration: "10" },
  "kling-2.6": { image: IMAGE, imageTail: TAIL, prompt: "the light turns", mode: "pro", sound: "off" },
  "kling-3.0": { prompt: "a lighthouse at dusk, waves crashing", sound: "on", duration: "3", aspectRatio: "9:16" },
  "kling-3.0-turbo": { prompt: "a lighthouse at dusk", mode: "pro", duration: "12" },
};

function createPaths(log: readonly RequestLogEntry[]): string[] {
  return log.filter((entry) => entry.kind === "create").map((entry) => entry.path);
}

describe("every model runs to SUCCEEDED on its own standard", () => {
  it.each(MODEL_NAMES.map((model) => [model, MODELS[model].standard] as const))("%s (%s standard)", async (model) => {
    const log: RequestLogEntry[] = [];
    const request = { model, ...REQUESTS[model] };
    const run = await harness.run("happy", request, { onRequest: (entry) => log.push(entry) });

    expect(run.report.error, run.report.cause ?? "").toBeNull();
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.report.output).toMatchObject({ task: { status: "succeed", video: { url: expect.stringMatching(/\.mp4$/) } } });
    expect(run.tasksCreated).toBe(1);
    const input = "image" in request ? "image" : "text";
    const expectedPath =
      MODELS[model].standard === "new" ? `/${input}-to-video/${model}` : `/v1/videos/${input === "image" ? "image2video" : "text2video"}`;
    expect(createPaths(log)).toEqual([expectedPath]);
    const queryPaths = log.filter((entry) => entry.kind === "query").map((entry) => entry.path);
    expect(queryPaths.length).toBeGreaterThan(0);
    for (const path of queryPaths) expect(path).toMatch(MODELS[model].standard === "new" ? /^\/tasks$/ : new RegExp(`^${expectedPath}/[^/]+$`));
  });

  it("covers every model of the table", () => {
    expect(Object.keys(REQUESTS).sort()).toEqual([...MODEL_NAMES].sort());
  });
});

describe("the workflow's promises on the new standard", () => {
  const request = { model: "kling-3.0-turbo", prompt: "a corgi surfing a wave" };

  it("a create whose answer is lost is found by its external id (GET /tasks?external_task_ids=), never created twice", async () => {
    const run = await harness.run("lost-create-response", request);
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.report.retries).toEqual({ Submit: 1 });
    expect(run.tasksCreated).toBe(1);
  });

  it("a rate-limited create is retried, then succeeds", async () => {
    const run = await harness.run("rate-limit", request);
    expect(run.report.status).toBe("SUCCEEDED");
    expect(run.report.retries).toEqual({ Submit: 2 });
  });

  it("a failed video is diagnosed with Kling's reason, as on the legacy standard", async () => {
    const run = await harness.run("generation-failed", request);
    expect(run.report.error).toBe("Kling.GenerationFailed");
    // Kling's callback (the new standard's shape) ended WaitForVideo with the failure.
    expect(run.diagnosis).toMatchObject({ failedState: "WaitForVideo", errorMessage: expect.stringMatching(/too complex/) });
  });

  it("a rule Kling would refuse after the call is refused at Validate, naming the parameter, before Kling hears of it", async () => {
    const run = await harness.run("happy", { model: "kling-2.6", prompt: "a corgi", sound: "on" });
    expect(run.diagnosis).toMatchObject({ errorCode: "Kling.InvalidRequest", failedState: "Validate" });
    expect(run.diagnosis?.errorMessage).toContain('sound "on" (native audio) is only made in pro mode (1080p) by kling-2.6');
    expect(run.requests).toBe(0);
  });

  it("CheckCredits prices a new-standard request from the one table", async () => {
    const run = await harness.run("insufficient-credits", request);
    expect(run.diagnosis).toMatchObject({ errorCode: "Kling.InsufficientCredits", failedState: "CheckCredits" });
    expect(run.diagnosis?.errorMessage).toContain(`costs ${priceUnits({ model: "kling-3.0-turbo", mode: "std", duration: "5" })} units`);
  });
});

describe("npm start on the new standard", () => {
  it('`npm start -- "a prompt" --model kling-3.0-turbo` runs the whole pipeline there, to a video', async () => {
    const out: string[] = [];
    const code = await runCommand(["a corgi surfing a wave", "--model", "kling-3.0-turbo", "--json", "--time-scale", "0.002"], {}, { out: (line) => out.push(line), err: () => undefined });
    expect(code).toBe(0);
    expect(JSON.parse(out[0] ?? "")).toMatchObject({
      status: "SUCCEEDED",
      output: { task: { kind: "text-to-video", status: "succeed", video: { url: expect.stringMatching(/\.mp4$/) } } },
      simulator: { tasksCreated: 1 },
    });
  }, 60_000);
});
