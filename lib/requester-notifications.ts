/**
 * Requester notifications: the NotifyRequester function as a second target of the rule on the
 * generation's ended executions (no state transitions spent), the secret it signs with, and the
 * dead-letter queue of what could not be delivered.
 *
 * EventBridge invokes a Lambda target asynchronously: the target's retry policy and dead-letter
 * queue cover handing the event to Lambda, while a function error (a requester's 5xx, a timeout)
 * is retried by Lambda's own asynchronous invocation settings, at most twice (1 and 2 minutes
 * later, AWS's maximum), then sent to the same queue (AWS Lambda, "How Lambda handles errors and
 * retries with asynchronous invocation").
 */
import { Duration } from "aws-cdk-lib";
import type { Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { ENV } from "../lambdas/common/settings";
import type { AccountLedger } from "./account-ledger";
import { PipelineFunction, type PipelineLogging } from "./pipeline-function";

export interface RequesterNotificationsProps {
  /** The rule on the generation state machine's ended executions (lib/account-ledger.ts). */
  readonly endings: Rule;
  readonly generation: IStateMachine;
  readonly ledger: AccountLedger;
  /** The signing secret the requesters verify with; else one is created with a generated value. */
  readonly secret?: ISecret;
  readonly timeoutMs: number;
  readonly logging: PipelineLogging;
}

function requireSecret(secret: ISecret | undefined): ISecret {
  if (!secret) throw new Error("requester notifications need a signing secret");
  return secret;
}

export class RequesterNotifications extends Construct {
  readonly secret: ISecret;
  /** The secret this construct created, if it did. */
  readonly createdSecret: Secret | undefined;
  readonly notifyFunction: PipelineFunction;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: RequesterNotificationsProps) {
    super(scope, id);
    this.createdSecret = props.secret
      ? undefined
      : new Secret(this, "SigningSecret", {
          description: "Signs the pipeline's notifications to requesters (Standard Webhooks): whsec_ followed by this value is the secret they verify with",
          // 48 characters of the base64 alphabet, no padding: the base64 of 36 random bytes (the spec asks 24 to 64).
          generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false, requireEachIncludedType: false },
        });
    this.secret = this.createdSecret ?? requireSecret(props.secret);
    this.deadLetterQueue = new Queue(this, "DeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.notifyFunction = new PipelineFunction(this, "NotifyRequester", {
      name: "notify-requester",
      description: "Posts an ended generation's outcome to the request's callbackUrl, signed, once per outcome",
      environment: {
        [ENV.requesterWebhookSecretArn]: this.secret.secretArn,
        [ENV.requesterWebhookTimeoutMs]: String(props.timeoutMs),
        ...props.ledger.environment,
      },
      timeout: Duration.millis(props.timeoutMs + 20_000),
      logging: props.logging,
    });
    // Only this function reads the signing secret, and only its value.
    this.notifyFunction.addToRolePolicy(new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.secretArn] }));
    props.ledger.grantNotificationRecords(this.notifyFunction);
    // An event past EventBridge's 248 KB carries no input or output: they are read back.
    props.generation.grantExecution(this.notifyFunction, "states:DescribeExecution");
    this.notifyFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    props.endings.addTarget(
      new LambdaFunction(this.notifyFunction, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: this.deadLetterQueue }),
    );
  }
}
