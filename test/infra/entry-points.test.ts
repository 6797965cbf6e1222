/** The entry points in the synthesized template: the REST API, the batch workflow and its rules. */
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { definitionFromTemplate, type StateMachineDefinition } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

let template: Template;
let ids: { generation: string; batch: string; apiHandler: string; deadLetters: string; batchRole: string; apiRole: string; klingCallback: string };
let batch: StateMachineDefinition;

beforeAll(() => {
  const { stack, template: json } = synthesizePipeline();
  template = Template.fromJSON(json);
  const apiFunction = present(stack.pipeline.apiFunction, "the API's function");
  ids = {
    generation: logicalIdOf(stack, stack.pipeline.generation.stateMachine),
    batch: logicalIdOf(stack, stack.pipeline.batch.stateMachine),
    apiHandler: logicalIdOf(stack, apiFunction),
    deadLetters: logicalIdOf(stack, present(stack.pipeline.batchRules, "the batch rules").deadLetterQueue),
    batchRole: logicalIdOf(stack, stack.pipeline.batch.stateMachine.role),
    apiRole: logicalIdOf(stack, apiFunction.role ?? apiFunction),
    klingCallback: logicalIdOf(stack, present(stack.pipeline.callbacks, "the callbacks").callbackFunction),
  };
  batch = definitionFromTemplate(json, ids.batch);
});

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
function statementsOf(roleId: string): Statement[] {
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statement: Statement) => [statement.Action].flat();

/** The template's methods split into Kling's callback route (its integration invokes KlingCallback) and the others. */
function methodsOf(from: Template, klingCallback: string) {
  const methods = Object.values(from.findResources("AWS::ApiGateway::Method"));
  const isCallback = (method: (typeof methods)[number]) => JSON.stringify(method.Properties.Integration).includes(klingCallback);
  return { callback: methods.filter(isCallback), others: methods.filter((method) => !isCallback(method)) };
}

