import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { KlingVideoPipeline } from "./kling-video-pipeline";
import type { PipelineConfigInput } from "./pipeline-config";

interface KlingPipelineStackProps extends StackProps {
  /** Overrides the configuration from context; anything unset takes its default. */
  readonly config?: PipelineConfigInput;
}

/** The project's own deployment: the whole pipeline, API and batch rule included, and its outputs. */
export class KlingPipelineStack extends Stack {
  readonly pipeline: KlingVideoPipeline;

  constructor(scope: Construct, id: string, props: KlingPipelineStackProps = {}) {
    super(scope, id, props);
    const pipeline = new KlingVideoPipeline(this, "Pipeline", props.config);
    this.pipeline = pipeline;

    new CfnOutput(this, "GenerationStateMachineArn", { value: pipeline.generation.stateMachine.stateMachineArn });
    new CfnOutput(this, "BatchStateMachineArn", { value: pipeline.batch.stateMachine.stateMachineArn });
    if (pipeline.api) new CfnOutput(this, "ApiUrl", { value: pipeline.api.restApi.url });
    new CfnOutput(this, "KlingCredentialsSecretArn", { value: pipeline.secret.secretArn });
  }
}
