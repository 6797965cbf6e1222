/**
 * The size of each Lambda's bundle, read from the assets a real synthesis writes (esbuild
 * bundling on, as `cdk synth` and `cdk deploy` do): the JavaScript a cold start loads. Source
 * maps are left out: they are only read when an error's stack is printed.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "aws-cdk-lib";
import { logicalIdOf } from "#lib/logical-id";
import { KlingPipelineStack } from "#lib/pipeline-stack";

/** The benchmark's bound: every bundle at most this many KB (1 KB = 1024 bytes). */
export const MAX_BUNDLE_KB = 150;

export interface BundleSize {
  /** The function's folder under lambdas/, e.g. `poll`. */
  readonly name: string;
  readonly kilobytes: number;
}

interface TemplateResource {
  readonly Metadata?: Record<string, unknown>;
}

export function measureBundleSizes(): BundleSize[] {
  const outdir = mkdtempSync(path.join(tmpdir(), "kling-bundles-"));
  try {
    // Asset metadata (each function's asset folder) is written only when asked for, as the CDK CLI does.
    const app = new App({ outdir, context: { "aws:cdk:enable-asset-metadata": true } });
    const stack = new KlingPipelineStack(app, "KlingPipeline");
    const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, TemplateResource> };
    const { pipeline } = stack;
    const functions = {
      ...pipeline.functions,
      ...pipeline.batchFunctions,
      ...(pipeline.apiFunction ? { api: pipeline.apiFunction } : {}),
      "notify-requester": pipeline.requesterNotifications.notifyFunction,
      "reconcile-ledger": pipeline.ledgerReconciliation.reconcileFunction,
      ...(pipeline.callbacks ? { "await-video": pipeline.callbacks.awaitVideo, "kling-callback": pipeline.callbacks.callbackFunction } : {}),
    };
    return Object.entries(functions).map(([name, fn]) => {
      const assetPath = template.Resources[logicalIdOf(stack, fn)]?.Metadata?.["aws:asset:path"];
      if (typeof assetPath !== "string") throw new Error(`the ${name} function has no bundled asset in the template`);
      const folder = path.join(outdir, assetPath);
      const bytes = readdirSync(folder)
        .filter((file) => /\.(m?js|cjs)$/.test(file))
        .reduce((sum, file) => sum + statSync(path.join(folder, file)).size, 0);
      return { name, kilobytes: Math.round((bytes / 1024) * 10) / 10 };
    });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