describe("the HTTP API", () => {
  it("has POST /generations and GET /generations/{id}, both behind IAM authorization and the request validator", () => {
    const { others: methods } = methodsOf(template, ids.klingCallback);
    const routes = methods.map((method) => method.Properties.HttpMethod).sort();
    expect(routes).toEqual(["GET", "POST"]);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: "AWS_IAM",
        ApiKeyRequired: false,
        RequestValidatorId: { Ref: expect.any(String) },
        Integration: { Type: "AWS_PROXY" },
      });
    }
    template.hasResourceProperties("AWS::ApiGateway::RequestValidator", {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "GET",
      RequestParameters: { "method.request.path.id": true },
    });
  });

  it("has Kling's callback route, POST /kling/callbacks/{externalTaskId}/{token}, as the only one without AWS auth or a key, throttled on its own", () => {
    const { callback } = methodsOf(template, ids.klingCallback);
    expect(callback).toHaveLength(1);
    expect(callback[0]?.Properties).toMatchObject({ HttpMethod: "POST", AuthorizationType: "NONE", ApiKeyRequired: false, Integration: { Type: "AWS_PROXY" } });
    const pathParts = Object.values(template.findResources("AWS::ApiGateway::Resource")).map((resource) => resource.Properties.PathPart as string);
    expect(pathParts).toEqual(expect.arrayContaining(["kling", "callbacks", "{externalTaskId}", "{token}"]));
    template.hasResourceProperties("AWS::ApiGateway::Stage", {
      MethodSettings: Match.arrayWith([
        // A method's settings replace the stage's: it keeps their logging and metrics.
        Match.objectLike({
          ResourcePath: "/~1kling~1callbacks~1{externalTaskId}~1{token}",
          HttpMethod: "POST",
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          LoggingLevel: "ERROR",
          MetricsEnabled: true,
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it("has no callback route, and no callback function, with callbacks off", () => {
    const { stack, template: json } = synthesizePipeline({ callbacks: { enabled: false } });
    const off = Template.fromJSON(json);
    expect(stack.pipeline.callbacks).toBeUndefined();
    expect(Object.values(off.findResources("AWS::ApiGateway::Method")).every((method) => method.Properties.AuthorizationType === "AWS_IAM")).toBe(true);
    expect(Object.values(off.findResources("AWS::ApiGateway::Resource")).map((resource) => resource.Properties.PathPart)).not.toContain("kling");
    expect(JSON.stringify(off.findResources("AWS::Lambda::Function"))).not.toContain("KLING_CALLBACK");
  });

  it("throttles the stage, writes access logs and traces", () => {
    template.hasResourceProperties("AWS::ApiGateway::Stage", {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, HttpMethod: "*", ResourcePath: "/*" })]),
      AccessLogSetting: { DestinationArn: { "Fn::GetAtt": [Match.anyValue(), "Arn"] }, Format: Match.stringLikeRegexp("requestId") },
      TracingEnabled: true,
    });
  });

  it("lets the API's Lambda only start and describe executions of the generation state machine, read the ledger's queue, and read the archived videos to sign links", () => {
    const statements = statementsOf(ids.apiRole).filter((s) => actionsOf(s).some((action) => action.startsWith("states:")));
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({ Action: "states:StartExecution", Resource: { Ref: ids.generation } });
    expect(actionsOf(statements[1] as Statement)).toEqual(["states:DescribeExecution"]);
    expect(JSON.stringify(statements[1]?.Resource)).toContain(`:execution:`);
    expect(JSON.stringify(statements[1]?.Resource)).toContain(ids.generation);
    const ledgerStatements = statementsOf(ids.apiRole).filter((s) => actionsOf(s).some((action) => action.startsWith("dynamodb:")));
    expect(ledgerStatements.map(actionsOf)).toEqual([["dynamodb:Query"]]);
    const others = statementsOf(ids.apiRole).flatMap(actionsOf).filter((action) => !action.startsWith("states:") && !action.startsWith("dynamodb:"));
    expect(others.filter((action) => !action.startsWith("xray:"))).toEqual(["s3:GetObject"]);
  });
});

describe("the API in API-key mode", () => {
  it("requires a key on every method but Kling's callback route, and meters it with a usage plan", () => {
    const { stack, template: json } = synthesizePipeline({ apiAuthorization: "apiKey" });
    const apiKeyMode = Template.fromJSON(json);
    const { callback, others } = methodsOf(apiKeyMode, logicalIdOf(stack, present(stack.pipeline.callbacks, "the callbacks").callbackFunction));
    for (const method of others) {
      expect(method.Properties).toMatchObject({ AuthorizationType: "NONE", ApiKeyRequired: true });
    }
    expect(callback.map((method) => method.Properties)).toEqual([expect.objectContaining({ AuthorizationType: "NONE", ApiKeyRequired: false })]);
    apiKeyMode.resourceCountIs("AWS::ApiGateway::UsagePlan", 1);
    apiKeyMode.resourceCountIs("AWS::ApiGateway::ApiKey", 1);
  });
});

describe("the batch rule", () => {
  it("starts the batch workflow for Video Generation Batch Requested events, with retries and a dead-letter queue", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: { source: ["kling-pipeline.requests"], "detail-type": ["Video Generation Batch Requested"] },
      Targets: [
        Match.objectLike({
          Arn: { Ref: ids.batch },
          InputPath: "$.detail",
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { "Fn::GetAtt": [ids.deadLetters, "Arn"] } },
        }),
      ],
    });
    template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
  });

  it("adds a schedule only when one is configured", () => {
    // The schedules by default are the ledger's reconciliation and the scheduled redrive; no batch.
    const schedules = Object.values(template.findResources("AWS::Events::Rule", { Properties: { ScheduleExpression: Match.anyValue() } }));
    expect(schedules.map((rule) => rule.Properties.ScheduleExpression).sort()).toEqual(["rate(10 minutes)", "rate(30 minutes)"]);
    const { template: json } = synthesizePipeline({
      batchSchedule: { expression: "rate(1 day)", batch: { batchId: "daily", items: [{ prompt: "a sunrise" }] } },
    });
    Template.fromJSON(json).hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 day)",
      Targets: [Match.objectLike({ InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"batchId":"daily"') }) })],
    });
  });
});

