/**
 * What keeps the account ledger from leaking a slot for good, in the template: the reconciliation
 * (a schedule, its Lambda, grants scoped to the generation state machine's executions), and a
 * dead-letter queue with an alarm for each target of the rule on ended executions.
 */
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { beforeAll, describe, expect, it } from "vitest";
import { RECONCILIATION_DEFAULTS } from "#lambdas/common/settings";
import { KlingVideoPipeline } from "#lib/kling-video-pipeline";
import { resolvePipelineConfig } from "#lib/pipeline-config";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

type Statement = { Action: string | string[]; Resource: unknown };
type Synthesized = ReturnType<typeof synthesizePipeline>;

function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

describe("the ledger's reconciliation", () => {
  let synthesized: Synthesized;
  let template: Template;
  let functionId: string;
  let generationId: string;
  beforeAll(() => {
    synthesized = synthesizePipeline();
    template = Template.fromJSON(synthesized.template);
    functionId = logicalIdOf(synthesized.stack, synthesized.stack.pipeline.ledgerReconciliation.reconcileFunction);
    generationId = logicalIdOf(synthesized.stack, synthesized.stack.pipeline.generation.stateMachine);
  });

  it("runs by default every 10 minutes, asking about at most 200 executions a run", () => {
    expect(RECONCILIATION_DEFAULTS).toEqual({ everyMinutes: 10, maxExecutionsPerRun: 200 });
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(10 minutes)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId, "Arn"] }, Input: JSON.stringify({ maxExecutions: 200 }) })],
    });
  });

  it("runs on the configured period and bound", () => {
    const { stack, template: json } = synthesizePipeline({ ledgerReconciliation: { everyMinutes: 3, maxExecutionsPerRun: 50 } });
    Template.fromJSON(json).hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(3 minutes)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [logicalIdOf(stack, stack.pipeline.ledgerReconciliation.reconcileFunction), "Arn"] }, Input: JSON.stringify({ maxExecutions: 50 }) })],
    });
  });

  it("refuses a period or a bound that is not a whole number of 1 or more, naming it", () => {
    expect(() => resolvePipelineConfig({ ledgerReconciliation: { everyMinutes: 0, maxExecutionsPerRun: 10 } })).toThrow(/ledgerReconciliation\.everyMinutes: Too small/);
    expect(() => resolvePipelineConfig({ ledgerReconciliation: { everyMinutes: 5, maxExecutionsPerRun: 2.5 } })).toThrow(/ledgerReconciliation\.maxExecutionsPerRun/);
  });

  it("may describe the generation state machine's executions only (arn:...:execution:<its name>:*), never list or change them, and use the ledger", () => {
    const roleId = logicalIdOf(synthesized.stack, present(synthesized.stack.pipeline.ledgerReconciliation.reconcileFunction.role, "its role"));
    const statements = statementsOfRole(template, roleId);
    const states = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith("states:")));
    expect(states.map((statement) => statement.Action)).toEqual(expect.arrayContaining(["states:DescribeExecution", "states:SendTaskSuccess"]));
    const describe = states.find((statement) => statement.Action === "states:DescribeExecution");
    expect(JSON.stringify(describe?.Resource)).toContain(`":execution:",{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${generationId}"}]}]},":*"`);
    expect(states.flatMap((statement) => [statement.Action].flat())).not.toEqual(expect.arrayContaining(["states:ListExecutions"]));
    expect(states.flatMap((statement) => [statement.Action].flat()).some((action) => /Stop|Redrive|Start/.test(action))).toBe(false);
    const ledgerId = logicalIdOf(synthesized.stack, synthesized.stack.pipeline.ledger.table);
    expect(statements.some((statement) => JSON.stringify(statement.Resource).includes(ledgerId))).toBe(true);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ GENERATION_STATE_MACHINE_ARN: { Ref: generationId } }) },
    });
  });
});

describe("the rule on ended executions", () => {
  it("sends what ReleaseSlot and NotifyRequester could not take to a dead-letter queue of each, and each queue has an alarm with the pipeline's alarm actions", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Studio");
    const onCall = new Topic(stack, "OnCall");
    const pipeline = new KlingVideoPipeline(stack, "Videos", { alarmActions: [new SnsAction(onCall)] });
    const template = Template.fromStack(stack);
    const releaseQueue = logicalIdOf(stack, present(pipeline.ledger.releaseDeadLetterQueue, "the release's dead-letter queue"));
    const notifyQueue = logicalIdOf(stack, pipeline.requesterNotifications.deadLetterQueue);
    const releaseFunction = logicalIdOf(stack, pipeline.functions["release-slot"]);
    const notifyFunction = logicalIdOf(stack, pipeline.requesterNotifications.notifyFunction);

    const endings = Object.values(template.findResources("AWS::Events::Rule")).filter((rule) => JSON.stringify(rule.Properties.EventPattern ?? {}).includes("Execution Status Change"));
    expect(endings).toHaveLength(1);
    const targets = endings[0]?.Properties.Targets as { Arn: unknown; DeadLetterConfig?: { Arn: unknown } }[];
    const targetOf = (functionId: string) => targets.find((target) => JSON.stringify(target.Arn).includes(functionId));
    expect(targetOf(releaseFunction)?.DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [releaseQueue, "Arn"] } });
    expect(targetOf(notifyFunction)?.DeadLetterConfig).toEqual({ Arn: { "Fn::GetAtt": [notifyQueue, "Arn"] } });

    // A release EventBridge handed over but that kept failing (Lambda's asynchronous retries) goes there too.
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: releaseFunction },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [releaseQueue, "Arn"] } } },
    });

    for (const queue of [releaseQueue, notifyQueue]) {
      const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).filter((alarm) => JSON.stringify(alarm.Properties.Dimensions ?? []).includes(queue));
      expect(alarms, queue).toHaveLength(1);
      expect(alarms[0]?.Properties).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        AlarmActions: expect.arrayContaining([{ Ref: expect.stringMatching(/^OnCall/) }]),
      });
    }
  });
});
