/**
 * Each setting's default is defined once (lambdas/common/settings.ts): a Lambda whose variable is
 * unset behaves as the stack's default would have configured it.
 */
import { describe, expect, it } from "vitest";
import { creditCacheSeconds, klingConnectionConfig } from "#lambdas/common/config";
import { readValidateConfig } from "#lambdas/validate/config";
import { resolvePipelineConfig } from "#lib/pipeline-config";

const stackDefaults = resolvePipelineConfig();

describe("a Lambda whose setting is unset uses the stack's default", () => {
  it("CheckCredits caches the resource packs answer as long as the stack's creditCacheSeconds", () => {
    expect(creditCacheSeconds({})).toBe(stackDefaults.creditCacheSeconds);
  });

  it("a Kling request's timeout is the stack's klingRequestTimeoutMs", () => {
    expect(klingConnectionConfig({ KLING_BASE_URL: "https://api-singapore.klingai.com" }).timeoutMs).toBe(stackDefaults.klingRequestTimeoutMs);
  });

  it("Validate and the API use the stack's defaultModel and blockedTerms", () => {
    expect(readValidateConfig({})).toEqual({ defaultModel: stackDefaults.defaultModel, blockedTerms: stackDefaults.blockedTerms });
  });
});
