import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { KlingVideoPipeline } from "./kling-video-pipeline";
import { pipelineConfigFromContext, resolvePipelineConfig, type PipelineConfigInput } from "./pipeline-config";

export interface KlingPipelineStackProps extends StackProps {
  /** Overrides the configuration from CDK context; anything unset in both takes its default. */
  readonly config?: PipelineConfigInput;
}

/**
 * The project's own deployment: the whole pipeline, API and batch rule included, and its outputs.
 * The one place CDK context becomes configuration (`npx cdk deploy -c key=value`).
 */
export class KlingPipelineStack extends Stack {
  readonly pipeline: KlingVideoPipeline;

  constructor(scope: Construct, id: string, props: KlingPipelineStackProps = {}) {
    super(scope, id, props);
    const config = resolvePipelineConfig({ ...pipelineConfigFromContext(this.node), ...props.config });
    const pipeline = new KlingVideoPipeline(this, "Pipeline", config);
    this.pipeline = pipeline;

    new CfnOutput(this, "GenerationStateMachineArn", { value: pipeline.generation.stateMachine.stateMachineArn });
    new CfnOutput(this, "BatchStateMachineArn", { value: pipeline.batch.stateMachine.stateMachineArn });
    if (pipeline.api) new CfnOutput(this, "ApiUrl", { value: pipeline.api.restApi.url });
    new CfnOutput(this, "KlingCredentialsSecretArn", { value: pipeline.secret.secretArn });
    new CfnOutput(this, "AlarmTopicArn", { value: pipeline.alarmTopic.topicArn, description: "Every alarm of the pipeline notifies this topic: subscribe to it" });
  }
}
