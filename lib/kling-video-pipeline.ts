/**
 * The whole pipeline as one construct another CDK app can add: the credentials secret, the
 * Lambdas, the generation and batch workflows, and optionally the HTTP API and the batch
 * rules. The project's own stack (pipeline-stack.ts) is a thin user of it.
 */
import { Duration, Stack } from "aws-cdk-lib";
import type { IAlarmAction } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { type ITopic, Topic } from "aws-cdk-lib/aws-sns";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type IKey, Key } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { type CfnSecret, type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { DOWNLOAD_ENV, ENV } from "../lambdas/common/settings";
import { AccountLedger } from "./account-ledger";
import { BatchRules } from "./batch-rules";
import { BatchWorkflow, batchItemsAtOnce, type BatchFunctionName } from "./batch-workflow";
import { GenerationApi } from "./generation-api";
import { GenerationWorkflow } from "./generation-workflow";
import { KlingCallbacks } from "./kling-callbacks";
import { LedgerReconciliation } from "./ledger-reconciliation";
import { suppressAcceptedFindings } from "./nag-suppressions";
import { resolvePipelineConfig, type PipelineConfig, type PipelineConfigInput } from "./pipeline-config";
import { PipelineFunction, type GenerationFunctionName, type PipelineLogging } from "./pipeline-function";
import { PipelineObservability } from "./pipeline-observability";
import { RequesterNotifications } from "./requester-notifications";
import { ScheduledRedrive } from "./scheduled-redrive";
import { functionTimeouts } from "./time-budget";
import { VideoArchive } from "./video-archive";

export interface KlingVideoPipelineProps extends PipelineConfigInput {
  /** The secret holding the Kling credentials; else `klingSecretArn`; else one is created. */
  readonly secret?: ISecret;
  /**
   * The customer-managed KMS key that encrypts the secret you supply (`secret` or `klingSecretArn`);
   * else `klingSecretKmsKeyArn`; else the `secret`'s own `encryptionKey`, if it has one.
   */
  readonly secretEncryptionKey?: IKey;
  /** The HTTP API (POST and GET /generations). Default: on. */
  readonly api?: boolean;
  /** The EventBridge rule (and schedule, if configured) that starts batches. Default: on. */
  readonly batchRule?: boolean;
  /** The SNS topic every alarm of the pipeline notifies; else one is created (subscribe to it: the stack's `AlarmTopicArn` output). */
  readonly alarmTopic?: ITopic;
  /** What each of the pipeline's alarms does when it goes off, besides notifying the alarm topic. Default: nothing more. */
  readonly alarmActions?: readonly IAlarmAction[];
  /** The bucket Archive keeps the videos in; else one is created (lib/video-archive.ts). */
  readonly videoBucket?: IBucket;
  /**
   * The account ledger's table, made by another pipeline on the same Kling account: the two then
   * share its slots and credits. Default: the pipeline makes its own.
   */
  readonly ledgerTable?: ITable;
  /** The secret requesters verify notifications with; else `requesterWebhookSecretArn`; else one is created. */
  readonly requesterWebhookSecret?: ISecret;
}

export class KlingVideoPipeline extends Construct {
  readonly config: PipelineConfig;
  readonly secret: ISecret;
  readonly functions: Readonly<Record<GenerationFunctionName, PipelineFunction>>;
  readonly generation: GenerationWorkflow;
  readonly batchFunctions: Readonly<Record<BatchFunctionName, PipelineFunction>>;
  readonly batch: BatchWorkflow;
  readonly batchRules: BatchRules | undefined;
  readonly apiFunction: PipelineFunction | undefined;
  readonly api: GenerationApi | undefined;
  readonly observability: PipelineObservability;
  readonly ledger: AccountLedger;
  readonly scheduledRedrive: ScheduledRedrive | undefined;
  readonly ledgerReconciliation: LedgerReconciliation;
  readonly videoArchive: VideoArchive;
  /** Completion by Kling's callback: undefined when callbacks are off (polling only). */
  readonly callbacks: KlingCallbacks | undefined;
  readonly requesterNotifications: RequesterNotifications;
  /** The topic every alarm notifies: yours (`alarmTopic`) or the one created. */
  readonly alarmTopic: ITopic;

  // Longer than 60 lines: the construct's wiring, one resource after another, each used by the next; split, its locals would only be passed around.
  constructor(scope: Construct, id: string, props: KlingVideoPipelineProps = {}) {
    super(scope, id);
    const { secret, secretEncryptionKey, api = true, batchRule = true, alarmTopic, alarmActions, videoBucket, ledgerTable, requesterWebhookSecret, ...configInput } =
      props;
    const config = resolvePipelineConfig(configInput);
    this.config = config;

    this.secret = secret ?? this.credentialsSecret(config.klingSecretArn);
    const secretKey = this.customerManagedKey(secretEncryptionKey, config.klingSecretKmsKeyArn, secret !== undefined);

    const kling = {
      [ENV.klingBaseUrl]: config.klingBaseUrl,
      [ENV.klingSecretArn]: this.secret.secretArn,
      [ENV.klingRequestTimeoutMs]: String(config.klingRequestTimeoutMs),
    };
    // Callbacks arrive on the API's route: on by default when it is deployed.
    const callbacksOn = config.callbacks.enabled ?? api;
    if (callbacksOn && !api) throw new Error("kling-pipeline configuration is not valid: callbacks.enabled needs the API (api: true), whose route receives them");
    // With callbacks on, a poll is only the fallback for a lost callback: sparser, with the same deadline.
    const schedule = callbacksOn ? { ...config.callbacks.fallbackPolls, deadlineSeconds: config.pollSchedule.deadlineSeconds } : config.pollSchedule;
    const pollSchedule = { [ENV.pollSchedule]: JSON.stringify(schedule) };
    const timeouts = functionTimeouts(config);
    const klingCallTimeout = timeouts.klingCall;
    this.videoArchive = new VideoArchive(this, "VideoArchive", { bucket: videoBucket, config: config.videoArchive });
    const videoBucketName = { [ENV.videoBucketName]: this.videoArchive.bucket.bucketName };
    const logging: PipelineLogging = {
      serviceName: config.serviceName ?? this.node.path.replaceAll("/", "-"),
      logLevel: config.logLevel,
    };

    this.ledger = new AccountLedger(this, "Ledger", {
      ...(ledgerTable ? { table: ledgerTable } : {}),
      klingConcurrency: config.klingConcurrency,
      slotQueue: config.slotQueue,
    });
    const ledgerEnvironment = this.ledger.environment;

    this.functions = {
      validate: new PipelineFunction(this, "Validate", {
        name: "validate",
        description: "Validates a video request against the schema, the model's capabilities and the blocked terms",
        environment: {
          [ENV.defaultModel]: config.defaultModel,
          [ENV.blockedTerms]: JSON.stringify(config.blockedTerms),
        },
        logging,
      }),
      "check-credits": new PipelineFunction(this, "CheckCredits", {
        name: "check-credits",
        description: "Prices a video request and checks the Kling resource packs can pay for it",
        environment: { ...kling, [ENV.creditCacheSeconds]: String(config.creditCacheSeconds), ...ledgerEnvironment },
        timeout: klingCallTimeout,
        logging,
      }),
      "wait-for-slot": new PipelineFunction(this, "WaitForSlot", {
        name: "wait-for-slot",
        description: "Takes one of the account's Kling slots, or parks the generation in the ledger's queue",
        environment: ledgerEnvironment,
        logging,
      }),
      submit: new PipelineFunction(this, "Submit", {
        name: "submit",
        description: "Creates the Kling task once per execution, finding an earlier attempt's task first",
        environment: { ...kling, ...pollSchedule },
        timeout: timeouts.submit,
        logging,
      }),
      poll: new PipelineFunction(this, "Poll", {
        name: "poll",
        description: "Reads a Kling task's status and decides the wait before the next poll",
        environment: { ...kling, ...pollSchedule, ...ledgerEnvironment },
        timeout: klingCallTimeout,
        logging,
      }),
      archive: new PipelineFunction(this, "Archive", {
        name: "archive",
        description: "Asks Kling for a finished task's video and streams it from Kling's CDN into the video bucket, checked, once",
        environment: {
          ...kling,
          ...videoBucketName,
          [ENV.archiveWatermarked]: String(config.videoArchive.archiveWatermarked),
          [ENV.downloadStallMs]: String(config.videoArchive.downloadStallMs),
          [DOWNLOAD_ENV.downloadHosts]: JSON.stringify(config.videoArchive.downloadHosts),
          [DOWNLOAD_ENV.maxVideoBytes]: String(config.videoArchive.maxVideoBytes),
        },
        timeout: timeouts.archive,
        memorySize: 512,
        logging,
      }),
      diagnose: new PipelineFunction(this, "Diagnose", {
        name: "diagnose",
        description: "Turns a failed job's error into a recorded diagnosis",
        environment: {},
        logging,
      }),
      "await-redrive": new PipelineFunction(this, "AwaitRedrive", {
        name: "await-redrive",
        description: "Fails a recoverable job with its diagnosis through its task token, and resumes it when redriven",
        environment: {},
        logging,
      }),
      "release-slot": new PipelineFunction(this, "ReleaseSlot", {
        name: "release-slot",
        description: "Releases what an ended or failed generation holds in the account ledger and wakes the next waiter",
        environment: ledgerEnvironment,
        logging,
      }),
    };
    this.callbacks = callbacksOn
      ? new KlingCallbacks(this, "Callbacks", {
          ledger: this.ledger,
          klingEnvironment: kling,
          klingCallTimeout,
          logging,
          reservedConcurrency: config.callbacks.reservedConcurrency,
          confirmingQueriesPerMinute: config.callbacks.confirmingQueriesPerMinute,
        })
      : undefined;
    this.ledger.grantUse(this.functions["check-credits"]);
    for (const fn of [this.functions["wait-for-slot"], this.functions.poll, this.functions["release-slot"]]) this.ledger.grantSlotHandOver(fn);

    // Prices a batch before anything starts: reads the packs as CheckCredits does, and the ledger's reservations.
    const priceBatch = new PipelineFunction(this, "PriceBatch", {
      name: "price-batch",
      description: "Prices a batch's items with Validate's rules and holds the total against the resource packs less the ledger's reservations",
      environment: {
        ...kling,
        [ENV.creditCacheSeconds]: String(config.creditCacheSeconds),
        [ENV.defaultModel]: config.defaultModel,
        [ENV.blockedTerms]: JSON.stringify(config.blockedTerms),
        ...ledgerEnvironment,
      },
      timeout: klingCallTimeout,
      logging,
    });
    this.ledger.table.grantReadData(priceBatch);

    // Only the functions that call Kling read the secret, and only its value.
    for (const fn of [this.functions["check-credits"], this.functions.submit, this.functions.poll, this.functions.archive, priceBatch, ...(this.callbacks ? [this.callbacks.callbackFunction] : [])]) {
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.secretArn] }),
      );
      if (secretKey) fn.addToRolePolicy(this.decryptThroughSecretsManager(secretKey));
    }

    const archiveRole = this.functions.archive.role;
    if (!archiveRole) throw new Error("Archive's function needs a role to be granted the video bucket");
    this.videoArchive.grantArchive(archiveRole);

    this.generation = new GenerationWorkflow(this, "Generation", {
      functions: this.functions,
      executionTimeout: Duration.minutes(config.executionTimeoutMinutes),
      slotQueue: config.slotQueue,
      awaitVideo: this.callbacks?.awaitVideo,
      executionLogs: config.executionLogs,
    });
    const endings = this.ledger.releaseOnEveryEnding(this.generation.stateMachine, this.functions["release-slot"]);
    this.ledgerReconciliation = new LedgerReconciliation(this, "LedgerReconciliation", {
      generation: this.generation.stateMachine,
      ledger: this.ledger,
      schedule: config.ledgerReconciliation,
      logging,
    });
    this.requesterNotifications = new RequesterNotifications(this, "RequesterNotifications", {
      endings,
      generation: this.generation.stateMachine,
      ledger: this.ledger,
      secret: requesterWebhookSecret ?? (config.requesterWebhookSecretArn ? Secret.fromSecretCompleteArn(this, "RequesterWebhookSecret", config.requesterWebhookSecretArn) : undefined),
      timeoutMs: config.requesterWebhookTimeoutMs,
      logging,
    });

    this.batchFunctions = {
      "validate-batch": new PipelineFunction(this, "ValidateBatch", {
        name: "validate-batch",
        description: "Checks a batch request's id and item count",
        environment: {},
        logging,
      }),
      "price-batch": priceBatch,
      "record-batch-item": new PipelineFunction(this, "RecordBatchItem", {
        name: "record-batch-item",
        description: "Turns one batch item's execution into its outcome and event",
        environment: {},
        logging,
      }),
      "summarize-batch": new PipelineFunction(this, "SummarizeBatch", {
        name: "summarize-batch",
        description: "Counts a batch's outcomes",
        environment: {},
        logging,
      }),
    };
    this.batch = new BatchWorkflow(this, "Batch", {
      generation: this.generation.stateMachine,
      functions: this.batchFunctions,
      concurrency: batchItemsAtOnce(config.klingConcurrency),
      outcomeEventSource: config.outcomeEventSource,
      executionLogs: config.executionLogs,
    });
    this.batchRules = batchRule
      ? new BatchRules(this, "BatchRules", {
          batchWorkflow: this.batch.stateMachine,
          requestSource: config.batchRequestSource,
          ...(config.batchSchedule ? { schedule: config.batchSchedule } : {}),
        })
      : undefined;

    if (api) {
      const apiFunction = new PipelineFunction(this, "ApiHandler", {
        name: "api",
        description: "The HTTP API: starts generations and reports their outcome",
        environment: {
          [ENV.generationStateMachineArn]: this.generation.stateMachine.stateMachineArn,
          [ENV.defaultModel]: config.defaultModel,
          [ENV.blockedTerms]: JSON.stringify(config.blockedTerms),
          ...videoBucketName,
          [ENV.videoLinkSeconds]: String(config.videoArchive.linkSeconds),
          ...ledgerEnvironment,
        },
        logging,
      });
      this.videoArchive.grantLinks(apiFunction);
      this.ledger.grantQueueRead(apiFunction);
      this.apiFunction = apiFunction;
      this.api = new GenerationApi(this, "Api", {
        generation: this.generation.stateMachine,
        handler: apiFunction,
        authorization: config.apiAuthorization,
        throttling: config.apiThrottling,
        callbacks: this.callbacks ? { handler: this.callbacks.callbackFunction, throttling: config.callbacks.throttling } : undefined,
      });
      this.callbacks?.sendTo(config.callbacks.baseUrl ?? this.api.callbackBaseUrl, this.functions.submit, this.functions.poll);
    }

    this.scheduledRedrive = config.scheduledRedrive
      ? new ScheduledRedrive(this, "ScheduledRedrive", {
          generation: this.generation.stateMachine,
          ...config.scheduledRedrive,
          maxRedrives: config.maxScheduledRedrives,
          logging,
        })
      : undefined;

    // An alarm nobody hears is none: every alarm notifies this topic.
    this.alarmTopic = alarmTopic ?? new Topic(this, "Alarms", { displayName: "kling-pipeline alarms", enforceSSL: true });
    this.observability = new PipelineObservability(this, "Observability", {
      serviceName: logging.serviceName,
      generation: this.generation.stateMachine,
      batch: this.batch.stateMachine,
      alarms: config.alarms,
      // Half the queue deadline: time to act before waits start failing as Kling.QueueTimeout.
      oldestWaiterAlarmSeconds: Math.round(config.slotQueue.deadlineSeconds / 2),
      slotCeiling: config.klingConcurrency,
      alarmActions: [new SnsAction(this.alarmTopic), ...(alarmActions ?? [])],
      ...(config.scheduledRedrive ? { scheduledRedrive: { everyMinutes: config.scheduledRedrive.everyMinutes, maxRedrives: config.maxScheduledRedrives } } : {}),
      // Every queue the pipeline makes is a dead-letter queue (requester notifications, batch rules, ...): each gets its alarm.
      deadLetterQueues: this.node.findAll().filter((construct): construct is Queue => construct instanceof Queue),
    });

    suppressAcceptedFindings(this);
  }

  /** The customer-managed key of the secret, if it has one; only a secret the user supplies can. */
  private customerManagedKey(key: IKey | undefined, keyArn: string | undefined, secretSupplied: boolean): IKey | undefined {
    const given = key ? "secretEncryptionKey" : keyArn ? "klingSecretKmsKeyArn" : undefined;
    if (given && !secretSupplied && !this.config.klingSecretArn) {
      throw new Error(
        `kling-pipeline configuration is not valid: ${given}: the key of a secret you supply; set klingSecretArn (or pass secret) too`,
      );
    }
    return key ?? (keyArn ? Key.fromKeyArn(this, "KlingCredentialsKey", keyArn) : this.secret.encryptionKey);
  }

  /**
   * GetSecretValue on a secret encrypted with a customer-managed key needs kms:Decrypt on that key
   * (AWS's GetSecretValue reference): only as Secrets Manager calls it, for this secret.
   */
  private decryptThroughSecretsManager(key: IKey): PolicyStatement {
    return new PolicyStatement({
      actions: ["kms:Decrypt"],
      resources: [key.keyArn],
      conditions: {
        StringEquals: { "kms:ViaService": `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:SecretARN": this.secret.secretFullArn ?? `${this.secret.secretArn}-??????` },
      },
    });
  }

  private credentialsSecret(existingArn: string | undefined): ISecret {
    if (existingArn) return Secret.fromSecretCompleteArn(this, "KlingCredentials", existingArn);
    const secret = new Secret(this, "KlingCredentials", {
      description: 'Kling credentials: {"apiKey": "..."} or {"accessKey": "...", "secretKey": "..."}',
    });
    // Created empty (CloudFormation: without SecretString and GenerateSecretString, "you create an
    // empty secret"), not with the random password the Secret construct generates by default,
    // which would look like a credential. Until an operator fills it, reading it is a
    // ResourceNotFoundException, which the Lambdas turn into an error naming the secret and its shape.
    (secret.node.defaultChild as CfnSecret).addPropertyDeletionOverride("GenerateSecretString");
    return secret;
  }
}
