/**
 * Each setting's default is defined once (lambdas/common/settings.ts): a Lambda whose variable is
 * unset behaves as the stack's default would have configured it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { creditCacheSeconds, klingConnectionConfig } from "../../lambdas/common/config";
import { readValidateConfig } from "../../lambdas/validate/config";
import { resolvePipelineConfig } from "../../lib/pipeline-config";

const stackDefaults = resolvePipelineConfig();

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a Lambda whose setting is unset uses the stack's default", () => {
  it("CheckCredits caches the resource packs answer as long as the stack's creditCacheSeconds", () => {
    vi.stubEnv("CREDIT_CACHE_SECONDS", undefined);
    expect(creditCacheSeconds()).toBe(stackDefaults.creditCacheSeconds);
  });

  it("a Kling request's timeout is the stack's klingRequestTimeoutMs", () => {
    vi.stubEnv("KLING_BASE_URL", "https://api-singapore.klingai.com");
    vi.stubEnv("KLING_REQUEST_TIMEOUT_MS", undefined);
    expect(klingConnectionConfig().timeoutMs).toBe(stackDefaults.klingRequestTimeoutMs);
  });

  it("Validate and the API use the stack's defaultModel and blockedTerms", () => {
    expect(readValidateConfig({})).toEqual({ defaultModel: stackDefaults.defaultModel, blockedTerms: stackDefaults.blockedTerms });
  });
});
