/**
 * Completion by Kling's callback (README, Callbacks): the secret of the callback URLs' capability
 * tokens, the function behind WaitForVideo that records its task token (await-video), and the
 * one behind the API's callback route (kling-callback). Only Submit, which makes the URLs, and
 * kling-callback, which checks them, read the secret.
 */
import type { Duration } from "aws-cdk-lib";
import { Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { CALLBACK_ENV } from "../lambdas/common/settings";
import type { AccountLedger } from "./account-ledger";
import { PipelineFunction, type PipelineLogging } from "./pipeline-function";

export interface KlingCallbacksProps {
  readonly ledger: AccountLedger;
  /** What a function that calls Kling needs in its environment (its URL, secret, timeout). */
  readonly klingEnvironment: Readonly<Record<string, string>>;
  readonly klingCallTimeout: Duration;
  readonly logging: PipelineLogging;
  /** The callback function's reserved concurrency, or false for none (an account whose concurrency quota leaves no room to reserve). */
  readonly reservedConcurrency: number | false;
  /** Kling queries the callbacks of one task may cause a minute. */
  readonly confirmingQueriesPerMinute: number;
}

export class KlingCallbacks extends Construct {
  /**
   * `{"capabilityKey": <generated>}`; an operator adds `"klingSigningSecret": "whsec_..."` when Kling
   * signs its callbacks, and `nextCapabilityKey`, then `previousCapabilityKey` and
   * `previousCapabilityKeyUntil`, while rotating the key (README, Runbook).
   */
  readonly secret: Secret;
  readonly awaitVideo: PipelineFunction;
  readonly callbackFunction: PipelineFunction;
  /** What lets both functions end WaitForVideo (lib/nag-suppressions.ts says why on "*"). */
  readonly taskResponsesPolicy: Policy;

  constructor(scope: Construct, id: string, props: KlingCallbacksProps) {
    super(scope, id);
    const { ledger, logging } = props;
    this.secret = new Secret(this, "Secret", {
      description: 'Kling callbacks: {"capabilityKey": generated, "klingSigningSecret"?: "whsec_..." when Kling signs its callbacks}',
      generateSecretString: { secretStringTemplate: "{}", generateStringKey: "capabilityKey", passwordLength: 64, excludePunctuation: true },
    });
    const secretEnvironment = { [CALLBACK_ENV.secretArn]: this.secret.secretArn };
    this.awaitVideo = new PipelineFunction(scope, "AwaitVideo", {
      name: "await-video",
      description: "Records WaitForVideo's task token in the account ledger for Kling's callback to answer",
      environment: ledger.environment,
      logging,
    });
    this.callbackFunction = new PipelineFunction(scope, "KlingCallback", {
      name: "kling-callback",
      description: "Receives Kling's callbacks: checks them, confirms the task's end with Kling, and ends its WaitForVideo",
      environment: {
        ...props.klingEnvironment,
        ...ledger.environment,
        ...secretEnvironment,
        [CALLBACK_ENV.confirmingQueriesPerMinute]: String(props.confirmingQueriesPerMinute),
      },
      timeout: props.klingCallTimeout,
      // The route takes calls from anyone: a flood of them takes this much of the account's concurrency, no more.
      ...(props.reservedConcurrency === false ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
      logging,
    });
    // Both release the slot of an ended task, hand it to the next waiter and answer WaitForVideo's token: the policy below.
    for (const fn of [this.awaitVideo, this.callbackFunction]) ledger.grantUse(fn);
    this.taskResponsesPolicy = new Policy(this, "VideoWaitResponses", {
      roles: [this.awaitVideo, this.callbackFunction].map((fn) => roleOf(fn)),
      statements: [new PolicyStatement({ actions: ["states:SendTaskSuccess", "states:SendTaskFailure"], resources: ["*"] })],
    });
    this.grantSecretRead(this.callbackFunction);
  }

  /** Submit gives Kling `<baseUrl>/kling/callbacks/...`; Poll, with callbacks on, claims the ends it finds first. */
  sendTo(baseUrl: string, submit: PipelineFunction, poll: PipelineFunction): void {
    for (const fn of [submit, poll]) fn.addEnvironment(CALLBACK_ENV.baseUrl, baseUrl);
    submit.addEnvironment(CALLBACK_ENV.secretArn, this.secret.secretArn);
    this.grantSecretRead(submit);
  }

  private grantSecretRead(fn: PipelineFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.secretArn] }));
  }
}

function roleOf(fn: IFunction) {
  if (!fn.role) throw new Error(`${fn.node.id} needs a role to answer WaitForVideo's token`);
  return fn.role;
}
