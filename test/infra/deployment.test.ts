/**
 * What only a deployment on AWS would find: names and permissions AWS checks that the local
 * engine never does.
 */
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Key } from "aws-cdk-lib/aws-kms";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { beforeAll, describe, expect, it } from "vitest";
import { KlingVideoPipeline } from "#lib/index";
import type { CloudFormationTemplate } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

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
    // Beside it, only the requesters' signing secret and the callback secret, whose values the stack generates
    // (test/infra/requester-notifications.test.ts, lib/kling-callbacks.ts).
    const signingSecret = logicalIdOf(stack, present(stack.pipeline.requesterNotifications.createdSecret, "the signing secret"));
    const callbackSecret = logicalIdOf(stack, present(stack.pipeline.callbacks, "the callbacks").secret);
    expect(secrets.map(([id]) => id).sort()).toEqual([logicalIdOf(stack, stack.pipeline.secret), signingSecret, callbackSecret].sort());
    const [, secret] = secrets.find(([id]) => id === logicalIdOf(stack, stack.pipeline.secret)) ?? [];
    expect(secret?.Properties).not.toHaveProperty("GenerateSecretString");
    expect(secret?.Properties).not.toHaveProperty("SecretString");
    expect(secret?.Properties?.Description).toContain('{"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}');
  });
});

describe("a secret the user supplies, encrypted with a customer-managed KMS key", () => {
  const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-credentials-AbCdEf";
  const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  interface Statement {
    readonly Action: string | string[];
    readonly Resource: unknown;
    readonly Condition?: unknown;
  }

  /** The kms:Decrypt statements of a template, by the logical id of each role they are attached to. */
  function decryptGrants(template: Template): Map<string, Statement[]> {
    const grants = new Map<string, Statement[]>();
    for (const policy of Object.values(template.findResources("AWS::IAM::Policy"))) {
      const statements = (policy.Properties.PolicyDocument.Statement as Statement[]).filter((statement) =>
        [statement.Action].flat().some((action) => action.startsWith("kms:")),
      );
      for (const role of policy.Properties.Roles as { Ref: string }[]) {
        grants.set(role.Ref, [...(grants.get(role.Ref) ?? []), ...statements]);
      }
    }
    for (const [role, statements] of grants) if (statements.length === 0) grants.delete(role);
    return grants;
  }

  function readerRoles(stack: Stack, pipeline: KlingVideoPipeline): string[] {
    const klingCallback = pipeline.callbacks ? [pipeline.callbacks.callbackFunction] : [];
    return [pipeline.functions["check-credits"], pipeline.functions.submit, pipeline.functions.poll, pipeline.functions.archive, pipeline.batchFunctions["price-batch"], ...klingCallback]
      .map((fn) => logicalIdOf(stack, fn.role ?? fn))
      .sort();
  }

  /**
   * What AWS documents for GetSecretValue: "If the secret is encrypted using a customer-managed key
   * instead of the AWS managed key aws/secretsmanager, then you also need kms:Decrypt permissions
   * for that key"; Secrets Manager calls KMS on the caller's behalf (kms:ViaService) with the
   * secret's ARN as encryption context (as AWSSecretsManagerClientReadOnlyAccess conditions it).
   */
  const expectedGrant = (secretArn: unknown, keyArn: unknown) => ({
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: keyArn,
    Condition: {
      StringEquals: { "kms:ViaService": { "Fn::Join": ["", ["secretsmanager.", { Ref: "AWS::Region" }, ".amazonaws.com"]] } },
      StringLike: { "kms:EncryptionContext:SecretARN": secretArn },
    },
  });

  it("given as a key ARN in the typed config: kms:Decrypt on that key for exactly the functions that read the secret", () => {
    const { stack, template } = synthesizePipeline({ klingSecretArn: SECRET_ARN, klingSecretKmsKeyArn: KEY_ARN });
    const grants = decryptGrants(Template.fromJSON(template));
    expect([...grants.keys()].sort()).toEqual(readerRoles(stack, stack.pipeline));
    for (const statements of grants.values()) expect(statements).toEqual([expectedGrant(SECRET_ARN, KEY_ARN)]);
  });

  it("given as an IKey with the secret, or as the secret's own key: the same grant", () => {
    const app = new App({ context: BUNDLING_OFF });
    const stack = new Stack(app, "Host");
    const key = new Key(stack, "CredentialsKey");
    const keyArn = { "Fn::GetAtt": [logicalIdOf(stack, key), "Arn"] };
    const imported = new KlingVideoPipeline(stack, "Imported", {
      secret: Secret.fromSecretCompleteArn(stack, "ImportedSecret", SECRET_ARN),
      secretEncryptionKey: key,
    });
    const ownKey = new KlingVideoPipeline(stack, "OwnKey", {
      secret: new Secret(stack, "EncryptedSecret", { encryptionKey: key }),
      api: false,
      batchRule: false,
    });
    const grants = decryptGrants(Template.fromStack(stack));
    expect([...grants.keys()].sort()).toEqual([...readerRoles(stack, imported), ...readerRoles(stack, ownKey)].sort());
    for (const role of readerRoles(stack, imported)) expect(grants.get(role)).toEqual([expectedGrant(SECRET_ARN, keyArn)]);
    const ownSecretArn = { Ref: logicalIdOf(stack, ownKey.secret) };
    for (const role of readerRoles(stack, ownKey)) {
      expect(grants.get(role)).toEqual([expectedGrant(ownSecretArn, keyArn)]);
    }
  });

  it("without a customer-managed key, no function may use KMS", () => {
    expect(decryptGrants(Template.fromJSON(deployed.template)).size).toBe(0);
    expect(decryptGrants(twoPipelines).size).toBe(0);
  });

  it("a key without a secret the user supplies is refused, naming the setting", () => {
    expect(() => synthesizePipeline({ klingSecretKmsKeyArn: KEY_ARN })).toThrow(
      /klingSecretKmsKeyArn: the key of a secret you supply; set klingSecretArn \(or pass secret\) too/,
    );
  });
});
