/**
 * The pipeline's CloudWatch dashboard and alarms: executions by status (Step Functions' own
 * metrics), failures by error name, the share of Kling requests rate-limited, the credits left,
 * the Kling slots and their queue, and alarms on unrecoverable failures, low credits, executions
 * timing out and a queue that is not draining. The metric and
 * dimension names come from lambdas/observability/catalog.ts, which the Lambdas emit with.
 */
import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarmAction,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { CALLBACK_METRIC, DIMENSION, DIMENSION_SETS, METRIC, METRICS_NAMESPACE, REDRIVE_METRIC } from "../lambdas/observability/catalog";
import type { PipelineConfig } from "./pipeline-config";

interface PipelineObservabilityProps {
  /** The `service` dimension of the pipeline's own metrics (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  readonly generation: StateMachine;
  readonly batch: StateMachine;
  readonly alarms: PipelineConfig["alarms"];
  /** The oldest generation waiting for a Kling slot has waited this long: the queue is not draining. */
  readonly oldestWaiterAlarmSeconds: number;
  /** `klingConcurrency`: the ceiling the effective slot limit is drawn against. */
  readonly slotCeiling: number;
  /** What each alarm does when it goes off (an SNS topic, for example). Default: nothing. */
  readonly alarmActions?: readonly IAlarmAction[];
  /** The scheduled redrive's period, when it runs: an alarm for failures it leaves failed. */
  readonly scheduledRedrive?: { readonly everyMinutes: number; readonly maxRedrives: number };
  /** The pipeline's dead-letter queues: a message in one is a delivery given up, each gets an alarm. */
  readonly deadLetterQueues?: readonly IQueue[];
}

const PERIOD = Duration.minutes(5);
const RATE_PERIOD = Duration.hours(1);

export class PipelineObservability extends Construct {
  readonly dashboard: Dashboard;
  readonly unrecoverableFailureAlarm: Alarm;
  readonly creditsLowAlarm: Alarm;
  readonly executionsTimedOutAlarm: Alarm;
  readonly oldestWaiterAlarm: Alarm;
  /** A failure that passes by itself is still failed after the scheduled redrive's last redrive; undefined without the schedule. */
  readonly generationsLeftFailedAlarm: Alarm | undefined;
  /** One for each dead-letter queue: it holds a message. */
  readonly deadLetterAlarms: readonly Alarm[];

