/**
 * Each setting's default is defined once (lambdas/common/settings.ts): a Lambda whose variable is
 * unset behaves as the stack's default would have configured it.
 */
import { describe, expect, it } from "vitest";
import { archiveSettings } from "#lambdas/archive/settings";
import { creditCacheSeconds, klingConnectionConfig, videoLinkSeconds } from "#lambdas/common/config";
import { DOWNLOAD_ENV, ENV } from "#lambdas/common/settings";
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

  it("Archive keeps the watermarked copy and gives up a stalled download as the stack's videoArchive says", () => {
    expect(archiveSettings({})).toEqual({
      archiveWatermarked: stackDefaults.videoArchive.archiveWatermarked,
      stallMs: stackDefaults.videoArchive.downloadStallMs,
      downloads: { hosts: stackDefaults.videoArchive.downloadHosts, localHost: undefined, maxBytes: stackDefaults.videoArchive.maxVideoBytes },
    });
  });
});

describe("a Lambda whose setting is set wrong says which variable and why", () => {
  it("Archive refuses a stall limit that is not a positive whole number of ms, and a flag that is not true or false", () => {
    expect(() => archiveSettings({ [ENV.downloadStallMs]: "soon" })).toThrow(`environment variable ${ENV.downloadStallMs} must be a positive whole number of milliseconds`);
    expect(() => archiveSettings({ [ENV.downloadStallMs]: "0" })).toThrow(ENV.downloadStallMs);
    expect(() => archiveSettings({ [ENV.archiveWatermarked]: "yes" })).toThrow(`environment variable ${ENV.archiveWatermarked} must be true or false`);
  });

  it("Archive refuses download hosts that are not host names, a size cap that is not a positive whole number, and a local host with a scheme or port", () => {
    expect(() => archiveSettings({ [DOWNLOAD_ENV.downloadHosts]: '["https://cdn.klingai.com"]' })).toThrow(`environment variable ${DOWNLOAD_ENV.downloadHosts} is not valid: 0: must be a host name in lowercase, or *. and a domain`);
    expect(() => archiveSettings({ [DOWNLOAD_ENV.downloadHosts]: "[]" })).toThrow(DOWNLOAD_ENV.downloadHosts);
    expect(() => archiveSettings({ [DOWNLOAD_ENV.maxVideoBytes]: "1GB" })).toThrow(`environment variable ${DOWNLOAD_ENV.maxVideoBytes} must be a positive whole number of bytes`);
    expect(() => archiveSettings({ [DOWNLOAD_ENV.localVideoHost]: "http://127.0.0.1:4010" })).toThrow(`environment variable ${DOWNLOAD_ENV.localVideoHost} must be a host name or address alone`);
    expect(archiveSettings({ [DOWNLOAD_ENV.downloadHosts]: '["cdn.example.com"]', [DOWNLOAD_ENV.localVideoHost]: "127.0.0.1" }).downloads).toMatchObject({ hosts: ["cdn.example.com"], localHost: "127.0.0.1" });
  });

  it("the API refuses a link lifetime that is not whole seconds within SigV4's 7 days, and uses the stack's default when unset", () => {
    expect(videoLinkSeconds({})).toBe(stackDefaults.videoArchive.linkSeconds);
    for (const bad of ["soon", "0", "604801", "1.5"]) {
      expect(() => videoLinkSeconds({ [ENV.videoLinkSeconds]: bad }), bad).toThrow(`environment variable ${ENV.videoLinkSeconds} must be a whole number of seconds from 1 to 604800`);
    }
  });
});
