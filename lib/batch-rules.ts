/**
 * What starts the batch workflow: a rule on the default bus for "Video Generation Batch
 * Requested" events, and optionally a schedule. Deliveries that fail after their retries
 * land in an SQS dead-letter queue, so no batch request is lost.
 */
import { Duration } from "aws-cdk-lib";
import { EventField, Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { SfnStateMachine } from "aws-cdk-lib/aws-events-targets";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { BATCH_EVENTS } from "../lambdas/batch/batch";

interface BatchRulesProps {
  readonly batchWorkflow: IStateMachine;
  readonly requestSource: string;
  readonly schedule?: { readonly expression: string; readonly batch: { readonly batchId: string; readonly items: unknown[] } };
}

export class BatchRules extends Construct {
  readonly deadLetterQueue: Queue;
  readonly requestRule: Rule;

  constructor(scope: Construct, id: string, props: BatchRulesProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, "DeadLetters", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const delivery = { deadLetterQueue: this.deadLetterQueue, retryAttempts: 8, maxEventAge: Duration.hours(2) };

    this.requestRule = new Rule(this, "BatchRequested", {
      description: "Starts the batch workflow for each Video Generation Batch Requested event",
      eventPattern: { source: [props.requestSource], detailType: [BATCH_EVENTS.requested] },
      targets: [new SfnStateMachine(props.batchWorkflow, { ...delivery, input: RuleTargetInput.fromEventPath("$.detail") })],
    });

    if (props.schedule) {
      new Rule(this, "BatchSchedule", {
        description: "Starts the configured batch on a schedule",
        schedule: Schedule.expression(props.schedule.expression),
        targets: [
          new SfnStateMachine(props.batchWorkflow, {
            ...delivery,
            input: RuleTargetInput.fromObject({ ...props.schedule.batch, scheduledAt: EventField.time }),
          }),
        ],
      });
    }
  }
}
