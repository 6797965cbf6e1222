import { afterEach, describe, expect, it, vi } from "vitest";
import { STARTED_BY_KEY } from "#lambdas/batch/batch";
import type { KlingError } from "#lambdas/errors/index";
import { readValidateConfig } from "#lambdas/validate/config";

/** Each test loads the handler afresh with its own environment. */
async function loadHandler(env: Record<string, string> = {}) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const { handler } = await import("#lambdas/validate/handler");
  // The same module graph as the handler's, so instanceof compares the same class.
  const { KlingError: FreshKlingError } = await import("#lambdas/errors/index");
  const failureOf = async (event: unknown): Promise<KlingError> => {
    const error: unknown = await handler(event).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (!(error instanceof FreshKlingError)) throw new Error(`expected a KlingError, got ${String(error)}`);
    return error;
  };
  return { handler, failureOf };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the Validate handler", () => {
  it("hands on the job id, the normalized request and the kind of task", async () => {
    const { handler } = await loadHandler({ DEFAULT_MODEL: "", BLOCKED_TERMS: "" });
    await expect(handler({ jobId: "job-1", request: { prompt: "a cat", duration: 10 } })).resolves.toEqual({
      jobId: "job-1",
      request: { prompt: "a cat", model: "kling-v2-6", mode: "std", duration: "10", aspectRatio: "16:9" },
      kind: "text2video",
    });
    await expect(handler({ jobId: "job-2", request: { image: "https://images.example.com/a.png" } })).resolves.toMatchObject({
      jobId: "job-2",
      kind: "image2video",
    });
  });

  it("resumed by a redrive, validates the request and not the failure and diagnosis the workflow put beside it", async () => {
    const { handler, failureOf } = await loadHandler({ DEFAULT_MODEL: "", BLOCKED_TERMS: "" });
    const resumedState = { prompt: "a cat", failure: {}, diagnosis: { errorCode: "Sandbox.Timedout", failedState: "Validate" } };
    await expect(handler({ jobId: "job-1", request: resumedState, redriveCount: 1 })).resolves.toMatchObject({ request: { prompt: "a cat" } });
    // A first attempt sets no failure field aside: such a field in a request is refused by name.
    expect((await failureOf({ jobId: "job-1", request: resumedState })).klingMessage).toMatch(/failure is not a known field/);
  });

  it("started by a batch, validates the request and not the batch's started-by key beside it, on a first attempt and a redrive", async () => {
    const { handler } = await loadHandler({ DEFAULT_MODEL: "", BLOCKED_TERMS: "" });
    const fromBatch = { prompt: "a cat", [STARTED_BY_KEY]: "arn:aws:states:us-east-1:123456789012:execution:batch:b-1" };
    await expect(handler({ jobId: "job-1", request: fromBatch })).resolves.toMatchObject({ request: { prompt: "a cat" } });
    await expect(handler({ jobId: "job-1", request: { ...fromBatch, failure: {} }, redriveCount: 1 })).resolves.toMatchObject({ request: { prompt: "a cat" } });
  });

  it("uses DEFAULT_MODEL when the request names no model", async () => {
    const { handler } = await loadHandler({ DEFAULT_MODEL: "kling-v1-6" });
    await expect(handler({ jobId: "job-1", request: { prompt: "a cat" } })).resolves.toMatchObject({ request: { model: "kling-v1-6" } });
  });

  it("fails with Kling.InvalidRequest listing every problem", async () => {
    const { failureOf } = await loadHandler();
    const error = await failureOf({ jobId: "job-1", request: { prompt: "", cfgScale: 0.5, colour: "red" } });
    expect(error.name).toBe("Kling.InvalidRequest");
    expect(error.klingMessage).toBe("colour is not a known field; prompt must not be blank; cfgScale is not accepted by kling-v2-6");
    expect(error.retriedByStateMachine).toBe(false);
  });

  it("fails with Kling.ContentPolicy when a BLOCKED_TERMS term is in the prompt, even beside other problems", async () => {
    const { failureOf } = await loadHandler({ BLOCKED_TERMS: JSON.stringify(["gore", "bad thing"]) });
    const error = await failureOf({ jobId: "job-1", request: { prompt: "a Bad thing", duration: "7" } });
    expect(error.name).toBe("Kling.ContentPolicy");
    expect(error.klingMessage).toBe('duration must be one of "5", "10" for kling-v2-6; prompt contains the blocked term "bad thing"');
  });

  it("fails with Kling.InvalidRequest on an event of the wrong shape", async () => {
    const { failureOf } = await loadHandler();
    for (const event of [null, {}, { jobId: "job-1" }, { jobId: "", request: { prompt: "a cat" } }, { jobId: 7, request: { prompt: "a cat" } }]) {
      expect((await failureOf(event)).name).toBe("Kling.InvalidRequest");
    }
    const nullRequest = await failureOf({ jobId: "job-1", request: null });
    expect(nullRequest.klingMessage).toBe("the request must be a JSON object");
  });

  it("refuses to validate with a bad configuration, and names the variable", async () => {
    const badTerms = await loadHandler({ BLOCKED_TERMS: "gore, blood" });
    await expect(badTerms.handler({ jobId: "job-1", request: { prompt: "a cat" } })).rejects.toThrow("BLOCKED_TERMS");
    vi.unstubAllEnvs();
    const badModel = await loadHandler({ DEFAULT_MODEL: "kling-v9" });
    await expect(badModel.handler({ jobId: "job-1", request: { prompt: "a cat" } })).rejects.toThrow("DEFAULT_MODEL");
  });

  it("validates with the configuration of the moment, as a process hosting several pipelines needs", async () => {
    const { failureOf } = await loadHandler({ BLOCKED_TERMS: '["gore"]' });
    expect((await failureOf({ jobId: "job-1", request: { prompt: "gore" } })).name).toBe("Kling.ContentPolicy");
    vi.stubEnv("BLOCKED_TERMS", '["blood"]');
    expect((await failureOf({ jobId: "job-2", request: { prompt: "blood" } })).name).toBe("Kling.ContentPolicy");
  });
});

describe("the Validate configuration", () => {
  it("defaults to kling-v2-6 and no blocked terms", () => {
    expect(readValidateConfig({})).toEqual({ defaultModel: "kling-v2-6", blockedTerms: [] });
  });

  it("reads DEFAULT_MODEL and BLOCKED_TERMS", () => {
    expect(readValidateConfig({ DEFAULT_MODEL: "kling-v1", BLOCKED_TERMS: '["gore", " a phrase "]' })).toEqual({
      defaultModel: "kling-v1",
      blockedTerms: ["gore", "a phrase"],
    });
  });

  it("refuses an unknown DEFAULT_MODEL", () => {
    expect(() => readValidateConfig({ DEFAULT_MODEL: "kling-v2.6" })).toThrow(
      'environment variable DEFAULT_MODEL must be one of kling-v1, kling-v1-5, kling-v1-6, kling-v2-master, kling-v2-1, kling-v2-1-master, kling-v2-5-turbo, kling-v2-6, kling-v3, kling-2.5-turbo, kling-2.6, kling-3.0, kling-3.0-turbo (got "kling-v2.6")',
    );
  });

  it("refuses BLOCKED_TERMS that is not a JSON array of non-blank strings", () => {
    const problem = 'environment variable BLOCKED_TERMS must be a JSON array of non-blank strings, like ["term", "a phrase"]';
    for (const value of ["gore", '"gore"', '{"terms": ["gore"]}', "[1]", '["gore", "  "]']) {
      expect(() => readValidateConfig({ BLOCKED_TERMS: value })).toThrow(problem);
    }
  });
});
