#!/usr/bin/env node
/** The CDK app: `npm run synth` writes its template to cdk.out; `npx cdk deploy` deploys it. */
import { App } from "aws-cdk-lib";
import { KlingPipelineStack } from "../lib/pipeline-stack";

const app = new App();
new KlingPipelineStack(app, "KlingPipeline", {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
