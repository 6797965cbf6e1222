/**
 * The account ledger: the DynamoDB table holding the account's Kling slots, their queue and
 * the credits reserved by jobs in flight (lambdas/ledger/), what lets the pipeline's functions
 * use it, and the backstop that frees what an execution still holds when it ends any way at
 * all (timed out, aborted, crashed): a rule on the state machine's status change events.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import type { SlotQueue } from "../lambdas/ledger/config";
import { ENV } from "../lambdas/common/settings";
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTES } from "../lambdas/ledger/dynamodb-ledger";
import { ENDED_STATUSES, EXECUTION_STATUS_CHANGE } from "../lambdas/release-slot/status-change";

/** What the ledger's adapter does to the table: single-item reads and conditional writes, and Query. */
const LEDGER_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"];


export interface AccountLedgerProps {
  /** A table another pipeline on the same Kling account made: they then share its slots and credits. */
  readonly table?: ITable;
  readonly klingConcurrency: number;
  readonly slotQueue: SlotQueue;
}

export class AccountLedger extends Construct {
  readonly table: ITable;
  /** The variables every function that uses the ledger reads (lambdas/ledger/config.ts). */
  readonly environment: Readonly<Record<string, string>>;
  private taskResponses: Policy | undefined;
  /** Ended executions the backstop could not release (EventBridge's delivery, or the function's asynchronous retries, given up). */
  private releaseDeadLetters: Queue | undefined;

  constructor(scope: Construct, id: string, props: AccountLedgerProps) {
    super(scope, id);
    this.table =
      props.table ??
      new Table(this, "Table", {
        partitionKey: { name: LEDGER_KEY_ATTRIBUTES.partitionKey, type: AttributeType.STRING },
        sortKey: { name: LEDGER_KEY_ATTRIBUTES.sortKey, type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        // The records of delivered requester notifications expire once no retry can come.
        timeToLiveAttribute: LEDGER_EXPIRY_ATTRIBUTE,
        // It holds only what is in flight: nothing to keep once the pipeline is gone.
        removalPolicy: RemovalPolicy.DESTROY,
      });
    this.environment = {
      [ENV.ledgerTableName]: this.table.tableName,
      [ENV.klingConcurrency]: String(props.klingConcurrency),
      [ENV.slotQueue]: JSON.stringify(props.slotQueue),
    };
  }

  /** Lets the function read the queue (the API's QUEUED and queue position). */
  grantQueueRead(fn: IFunction): void {
    this.table.grant(fn, "dynamodb:Query");
  }

  /** Lets the function read and write the ledger. */
  grantUse(fn: IFunction): void {
    this.table.grant(fn, ...LEDGER_ACTIONS);
  }

  /** Lets the function claim and record requester notifications (single items by key). */
  grantNotificationRecords(fn: IFunction): void {
    this.table.grant(fn, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem");
  }

  /**
   * Lets the function also answer the task tokens parked in the queue (a release wakes the
   * oldest waiter with SendTaskSuccess). SendTaskSuccess has no resource-level permission: it
   * is granted on "*" in one policy of its own (lib/nag-suppressions.ts says why).
   */
  grantSlotHandOver(fn: IFunction): void {
    this.grantUse(fn);
    if (!fn.role) throw new Error("a function that hands slots over needs a role");
    this.taskResponses ??= new Policy(this, "WakeWaiters", {
      statements: [new PolicyStatement({ actions: ["states:SendTaskSuccess"], resources: ["*"] })],
    });
    this.taskResponses.attachToRole(fn.role);
  }

  /** The policy granting SendTaskSuccess, once a function was granted the ledger. */
  get taskResponsesPolicy(): Policy | undefined {
    return this.taskResponses;
  }

  /** The dead-letter queue of the backstop's releases, once {@link releaseOnEveryEnding} made it. */
  get releaseDeadLetterQueue(): Queue | undefined {
    return this.releaseDeadLetters;
  }

  /**
   * The backstop: every ended execution of the state machine is released by `release`. An event
   * EventBridge cannot hand over, or whose release still fails after Lambda's two asynchronous
   * retries, goes to a dead-letter queue (the reconciliation frees it later in any case).
   */
  releaseOnEveryEnding(stateMachine: IStateMachine, release: IFunction): Rule {
    const deadLetterQueue = new Queue(this, "ReleaseDeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.releaseDeadLetters = deadLetterQueue;
    release.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(2), onFailure: new SqsDestination(deadLetterQueue) });
    return new Rule(this, "ReleaseEndedExecutions", {
      description: "Releases the Kling slot, queue place and credit reservation an ended generation still holds",
      eventPattern: {
        source: ["aws.states"],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: { stateMachineArn: [stateMachine.stateMachineArn], status: [...ENDED_STATUSES] },
      },
      targets: [new LambdaFunction(release, { retryAttempts: 8, maxEventAge: Duration.hours(2), deadLetterQueue })],
    });
  }
}
