/**
 * The HTTP API: `POST /generations` and `GET /generations/{id}` on an API Gateway REST API,
 * one Lambda behind both. IAM (SigV4) authorization by default, an API key by configuration;
 * stage throttling, access logs, X-Ray, and a request validator in front of the Lambda.
 */
import { RemovalPolicy, Stack } from "aws-cdk-lib";
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  JsonSchemaVersion,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  RequestValidator,
  ResponseType,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { CALLBACK_ROUTE } from "../lambdas/common/callback-url";

interface Throttling {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

interface GenerationApiProps {
  readonly generation: IStateMachine;
  readonly handler: IFunction;
  readonly authorization: "iam" | "apiKey";
  readonly throttling: Throttling;
  /** With callbacks on: the function behind Kling's callback route, and that route's own throttle. */
  readonly callbacks?: { readonly handler: IFunction; readonly throttling: Throttling } | undefined;
}

/** The stage every route is under. */
const API_STAGE_NAME = "v1";

/** Kling's callback route (lambdas/common/callback-url.ts makes its URLs); the only one without AWS auth. */
const CALLBACK_RESOURCE_PATH = `/${CALLBACK_ROUTE.join("/")}/{externalTaskId}/{token}`;

export class GenerationApi extends Construct {
  readonly restApi: RestApi;
  /** The path of Kling's callback route: the only one without AWS auth. */
  readonly callbackResourcePath = CALLBACK_RESOURCE_PATH;

  // Longer than 60 lines: the REST API's resources and methods declared in path order.
  constructor(scope: Construct, id: string, props: GenerationApiProps) {
    super(scope, id);
    const iam = props.authorization === "iam";
    const accessLogs = new LogGroup(this, "AccessLogs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Execution logs for every method's errors, but never the request and response data: bodies
    // carry prompts, and headers the callers' signatures or API keys. A method's own settings
    // replace the stage's, so the callback route repeats them beside its throttle.
    const methodLogging = { metricsEnabled: true, loggingLevel: MethodLoggingLevel.ERROR, dataTraceEnabled: false };
    this.restApi = new RestApi(this, "RestApi", {
      description: "Starts Kling video generations and reports their outcome",
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      deployOptions: {
        stageName: API_STAGE_NAME,
        throttlingRateLimit: props.throttling.rateLimit,
        throttlingBurstLimit: props.throttling.burstLimit,
        // The unauthenticated route has a throttle of its own: a flood there never starves the others.
        ...(props.callbacks
          ? {
              methodOptions: {
                [`${CALLBACK_RESOURCE_PATH}/POST`]: {
                  ...methodLogging,
                  throttlingRateLimit: props.callbacks.throttling.rateLimit,
                  throttlingBurstLimit: props.callbacks.throttling.burstLimit,
                },
              },
            }
          : {}),
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        tracingEnabled: true,
        ...methodLogging,
      },
      defaultMethodOptions: {
        authorizationType: iam ? AuthorizationType.IAM : AuthorizationType.NONE,
        apiKeyRequired: !iam,
      },
    });

    // The gateway only refuses what is not a JSON object; the Lambda lists every problem of
    // the request itself, with the same rules as the Validate state.
    const validator = new RequestValidator(this, "RequestValidator", {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const requestModel = this.restApi.addModel("GenerationRequest", {
      contentType: "application/json",
      description: "A video request: the Lambda checks its fields against the request schema",
      schema: { schema: JsonSchemaVersion.DRAFT4, title: "GenerationRequest", type: JsonSchemaType.OBJECT },
    });
    this.restApi.addGatewayResponse("BadRequestBody", {
      type: ResponseType.BAD_REQUEST_BODY,
      templates: { "application/json": '{"errors": ["the body must be a JSON object"]}' },
    });

    const integration = new LambdaIntegration(props.handler, { proxy: true });
    const generations = this.restApi.root.addResource("generations");
    generations.addMethod("POST", integration, {
      requestValidator: validator,
      requestModels: { "application/json": requestModel },
      requestParameters: { "method.request.header.Idempotency-Key": false },
    });
    generations.addResource("{id}").addMethod("GET", integration, {
      requestValidator: validator,
      requestParameters: { "method.request.path.id": true },
    });

    if (props.callbacks) this.addCallbackRoute(props.callbacks.handler);

    if (!iam) {
      const plan = this.restApi.addUsagePlan("UsagePlan", {
        throttle: { rateLimit: props.throttling.rateLimit, burstLimit: props.throttling.burstLimit },
        quota: { limit: 10_000, period: Period.DAY },
        apiStages: [{ api: this.restApi, stage: this.restApi.deploymentStage }],
      });
      plan.addApiKey(this.restApi.addApiKey("ApiKey"));
    }

    // Start and describe executions of this one state machine, nothing else.
    props.generation.grantStartExecution(props.handler);
    props.generation.grantExecution(props.handler, "states:DescribeExecution");
  }

  /**
   * `POST /kling/callbacks/{externalTaskId}/{token}`: no AWS auth and no API key, since Kling can
   * present neither; the capability token in the path (and Kling's signature, when configured)
   * is checked by the function, which refuses anything else with 401.
   */
  private addCallbackRoute(handler: IFunction): void {
    let resource = this.restApi.root;
    for (const part of [...CALLBACK_ROUTE, "{externalTaskId}", "{token}"]) resource = resource.addResource(part);
    resource.addMethod("POST", new LambdaIntegration(handler, { proxy: true }), {
      authorizationType: AuthorizationType.NONE,
      apiKeyRequired: false,
    });
  }

  /** The stage's URL made from the REST API's id alone: a function the API's state machine invokes can name it without a cycle. */
  get callbackBaseUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${API_STAGE_NAME}`;
  }
}
