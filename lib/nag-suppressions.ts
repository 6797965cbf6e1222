/**
 * The cdk-nag (AwsSolutions) findings this stack accepts, each on the one resource it concerns
 * and with the reason it is acceptable there. Everything else is fixed in the constructs, and
 * test/infra/security.test.ts fails on any finding not listed here. cdk-nag v3 reads these
 * acknowledgements from construct metadata (`Validations.of(...).acknowledge`), which replaced
 * v2's `NagSuppressions`. Nothing is acknowledged on the stack as a whole.
 */
import { Stack, Validations } from "aws-cdk-lib";
import type { IRole } from "aws-cdk-lib/aws-iam";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { IConstruct } from "constructs";
import { ARCHIVE_PREFIXES } from "../lambdas/common/video-bucket";
import { logicalIdOf } from "./logical-id";
import type { PipelineFunction } from "./pipeline-function";
import type { KlingVideoPipeline } from "./kling-video-pipeline";

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/** The AWS::IAM::Policy CDK writes a role's grants into. */
function defaultPolicyOf(role: IRole | undefined, owner: string): IConstruct {
  const policy = role?.node.tryFindChild("DefaultPolicy");
  if (!policy) throw new Error(`${owner} has no role policy to acknowledge findings on`);
  return policy;
}

