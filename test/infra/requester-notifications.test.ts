/**
 * Requester notifications in the template: NotifyRequester is a second target of the rule on the
 * generation's ended executions, with its retries and dead-letter queue on both legs (EventBridge
 * to Lambda, and Lambda's asynchronous retries of a function error), and the only reader of the
 * signing secret.
 */
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { ENDED_STATUSES } from "#lambdas/release-slot/status-change";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

const { stack, template: json } = synthesizePipeline();
const template = Template.fromJSON(json);
const notifications = stack.pipeline.requesterNotifications;
const notifyId = logicalIdOf(stack, notifications.notifyFunction);
const queueId = logicalIdOf(stack, notifications.deadLetterQueue);
const secretId = logicalIdOf(stack, present(notifications.createdSecret, "the signing secret"));

type Statement = { Action: string | string[]; Resource: unknown };

describe("requester notifications", () => {
  it("are a second target of the rule that releases ended executions, with retries and a dead-letter queue", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ status: [...ENDED_STATUSES] }) }),
      Targets: Match.arrayWith([
        Match.objectLike({ Arn: { "Fn::GetAtt": [logicalIdOf(stack, stack.pipeline.functions["release-slot"]), "Arn"] } }),
        Match.objectLike({
          Arn: { "Fn::GetAtt": [notifyId, "Arn"] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { "Fn::GetAtt": [queueId, "Arn"] } },
        }),
      ]),
    });
  });

  it("retry a function error as often as Lambda's asynchronous invocation allows, then go to the same queue", () => {
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: notifyId },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [queueId, "Arn"] } } },
    });
  });

  it("keep undelivered notifications encrypted for 14 days", () => {
    expect(json.Resources[queueId]?.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it("sign with a generated secret that only NotifyRequester may read", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
    });
    const readers = Object.values(template.findResources("AWS::IAM::Policy")).filter((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).some((statement) => JSON.stringify(statement.Resource).includes(`"${secretId}"`)),
    );
    expect(readers.map((policy) => policy.Properties.Roles)).toEqual([[{ Ref: logicalIdOf(stack, present(notifications.notifyFunction.role, "its role")) }]]);
    const statements = readers.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]).filter((statement) => JSON.stringify(statement.Resource).includes(secretId));
    expect(statements).toEqual([expect.objectContaining({ Action: "secretsmanager:GetSecretValue", Resource: { Ref: secretId } })]);
  });

  it("record deliveries in the ledger table, whose records expire by TTL", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", { TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } });
  });
});
