/**
 * The generation workflow: Validate -> CheckCredits -> WaitForSlot -> Submit (a 1303 or spent
 * rate-limit retries: -> BackToQueue -> Submit) -> WaitForVideo <-> Poll -> VideoReady? ->
 * Archive, where a generation succeeds (Poll gives the slot back when the task ends, before
 * Archive; no Succeed state after Archive, which would cost a transition per job). With callbacks
 * on, WaitForVideo waits on a task token that Kling's callback answers
 * with the video (-> Archive), and its timeout leads to Poll, the fallback. Every task's failure -> ReleaseSlot -> Diagnose -> Recoverable? -> Failed (for good)
 * or AwaitRedrive (a redrive retries the work). The state names are what an
 * operator reads in the console's execution view.
 */
import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Policy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { LogGroup } from "aws-cdk-lib/aws-logs";
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IntegrationPattern,
  JsonPath,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { TASK_VIEW_FIELDS } from "../lambdas/common/task-view";
import { executionLogGroup, executionLogOptions, type ExecutionLogSettings } from "./execution-logs";
import type { DiagnoseResult } from "../lambdas/diagnose/handler";
import { WORKFLOW_FAILURE_FIELDS } from "../lambdas/common/workflow-state";
import { ERROR_KINDS, errorNamesSentBackToQueue } from "../lambdas/errors/taxonomy";
import { type LambdaTaskProps, withLogContext } from "./lambda-task";
import type { GenerationFunctionName } from "./pipeline-function";
import type { SlotQueue } from "../lambdas/ledger/config";
import { applyRetries, GENERATION_STATE_RETRIES, type RetryPolicyName } from "./retry-policies";
import { AWAIT_REDRIVE_TIMEOUT, PARK_RETRY_INTERVAL, parkRetries } from "./time-budget";

/** Where a task's Catch puts `{Error, Cause}`: the key names the failed state for Diagnose. */
const FAILURE_PATH = `$.${WORKFLOW_FAILURE_FIELDS.failure}`;
/** Where Submit's Catch puts the refusal that sends the generation back to the queue: BackToQueue reads why. */
const REFUSAL_PATH = "$.refusal";
/**
 * Where Diagnose puts its result. A redrive empties `$.failure` (so the next failure is
 * diagnosed on its own) but keeps this: after a successful redrive it says why there was one.
 */
const DIAGNOSIS_PATH = `$.${WORKFLOW_FAILURE_FIELDS.diagnosis}`;

/**
 * Where a redriven failure resumes, by the state that failed. A Poll failure goes back through
 * Submit: it finds the same task and restarts the deadline. (A Kling.GenerationFailed, after
 * which Submit makes a new task, goes through CheckCredits first: see ResumeAfterRedrive.)
 */
const REDRIVE_RESUMES_AT = {
  Validate: "Validate",
  CheckCredits: "CheckCredits",
  // The failure path gave the slot back: Submit and Poll resume by taking one again.
  WaitForSlot: "WaitForSlot",
  BackToQueue: "WaitForSlot",
  Submit: "WaitForSlot",
  Poll: "WaitForSlot",
  WaitForVideo: "WaitForSlot",
  // Archive runs after Poll gave the slot back, and needs none: it resumes at itself.
  Archive: "Archive",
} as const;

type GenerationFunctions = Readonly<Record<GenerationFunctionName, IFunction>>;

/** The states of the work, which a redrive resumes at. */
interface WorkStates {
  readonly validate: LambdaInvoke;
  readonly checkCredits: LambdaInvoke;
  readonly waitForSlot: LambdaInvoke;
  readonly submit: LambdaInvoke;
  readonly backToQueue: LambdaInvoke;
  /** A Wait with callbacks off; with them on, a Task ended by the callback, or by its timeout for the fallback poll. */
  readonly waitForVideo: Wait | LambdaInvoke;
  readonly poll: LambdaInvoke;
  readonly videoReady: Choice;
  readonly archive: LambdaInvoke;
}

