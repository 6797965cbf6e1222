import { App } from "aws-cdk-lib";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import { KlingPipelineStack } from "#lib/pipeline-stack";
import type { CloudFormationTemplate } from "./definition";

export { logicalIdOf } from "#lib/logical-id";

export interface SynthesizedPipeline<Extra> {
  readonly stack: KlingPipelineStack;
  readonly template: CloudFormationTemplate;
  /** What `extend` added to the stack before synthesis. */
  readonly extra: Extra;
}

/**
 * Builds the pipeline stack in-process, as `cdk synth` does, but without bundling the
 * Lambdas: locally they run from source, so esbuild's work would only cost time.
 */
export function synthesizePipeline<Extra = undefined>(
  config: PipelineConfigInput = {},
  /** Adds more constructs to the stack before synthesis (the benchmark's baseline workflows). */
  extend?: (stack: KlingPipelineStack) => Extra,
): SynthesizedPipeline<Extra | undefined> {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new KlingPipelineStack(app, "KlingPipeline", { config });
  const extra = extend?.(stack);
  const template = app.synth().getStackByName(stack.stackName).template as CloudFormationTemplate;
  return { stack, template, extra };
}
