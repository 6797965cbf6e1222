/**
 * The batch workflow: ValidateBatch -> PriceBatch (nothing starts when the credits cannot cover it) -> GenerateEachItem (a Map, batchItemsAtOnce at once, the
 * ledger queueing them for Kling's slots; each item its own generation execution, its own trace in the console) ->
 * SummarizeBatch -> PublishBatchCompleted. Each item catches its own failure, so one bad
 * item never fails the batch, and each item's outcome goes onto the bus as it ends.
 */
import { Duration } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IntegrationPattern,
  JsonPath,
  Map as MapState,
  Pass,
  Result,
  type IStateMachine,
  StateMachine,
  StateMachineType,
  TaskInput,
} from "aws-cdk-lib/aws-stepfunctions";
import { EventBridgePutEvents, LambdaInvoke, StepFunctionsStartExecution } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { BATCH_EVENTS, NOT_SCHEDULED, STARTED_BY_KEY } from "../lambdas/batch/batch";
import { executionLogGroup, executionLogOptions, type ExecutionLogSettings } from "./execution-logs";
import { type LambdaTaskProps, withLogContext } from "./lambda-task";
import { applyRetries, KLING_AND_LEDGER_RETRIES, LOCAL_WORK_RETRIES } from "./retry-policies";

export type BatchFunctionName = "validate-batch" | "price-batch" | "record-batch-item" | "summarize-batch";

interface BatchWorkflowProps {
  readonly generation: IStateMachine;
  readonly functions: Readonly<Record<BatchFunctionName, IFunction>>;
  /** Items at once: batchItemsAtOnce for a pipeline with the account ledger. */
  readonly concurrency: number;
  /** Whether the batch is priced before anything starts (default true); the bench's classic baseline, which checks no credits, is not. */
  readonly priceFirst?: boolean;
  readonly outcomeEventSource: string;
  readonly executionLogs: ExecutionLogSettings;
}

/** What a Map in Inline mode runs at most: "up to 40 concurrent iterations" (Step Functions' Map state, Inline mode). */
const INLINE_MAP_MAX_CONCURRENCY = 40;

/**
 * How many of a batch's items run at once. The Map no longer guards Kling's slots: the account
 * ledger does, so the children wait in WaitForSlot's first-in-first-out queue beside other
 * batches' and the API's, parked on a task token (no transitions). Two rounds of the account's
 * slots: the batch keeps a round waiting, so a released slot goes to one of its items at once and
 * a batch alone keeps every slot busy, while its items (and a request arriving behind them) wait
 * about one task's time, not the whole batch's (a 100-item batch 40 at once on 5 slots puts its
 * 40th item 7 rounds back, past the queue deadline: Kling.QueueTimeout). Never above the 40 an
 * Inline Map runs.
 */
export function batchItemsAtOnce(klingConcurrency: number): number {
  return Math.min(2 * klingConcurrency, INLINE_MAP_MAX_CONCURRENCY);
}

