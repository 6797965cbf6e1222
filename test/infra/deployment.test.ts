/**
 * What only a deployment on AWS would find: names and permissions AWS checks that the local
 * engine never does.
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { KlingVideoPipeline } from "../../lib";

const BUNDLING_OFF = { "aws:cdk:bundling-stacks": [] };

/** Two pipelines in one stack, as a host app may add them. */
let twoPipelines: Template;

beforeAll(() => {
  const app = new App({ context: BUNDLING_OFF });
  const stack = new Stack(app, "Studio");
  new KlingVideoPipeline(stack, "Marketing");
  new KlingVideoPipeline(stack, "Previews", { api: false, batchRule: false });
  twoPipelines = Template.fromStack(stack);
});

describe("the state machines' log groups", () => {
  // AWS: "CloudWatch Logs resource policies are limited to 5120 characters ... To avoid reaching the
  // CloudWatch Logs resource policy size limit, prefix your CloudWatch Logs log group names with
  // /aws/vendedlogs/" (Step Functions developer guide, bp-cwl).
  it("are named under /aws/vendedlogs/states/, each its own, so enabling logging never grows the account's resource policy", () => {
    const machines = Object.values(twoPipelines.findResources("AWS::StepFunctions::StateMachine"));
    expect(machines).toHaveLength(4);
    const logGroups = twoPipelines.findResources("AWS::Logs::LogGroup");
    const names = machines.map((machine) => {
      const destinations = machine.Properties.LoggingConfiguration.Destinations as {
        CloudWatchLogsLogGroup: { LogGroupArn: { "Fn::GetAtt": [string, string] } };
      }[];
      expect(destinations).toHaveLength(1);
      const [logGroupId] = destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn["Fn::GetAtt"] ?? [""];
      return logGroups[logGroupId]?.Properties.LogGroupName as unknown;
    });
    for (const name of names) expect(name).toMatch(/^\/aws\/vendedlogs\/states\/[\w\-/.#]+$/);
    expect(new Set(names).size).toBe(4);
  });
});