interface GenerationWorkflowProps {
  readonly functions: GenerationFunctions;
  /** With callbacks on: the function that records WaitForVideo's task token for Kling's callback. */
  readonly awaitVideo?: IFunction | undefined;
  readonly executionTimeout: Duration;
  readonly slotQueue: SlotQueue;
  readonly executionLogs: ExecutionLogSettings;
}

export class GenerationWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /** What lets AwaitRedrive's function answer its task token (lib/nag-suppressions.ts says why on "*"). */
  readonly taskResponsesPolicy: Policy;

  constructor(scope: Construct, id: string, props: GenerationWorkflowProps) {
    super(scope, id);
    const { functions } = props;
    const failed = new Fail(this, "Failed", {
      comment: "The job failed for good; Error is the error name and Cause the diagnosis as JSON.",
      errorPath: `${DIAGNOSIS_PATH}.errorCode`,
      causePath: `${DIAGNOSIS_PATH}.cause`,
    });
    const { diagnose, awaitRedrive } = this.diagnosis(functions, failed);
    const releaseSlot = this.releaseSlot(functions["release-slot"], diagnose);
    const work = this.work(functions, props.awaitVideo, props.slotQueue, releaseSlot);
    awaitRedrive.next(this.resumeAfterRedrive(work, failed));

    const definition = work.validate.next(work.checkCredits).next(work.waitForSlot).next(work.submit).next(work.waitForVideo);
    // With callbacks on, the wait ends with the video (or at its timeout, in Poll, by its Catch).
    if (work.waitForVideo instanceof Wait) work.waitForVideo.next(work.poll);
    // Answered, the wait ended with the video: a callback of a failed task fails the state instead.
    else work.waitForVideo.next(work.archive);
    work.poll.next(work.videoReady);

    this.logGroup = executionLogGroup(this);
    this.stateMachine = new StateMachine(this, "StateMachine", {
      comment: "Turns a video request into a Kling video, or into a recorded diagnosis of why not.",
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      timeout: props.executionTimeout,
      tracingEnabled: true,
      logs: executionLogOptions(this.logGroup, props.executionLogs),
    });
    this.taskResponsesPolicy = this.grantTaskResponses(functions["await-redrive"]);
  }

  /** Diagnose, then AwaitRedrive for a failure a redrive can fix, Failed for the others. */
  private diagnosis(functions: GenerationFunctions, failed: Fail): { diagnose: LambdaInvoke; awaitRedrive: LambdaInvoke } {
    const diagnose = new LambdaInvoke(this, "Diagnose", {
      comment: "Turns the caught error into a diagnosis: what failed, whether a retry can succeed, what to do.",
      lambdaFunction: functions.diagnose,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("Diagnose", { jobId: JsonPath.executionName, failure: JsonPath.objectAt(FAILURE_PATH) }),
      ),
      resultSelector: { ...diagnoseResultSelector(), redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount") },
      resultPath: DIAGNOSIS_PATH,
    });
    applyRetries(diagnose, GENERATION_STATE_RETRIES.Diagnose);
    // Redrive re-runs the state that did not exit: a Fail state would only fail again, so a
    // recoverable failure ends in this Task instead (lambdas/await-redrive/answer.ts).
    const awaitRedrive = new LambdaInvoke(this, "AwaitRedrive", {
      comment: "Fails with the diagnosis (Error and Cause as for Failed); when redriven, succeeds and goes back to the work that failed.",
      lambdaFunction: functions["await-redrive"],
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("AwaitRedrive", {
          taskToken: JsonPath.taskToken,
          diagnosedAtRedriveCount: JsonPath.numberAt(`${DIAGNOSIS_PATH}.redriveCount`),
          redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount"),
          errorCode: JsonPath.stringAt(`${DIAGNOSIS_PATH}.errorCode`),
          cause: JsonPath.stringAt(`${DIAGNOSIS_PATH}.cause`),
        }),
      ),
      // The function answers at once; this only bounds a function that never does.
      taskTimeout: Timeout.duration(AWAIT_REDRIVE_TIMEOUT),
      // Resumed, it returns an empty record of failures: the next failure is diagnosed on its own.
      resultPath: FAILURE_PATH,
    });
    // No Retry: its own failure carries the diagnosed error's name, which a Retry could match. A
    // Lambda fault here leaves the execution failed in AwaitRedrive, which a redrive resumes.
    const recoverable = new Choice(this, "Recoverable?", { comment: "Can a redrive succeed once its cause is gone (the diagnosis says)?" })
      .when(Condition.booleanEquals(`${DIAGNOSIS_PATH}.recoverable`, true), awaitRedrive)
      .otherwise(failed);
    diagnose.next(recoverable);
    return { diagnose, awaitRedrive };
  }

  /** Every failure gives back what the execution holds in the account ledger before it is diagnosed. */
  private releaseSlot(fn: IFunction, diagnose: LambdaInvoke): LambdaInvoke {
    const releaseSlot = new LambdaInvoke(this, "ReleaseSlot", {
      comment: "Gives back this execution's Kling slot, queue place and credit reservation, if it holds any, and hands the slot to the oldest waiter.",
      lambdaFunction: fn,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(withLogContext("ReleaseSlot", { executionArn: JsonPath.executionId })),
      resultPath: JsonPath.DISCARD,
    });
    applyRetries(releaseSlot, GENERATION_STATE_RETRIES.ReleaseSlot);
    // Still failing after its retries: the diagnosis goes on; the status-change backstop releases when the execution ends.
    releaseSlot.addCatch(diagnose, { errors: [Errors.ALL], resultPath: JsonPath.DISCARD });
    releaseSlot.next(diagnose);
    return releaseSlot;
  }

  /** A Lambda Task of the work: its retries, and on any other failure the release and the diagnosis. */
  private task(
    name: string,
    props: LambdaTaskProps,
    retries: readonly RetryPolicyName[],
    releaseSlot: LambdaInvoke,
    before?: (state: LambdaInvoke) => void,
  ): LambdaInvoke {
    const state = new LambdaInvoke(this, name, {
      comment: props.comment,
      lambdaFunction: props.lambdaFunction,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(withLogContext(name, props.payload)),
      resultSelector: props.resultSelector,
      resultPath: props.resultPath,
    });
    applyRetries(state, retries);
    // Catches of its own first: the first whose errors match decides, and States.ALL must be last.
    before?.(state);
    state.addCatch(releaseSlot, { errors: [Errors.ALL], resultPath: `${FAILURE_PATH}.${name}` });
    return state;
  }

  // Longer than 60 lines: the work's states declared in execution order, mostly their payloads and selectors.
  /** The work, in order: Validate, CheckCredits, WaitForSlot, Submit, then WaitForVideo and Poll until the video is ready, then Archive. */
  private work(functions: GenerationFunctions, awaitVideo: IFunction | undefined, slotQueue: SlotQueue, releaseSlot: LambdaInvoke): WorkStates {
    const task = (name: string, props: LambdaTaskProps, retries: readonly RetryPolicyName[], before?: (state: LambdaInvoke) => void) =>
      this.task(name, props, retries, releaseSlot, before);
    const validate = task(
      "Validate",
      {
        comment: "Checks the request against the schema, the model's capabilities and the blocked terms.",
        lambdaFunction: functions.validate,
        // The state is the request as sent; resumed by a redrive, it also holds the failure and
        // its diagnosis, which Validate sets aside (lambdas/validate/handler.ts).
        payload: { jobId: JsonPath.executionName, request: JsonPath.entirePayload, redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount") },
        resultSelector: {
          jobId: JsonPath.stringAt("$.Payload.jobId"),
          request: JsonPath.objectAt("$.Payload.request"),
          kind: JsonPath.stringAt("$.Payload.kind"),
        },
        // No ResultPath: the default replaces the raw request with the validated one. (The local
        // engine reads an explicit "$" as a field named "$".)
      },
      GENERATION_STATE_RETRIES.Validate,
    );
    const checkCredits = task(
      "CheckCredits",
      {
        comment: "Prices the video and reserves the price in the account ledger; stops before anything is spent when the packs, less what jobs in flight reserved, cannot pay.",
        lambdaFunction: functions["check-credits"],
        payload: { request: JsonPath.objectAt("$.request"), executionArn: JsonPath.executionId },
        resultSelector: {
          priceUnits: JsonPath.numberAt("$.Payload.priceUnits"),
          availableUnits: JsonPath.numberAt("$.Payload.availableUnits"),
        },
        resultPath: "$.credits",
      },
      GENERATION_STATE_RETRIES.CheckCredits,
    );
    const waitForSlot = this.waitForSlot(functions["wait-for-slot"], slotQueue, releaseSlot);
    const backToQueue = this.backToQueue(functions["wait-for-slot"], slotQueue, releaseSlot);

    const submit = task(
      "Submit",
      {
        comment: "Creates the Kling task, or finds the one an earlier attempt created (same external_task_id).",
        lambdaFunction: functions.submit,
        payload: {
          jobId: JsonPath.executionName,
          executionId: JsonPath.executionId,
          redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount"),
          request: JsonPath.objectAt("$.request"),
          kind: JsonPath.stringAt("$.kind"),
        },
        resultSelector: taskViewSelector(),
        resultPath: "$.task",
      },
      GENERATION_STATE_RETRIES.Submit,
      // Kling's account full (1303) or its rate limit past the retries: not a failure, a wait.
      (state) => state.addCatch(backToQueue, { errors: errorNamesSentBackToQueue(), resultPath: REFUSAL_PATH }),
    );
    backToQueue.next(submit);
    const poll = task(
      "Poll",
      {
        comment: "Asks Kling for the task's status; a failed task or a passed deadline is an error.",
        lambdaFunction: functions.poll,
        payload: { task: JsonPath.objectAt("$.task"), executionArn: JsonPath.executionId },
        resultSelector: taskViewSelector(),
        resultPath: "$.task",
      },
      GENERATION_STATE_RETRIES.Poll,
    );
    const waitForVideo = awaitVideo ? this.waitForCallback(awaitVideo, poll, releaseSlot) : this.waitForPoll();
    const archive = task(
      "Archive",
      {
        comment:
          "Asks Kling for the task's video and streams it from Kling's URL (purged after 30 days) into the video bucket, checked; keeps what an earlier attempt stored. The generation succeeds here: the video is in $.archive.bucket at $.archive.video.key.",
        lambdaFunction: functions.archive,
        payload: {
          jobId: JsonPath.executionName,
          model: JsonPath.stringAt("$.request.model"),
          unitsCharged: JsonPath.numberAt("$.credits.priceUnits"),
          // What no task token's answer can change: Archive asks Kling for the execution's own task by them.
          executionId: JsonPath.executionId,
          redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount"),
          kind: JsonPath.stringAt("$.kind"),
          task: JsonPath.objectAt("$.task"),
        },
        resultSelector: {
          bucket: JsonPath.stringAt("$.Payload.bucket"),
          video: JsonPath.objectAt("$.Payload.video"),
          watermarked: JsonPath.objectAt("$.Payload.watermarked"),
          warnings: JsonPath.listAt("$.Payload.warnings"),
        },
        resultPath: "$.archive",
      },
      GENERATION_STATE_RETRIES.Archive,
    );
    const videoReady = new Choice(this, "VideoReady?", { comment: "Done when Kling says succeed; otherwise wait again." })
      .when(Condition.stringEquals("$.task.status", "succeed"), archive)
      .otherwise(waitForVideo);
    return { validate, checkCredits, waitForSlot, submit, backToQueue, waitForVideo, poll, videoReady, archive };
  }

  /** With callbacks off: wait as long as Submit or Poll said, then poll. */
  private waitForPoll(): Wait {
    return new Wait(this, "WaitForVideo", {
      comment: "Waits as long as Submit or Poll said: until just before a typical video of this kind is done, then briefly, never past the deadline.",
      time: WaitTime.secondsPath("$.task.nextWaitSeconds"),
    });
  }

  /**
   * With callbacks on: the execution parks on its task token, recorded in the ledger under the
   * Kling task, until the callback, confirmed, answers it with what Poll would have returned
   * (lambdas/kling-callback). A lost callback costs only delay: the wait times out when the next
   * poll of the (sparser) fallback schedule is due, and Poll takes over.
   */
  private waitForCallback(awaitVideo: IFunction, poll: LambdaInvoke, releaseSlot: LambdaInvoke): LambdaInvoke {
    const waitForVideo = new LambdaInvoke(this, "WaitForVideo", {
      comment: "Waits for Kling's callback, confirmed, to hand over the video; at most until the next fallback poll is due (then Poll).",
      lambdaFunction: awaitVideo,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("WaitForVideo", { taskToken: JsonPath.taskToken, task: JsonPath.objectAt("$.task"), executionArn: JsonPath.executionId }),
      ),
      taskTimeout: Timeout.at("$.task.nextWaitSeconds"),
      // The answer is the TaskView itself (SendTaskSuccess's output), with its video.
      resultPath: "$.task",
    });
    applyRetries(waitForVideo, GENERATION_STATE_RETRIES.WaitForVideo);
    // The timeout is the schedule's next poll: Poll, with the state as it was.
    waitForVideo.addCatch(poll, { errors: [Errors.TIMEOUT], resultPath: JsonPath.DISCARD });
    waitForVideo.addCatch(releaseSlot, { errors: [Errors.ALL], resultPath: `${FAILURE_PATH}.WaitForVideo` });
    return waitForVideo;
  }

  /**
   * Waiting costs nothing: the execution parks on its task token and spends no transitions until
   * a release (or its own second look) answers it. The timeout bounds a lost wake-up: the retry
   * looks again and keeps its place; the function ends the wait at the queue deadline.
   */
  private waitForSlot(fn: IFunction, slotQueue: SlotQueue, releaseSlot: LambdaInvoke): LambdaInvoke {
    const { parkSeconds } = slotQueue;
    const waitForSlot = new LambdaInvoke(this, "WaitForSlot", {
      comment: "Takes one of the account's Kling slots; when all are busy, waits in the first-in-first-out queue until a finishing generation hands its slot over.",
      lambdaFunction: fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("WaitForSlot", {
          taskToken: JsonPath.taskToken,
          executionArn: JsonPath.executionId,
          redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount"),
        }),
      ),
      taskTimeout: Timeout.duration(Duration.seconds(parkSeconds)),
      resultPath: "$.slot",
    });
    waitForSlot.addRetry({
      errors: [Errors.TIMEOUT],
      interval: PARK_RETRY_INTERVAL,
      backoffRate: 1,
      maxAttempts: parkRetries(slotQueue),
    });
    applyRetries(waitForSlot, GENERATION_STATE_RETRIES.WaitForSlot);
    waitForSlot.addCatch(releaseSlot, { errors: [Errors.ALL], resultPath: `${FAILURE_PATH}.WaitForSlot` });
    return waitForSlot;
  }

  /**
   * Kling refused Submit's create: the generation gives its slot back (a 1303 also lowers the
   * ledger's effective limit) and parks again at its first arrival's place, then Submit tries
   * again. Its park is the probe's quiet period: when the pipeline holds nothing else, no release
   * will wake it, and its own look is what finds Kling's room again.
   */
  private backToQueue(fn: IFunction, slotQueue: SlotQueue, releaseSlot: LambdaInvoke): LambdaInvoke {
    const { probeSeconds, deadlineSeconds } = slotQueue;
    const backToQueue = new LambdaInvoke(this, "BackToQueue", {
      comment: "Kling refused the create (account full, or its rate limit): gives the slot back and waits in the queue again at the generation's first place, then Submit tries again.",
      lambdaFunction: fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("BackToQueue", {
          taskToken: JsonPath.taskToken,
          executionArn: JsonPath.executionId,
          redriveCount: JsonPath.numberAt("$$.Execution.RedriveCount"),
          queuedSince: JsonPath.numberAt("$.slot.queuedSince"),
          refusal: JsonPath.objectAt(REFUSAL_PATH),
        }),
      ),
      taskTimeout: Timeout.duration(Duration.seconds(probeSeconds)),
      resultPath: "$.slot",
    });
    backToQueue.addRetry({
      errors: [Errors.TIMEOUT],
      interval: Duration.seconds(1),
      backoffRate: 1,
      maxAttempts: Math.ceil(deadlineSeconds / probeSeconds) + 1,
    });
    applyRetries(backToQueue, GENERATION_STATE_RETRIES.BackToQueue);
    backToQueue.addCatch(releaseSlot, { errors: [Errors.ALL], resultPath: `${FAILURE_PATH}.BackToQueue` });
    return backToQueue;
  }

  /** Where a redriven AwaitRedrive goes back to: the work that failed. */
  private resumeAfterRedrive(work: WorkStates, failed: Fail): Choice {
    const resumeAfterRedrive = new Choice(this, "ResumeAfterRedrive", {
      comment: "Goes back to the work that failed; a failed Poll resumes at Submit, or at CheckCredits when Kling failed the video.",
    });
    // Only a failure whose redrive makes Submit pay for a new task (the taxonomy says which: a
    // failed generation) goes back through the credit check, as any new task does.
    for (const [errorName, kind] of Object.entries(ERROR_KINDS)) {
      if (kind.redriveCreatesTask) resumeAfterRedrive.when(Condition.stringEquals(`${DIAGNOSIS_PATH}.errorCode`, errorName), work.checkCredits);
    }
    const retried: Record<string, LambdaInvoke> = {
      Validate: work.validate,
      CheckCredits: work.checkCredits,
      WaitForSlot: work.waitForSlot,
      Submit: work.submit,
      Archive: work.archive,
    };
    for (const [failedState, resumeAt] of Object.entries(REDRIVE_RESUMES_AT)) {
      const target = retried[resumeAt];
      if (!target) throw new Error(`REDRIVE_RESUMES_AT names ${resumeAt}, which is not a state a redrive can resume at`);
      resumeAfterRedrive.when(Condition.stringEquals(`${DIAGNOSIS_PATH}.failedState`, failedState), target);
    }
    return resumeAfterRedrive.otherwise(failed);
  }

  /**
   * Lets AwaitRedrive's function end its Task. On "*": SendTaskSuccess and SendTaskFailure have
   * no resource-level permissions (a state machine ARN there is an implicit deny at run time);
   * the task token, which only the Task's own invocation receives, is what authorizes the call.
   * A Policy of its own, not the role's default one, which the function depends on.
   */
  private grantTaskResponses(fn: IFunction): Policy {
    if (!fn.role) throw new Error("AwaitRedrive's function needs a role to be granted SendTaskSuccess and SendTaskFailure");
    return new Policy(this, "AwaitRedriveTaskResponses", {
      roles: [fn.role],
      statements: [new PolicyStatement({ actions: ["states:SendTaskSuccess", "states:SendTaskFailure"], resources: ["*"] })],
    });
  }
}

/**
 * Diagnose's result, each field read as what it is: `recoverable` is the boolean the
 * Recoverable? choice compares (JsonPath has no booleanAt; objectAt copies any JSON value as it is).
 */
function diagnoseResultSelector(): Readonly<Record<keyof DiagnoseResult, unknown>> {
  return {
    errorCode: JsonPath.stringAt("$.Payload.errorCode"),
    cause: JsonPath.stringAt("$.Payload.cause"),
    failedState: JsonPath.stringAt("$.Payload.failedState"),
    recoverable: JsonPath.objectAt("$.Payload.recoverable"),
  };
}

/** Submit and Poll both return a TaskView; each of its fields is kept under `$.task`. */
export function taskViewSelector(): Record<string, string> {
  return Object.fromEntries(TASK_VIEW_FIELDS.map((field) => [field, JsonPath.stringAt(`$.Payload.${field}`)]));
}
