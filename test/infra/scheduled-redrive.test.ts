/** The scheduled redrive in the template: off by default; configured, a rule, its Lambda and grants scoped to the generation workflow. */
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

type Statement = { Action: string | string[]; Resource: unknown };

describe("the scheduled redrive", () => {
  it("is not there unless configured", () => {
    const { stack, template } = synthesizePipeline();
    expect(stack.pipeline.scheduledRedrive).toBeUndefined();
    expect(JSON.stringify(template)).not.toContain("RedriveExecution");
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
