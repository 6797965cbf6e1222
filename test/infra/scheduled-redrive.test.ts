/**
 * The scheduled redrive in the template: on by default (a rule, its Lambda, grants scoped to the
 * generation workflow, and an alarm for what it leaves failed), off with `false`; and every alarm
 * of the pipeline notifies a topic.
 */
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { KlingVideoPipeline } from "#lib/kling-video-pipeline";
import { describe, expect, it } from "vitest";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

type Statement = { Action: string | string[]; Resource: unknown };

describe("the scheduled redrive", () => {
  it("runs by default every 30 minutes over the last 48 hours, redriving an execution at most twice, and sets off an alarm with an action for one left failed", () => {
    const { stack, template: json } = synthesizePipeline();
    const template = Template.fromJSON(json);
    present(stack.pipeline.scheduledRedrive, "the scheduled redrive");
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(30 minutes)",
      Targets: [Match.objectLike({ Input: JSON.stringify({ lookBackHours: 48, maxRedrives: 2 }) })],
    });
    const alarm = present(stack.pipeline.observability.generationsLeftFailedAlarm, "the left-failed alarm");
    const topicId = logicalIdOf(stack, stack.pipeline.alarmTopic);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "GenerationsLeftFailed",
      Namespace: "KlingPipeline",
      Dimensions: [{ Name: "service", Value: "KlingPipeline-Pipeline" }],
      Period: 1800,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
    expect(logicalIdOf(stack, alarm)).toMatch(/GenerationsLeftFailed/);
  });

  it("is off with scheduledRedrive: false, its alarm with it", () => {
    const { stack, template } = synthesizePipeline({ scheduledRedrive: false });
    expect(stack.pipeline.scheduledRedrive).toBeUndefined();
    expect(stack.pipeline.observability.generationsLeftFailedAlarm).toBeUndefined();
    expect(JSON.stringify(template)).not.toContain("RedriveExecution");
    expect(JSON.stringify(template)).not.toContain("GenerationsLeftFailed");
  });

  it("redrives an execution at most twice unless configured otherwise", () => {
    const { template } = synthesizePipeline({ scheduledRedrive: { everyMinutes: 30, lookBackHours: 48 } });
    Template.fromJSON(template).hasResourceProperties("AWS::Events::Rule", {
      Targets: [Match.objectLike({ Input: JSON.stringify({ lookBackHours: 48, maxRedrives: 2 }) })],
    });
  });

  it("runs its Lambda on the configured rate, with the look-back and the most redrives, and may redrive the generation workflow's executions only", () => {
    const { stack, template: json } = synthesizePipeline({ scheduledRedrive: { everyMinutes: 30, lookBackHours: 48 }, maxScheduledRedrives: 3 });
    const template = Template.fromJSON(json);
    const redrive = present(stack.pipeline.scheduledRedrive, "the scheduled redrive");
    const functionId = logicalIdOf(stack, redrive.redriveFunction);
    const generationId = logicalIdOf(stack, stack.pipeline.generation.stateMachine);

    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(30 minutes)",
      Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId, "Arn"] }, Input: JSON.stringify({ lookBackHours: 48, maxRedrives: 3 }) })],
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ GENERATION_STATE_MACHINE_ARN: { Ref: generationId } }) },
    });

    const roleId = logicalIdOf(stack, present(redrive.redriveFunction.role, "the redrive function's role"));
    const statements = Object.values(template.findResources("AWS::IAM::Policy"))
      .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith("states:")));
    expect(statements).toEqual([
      { Action: "states:ListExecutions", Effect: "Allow", Resource: { Ref: generationId } },
      { Action: ["states:DescribeExecution", "states:RedriveExecution"], Effect: "Allow", Resource: expect.anything() },
    ]);
    // arn:...:execution:<the generation state machine's name>:*
    const executions = JSON.stringify(statements[1]?.Resource);
    expect(executions).toContain(`":execution:",{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${generationId}"}]}]},":*"`);
  });
});

describe("every alarm of the pipeline", () => {
  it("notifies the stack's alarm topic (TLS only), whose ARN is a stack output to subscribe to", () => {
    const { stack, template: json } = synthesizePipeline();
    const template = Template.fromJSON(json);
    const topicId = logicalIdOf(stack, stack.pipeline.alarmTopic);
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
    const alarms = Object.entries(template.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    for (const [id, alarm] of alarms) expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    template.hasOutput("AlarmTopicArn", { Value: { Ref: topicId } });
  });

  it("notifies a topic given as a prop instead, and the stack creates none", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Host");
    const topic = new Topic(stack, "OnCall");
    new KlingVideoPipeline(stack, "Videos", { alarmTopic: topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::SNS::Topic", 1);
    const topicId = logicalIdOf(stack, topic);
    for (const [id, alarm] of Object.entries(template.findResources("AWS::CloudWatch::Alarm"))) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
  });
});
