/**
 * Observability in the synthesized stack: Powertools on every function (its variables and the
 * layer of the installed version), the log context in every Lambda payload, and a dashboard and
 * alarms that read the pipeline's metrics with exactly the dimensions the Lambdas emit them with.
 */
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CALLBACK_METRIC, DIMENSION, LOG_CONTEXT_FIELD, METRIC, METRICS_NAMESPACE, POWERTOOLS_ENV, REDRIVE_METRIC } from "#lambdas/observability/catalog";
import { recordCreditsRemaining, recordGenerationFailed, recordGenerationsLeftFailed, recordGenerationSucceeded, recordSlotQueue } from "#lambdas/observability/metrics";
import { POWERTOOLS_LAYER_PARAMETER, POWERTOOLS_VERSION } from "#lib/pipeline-function";
import { type CloudFormationTemplate, definitionFromTemplate, type StateMachineDefinition } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";

let template: CloudFormationTemplate;
let definitions: Record<"generation" | "batch", StateMachineDefinition>;
let stateMachineIds: string[];

beforeAll(() => {
  const synthesized = synthesizePipeline();
  template = synthesized.template;
  const { generation, batch } = synthesized.stack.pipeline;
  stateMachineIds = [logicalIdOf(synthesized.stack, generation.stateMachine), logicalIdOf(synthesized.stack, batch.stateMachine)];
  definitions = {
    generation: definitionFromTemplate(template, logicalIdOf(synthesized.stack, generation.stateMachine)),
    batch: definitionFromTemplate(template, logicalIdOf(synthesized.stack, batch.stateMachine)),
  };
});

const resourcesOfType = (type: string) =>
  Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => ({ id, properties: resource.Properties ?? {} }));

const SERVICE_NAME = "KlingPipeline-Pipeline";

describe("every pipeline function", () => {
  it("configures Powertools through POWERTOOLS_* variables: the pipeline's service name, the metrics namespace, the log level", () => {
    const functions = resourcesOfType("AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThanOrEqual(9);
    for (const { id, properties } of functions) {
      const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables, id).toMatchObject({
        [POWERTOOLS_ENV.serviceName]: SERVICE_NAME,
        [POWERTOOLS_ENV.metricsNamespace]: METRICS_NAMESPACE,
        [POWERTOOLS_ENV.logLevel]: "INFO",
      });
      expect(variables[POWERTOOLS_ENV.devMode], id).toBeUndefined();
    }
  });

  it("runs with the Powertools layer of exactly the installed version, its ARN from AWS's public SSM parameter", () => {
    for (const pkg of ["logger", "metrics", "tracer"]) {
      const installed = JSON.parse(readFileSync(`node_modules/@aws-lambda-powertools/${pkg}/package.json`, "utf8")) as { version: string };
      expect(installed.version, pkg).toBe(POWERTOOLS_VERSION);
    }
    expect(POWERTOOLS_LAYER_PARAMETER).toBe(`/aws/service/powertools/typescript/generic/all/${POWERTOOLS_VERSION}`);
    const { Parameters = {} } = template as { Parameters?: Record<string, unknown> };
    const parameters = Object.entries(Parameters).filter(
      ([, parameter]) => (parameter as { Default?: unknown }).Default === POWERTOOLS_LAYER_PARAMETER,
    );
    expect(parameters).toHaveLength(1);
    const [[parameterId, parameter]] = parameters as [[string, { Type: string }]];
    expect(parameter.Type).toBe("AWS::SSM::Parameter::Value<String>");
    for (const { id, properties } of resourcesOfType("AWS::Lambda::Function")) {
      expect(properties.Layers, id).toEqual([{ Ref: parameterId }]);
    }
  });
});

describe("every Lambda task of both state machines", () => {
  /** Each Lambda Task's payload (lambda:invoke's Payload, or the Parameters of a function invoked by its ARN), Map iterations included, by state name. */
  function lambdaTasks(definition: StateMachineDefinition): [string, Record<string, unknown>][] {
    return Object.entries(definition.States).flatMap(([name, state]) => {
      const nested = state.ItemProcessor as StateMachineDefinition | undefined;
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      const own: [string, Record<string, unknown>][] =
        state.Resource === "arn:aws:states:::lambda:invoke"
          ? [[name, parameters?.Payload as Record<string, unknown>]]
          : typeof state.Resource === "string" && state.Resource.startsWith("arn:aws:lambda:")
            ? [[name, parameters ?? {}]]
            : [];
      return nested ? [...own, ...lambdaTasks(nested)] : own;
    });
  }

  it("passes the execution name and its own state name in the payload's logContext", () => {
    const tasks = [...lambdaTasks(definitions.generation), ...lambdaTasks(definitions.batch)];
    expect(tasks.map(([name]) => name)).toEqual(
      expect.arrayContaining(["Validate", "CheckCredits", "Submit", "Poll", "Diagnose", "ValidateBatch", "RecordItemOutcome", "SummarizeBatch"]),
    );
    // But PriceBatch, which carries the batch's items alone: beside a state near 256 KiB there is no room for more.
    for (const [name, payload] of tasks.filter(([name]) => name !== "PriceBatch")) {
      expect(payload[LOG_CONTEXT_FIELD], name).toEqual({ "executionName.$": "$$.Execution.Name", stateName: name });
    }
  });
});

