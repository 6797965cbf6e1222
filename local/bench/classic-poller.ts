/**
 * The benchmark's baseline, built only here: the classic job-poller many teams write first.
 * Validate -> Submit -> WaitThirtySeconds <-> Poll, with the same Lambdas, the same error
 * names and retry counts but no jitter, and no credit check; batches through the same batch
 * workflow. It is never deployed: `npm run bench` runs it beside the pipeline's own workflows.
 */
import { Duration } from "aws-cdk-lib";
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  JitterType,
  JsonPath,
  StateMachine,
  Succeed,
  type TaskStateBase,
  TaskInput,
  Wait,
  WaitTime,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { BatchWorkflow } from "#lib/batch-workflow";
import { taskViewSelector } from "#lib/generation-workflow";
import type { KlingVideoPipeline } from "#lib/kling-video-pipeline";
import { KLING_CALL_RETRIES, LOCAL_WORK_RETRIES, RETRY_POLICIES, type RetryPolicyName } from "#lib/retry-policies";
import type { LocalWorkflows } from "../runner/pipeline";

/** The classic poller's fixed wait between polls. */
export const CLASSIC_POLL_SECONDS = 30;

export class ClassicPoller extends Construct implements LocalWorkflows {
  readonly generation: StateMachine;
  readonly batch: StateMachine;

  // Longer than 60 lines: the baseline workflow's states declared in execution order, as in GenerationWorkflow.
  constructor(scope: Construct, id: string, pipeline: KlingVideoPipeline) {
    super(scope, id);
    const { functions } = pipeline;

    const invoke = (name: string, lambda: keyof typeof functions, payload: Record<string, unknown>, retries: readonly RetryPolicyName[]) => {
      const state = new LambdaInvoke(this, name, {
        lambdaFunction: functions[lambda],
        retryOnServiceExceptions: false,
        payload: TaskInput.fromObject(payload),
        resultSelector: taskViewSelector(),
        resultPath: "$.task",
      });
      addRetriesWithoutJitter(state, retries);
      return state;
    };

    const failed = new Fail(this, "Failed", { errorPath: "$.diagnosis.errorCode", causePath: "$.diagnosis.cause" });
    const diagnose = new LambdaInvoke(this, "Diagnose", {
      lambdaFunction: functions.diagnose,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject({ jobId: JsonPath.executionName, failure: JsonPath.objectAt("$.failure") }),
      resultSelector: { errorCode: JsonPath.stringAt("$.Payload.errorCode"), cause: JsonPath.stringAt("$.Payload.cause") },
      resultPath: "$.diagnosis",
    }).next(failed);

    const validate = new LambdaInvoke(this, "Validate", {
      lambdaFunction: functions.validate,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject({ jobId: JsonPath.executionName, request: JsonPath.entirePayload }),
      resultSelector: {
        jobId: JsonPath.stringAt("$.Payload.jobId"),
        request: JsonPath.objectAt("$.Payload.request"),
        kind: JsonPath.stringAt("$.Payload.kind"),
      },
    });
    addRetriesWithoutJitter(validate, LOCAL_WORK_RETRIES);
    const submit = invoke(
      "Submit",
      "submit",
      { jobId: JsonPath.executionName, executionId: JsonPath.executionId, request: JsonPath.objectAt("$.request"), kind: JsonPath.stringAt("$.kind") },
      KLING_CALL_RETRIES,
    );
    const wait = new Wait(this, "WaitThirtySeconds", { time: WaitTime.duration(Duration.seconds(CLASSIC_POLL_SECONDS)) });
    const poll = invoke("Poll", "poll", { task: JsonPath.objectAt("$.task") }, KLING_CALL_RETRIES);
    for (const [name, state] of [["Validate", validate], ["Submit", submit], ["Poll", poll]] as const) {
      state.addCatch(diagnose, { errors: [Errors.ALL], resultPath: `$.failure.${name}` });
    }
    const videoReady = new Choice(this, "VideoReady?")
      .when(Condition.stringEquals("$.task.status", "succeed"), new Succeed(this, "Succeeded"))
      .otherwise(wait);

    this.generation = new StateMachine(this, "Generation", {
      definitionBody: DefinitionBody.fromChainable(validate.next(submit).next(wait).next(poll).next(videoReady)),
    });
    this.batch = new BatchWorkflow(this, "Batch", {
      generation: this.generation,
      functions: pipeline.batchFunctions,
      concurrency: pipeline.config.klingConcurrency,
      priceFirst: false,
      outcomeEventSource: pipeline.config.outcomeEventSource,
      executionLogs: pipeline.config.executionLogs,
    }).stateMachine;
  }
}

/** The same errors and attempts as the pipeline's policies, but every retry waits the full backoff. */
function addRetriesWithoutJitter(state: TaskStateBase, policies: readonly RetryPolicyName[]): void {
  for (const policy of policies) {
    state.addRetry({ ...RETRY_POLICIES[policy], errors: [...RETRY_POLICIES[policy].errors], jitterStrategy: JitterType.NONE });
  }
}
