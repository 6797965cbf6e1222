/**
 * Every Lambda bundle, as a real synthesis bundles it with esbuild, stays within the size
 * bound: what a cold start loads (the AWS SDK and Powertools come from the runtime and its layer).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { GENERATION_FUNCTIONS } from "#lib/pipeline-function";
import { type BundleSize, MAX_BUNDLE_KB, measureBundleSizes } from "#local/bench/bundle-sizes";

let bundles: BundleSize[];

beforeAll(() => {
  bundles = measureBundleSizes();
}, 120_000);

describe("the Lambda bundles", () => {
  it("are measured for every function of the generation workflow, the batch workflow, the API, the requester notifications, the ledger's reconciliation and Kling's callbacks", () => {
    const names = bundles.map((bundle) => bundle.name);
    expect(names).toEqual(
      expect.arrayContaining([...GENERATION_FUNCTIONS, "validate-batch", "price-batch", "record-batch-item", "summarize-batch", "api", "notify-requester", "reconcile-ledger", "await-video", "kling-callback"]),
    );
    for (const bundle of bundles) expect(bundle.kilobytes, bundle.name).toBeGreaterThan(10);
  });

  it(`are each at most ${MAX_BUNDLE_KB} KB`, () => {
    for (const bundle of bundles) expect(bundle.kilobytes, bundle.name).toBeLessThanOrEqual(MAX_BUNDLE_KB);
  });
});