  // Longer than 60 lines: a flat list of alarms and dashboard widgets, each a few declarative lines.
  constructor(scope: Construct, id: string, props: PipelineObservabilityProps) {
    super(scope, id);
    const { generation, batch, serviceName } = props;

    /** One of the pipeline's metrics with exactly the dimension set it is emitted with. */
    const pipelineMetric = (metricName: string, dimensions: Record<string, string>, statistic: string, period = PERIOD) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { [DIMENSION.service]: serviceName, ...dimensions },
        statistic,
        period,
      });
    const failedByRecoverable = (recoverable: boolean) => {
      const [dimension] = DIMENSION_SETS.generationsFailed.byRecoverable;
      return pipelineMetric(METRIC.generationsFailed, { [dimension]: String(recoverable) }, Stats.SUM, RATE_PERIOD);
    };

    this.unrecoverableFailureAlarm = new Alarm(this, "UnrecoverableFailureRate", {
      alarmDescription:
        `More than ${props.alarms.unrecoverableFailurePercent}% of the generations that ended in an hour failed for good ` +
        "(content policy, invalid requests, suspended or forbidden account): see the Diagnose log lines for each.",
      metric: new MathExpression({
        label: "unrecoverable failures (% of ended generations)",
        expression: "100 * FILL(unrecoverable, 0) / (FILL(succeeded, 0) + FILL(recoverable, 0) + FILL(unrecoverable, 0))",
        usingMetrics: {
          unrecoverable: failedByRecoverable(false),
          recoverable: failedByRecoverable(true),
          succeeded: pipelineMetric(METRIC.generationsSucceeded, {}, Stats.SUM, RATE_PERIOD),
        },
        period: RATE_PERIOD,
      }),
      threshold: props.alarms.unrecoverableFailurePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const creditsRemaining = pipelineMetric(METRIC.creditsRemaining, {}, Stats.MINIMUM);
    this.creditsLowAlarm = new Alarm(this, "CreditsLow", {
      alarmDescription:
        `The Kling resource packs hold fewer than ${props.alarms.creditsBelow} units: buy credits before ` +
        "generations stop with Kling.InsufficientCredits.",
      metric: creditsRemaining,
      threshold: props.alarms.creditsBelow,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No reading means no generation asked; the last one stands.
      treatMissingData: TreatMissingData.IGNORE,
    });

    this.executionsTimedOutAlarm = new Alarm(this, "ExecutionsTimedOut", {
      alarmDescription:
        "A generation or batch execution hit its state machine timeout: its work outlived every retry and " +
        "the poll deadline. Look for the execution in the Step Functions console.",
      metric: new MathExpression({
        label: "executions timed out",
        expression: "FILL(generation, 0) + FILL(batch, 0)",
        usingMetrics: { generation: generation.metricTimedOut({ period: PERIOD }), batch: batch.metricTimedOut({ period: PERIOD }) },
        period: PERIOD,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const oldestWaiter = pipelineMetric(METRIC.oldestWaiterSeconds, {}, Stats.MAXIMUM);
    this.oldestWaiterAlarm = new Alarm(this, "OldestWaiter", {
      alarmDescription:
        `A generation has waited more than ${props.oldestWaiterAlarmSeconds} s for one of the account's Kling slots: ` +
        "the queue is not draining. Look at the slots in use (a slot held by an execution that ended means its " +
        "release was lost: ReleaseSlot's log) and at Kling's task times; waits past slotQueue.deadlineSeconds fail " +
        "as Kling.QueueTimeout.",
      metric: oldestWaiter,
      threshold: props.oldestWaiterAlarmSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No reading means nobody waited or released: nothing is queued.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.generationsLeftFailedAlarm = props.scheduledRedrive
      ? new Alarm(this, "GenerationsLeftFailed", {
          alarmDescription:
            `A generation whose failure passes by itself (Kling.PollTimeout, Archive.DownloadFailed, a timeout, a Lambda fault) is still failed ` +
            `after the scheduled redrive's last redrive (maxScheduledRedrives ${props.scheduledRedrive.maxRedrives}), or Step Functions refuses to redrive it: ` +
            "the redrive function's log names each (\"generation still failed after its last scheduled redrive\"); fix the cause, then `npm start -- redrive`.",
          metric: pipelineMetric(REDRIVE_METRIC.leftFailed, {}, Stats.MAXIMUM, Duration.minutes(props.scheduledRedrive.everyMinutes)),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // No reading means the redrive did not run: the next run counts again.
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
      : undefined;
    this.deadLetterAlarms = (props.deadLetterQueues ?? []).map(
      (queue) =>
        new Alarm(this, `DeadLetters${queue.node.scope?.node.id ?? queue.node.id}`, {
          alarmDescription:
            `The dead-letter queue ${queue.node.path} holds a message: a delivery (an event to its target, or an invocation) was given up after its retries. ` +
            "Read the message (its attributes carry the error), fix the cause, then send it again or act on it by hand.",
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // SQS sends its metrics every few minutes while the queue exists: no reading is no message.
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
    );

    const alarms = [
      this.unrecoverableFailureAlarm,
      this.creditsLowAlarm,
      this.executionsTimedOutAlarm,
      this.oldestWaiterAlarm,
      ...(this.generationsLeftFailedAlarm ? [this.generationsLeftFailedAlarm] : []),
      ...this.deadLetterAlarms,
    ];
    for (const alarm of alarms) alarm.addAlarmAction(...(props.alarmActions ?? []));

    const [errorCodeDimension, recoverableDimension] = DIMENSION_SETS.generationsFailed.byErrorCode;
    const [errorNameDimension] = DIMENSION_SETS.klingRetries.byErrorName;
    const searchSchema = (...dimensions: readonly string[]) =>
      `{${[METRICS_NAMESPACE, DIMENSION.service, ...dimensions].join(",")}} ${DIMENSION.service}="${serviceName}"`;

    this.dashboard = new Dashboard(this, "Dashboard", {
      widgets: [
        [
          new GraphWidget({
            title: "Generation executions by status",
            left: [
              generation.metricStarted({ period: PERIOD, label: "started" }),
              generation.metricSucceeded({ period: PERIOD, label: "succeeded" }),
              generation.metricFailed({ period: PERIOD, label: "failed" }),
              generation.metricTimedOut({ period: PERIOD, label: "timed out" }),
              generation.metricAborted({ period: PERIOD, label: "aborted" }),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: "Failed generations by error name",
            left: [
              new MathExpression({
                label: "",
                expression: `SEARCH('${searchSchema(errorCodeDimension, recoverableDimension)} MetricName="${METRIC.generationsFailed}"', 'Sum', ${PERIOD.toSeconds()})`,
                usingMetrics: {},
                period: PERIOD,
              }),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Kling requests rate-limited (429), %",
            left: [
              new MathExpression({
                label: "rate-limited share of Kling requests (%)",
                expression: "100 * (FILL(rateLimited, 0) + FILL(concurrencyLimited, 0)) / requests",
                usingMetrics: {
                  rateLimited: pipelineMetric(METRIC.klingRetries, { [errorNameDimension]: "Kling.RateLimited" }, Stats.SUM),
                  concurrencyLimited: pipelineMetric(METRIC.klingRetries, { [errorNameDimension]: "Kling.ConcurrencyLimited" }, Stats.SUM),
                  requests: pipelineMetric(METRIC.klingRequests, {}, Stats.SUM),
                },
                period: PERIOD,
              }),
            ],
            right: [
              new MathExpression({
                label: "",
                expression: `SEARCH('${searchSchema(errorNameDimension)} MetricName="${METRIC.klingRetries}"', 'Sum', ${PERIOD.toSeconds()})`,
                usingMetrics: {},
                period: PERIOD,
              }),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: "Kling credits remaining (units)",
            left: [creditsRemaining],
            leftAnnotations: [{ value: props.alarms.creditsBelow, label: "alarm below" }],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Kling slots in use and generations queued",
            left: [
              pipelineMetric(METRIC.slotsInUse, {}, Stats.MAXIMUM).with({ label: "slots in use" }),
              pipelineMetric(METRIC.slotQueueLength, {}, Stats.MAXIMUM).with({ label: "queued" }),
            ],
            width: 12,
          }),
          new GraphWidget({
            title: "Time queued for a Kling slot (s)",
            left: [
              pipelineMetric(METRIC.timeQueuedSeconds, {}, Stats.AVERAGE).with({ label: "average wait" }),
              pipelineMetric(METRIC.timeQueuedSeconds, {}, Stats.percentile(90)).with({ label: "p90 wait" }),
              oldestWaiter.with({ label: "oldest waiter" }),
            ],
            leftAnnotations: [{ value: props.oldestWaiterAlarmSeconds, label: "alarm above" }],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Kling's effective slot limit (learnt from 1303s) against the ceiling, and the slots in use",
            left: [
              pipelineMetric(METRIC.slotLimit, {}, Stats.MINIMUM).with({ label: "effective limit (lowest)" }),
              pipelineMetric(METRIC.slotsInUse, {}, Stats.MAXIMUM).with({ label: "slots in use" }),
            ],
            leftAnnotations: [{ value: props.slotCeiling, label: "ceiling (klingConcurrency)" }],
            width: 12,
          }),
          new GraphWidget({
            title: "Kling's 1303s, and generations sent back to the queue (by error name)",
            left: [pipelineMetric(METRIC.klingRetries, { [errorNameDimension]: "Kling.ConcurrencyLimited" }, Stats.SUM).with({ label: "1303 answers" })],
            right: [
              new MathExpression({
                label: "",
                expression: `SEARCH('${searchSchema(errorNameDimension)} MetricName="${METRIC.slotRequeues}"', 'Sum', ${PERIOD.toSeconds()})`,
                usingMetrics: {},
                period: PERIOD,
              }),
            ],
            width: 12,
          }),
        ],
        [
          new GraphWidget({
            title: "Kling callbacks: received, confirmed, refused; ends found by a poll instead (lost callbacks)",
            left: [
              pipelineMetric(CALLBACK_METRIC.received, {}, Stats.SUM).with({ label: "received" }),
              pipelineMetric(CALLBACK_METRIC.confirmed, {}, Stats.SUM).with({ label: "confirmed (ended a wait)" }),
              pipelineMetric(CALLBACK_METRIC.endsFoundByPoll, {}, Stats.SUM).with({ label: "ends found by a poll" }),
            ],
            right: [
              new MathExpression({
                label: "",
                expression: `SEARCH('${searchSchema(DIMENSION.reason)} MetricName="${CALLBACK_METRIC.refused}"', 'Sum', ${PERIOD.toSeconds()})`,
                usingMetrics: {},
                period: PERIOD,
              }),
            ],
            width: 24,
          }),
        ],
        [new AlarmStatusWidget({ title: "Alarms", alarms, width: 24 })],
      ],
    });
  }
}
