import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { ENV } from "../lambdas/common/config";
import { BatchRules } from "./batch-rules";
import { BatchWorkflow, type BatchFunctionName } from "./batch-workflow";
import { GenerationApi } from "./generation-api";
import { GenerationWorkflow } from "./generation-workflow";
import { suppressAcceptedFindings } from "./nag-suppressions";
import { resolvePipelineConfig, type PipelineConfig, type PipelineConfigInput } from "./pipeline-config";
import { PipelineFunction, type GenerationFunctionName } from "./pipeline-function";

export interface KlingPipelineStackProps extends StackProps {
  /** Overrides the configuration from context; anything unset takes its default. */
  readonly config?: PipelineConfigInput;
}

export class KlingPipelineStack extends Stack {
  readonly config: PipelineConfig;
  readonly secret: ISecret;
  readonly functions: Readonly<Record<GenerationFunctionName, PipelineFunction>>;
  readonly generation: GenerationWorkflow;
  readonly batchFunctions: Readonly<Record<BatchFunctionName, PipelineFunction>>;
  readonly batch: BatchWorkflow;
  readonly batchRules: BatchRules;
  readonly apiFunction: PipelineFunction;
  readonly api: GenerationApi;

  constructor(scope: Construct, id: string, props: KlingPipelineStackProps = {}) {
    super(scope, id, props);
    const config = resolvePipelineConfig(this.node, props.config);
    this.config = config;

    this.secret = config.klingSecretArn
      ? Secret.fromSecretCompleteArn(this, "KlingCredentials", config.klingSecretArn)
      : new Secret(this, "KlingCredentials", {
          description: 'Kling credentials: {"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}',
        });

    const kling = {
      [ENV.klingBaseUrl]: config.klingBaseUrl,
      [ENV.klingSecretArn]: this.secret.secretArn,
      [ENV.klingRequestTimeoutMs]: String(config.klingRequestTimeoutMs),
    };
    const pollSchedule = { [ENV.pollSchedule]: JSON.stringify(config.pollSchedule) };
    // A Kling call's timeout, twice (a JWT re-sign repeats one), plus room for the rest.
    const klingCallTimeout = Duration.millis(config.klingRequestTimeoutMs * 2 + 10_000);

    this.functions = {
      validate: new PipelineFunction(this, "Validate", {
        name: "validate",
        description: "Validates a video request against the schema, the model's capabilities and the blocked terms",
        environment: {
          [ENV.defaultModel]: config.defaultModel,
          [ENV.blockedTerms]: JSON.stringify(config.blockedTerms),
        },
      }),
      "check-credits": new PipelineFunction(this, "CheckCredits", {
        name: "check-credits",
        description: "Prices a video request and checks the Kling resource packs can pay for it",
        environment: { ...kling, [ENV.creditCacheSeconds]: String(config.creditCacheSeconds) },
        timeout: klingCallTimeout,
      }),
      submit: new PipelineFunction(this, "Submit", {
        name: "submit",
        description: "Creates the Kling task once per execution, finding an earlier attempt's task first",
        environment: { ...kling, ...pollSchedule },
        timeout: Duration.millis(config.klingRequestTimeoutMs * 4 + 10_000),
      }),
      poll: new PipelineFunction(this, "Poll", {
        name: "poll",
        description: "Reads a Kling task's status and decides the wait before the next poll",
        environment: { ...kling, ...pollSchedule },
        timeout: klingCallTimeout,
      }),
      diagnose: new PipelineFunction(this, "Diagnose", {
        name: "diagnose",
        description: "Turns a failed job's error into a recorded diagnosis",
        environment: {},
      }),
    };

    // Only the functions that call Kling read the secret, and only its value.
    for (const fn of [this.functions["check-credits"], this.functions.submit, this.functions.poll]) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.secretArn] }),
      );
    }

    this.generation = new GenerationWorkflow(this, "Generation", {
      functions: this.functions,
      executionTimeout: Duration.minutes(config.executionTimeoutMinutes),
    });

    this.batchFunctions = {
      "validate-batch": new PipelineFunction(this, "ValidateBatch", {
        name: "validate-batch",
        description: "Checks a batch request's id and item count",
        environment: {},
      }),
      "record-batch-item": new PipelineFunction(this, "RecordBatchItem", {
        name: "record-batch-item",
        description: "Turns one batch item's execution into its outcome and event",
        environment: {},
      }),
      "summarize-batch": new PipelineFunction(this, "SummarizeBatch", {
        name: "summarize-batch",
        description: "Counts a batch's outcomes",
        environment: {},
      }),
    };
    this.batch = new BatchWorkflow(this, "Batch", {
      generation: this.generation.stateMachine,
      functions: this.batchFunctions,
      concurrency: config.klingConcurrency,
      outcomeEventSource: config.outcomeEventSource,
    });
    this.batchRules = new BatchRules(this, "BatchRules", {
      batchWorkflow: this.batch.stateMachine,
      requestSource: config.batchRequestSource,
      ...(config.batchSchedule ? { schedule: config.batchSchedule } : {}),
    });

    this.apiFunction = new PipelineFunction(this, "ApiHandler", {
      name: "api",
      description: "The HTTP API: starts generations and reports their outcome",
      environment: {
        [ENV.generationStateMachineArn]: this.generation.stateMachine.stateMachineArn,
        [ENV.defaultModel]: config.defaultModel,
        [ENV.blockedTerms]: JSON.stringify(config.blockedTerms),
      },
    });
    this.api = new GenerationApi(this, "Api", {
      generation: this.generation.stateMachine,
      handler: this.apiFunction,
      authorization: config.apiAuthorization,
      throttling: config.apiThrottling,
    });

    new CfnOutput(this, "GenerationStateMachineArn", { value: this.generation.stateMachine.stateMachineArn });
    new CfnOutput(this, "BatchStateMachineArn", { value: this.batch.stateMachine.stateMachineArn });
    new CfnOutput(this, "ApiUrl", { value: this.api.restApi.url });
    new CfnOutput(this, "KlingCredentialsSecretArn", { value: this.secret.secretArn });

    suppressAcceptedFindings(this);
  }
}
