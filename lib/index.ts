/** What another CDK app uses: the pipeline construct, its props and its configuration. */
export { KlingVideoPipeline, type KlingVideoPipelineProps } from "./kling-video-pipeline";
export { pipelineConfigSchema, type PipelineConfig, type PipelineConfigInput } from "./pipeline-config";
