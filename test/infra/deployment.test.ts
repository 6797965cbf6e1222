/**
 * What only a deployment on AWS would find: names and permissions AWS checks that the local
 * engine never does.
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { KlingVideoPipeline } from "../../lib";
import type { CloudFormationTemplate } from "../../local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "../../local/runner/synthesize";

const BUNDLING_OFF = { "aws:cdk:bundling-stacks": [] };

/** Two pipelines in one stack, as a host app may add them. */
let twoPipelines: Template;
/** The project's own stack, as `cdk deploy` deploys it. */
let deployed: ReturnType<typeof synthesizePipeline>;

beforeAll(() => {
  deployed = synthesizePipeline();
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

describe("the credentials secret the stack creates", () => {
  it("starts without a value, so nothing in it looks like a credential until an operator puts one there", () => {
    const { stack, template } = deployed;
    const secrets = Object.entries((template as CloudFormationTemplate).Resources).filter(
      ([, resource]) => resource.Type === "AWS::SecretsManager::Secret",
    );
    expect(secrets.map(([id]) => id)).toEqual([logicalIdOf(stack, stack.pipeline.secret)]);
    const [, secret] = secrets[0] ?? [];
    expect(secret?.Properties).not.toHaveProperty("GenerateSecretString");
    expect(secret?.Properties).not.toHaveProperty("SecretString");
    expect(secret?.Properties?.Description).toContain('{"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}');
  });
});