interface MetricStat {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: { Name: string; Value: unknown }[];
}

/** The metrics an alarm reads: its one metric, or those of its metric math. */
function metricStatsOf(alarm: Record<string, unknown>): MetricStat[] {
  if (typeof alarm.MetricName === "string") return [alarm as unknown as MetricStat];
  const queries = (alarm.Metrics ?? []) as { MetricStat?: { Metric: MetricStat } }[];
  return queries.flatMap((query) => (query.MetricStat ? [query.MetricStat.Metric] : []));
}

function alarmReading(metricName: string): Record<string, unknown> {
  const alarms = resourcesOfType("AWS::CloudWatch::Alarm").filter(({ properties }) =>
    metricStatsOf(properties).some((metric) => metric.MetricName === metricName),
  );
  expect(alarms, `alarms reading ${metricName}`).toHaveLength(1);
  return alarms[0]?.properties ?? {};
}

describe("the alarms", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("are these: unrecoverable failure rate, credits below the threshold, executions timing out, the oldest waiter for a slot, generations left failed after the scheduled redrive, and one for each dead-letter queue", () => {
    const queues = resourcesOfType("AWS::SQS::Queue");
    expect(queues.length).toBeGreaterThanOrEqual(2);
    expect(resourcesOfType("AWS::CloudWatch::Alarm")).toHaveLength(5 + queues.length);

    const unrecoverable = alarmReading(METRIC.generationsFailed);
    expect(unrecoverable).toMatchObject({ Threshold: 10, ComparisonOperator: "GreaterThanThreshold" });
    const expression = (unrecoverable.Metrics as { Expression?: string; ReturnData?: boolean }[]).find((query) => query.Expression);
    expect(expression?.Expression).toMatch(/unrecoverable.*\/.*succeeded.*recoverable.*unrecoverable/);
    expect(metricStatsOf(unrecoverable).map((metric) => metric.MetricName).sort()).toEqual(
      [METRIC.generationsFailed, METRIC.generationsFailed, METRIC.generationsSucceeded].sort(),
    );

    expect(alarmReading(METRIC.creditsRemaining)).toMatchObject({
      MetricName: METRIC.creditsRemaining,
      Namespace: METRICS_NAMESPACE,
      Statistic: "Minimum",
      Threshold: 100,
      ComparisonOperator: "LessThanThreshold",
    });
    // Half the default queue deadline (2700 s): time to act before waits fail as Kling.QueueTimeout.
    expect(alarmReading(METRIC.oldestWaiterSeconds)).toMatchObject({
      Statistic: "Maximum",
      Threshold: 1350,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
    });
  });

  it("on each dead-letter queue (every queue of the stack is one) goes off at its first message, notifying the alarm topic", () => {
    const queues = resourcesOfType("AWS::SQS::Queue");
    const queueAlarms = resourcesOfType("AWS::CloudWatch::Alarm").filter(({ properties }) => properties.MetricName === "ApproximateNumberOfMessagesVisible");
    const watched = queueAlarms.map(({ properties }) => {
      expect(properties).toMatchObject({ Namespace: "AWS/SQS", Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", Statistic: "Maximum" });
      expect(properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^PipelineAlarms/) }]);
      return JSON.stringify(properties.Dimensions);
    });
    expect(watched.sort()).toEqual(queues.map(({ id }) => JSON.stringify([{ Name: "QueueName", Value: { "Fn::GetAtt": [id, "QueueName"] } }])).sort());
  });

  it("on executions timing out reads Step Functions' ExecutionsTimedOut of both state machines", () => {
    const timedOut = alarmReading("ExecutionsTimedOut");
    expect(timedOut).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
    const machines = metricStatsOf(timedOut).map((metric) => JSON.stringify(metric.Dimensions));
    for (const id of stateMachineIds) expect(machines.some((dimensions) => dimensions.includes(id)), id).toBe(true);
  });

  it("name each pipeline metric with exactly a dimension set, and the values, the Lambdas emit it with", () => {
    vi.stubEnv(POWERTOOLS_ENV.serviceName, SERVICE_NAME);
    vi.stubEnv(POWERTOOLS_ENV.metricsNamespace, METRICS_NAMESPACE);
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void printed.push(String(line)));

    const pipelineMetrics = resourcesOfType("AWS::CloudWatch::Alarm")
      .flatMap(({ properties }) => metricStatsOf(properties))
      .filter((metric) => metric.Namespace === METRICS_NAMESPACE);
    expect(pipelineMetrics.length).toBeGreaterThanOrEqual(4);

    for (const metric of pipelineMetrics) {
      const dimensions = Object.fromEntries((metric.Dimensions ?? []).map(({ Name, Value }) => [Name, Value]));
      printed.length = 0;
      if (metric.MetricName === METRIC.generationsFailed) {
        recordGenerationFailed({ errorCode: "Kling.ContentPolicy", recoverable: dimensions[DIMENSION.recoverable] === "true" });
      } else if (metric.MetricName === METRIC.generationsSucceeded) {
        recordGenerationSucceeded();
      } else if (metric.MetricName === METRIC.creditsRemaining) {
        recordCreditsRemaining(42);
      } else if (metric.MetricName === METRIC.oldestWaiterSeconds) {
        recordSlotQueue({ slotsInUse: 5, slotLimit: 5, queueLength: 3, oldestWaiterSeconds: 90 });
      } else if (metric.MetricName === REDRIVE_METRIC.leftFailed) {
        recordGenerationsLeftFailed(1);
      } else {
        throw new Error(`an alarm reads ${metric.MetricName}, which this test cannot emit`);
      }
      // One record per metric emitted (recordSlotQueue emits four): the one that carries this metric.
      const [record] = printed
        .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } })
        .filter((emitted) => metric.MetricName in emitted);
      const emittedSets = record?._aws.CloudWatchMetrics[0]?.Dimensions.map((set) => [...set].sort().join(","));
      expect(emittedSets, metric.MetricName).toContain(Object.keys(dimensions).sort().join(","));
      expect(record, metric.MetricName).toMatchObject(dimensions);
    }
  });
});

