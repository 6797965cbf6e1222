/**
 * The largest request Validate accepts, through every state of the synthesized generation state
 * machine on the local engine (which refuses any state's data past Step Functions' 256 KiB as
 * AWS does, States.DataLimitExceeded): it ends Succeeded, every state's data within the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BASE64_IMAGE_BYTES, MAX_REQUEST_BYTES, validateGenerationRequest } from "#lambdas/schemas/validation";
import type { EngineEvent } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { jsonBytes, STATE_PAYLOAD_LIMIT_BYTES } from "#local/runner/quotas";
import { ScaledClock } from "#local/runner/scaled-clock";
import { synthesizedPlan } from "#local/runner/synthesize";
import { DEV_API_KEY, startSimulator } from "#local/simulator/index";
import { pngBase64 } from "#local/simulator/test-support";

const clock = new ScaledClock(0.002);
let pipeline: LocalPipeline;

beforeAll(() => {
  pipeline = new LocalPipeline({ clock, plan: synthesizedPlan() });
});
afterAll(() => pipeline.close());

/** A PNG (1280x720 as far as Kling's rules read it) whose base64 is exactly `characters` long. */
function pngOfBase64Length(characters: number): string {
  const bytes = Buffer.alloc((characters / 4) * 3, 7);
  Buffer.from(pngBase64(1280, 720), "base64").copy(bytes);
  return bytes.toString("base64");
}

/**
 * Every text field at its limit in 3-byte characters, and the inline image taking what is left
 * of the request's 200 KiB (a callbackUrl's bytes count the same as the image's).
 */
function largestRequest(): Record<string, unknown> {
  const fields = { prompt: "中".repeat(2500), negativePrompt: "文".repeat(2500), model: "kling-v2-6", mode: "pro", duration: "10", sound: "off" };
  const withoutImage = validateGenerationRequest({ ...fields, image: pngOfBase64Length(48) }, { defaultModel: "kling-v2-6", blockedTerms: [] });
  if (!withoutImage.ok) throw new Error(withoutImage.problems.join("; "));
  const rest = MAX_REQUEST_BYTES - jsonBytes(withoutImage.request) + 48;
  return { ...fields, image: pngOfBase64Length(Math.min(MAX_BASE64_IMAGE_BYTES, Math.floor(rest / 4) * 4)) };
}

describe("no state reaches Step Functions' 256 KiB", () => {
  it("the largest request Validate accepts goes through every state to Succeeded", async () => {
    const request = largestRequest();
    const validated = validateGenerationRequest(request, { defaultModel: "kling-v2-6", blockedTerms: [] });
    expect(validated.ok).toBe(true);
    // The largest indeed: within one base64 quantum of the cap.
    if (validated.ok) expect(jsonBytes(validated.request)).toBeGreaterThan(MAX_REQUEST_BYTES - 4);

    const credentials = { apiKey: DEV_API_KEY };
    const simulator = await startSimulator({ scenario: "happy", clock, credentials });
    pipeline.connect(simulator.baseUrl, credentials);
    const largest = new Map<string, number>();
    const onEvent = (event: EngineEvent) => {
      if (!event.stateName) return;
      const bytes = Math.max(jsonBytes(event.input ?? null), jsonBytes(event.output ?? null));
      largest.set(event.stateName, Math.max(largest.get(event.stateName) ?? 0, bytes));
    };
    try {
      const report = await pipeline.runGeneration(request, "largest-request", onEvent);
      expect(report.error).toBeNull();
      expect(report.status).toBe("SUCCEEDED");
      expect([...largest.keys()]).toEqual(expect.arrayContaining(["Validate", "CheckCredits", "WaitForSlot", "Submit", "WaitForVideo", "Archive"]));
      for (const [state, bytes] of largest) {
        expect(bytes, state).toBeLessThanOrEqual(STATE_PAYLOAD_LIMIT_BYTES);
        // Every state carries the whole request.
        expect(bytes, state).toBeGreaterThan(MAX_REQUEST_BYTES);
      }
    } finally {
      await simulator.close();
    }
  });
});
