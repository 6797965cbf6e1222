import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, LayerVersion, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { StringParameter } from "aws-cdk-lib/aws-ssm";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, POWERTOOLS_ENV } from "../lambdas/observability/catalog";
import packageJson from "../package.json" with { type: "json" };

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/**
 * Bundling's root and lock file: this project's in this checkout; installed in an app, the
 * package has no lock file (npm never packs one), so CDK's default, the app's own, applies.
 */
const PROJECT_LOCK_FILE = path.join(PROJECT_ROOT, "package-lock.json");
const BUNDLING_ROOT = existsSync(PROJECT_LOCK_FILE) ? { projectRoot: PROJECT_ROOT, depsLockFilePath: PROJECT_LOCK_FILE } : {};

/**
 * The Powertools version the Lambdas are written and tested against (pinned exactly in
 * package.json): their layer is that version's, never `latest`.
 */
export const POWERTOOLS_VERSION = packageJson.dependencies["@aws-lambda-powertools/logger"];

/** AWS's public SSM parameter holding the ARN of that version's Powertools layer in the deploying region. */
export const POWERTOOLS_LAYER_PARAMETER = `/aws/service/powertools/typescript/generic/all/${POWERTOOLS_VERSION}`;

/** The layer provides these at run time, so esbuild leaves them out of every bundle. */
const LAYER_MODULES = ["@aws-lambda-powertools/*", "aws-xray-sdk-core"];

/** The Lambdas of the generation workflow: each is `lambdas/<name>/handler.ts`. */
export const GENERATION_FUNCTIONS = ["validate", "check-credits", "wait-for-slot", "submit", "poll", "archive", "diagnose", "await-redrive", "release-slot"] as const;
export type GenerationFunctionName = (typeof GENERATION_FUNCTIONS)[number];

function handlerEntry(name: string): string {
  return path.join(PROJECT_ROOT, "lambdas", name, "handler.ts");
}

/** The timeout of a function that sets none. */
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(30);

interface PipelineFunctionProps {
  readonly name: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeout?: Duration;
  /** Default 256 MB. */
  readonly memorySize?: number;
  /** Concurrency reserved for (and the most allowed to) this function; default none reserved. */
  readonly reservedConcurrentExecutions?: number;
  /** The pipeline's Powertools settings, the same for each of its functions. */
  readonly logging: PipelineLogging;
}

export interface PipelineLogging {
  readonly serviceName: string;
  readonly logLevel: string;
}

/**
 * A pipeline Lambda with the settings every one shares: Node.js 22 on arm64, bundled by the
 * local esbuild (minified, source maps, the AWS SDK left to the runtime and Powertools to its
 * layer), Powertools configured by POWERTOOLS_* variables, X-Ray tracing and its own log group. Its role may write to that log group only: no AWSLambdaBasicExecutionRole,
 * whose logs permissions cover every log group of the account.
 */
export class PipelineFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The role's own policy is its log group; the stack's grants (and X-Ray's) go to its DefaultPolicy.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `The ${props.name} Lambda: its log group, X-Ray, and what the stack grants it`,
      inlinePolicies: {
        logs: new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    super(scope, id, {
      entry: handlerEntry(props.name),
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? DEFAULT_FUNCTION_TIMEOUT,
      ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        ...props.environment,
        [POWERTOOLS_ENV.serviceName]: props.logging.serviceName,
        [POWERTOOLS_ENV.metricsNamespace]: METRICS_NAMESPACE,
        [POWERTOOLS_ENV.logLevel]: props.logging.logLevel,
      },
      ...BUNDLING_ROOT,
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.ESM,
        target: "node22",
        externalModules: ["@aws-sdk/*", ...LAYER_MODULES],
        forceDockerBundling: false,
      },
    });
    const layerArn = StringParameter.valueForStringParameter(this, POWERTOOLS_LAYER_PARAMETER);
    this.addLayers(LayerVersion.fromLayerVersionArn(this, "PowertoolsLayer", layerArn));
  }
}
