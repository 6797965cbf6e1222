/**
 * The unauthenticated callback route's bounds in the template: the callback function's reserved
 * concurrency (what a flood of calls can take of the account's Lambda concurrency) and its
 * per-task limit of confirming queries, both from the typed configuration.
 */
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CALLBACK_DEFAULTS, CALLBACK_ENV } from "#lambdas/common/settings";
import { resolvePipelineConfig } from "#lib/pipeline-config";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

function callbackFunctionOf(config: Parameters<typeof synthesizePipeline>[0]) {
  const { stack, template } = synthesizePipeline(config);
  const id = logicalIdOf(stack, present(stack.pipeline.callbacks, "the callbacks").callbackFunction);
  return Template.fromJSON(template).findResources("AWS::Lambda::Function")[id]?.Properties as Record<string, unknown>;
}

describe("the callback function", () => {
  it("has 10 executions reserved by default, and 4 confirming queries a task a minute", () => {
    expect(CALLBACK_DEFAULTS).toMatchObject({ reservedConcurrency: 10, confirmingQueriesPerMinute: 4 });
    const fn = callbackFunctionOf(undefined);
    expect(fn.ReservedConcurrentExecutions).toBe(10);
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables[CALLBACK_ENV.confirmingQueriesPerMinute]).toBe("4");
  });

  it("takes the configured reservation and limit, or no reservation with false", () => {
    const fn = callbackFunctionOf({ callbacks: { reservedConcurrency: 3, confirmingQueriesPerMinute: 2 } });
    expect(fn.ReservedConcurrentExecutions).toBe(3);
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables[CALLBACK_ENV.confirmingQueriesPerMinute]).toBe("2");
    expect(callbackFunctionOf({ callbacks: { reservedConcurrency: false } }).ReservedConcurrentExecutions).toBeUndefined();
  });

  it("refuses a reservation of 0 (which would stop the function) or a limit of 0, naming the setting", () => {
    expect(() => resolvePipelineConfig({ callbacks: { reservedConcurrency: 0 } })).toThrow(/callbacks\.reservedConcurrency/);
    expect(() => resolvePipelineConfig({ callbacks: { confirmingQueriesPerMinute: 0 } })).toThrow(/callbacks\.confirmingQueriesPerMinute/);
  });
});
