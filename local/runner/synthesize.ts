import { App } from "aws-cdk-lib";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import { KlingPipelineStack } from "#lib/pipeline-stack";
import { logicalIdOf } from "#lib/logical-id";
import type { CloudFormationTemplate } from "./definition";
import type { LocalFunctionName } from "./handlers";
import type { LocalPlan } from "./local-plan";
import type { LocalWorkflows } from "./pipeline";

export { logicalIdOf };

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

/**
 * The local pipeline's plan of a freshly synthesized stack: its template, and which resource each
 * local function and state machine is. With `workflows`, the state machines they add run instead
 * of the pipeline's own (the benchmark's baseline).
 */
export function synthesizedPlan(config: PipelineConfigInput = {}, workflows?: (stack: KlingPipelineStack) => LocalWorkflows): LocalPlan {
  const { stack, template, extra } = synthesizePipeline(config, workflows);
  const { pipeline } = stack;
  const run = extra ?? { generation: pipeline.generation.stateMachine, batch: pipeline.batch.stateMachine };
  const functions = {
    ...pipeline.functions,
    ...pipeline.batchFunctions,
    "notify-requester": pipeline.requesterNotifications.notifyFunction,
    "reconcile-ledger": pipeline.ledgerReconciliation.reconcileFunction,
    ...(pipeline.callbacks ? { "await-video": pipeline.callbacks.awaitVideo } : {}),
  };
  return {
    template,
    functionIds: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, logicalIdOf(stack, fn)])) as Partial<Record<LocalFunctionName, string>>,
    ...(pipeline.callbacks ? { callbackFunctionId: logicalIdOf(stack, pipeline.callbacks.callbackFunction) } : {}),
    generationStateMachineId: logicalIdOf(stack, run.generation),
    batchStateMachineId: logicalIdOf(stack, run.batch),
    batchRequestSource: pipeline.config.batchRequestSource,
    videoLinkSeconds: pipeline.config.videoArchive.linkSeconds,
  };
}