/** How cdk-nag names the wildcard of `arn:...:execution:<state machine name>` plus `suffix`. */
function executionWildcard(stack: Stack, stateMachine: StateMachine, suffix: "*" | ":*"): string {
  const name = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalIdOf(stack, stateMachine)}"}]}]}`;
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}${suffix}]`;
}

// Longer than 60 lines: a flat list of accepted findings, each with its reason beside it.
export function suppressAcceptedFindings(pipeline: KlingVideoPipeline): void {
  const stack = Stack.of(pipeline);
  const functions: PipelineFunction[] = [
    ...Object.values(pipeline.functions),
    ...Object.values(pipeline.batchFunctions),
    ...(pipeline.apiFunction ? [pipeline.apiFunction] : []),
    ...(pipeline.scheduledRedrive ? [pipeline.scheduledRedrive.redriveFunction] : []),
    pipeline.requesterNotifications.notifyFunction,
    pipeline.ledgerReconciliation.reconcileFunction,
    ...(pipeline.callbacks ? [pipeline.callbacks.awaitVideo, pipeline.callbacks.callbackFunction] : []),
  ];

  if (pipeline.secret instanceof Secret) {
    acknowledge(
      pipeline.secret,
      "AwsSolutions-SMG4",
      "KlingCredentials holds Kling's API key (or access/secret key pair), issued in Kling's console: Secrets " +
        "Manager cannot create a new one, so a rotation Lambda has nothing to rotate to. Rotate it in Kling's " +
        "console and put the new value in the secret: new Lambda containers read it, with no redeploy.",
    );
  }

  for (const fn of functions) {
    const name = fn.node.id;
    acknowledge(
      fn,
      "AwsSolutions-L1",
      `${name} runs on nodejs22.x on purpose: the project targets Node.js 22 throughout (engines, @types/node, ` +
        "esbuild's node22 target, the local runner), and nodejs22.x is a supported Lambda runtime. Moving to a " +
        "newer runtime is a project-wide upgrade, not a per-function setting.",
    );
    acknowledge(
      defaultPolicyOf(fn.role, name),
      "AwsSolutions-IAM5[Resource::*]",
      `The only '*' in ${name}'s role policy is xray:PutTraceSegments and xray:PutTelemetryRecords, added by ` +
        "Tracing.ACTIVE: X-Ray has no resource-level permissions for them, so AWS only grants them on '*'. " +
        "Its logs permissions name its own log group, and every other grant names its resource.",
    );
  }

  if (pipeline.config.executionLogs.level !== "ALL") {
    for (const stateMachine of [pipeline.generation.stateMachine, pipeline.batch.stateMachine]) {
      acknowledge(
        stateMachine,
        "AwsSolutions-SF1",
        `${stateMachine.node.scope?.node.id} logs ${pipeline.config.executionLogs.level}, not ALL, on purpose (executionLogs): an ALL log records every ` +
          "state transition, and with execution data every request's prompt, images and callback URL and every task token. " +
          "The execution history keeps each transition for 90 days, X-Ray traces each state, and executionLogs turns ALL back on.",
      );
    }
  }

  const stateMachines = [
    {
      stateMachine: pipeline.generation.stateMachine,
      invokes: [...Object.values(pipeline.functions), ...(pipeline.callbacks ? [pipeline.callbacks.awaitVideo] : [])],
    },
    { stateMachine: pipeline.batch.stateMachine, invokes: Object.values(pipeline.batchFunctions) },
  ];
  for (const { stateMachine, invokes } of stateMachines) {
    const owner = stateMachine.node.scope?.node.id ?? stateMachine.node.path;
    const policy = defaultPolicyOf(stateMachine.role, `the ${owner} state machine`);
    acknowledge(
      policy,
      "AwsSolutions-IAM5[Resource::*]",
      `The '*' in the ${owner} state machine's role policy covers only actions AWS grants on '*' alone: ` +
        "X-Ray's PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets (tracingEnabled), " +
        "and the CloudWatch Logs vended-delivery actions (logs:*LogDelivery*, PutResourcePolicy, " +
        "DescribeResourcePolicies, DescribeLogGroups) Step Functions needs to log to its execution log group.",
    );
    for (const fn of invokes) {
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, fn)}.Arn>:*]`,
        `The ${owner} state machine may invoke ${fn.node.id} and that one function's versions and aliases ` +
          "(`<arn>:*`), as CDK's LambdaInvoke grants it: the wildcard is a qualifier of this function, no other.",
      );
    }
  }

  acknowledge(
    pipeline.generation.taskResponsesPolicy,
    "AwsSolutions-IAM5[Resource::*]",
    "The AwaitRedrive function answers its task token with states:SendTaskSuccess or SendTaskFailure, " +
      "which have no resource-level permissions: AWS only grants them on '*'. The call is authorized by the " +
      "task token, which only that Task's invocation receives; the policy grants nothing else.",
  );

  if (pipeline.callbacks) {
    acknowledge(
      pipeline.callbacks.taskResponsesPolicy,
      "AwsSolutions-IAM5[Resource::*]",
      "AwaitVideo and KlingCallback end WaitForVideo's task token (and hand a released slot to the oldest waiter) " +
        "with states:SendTaskSuccess or SendTaskFailure, which have no resource-level permissions: AWS only grants " +
        "them on '*'. The call is authorized by the task token, which only a WaitForVideo invocation records.",
    );
    acknowledge(
      pipeline.callbacks.secret,
      "AwsSolutions-SMG4",
      "The callback secret's capabilityKey signs the callback URLs of the Kling tasks in flight, which Kling " +
        "holds: a rotation must overlap old and new keys (nextCapabilityKey, then previousCapabilityKey until " +
        "the last old URL expires), which is a procedure in the README's runbook, not a Lambda Secrets Manager " +
        "could run alone; klingSigningSecret is Kling's, rotated in Kling's console.",
    );
  }

  const { videoArchive } = pipeline;
  const bucketObjects = (prefix: string) => `AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, videoArchive.bucket)}.Arn>/${prefix}*]`;
  if (videoArchive.createdBucket) {
    acknowledge(
      videoArchive.createdBucket,
      "AwsSolutions-S1",
      "The video bucket's requests are few and made by the pipeline's own roles (Archive writes each video once, " +
        "the API signs links); CloudTrail data events record them if an account wants per-request records. Server " +
        "access logs would need a second bucket of their own for the same facts.",
    );
    acknowledge(
      defaultPolicyOf(pipeline.functions.archive.role, "Archive"),
      bucketObjects(ARCHIVE_PREFIXES.videos),
      "Archive writes each job's video under `videos/<jobId>/`, a key known only at run time: the wildcard is a " +
        "prefix of the pipeline's own video bucket, and the bucket policy refuses writes from every other principal.",
    );
    acknowledge(
      defaultPolicyOf(pipeline.functions.archive.role, "Archive"),
      bucketObjects(ARCHIVE_PREFIXES.incoming),
      "Archive streams each download to `incoming/<jobId>/` before checking it, and deletes it after the copy: " +
        "keys known only at run time, under a prefix a lifecycle rule empties after a day.",
    );
    if (pipeline.apiFunction) {
      acknowledge(
        defaultPolicyOf(pipeline.apiFunction.role, "ApiHandler"),
        bucketObjects(ARCHIVE_PREFIXES.videos),
        "GET /generations/{id} signs a link to the job's video under `videos/`: s3:GetObject on that prefix only, " +
          "whose keys are known only at run time.",
      );
    }
  }

  const wakeWaiters = pipeline.ledger.taskResponsesPolicy;
  if (wakeWaiters) {
    acknowledge(
      wakeWaiters,
      "AwsSolutions-IAM5[Resource::*]",
      "WaitForSlot, Poll, ReleaseSlot and ReconcileLedger answer the task tokens parked in the account ledger's queue with " +
        "states:SendTaskSuccess, which has no resource-level permissions: AWS only grants it on '*'. The call is " +
        "authorized by the task token, which only a parked WaitForSlot hands over; the policy grants nothing else.",
    );
  }

  const generationName = "the generation state machine";
  acknowledge(
    defaultPolicyOf(pipeline.batch.stateMachine.role, "the Batch state machine"),
    executionWildcard(stack, pipeline.generation.stateMachine, "*"),
    `The batch's GenerateEachItem runs each item as an execution of ${generationName} and waits for it ` +
      "(StartExecution .sync): states:DescribeExecution and StopExecution on `execution:<its name>*`, as CDK " +
      "grants them, cover that state machine's executions, whose names are only known at run time.",
  );
  if (pipeline.scheduledRedrive) {
    acknowledge(
      defaultPolicyOf(pipeline.scheduledRedrive.redriveFunction.role, "the scheduled redrive"),
      executionWildcard(stack, pipeline.generation.stateMachine, ":*"),
      `The scheduled redrive reads and redrives failed executions of ${generationName}: states:DescribeExecution ` +
        "and RedriveExecution on `execution:<its name>:*` cover that one state machine's executions, whose names " +
        "are only known at run time.",
    );
  }
  const notifications = pipeline.requesterNotifications;
  if (notifications.createdSecret) {
    acknowledge(
      notifications.createdSecret,
      "AwsSolutions-SMG4",
      "SigningSecret is the key requesters verify notifications with: they hold a copy, so a rotation must be " +
        "agreed with them (Standard Webhooks lets a receiver accept the old and the new signature meanwhile). Put " +
        "the new value in the secret when they are ready: warm containers read it again within 5 minutes.",
    );
  }
  acknowledge(
    notifications.deadLetterQueue,
    "AwsSolutions-SQS3",
    "DeadLetters is itself a dead-letter queue: the rule's target (DeadLetterConfig) and NotifyRequester's " +
      "asynchronous invocation (on-failure destination) send undelivered notifications to it, which cdk-nag does " +
      "not recognise. It keeps them 14 days and is encrypted with TLS enforced.",
  );
  acknowledge(
    defaultPolicyOf(notifications.notifyFunction.role, "NotifyRequester"),
    executionWildcard(stack, pipeline.generation.stateMachine, ":*"),
    `NotifyRequester reads back an ended execution of ${generationName} whose event left its input or output out ` +
      "(past EventBridge's 248 KB): states:DescribeExecution on `execution:<its name>:*` covers that one state " +
      "machine's executions, whose names are only known at run time.",
  );
  const releaseDeadLetters = pipeline.ledger.releaseDeadLetterQueue;
  if (releaseDeadLetters) {
    acknowledge(
      releaseDeadLetters,
      "AwsSolutions-SQS3",
      "ReleaseDeadLetters is itself a dead-letter queue: the ended-executions rule's ReleaseSlot target " +
        "(DeadLetterConfig) and ReleaseSlot's asynchronous invocation (on-failure destination) send the releases " +
        "they gave up to it, which cdk-nag does not recognise. It keeps them 14 days and is encrypted with TLS enforced.",
    );
  }
  acknowledge(
    defaultPolicyOf(pipeline.ledgerReconciliation.reconcileFunction.role, "ReconcileLedger"),
    executionWildcard(stack, pipeline.generation.stateMachine, ":*"),
    `ReconcileLedger asks for the status of the executions of ${generationName} the account ledger holds for: ` +
      "states:DescribeExecution on `execution:<its name>:*` covers that one state machine's executions, whose " +
      "names are only known at run time.",
  );
  if (pipeline.batchRules) {
    acknowledge(
      pipeline.batchRules.deadLetterQueue,
    "AwsSolutions-SQS3",
      "DeadLetters is itself a dead-letter queue: the batch rules' EventBridge targets send failed deliveries to " +
        "it (DeadLetterConfig), which cdk-nag does not recognise. A dead-letter queue for it would only move the " +
        "same messages again; it keeps them 14 days and is encrypted with TLS enforced.",
    );
  }

  if (!pipeline.api || !pipeline.apiFunction) return;
  acknowledge(
    defaultPolicyOf(pipeline.apiFunction.role, "ApiHandler"),
    executionWildcard(stack, pipeline.generation.stateMachine, ":*"),
    `GET /generations/{id} reports an execution of ${generationName}: states:DescribeExecution on ` +
      "`execution:<its name>:*` covers that one state machine's executions, whose names are the callers' job ids.",
  );
  const restApi = pipeline.api.restApi;
  const cloudWatchRole = restApi.node.tryFindChild("CloudWatchRole");
  if (!cloudWatchRole) throw new Error("the REST API has no CloudWatch role to acknowledge findings on");
  acknowledge(
    cloudWatchRole,
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "The API's CloudWatch role is the account-level role API Gateway assumes to write the stage's access and " +
      "execution logs; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS maintains for exactly that, and " +
      "API Gateway creates the execution log groups itself, so no narrower resource can be named in advance.",
  );
  acknowledge(
    restApi.deploymentStage,
    "AwsSolutions-APIG3",
    "The v1 stage is a regional API for services and operators, not browsers: every method needs SigV4 (IAM) " +
      "or, when configured, an API key with a usage plan, but Kling's callback route, which a capability token " +
      "in its URL and an optional signature guard instead, under a throttle of its own; the stage throttles " +
      "every method, and the Lambdas validate every body. A WAFv2 web ACL is left to the deploying account, which can associate one with " +
      "the stage without changing this stack.",
  );
  for (const method of restApi.methods) {
    const route = `${method.httpMethod} ${method.resource.path}`;
    if (method.resource.path === pipeline.api.callbackResourcePath) {
      const why =
        `${route} is Kling's callback: Kling can present neither SigV4, an API key nor a Cognito token. Each call is ` +
        "checked by the function instead: the capability token in the path (an HMAC of the task's id and the " +
        "token's expiry under the pipeline's secret) and, when configured, Kling's Standard Webhooks signature; " +
        "anything else gets 401 and changes nothing. The route has its own throttle, the function its reserved " +
        "concurrency and a per-task limit of Kling queries, and it acts only on what Kling confirms by query.";
      acknowledge(method, "AwsSolutions-APIG4", why);
      acknowledge(method, "AwsSolutions-COG4", why);
      continue;
    }
    acknowledge(
      method,
      "AwsSolutions-COG4",
      `${route} is called by services and operators with AWS credentials, not by end users of a Cognito user ` +
        "pool: it is authorized with IAM (SigV4) by default, or with an API key when apiAuthorization is apiKey.",
    );
    if (pipeline.config.apiAuthorization === "apiKey") {
      acknowledge(
        method,
        "AwsSolutions-APIG4",
        `${route} is in API-key mode, chosen by configuration (apiAuthorization: apiKey): a key with a usage ` +
          "plan (throttle and daily quota) is what callers must present. The default mode authorizes with IAM.",
      );
    }
  }
}