describe("the batch workflow", () => {
  const state = (name: string) => {
    const found = batch.States[name];
    if (!found) throw new Error(`no state ${name}`);
    return found;
  };
  const item = (name: string) => {
    const processor = state("GenerateEachItem").ItemProcessor as { States: Record<string, Record<string, unknown>> };
    const found = processor.States[name];
    if (!found) throw new Error(`no item state ${name}`);
    return found;
  };

  it("checks the batch's shape, validates, generates each item, summarizes and announces the batch", () => {
    expect(batch.StartAt).toBe("BatchShape?");
    expect(state("BatchShape?").Choices).toEqual([
      expect.objectContaining({ Next: "BatchNotValid" }),
      { Variable: "$.scheduledAt", IsPresent: true, Next: "ValidateBatch" },
    ]);
    expect(state("BatchShape?").Default).toBe("Unscheduled");
    expect(state("Unscheduled").Next).toBe("ValidateBatch");
    expect(state("BatchNotValid")).toMatchObject({ Type: "Fail", Error: "Kling.InvalidRequest" });
    expect(state("ValidateBatch").Next).toBe("PriceBatch");
    expect(state("PriceBatch")).toMatchObject({ Type: "Task", Parameters: { "items.$": "$.items" }, ResultPath: null, Next: "GenerateEachItem" });
    // Too dear: the refusal replaces the items and nothing starts; not priced at all: the items run, each CheckCredits deciding.
    expect(state("PriceBatch").Catch).toEqual([
      { ErrorEquals: ["Kling.InsufficientCredits"], ResultPath: "$.items", Next: "SummarizeNotStarted" },
      { ErrorEquals: ["States.ALL"], ResultPath: null, Next: "GenerateEachItem" },
    ]);
    expect(state("SummarizeNotStarted").Next).toBe("PublishBatchCompleted");
    // PriceBatch asks Kling and the ledger: it retries their passing faults as CheckCredits does,
    // and Lambda's service faults by the declared policy alone (no CDK default retrier before it).
    const generation = definitionFromTemplate(template.toJSON() as Parameters<typeof definitionFromTemplate>[0], ids.generation);
    expect(state("PriceBatch").Retry).toEqual(generation.States.CheckCredits?.Retry);
    for (const name of ["ValidateBatch", "PriceBatch"]) {
      const retriers = state(name).Retry as { ErrorEquals: string[]; JitterStrategy?: string }[];
      expect(retriers.filter((retrier) => retrier.ErrorEquals.includes("Lambda.ServiceException")), name).toHaveLength(1);
      expect(retriers.find((retrier) => retrier.ErrorEquals.includes("Lambda.ServiceException"))?.JitterStrategy, name).toBe("FULL");
    }
    expect(state("GenerateEachItem").Next).toBe("SummarizeBatch");
    expect(state("SummarizeBatch").Next).toBe("PublishBatchCompleted");
    expect(state("PublishBatchCompleted")).toMatchObject({ Resource: "arn:aws:states:::events:putEvents", End: true });
  });

  it("sends the items to no Lambda but PriceBatch: ValidateBatch gets the id, the item count and the schedule time, and its id replaces the one sent", () => {
    expect(state("ValidateBatch")).toMatchObject({
      Parameters: { batch: { "batchId.$": "$.batchId", "itemCount.$": "States.ArrayLength($.items)", "scheduledAt.$": "$.scheduledAt" } },
      ResultPath: "$.batchId",
    });
  });

  it("puts the items' outcomes in place of their requests, so the batch's state never holds both", () => {
    expect(state("GenerateEachItem").ResultPath).toBe("$.items");
    expect(state("SummarizeBatch").Parameters).toMatchObject({ Payload: { "items.$": "$.items" } });
  });

  it("runs two rounds of the account's 5 Kling slots at once (the ledger, not the Map, guards the slots), each named from the batch id and index", () => {
    expect(state("GenerateEachItem")).toMatchObject({
      Type: "Map",
      MaxConcurrency: 10,
      ItemsPath: "$.items",
      ItemSelector: { "executionName.$": "States.Format('batch-{}-{}', $.batchId, $$.Map.Item.Index)" },
    });
  });

  it("starts each item as its own generation execution and waits for it", () => {
    expect(item("StartGeneration")).toMatchObject({
      Resource: "arn:aws:states:::states:startExecution.sync:2",
      Parameters: { StateMachineArn: expect.stringContaining(ids.generation), "Name.$": "$.executionName", "Input.$": "States.JsonMerge($.request, $.startedBy, false)" },
    });
  });

  it("starts each child with the batch's execution id beside the request, under AWS's associate-with-parent key", () => {
    expect((state("GenerateEachItem").ItemSelector as Record<string, unknown>).startedBy).toEqual({ "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id" });
  });

  it("catches each item's own failure, so one bad item never fails the batch", () => {
    expect(item("StartGeneration").Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "RecordItemOutcome" }]);
    expect(item("PublishItemOutcome").Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: "OutcomeUnpublished" }]);
  });

  it("lets the batch start and follow only the generation state machine's executions", () => {
    const statements = statementsOf(ids.batchRole).filter((s) => actionsOf(s).some((action) => action.startsWith("states:")));
    const start = statements.find((s) => actionsOf(s).includes("states:StartExecution"));
    expect(start?.Resource).toEqual({ Ref: ids.generation });
    const follow = statements.find((s) => actionsOf(s).includes("states:DescribeExecution"));
    expect(JSON.stringify(follow?.Resource)).toContain(ids.generation);
    const putEvents = statementsOf(ids.batchRole).find((s) => actionsOf(s).includes("events:PutEvents"));
    expect(JSON.stringify(putEvents?.Resource)).toContain("event-bus/default");
  });

  it("is traced and logs errors without the states' data", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      RoleArn: { "Fn::GetAtt": [ids.batchRole, "Arn"] },
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: "ERROR", IncludeExecutionData: false }),
    });
  });
});
