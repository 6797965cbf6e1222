import { App, CfnElement, type Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import type { PipelineConfigInput } from "../../lib/pipeline-config";
import { KlingPipelineStack } from "../../lib/pipeline-stack";
import type { CloudFormationTemplate } from "./definition";

export interface SynthesizedPipeline {
  readonly stack: KlingPipelineStack;
  readonly template: CloudFormationTemplate;
}

/**
 * Builds the pipeline stack in-process, as `cdk synth` does, but without bundling the
 * Lambdas: locally they run from source, so esbuild's work would only cost time.
 */
export function synthesizePipeline(config: PipelineConfigInput = {}): SynthesizedPipeline {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new KlingPipelineStack(app, "KlingPipeline", { config });
  const template = app.synth().getStackByName(stack.stackName).template as CloudFormationTemplate;
  return { stack, template };
}

/** The logical id CloudFormation knows a construct by. */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!(resource instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.resolve(stack.getLogicalId(resource)) as string;
}
