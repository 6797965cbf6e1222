/** KlingVideoPipeline as another CDK app would use it. */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Topic } from "aws-cdk-lib/aws-sns";
import { describe, expect, it } from "vitest";
import { KlingVideoPipeline } from "#lib/index";
import { batchItemsAtOnce } from "#lib/batch-workflow";
import { resolvePipelineConfig } from "#lib/pipeline-config";
import { KlingPipelineStack } from "#lib/pipeline-stack";

describe("the KlingVideoPipeline construct", () => {
  it("can be added twice to one app with different props", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Studio");
    const shared = new Secret(stack, "SharedKlingCredentials");
    const onCall = new Topic(stack, "OnCall");
    const full = new KlingVideoPipeline(stack, "Marketing", {
      secret: shared,
      klingConcurrency: 3,
      blockedTerms: ["gore"],
      alarms: { creditsBelow: 500, unrecoverableFailurePercent: 25 },
      alarmActions: [new SnsAction(onCall)],
    });
    const lean = new KlingVideoPipeline(stack, "Previews", {
      secret: shared,
      api: false,
      batchRule: false,
      defaultModel: "kling-v2-5-turbo",
      pollSchedule: { firstPollShare: 0.9, intervalShare: 0.1, minSeconds: 10, maxSeconds: 45, deadlineSeconds: 900 },
      // The same Kling account: one ledger of its slots and credits for both.
      ledgerTable: full.ledger.table,
    });
    const template = Template.fromStack(stack);

    expect(full.api).toBeDefined();
    expect(full.batchRules).toBeDefined();
    expect(lean.api).toBeUndefined();
    expect(lean.apiFunction).toBeUndefined();
    expect(lean.batchRules).toBeUndefined();
    expect(full.secret).toBe(shared);
    template.resourceCountIs("AWS::StepFunctions::StateMachine", 4);
    template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
    // The batch rule of one, and each one's backstop that releases its ended executions, its scheduled redrive and its ledger's reconciliation schedule.
    template.resourceCountIs("AWS::Events::Rule", 7);
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    expect(lean.ledger.table).toBe(full.ledger.table);
    // The shared Kling credentials, each pipeline's own signing secret for its requesters' notifications, and the
    // callback secret of the one with the API (callbacks are on by default with it).
    template.resourceCountIs("AWS::SecretsManager::Secret", 4);
    expect(full.callbacks).toBeDefined();
    expect(lean.callbacks).toBeUndefined();
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 2);
    // Five each, and one for each dead-letter queue (the requester notifications' and ReleaseSlot's of both, the batch rules' of one); the
    // one given alarmActions notifies its own alarm topic and the on-call topic.
    template.resourceCountIs("AWS::CloudWatch::Alarm", 15);
    template.resourceCountIs("AWS::SNS::Topic", 3);

    const variables = (name: string) =>
      Object.values(template.findResources("AWS::Lambda::Function"))
        .map((fn) => fn.Properties.Environment?.Variables as Record<string, string> | undefined)
        .filter((vars) => vars?.DEFAULT_MODEL !== undefined)
        .map((vars) => vars?.[name]);
    expect(new Set(variables("DEFAULT_MODEL"))).toEqual(new Set(["kling-v2-6", "kling-v2-5-turbo"]));
    const pollSchedules = Object.values(template.findResources("AWS::Lambda::Function"))
      .map((fn) => fn.Properties.Environment?.Variables?.POLL_SCHEDULE as string | undefined)
      .filter((schedule) => schedule !== undefined);
    // Callbacks on: the sparser fallback schedule, with pollSchedule's deadline; off: pollSchedule as given.
    expect(new Set(pollSchedules)).toEqual(
      new Set([
        JSON.stringify({ ...resolvePipelineConfig().callbacks.fallbackPolls, deadlineSeconds: resolvePipelineConfig().pollSchedule.deadlineSeconds }),
        JSON.stringify({ firstPollShare: 0.9, intervalShare: 0.1, minSeconds: 10, maxSeconds: 45, deadlineSeconds: 900 }),
      ]),
    );
    const maps = Object.values(template.findResources("AWS::StepFunctions::StateMachine"))
      .map((machine) => JSON.stringify(machine.Properties.DefinitionString))
      .filter((definition) => definition.includes("MaxConcurrency"));
    // The Maps no longer guard Kling's slots (klingConcurrency 3 and the default 5), the ledger does:
    // each batch runs two rounds of the account's slots at once.
    expect(maps.map((definition) => /\\"MaxConcurrency\\":(\d+)/.exec(definition)?.[1]).sort()).toEqual(["10", "6"]);

    // Each pipeline's Lambdas, dashboard and alarms share a service name of their own.
    expect(new Set(variables("POWERTOOLS_SERVICE_NAME"))).toEqual(new Set(["Studio-Marketing", "Studio-Previews"]));
    const creditAlarms = Object.values(template.findResources("AWS::CloudWatch::Alarm", { Properties: { MetricName: "CreditsRemaining" } }));
    const creditAlarmOf = (service: string) =>
      creditAlarms.find((alarm) => JSON.stringify(alarm.Properties.Dimensions).includes(`"${service}"`))?.Properties;
    expect(creditAlarmOf("Studio-Marketing")).toMatchObject({
      Threshold: 500,
      AlarmActions: [{ Ref: expect.stringMatching(/^MarketingAlarms/) }, { Ref: expect.stringMatching(/^OnCall/) }],
    });
    expect(creditAlarmOf("Studio-Previews")).toMatchObject({ Threshold: 100, AlarmActions: [{ Ref: expect.stringMatching(/^PreviewsAlarms/) }] });
  });

  it("runs a batch's items two rounds of the account's slots at once, never above the 40 an Inline Map runs", () => {
    expect([1, 5, 20, 21, 100].map(batchItemsAtOnce)).toEqual([2, 10, 40, 40, 40]);
  });

  it("reads no context: a host app whose own context uses the same generic names synthesizes the same template", () => {
    const template = (context: Record<string, unknown>) => {
      const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
      const stack = new Stack(app, "Host");
      new KlingVideoPipeline(stack, "Videos");
      return Template.fromStack(stack).toJSON();
    };
    const hostContext = {
      logLevel: "DEBUG",
      serviceName: "billing",
      alarms: { creditsBelow: 1, unrecoverableFailurePercent: 99 },
      defaultModel: "kling-v1",
      klingConcurrency: 40,
      apiAuthorization: "apiKey",
      outcomeEventSource: "billing",
    };
    expect(template(hostContext)).toEqual(template({}));
  });

  it("is configured from context by the project's stack only, `-c key=value` strings parsed as JSON", () => {
    const app = new App({
      context: { "aws:cdk:bundling-stacks": [], logLevel: "DEBUG", alarms: '{"creditsBelow": 7, "unrecoverableFailurePercent": 5}' },
    });
    const stack = new KlingPipelineStack(app, "KlingPipeline", { config: { logLevel: "WARN" } });
    expect(stack.pipeline.config.alarms).toEqual({ creditsBelow: 7, unrecoverableFailurePercent: 5 });
    expect(stack.pipeline.config.logLevel).toBe("WARN");
  });

  it("refuses a queue deadline that the execution timeout would cut short, naming both", () => {
    expect(() => resolvePipelineConfig({ executionTimeoutMinutes: 30, slotQueue: { parkSeconds: 300, deadlineSeconds: 1800 } })).toThrow(
      /executionTimeoutMinutes \(30 min = 1800 s\) is shorter than the longest a generation can take .*slotQueue\.deadlineSeconds/,
    );
  });

  it("refuses callbacks without the API that receives them, and an http callback base URL, naming each", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    expect(() => new KlingVideoPipeline(new Stack(app, "NoApi"), "Videos", { api: false, callbacks: { enabled: true } })).toThrow(
      "callbacks.enabled needs the API (api: true), whose route receives them",
    );
    expect(() => resolvePipelineConfig({ callbacks: { baseUrl: "http://videos.example.com" } })).toThrow(
      "callbacks.baseUrl must be https: the URL carries the callback's capability token",
    );
  });

  it("exposes its state machines, functions and API for the app that adds it", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const pipeline = new KlingVideoPipeline(new Stack(app, "Host"), "Videos");
    expect(Object.keys(pipeline.functions).sort()).toEqual([
      "archive",
      "await-redrive",
      "check-credits",
      "diagnose",
      "poll",
      "release-slot",
      "submit",
      "validate",
      "wait-for-slot",
    ]);
    expect(pipeline.ledger.table.tableName).toEqual(expect.any(String));
    expect(pipeline.generation.stateMachine.stateMachineArn).toEqual(expect.any(String));
    expect(pipeline.batch.stateMachine.stateMachineArn).toEqual(expect.any(String));
    expect(pipeline.api?.restApi.url).toEqual(expect.any(String));
  });
});