export class BatchWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  // Longer than 60 lines: the batch's states declared in execution order, each wired to the next.
  constructor(scope: Construct, id: string, props: BatchWorkflowProps) {
    super(scope, id);
    const { functions } = props;

    /** A batch Lambda task: its payload carries the log context, its retries are local work's. */
    const lambdaTask = (name: string, props: LambdaTaskProps) => {
      const state = new LambdaInvoke(this, name, {
        ...props,
        retryOnServiceExceptions: false,
        payload: TaskInput.fromObject(withLogContext(name, props.payload)),
      });
      applyRetries(state, LOCAL_WORK_RETRIES);
      return state;
    };

    // A batch may fill the 256 KiB a state holds, so only PriceBatch gets its items: the shape is
    // checked here, and ValidateBatch gets the id, the item count and the schedule time.
    const validateBatch = new LambdaInvoke(this, "ValidateBatch", {
      comment: "Checks the batch's id and item count; each item is validated by its own generation.",
      lambdaFunction: functions["validate-batch"],
      payloadResponseOnly: true,
      // Lambda's service faults are retried by the declared lambdaService policy, not CDK's default.
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject(
        withLogContext("ValidateBatch", {
          batch: {
            batchId: JsonPath.stringAt("$.batchId"),
            itemCount: JsonPath.arrayLength(JsonPath.listAt("$.items")),
            scheduledAt: JsonPath.stringAt("$.scheduledAt"),
          },
        }),
      ),
      // The id the items run under replaces the one sent: the state does not grow.
      resultPath: "$.batchId",
    });
    applyRetries(validateBatch, LOCAL_WORK_RETRIES);
    const batchNotValid = new Fail(this, "BatchNotValid", {
      comment: "The event's detail has no batchId or no items.",
      error: "Kling.InvalidRequest",
      cause: "the batch is not valid: the batch must be an object with batchId and items",
    });
    const unscheduled = new Pass(this, "Unscheduled", {
      comment: "A batch sent as an event, not by a schedule.",
      // Not "": the local engine ignores a Result that is falsy.
      result: Result.fromString(NOT_SCHEDULED),
      resultPath: "$.scheduledAt",
    }).next(validateBatch);
    const batchShape = new Choice(this, "BatchShape?", { comment: "Has the batch an id and items? Is it a scheduled run?" })
      // Not IsPresent: false, which the local engine evaluates by reading the missing path.
      .when(Condition.not(Condition.and(Condition.isPresent("$.batchId"), Condition.isPresent("$.items"))), batchNotValid)
      .when(Condition.isPresent("$.scheduledAt"), validateBatch)
      .otherwise(unscheduled);

    const startGeneration = new StepFunctionsStartExecution(this, "StartGeneration", {
      comment:
        "Runs the item as its own generation execution, named from the batch id and index, started by this batch, and waits for it.",
      stateMachine: props.generation,
      integrationPattern: IntegrationPattern.RUN_JOB,
      name: JsonPath.stringAt("$.executionName"),
      // The request and this batch's execution id: a repeated delivery's start differs in input, so
      // it is refused (a duplicate) even while the first delivery's child runs, never joined.
      input: TaskInput.fromJsonPathAt(JsonPath.jsonMerge(JsonPath.objectAt("$.request"), JsonPath.objectAt("$.startedBy"))),
      associateWithParent: false,
      resultSelector: { output: JsonPath.objectAt("$.Output") },
      resultPath: "$.execution",
    });
    const recordItemOutcome = lambdaTask("RecordItemOutcome", {
      comment: "Turns the item's execution (or its caught failure) into its outcome and event.",
      lambdaFunction: functions["record-batch-item"],
      payload: { item: JsonPath.entirePayload },
      resultSelector: { detailType: JsonPath.stringAt("$.Payload.detailType"), detail: JsonPath.objectAt("$.Payload.detail") },
      resultPath: "$.outcome",
    });
    startGeneration.addCatch(recordItemOutcome, { errors: [Errors.ALL], resultPath: "$.failure" });
    // Merging a request that is not an object would fail the whole batch (States.Runtime is never caught).
    const notARequest = new Pass(this, "NotARequest", {
      comment: "The item is not a JSON object, so not a generation request: it fails alone.",
      parameters: { Error: "Kling.InvalidRequest", Cause: "the item is not a generation request: it must be a JSON object" },
      resultPath: "$.failure",
    }).next(recordItemOutcome);
    const itemIsRequest = new Choice(this, "ItemIsRequest?", { comment: "Only a JSON object can be a generation request." })
      .when(Condition.stringMatches("$.requestJson", "{*"), startGeneration)
      .otherwise(notARequest);

    const publishItemOutcome = new EventBridgePutEvents(this, "PublishItemOutcome", {
      comment: "Puts Video Generated or Video Generation Failed (with the diagnosis) on the bus.",
      entries: [
        {
          source: props.outcomeEventSource,
          detailType: JsonPath.stringAt("$.outcome.detailType"),
          detail: TaskInput.fromJsonPathAt("$.outcome.detail"),
        },
      ],
      resultPath: JsonPath.DISCARD,
      outputPath: "$.outcome.detail",
    });
    applyRetries(publishItemOutcome, ["publishEvent"]);
    const outcomeUnpublished = new Pass(this, "OutcomeUnpublished", {
      comment: "The bus refused the event; the outcome still counts in the summary.",
      outputPath: "$.outcome.detail",
    });
    publishItemOutcome.addCatch(outcomeUnpublished, { errors: [Errors.ALL], resultPath: JsonPath.DISCARD });

    const generateEachItem = new MapState(this, "GenerateEachItem", {
      comment: "Each item in its own generation execution; the account ledger queues them for Kling's slots with every other generation.",
      itemsPath: "$.items",
      maxConcurrency: props.concurrency,
      itemSelector: {
        batchId: JsonPath.stringAt("$.batchId"),
        index: JsonPath.numberAt("$$.Map.Item.Index"),
        executionName: JsonPath.format("batch-{}-{}", JsonPath.stringAt("$.batchId"), JsonPath.stringAt("$$.Map.Item.Index")),
        request: JsonPath.objectAt("$$.Map.Item.Value"),
        requestJson: JsonPath.jsonToString(JsonPath.objectAt("$$.Map.Item.Value")),
        startedBy: { [STARTED_BY_KEY]: JsonPath.executionId },
      },
      // The outcomes replace the requests: the batch's state never holds both.
      resultPath: "$.items",
    });
    startGeneration.next(recordItemOutcome).next(publishItemOutcome);
    generateEachItem.itemProcessor(itemIsRequest);

    const summarizeBatch = lambdaTask("SummarizeBatch", {
      comment: "Counts the outcomes and lists every item in order.",
      lambdaFunction: functions["summarize-batch"],
      payload: { batchId: JsonPath.stringAt("$.batchId"), items: JsonPath.listAt("$.items") },
      resultSelector: { summary: JsonPath.objectAt("$.Payload") },
    });

    const publishBatchCompleted = new EventBridgePutEvents(this, "PublishBatchCompleted", {
      comment: "Puts Video Generation Batch Completed, with the summary, on the bus.",
      entries: [
        { source: props.outcomeEventSource, detailType: BATCH_EVENTS.completed, detail: TaskInput.fromJsonPathAt("$.summary") },
      ],
      resultPath: JsonPath.DISCARD,
      outputPath: "$.summary",
    });
    applyRetries(publishBatchCompleted, ["publishEvent"]);

    if (props.priceFirst ?? true) {
      // A batch is priced before anything is spent, in one state: the items go to PriceBatch, and
      // nothing beside them (no log context: a state near 256 KiB leaves no room for it), its
      // result is discarded so the state does not grow, and a batch the credits cannot cover
      // leaves as an error, caught in place of the items.
      const priceBatch = new LambdaInvoke(this, "PriceBatch", {
        comment:
          "Prices every item with Validate's defaults and rules from the one pricing table and holds the total against the resource packs less the ledger's reservations; too dear, nothing starts (advisory otherwise: each item still reserves its own price).",
        lambdaFunction: functions["price-batch"],
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: TaskInput.fromObject({ items: JsonPath.listAt("$.items") }),
        resultPath: JsonPath.DISCARD,
      });
      // It asks Kling's account endpoint and reads the ledger, as CheckCredits does: the same retries.
      applyRetries(priceBatch, KLING_AND_LEDGER_RETRIES);
      const summarizeNotStarted = lambdaTask("SummarizeNotStarted", {
        comment: "The summary of a batch that started nothing: its price and what was available.",
        lambdaFunction: functions["summarize-batch"],
        payload: { batchId: JsonPath.stringAt("$.batchId"), notStarted: JsonPath.objectAt("$.items") },
        resultSelector: { summary: JsonPath.objectAt("$.Payload") },
      });
      // The refusal takes the place of the items: nothing starts, and the state shrinks.
      priceBatch.addCatch(summarizeNotStarted, { errors: ["Kling.InsufficientCredits"], resultPath: "$.items" });
      summarizeNotStarted.next(publishBatchCompleted);
      // Advisory: a batch that cannot be priced (Kling's account endpoint down past its retries)
      // still runs, each item's CheckCredits deciding for it; no item goes without an outcome.
      priceBatch.addCatch(generateEachItem, { errors: [Errors.ALL], resultPath: JsonPath.DISCARD });
      validateBatch.next(priceBatch).next(generateEachItem);
    } else {
      validateBatch.next(generateEachItem);
    }
    generateEachItem.next(summarizeBatch).next(publishBatchCompleted);

    const logGroup = executionLogGroup(this);
    this.stateMachine = new StateMachine(this, "StateMachine", {
      comment: "Runs a batch of video requests, each as its own generation, and summarizes the outcomes.",
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(batchShape),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: executionLogOptions(logGroup, props.executionLogs),
    });
  }
}