describe("the dashboard", () => {
  it("shows executions by status, failures by error name, the Kling 429 rate and the credits remaining", () => {
    const dashboards = resourcesOfType("AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.properties.DashboardBody);

    for (const status of ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) {
      expect(body).toContain(status);
    }
    expect(body).toContain(
      `SEARCH('{${METRICS_NAMESPACE},${DIMENSION.service},${DIMENSION.errorCode},${DIMENSION.recoverable}} ${DIMENSION.service}=\\\\\\"${SERVICE_NAME}\\\\\\" MetricName=\\\\\\"${METRIC.generationsFailed}\\\\\\"'`,
    );
    expect(body).toMatch(/100 \* \(FILL\(rateLimited, 0\) \+ FILL\(concurrencyLimited, 0\)\) \/ requests/);
    for (const metric of [METRIC.klingRetries, METRIC.klingRequests, METRIC.creditsRemaining]) expect(body).toContain(metric);
    expect(body).toContain("Kling.RateLimited");
  });

  it("shows the Kling slots in use, the queue, the time queued and the oldest waiter", () => {
    const body = JSON.stringify(resourcesOfType("AWS::CloudWatch::Dashboard")[0]?.properties.DashboardBody);
    for (const metric of [METRIC.slotsInUse, METRIC.slotQueueLength, METRIC.timeQueuedSeconds, METRIC.oldestWaiterSeconds]) expect(body).toContain(metric);
  });

  it("shows the effective slot limit against the ceiling, Kling's 1303s and the generations sent back to the queue", () => {
    const body = JSON.stringify(resourcesOfType("AWS::CloudWatch::Dashboard")[0]?.properties.DashboardBody);
    expect(body).toContain(METRIC.slotLimit);
    expect(body).toContain("ceiling (klingConcurrency)");
    expect(body).toContain("Kling.ConcurrencyLimited");
    expect(body).toContain(
      `SEARCH('{${METRICS_NAMESPACE},${DIMENSION.service},${DIMENSION.errorName}} ${DIMENSION.service}=\\\\\\"${SERVICE_NAME}\\\\\\" MetricName=\\\\\\"${METRIC.slotRequeues}\\\\\\"'`,
    );
  });

  it("shows Kling's callbacks received, confirmed and refused (by reason), and the ends a poll found instead", () => {
    const body = JSON.stringify(resourcesOfType("AWS::CloudWatch::Dashboard")[0]?.properties.DashboardBody);
    for (const metric of [CALLBACK_METRIC.received, CALLBACK_METRIC.confirmed, CALLBACK_METRIC.endsFoundByPoll]) expect(body).toContain(metric);
    expect(body).toContain(
      `SEARCH('{${METRICS_NAMESPACE},${DIMENSION.service},${DIMENSION.reason}} ${DIMENSION.service}=\\\\\\"${SERVICE_NAME}\\\\\\" MetricName=\\\\\\"${CALLBACK_METRIC.refused}\\\\\\"'`,
    );
  });
});
