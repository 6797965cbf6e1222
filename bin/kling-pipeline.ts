#!/usr/bin/env node
/** The CDK app: `npm run synth` writes its template to cdk.out; `npx cdk deploy` deploys it. */
import { App } from "aws-cdk-lib";
import { CONFIG_NOT_VALID } from "../lib/pipeline-config";
import { KlingPipelineStack } from "../lib/pipeline-stack";

const app = new App();
try {
  new KlingPipelineStack(app, "KlingPipeline", {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  // A configuration that is not valid is the operator's to fix: its message, not a stack trace.
  if (!(error instanceof Error) || !error.message.startsWith(CONFIG_NOT_VALID)) throw error;
  console.error(error.message);
  process.exit(1);
}
