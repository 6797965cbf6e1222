/**
 * The task waits, in the ledger's table beside the slots (a port of their own, so that only the
 * functions that wait on a Kling task carry them): one item per Kling task, keyed by its
 * external_task_id, holding the token WaitForVideo waits on, and the task's end once someone
 * confirmed and claimed it. "Claim if nobody has" is one conditional update, so duplicate, late
 * and out-of-order callbacks, and the fallback poll, act on an end once.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Environment } from "../common/config";
import { ledgerTableName } from "./config";
import * as z from "zod";
import { type TaskView, taskViewSchema } from "../common/task-view";
import { epochSeconds, isConditionFailed, LEDGER_EXPIRY_ATTRIBUTE } from "./dynamodb-ledger";

/**
 * A Kling task whose WaitForVideo waits on a task token, kept under its external_task_id until
 * Kling's callback, or the fallback poll, confirms its end.
 */
export interface TaskWait {
  readonly executionArn: string;
  /** The task as WaitForVideo received it: what the callback answers the token with, plus the video. */
  readonly task: TaskView;
  /** The token of the latest WaitForVideo; an earlier one has timed out. */
  readonly taskToken: string;
  /** The end, once someone confirmed and claimed it. */
  readonly end?: TaskEnd | undefined;
  /** Whether the end's work is done: the slot released and the wait answered (or handed to Poll's own execution). */
  readonly settled?: boolean | undefined;
}

/** Who confirmed a task's end first and acts on it. */
export type TaskEndClaim =
  /** This caller did: it releases the slot and answers the token. */
  | { readonly outcome: "claimed"; readonly wait: TaskWait }
  /** Someone did before (a duplicate, late or out-of-order callback, or the other of callback and poll). */
  | { readonly outcome: "claimed-before" }
  /** No WaitForVideo waits on this task (callbacks off, or a task this pipeline does not know). */
  | { readonly outcome: "unknown-task" };

export interface TaskWaits {
  /**
   * Records the token WaitForVideo waits on for this task (one item per external_task_id, kept
   * until `expiresAt`, epoch ms). Returns the end if one was claimed before: the wait is then over.
   */
  recordTaskWait(externalTaskId: string, wait: Omit<TaskWait, "end">, expiresAt: number): Promise<TaskEnd | undefined>;
  /** The wait recorded for this task, if any. */
  taskWait(externalTaskId: string): Promise<TaskWait | undefined>;
  /** Claims the task's confirmed end, once: only the first caller for a task gets "claimed". */
  claimTaskEnd(externalTaskId: string, end: TaskEnd): Promise<TaskEndClaim>;
  /**
   * Records that the claimed end's work is done. Until then a later callback finishes it (the
   * claimant may have failed after claiming); after, it changes nothing.
   */
  settleTaskEnd(externalTaskId: string): Promise<void>;
  /**
   * Counts one confirming query (a Kling task query a callback causes) against the task's
   * `limit` for the window starting at `windowStart` (epoch ms): true when it may be sent, false
   * when the window's limit is reached or no wait is recorded for the task.
   */
  takeConfirmingQuery(externalTaskId: string, windowStart: number, limit: number): Promise<boolean>;
}

/**
 * A task's confirmed end, as the ledger keeps it once claimed (lambdas/common/task-end.ts acts
 * on it): the video, or Kling's reason for the failure, and what Kling charged when it said.
 */
const taskEndSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("succeed"), video: taskViewSchema.shape.video.unwrap(), unitsSpent: z.number().optional() }),
  z.object({ status: z.literal("failed"), message: z.string(), unitsSpent: z.number().optional() }),
]);
export type TaskEnd = z.infer<typeof taskEndSchema>;

const taskWaitKey = (externalTaskId: string) => ({ pk: `task-wait#${externalTaskId}`, sk: "wait" });

/** A task wait as the table holds it; anything else is a defect named clearly. */
function toTaskWait(externalTaskId: string, item: Record<string, unknown>): TaskWait {
  const task = taskViewSchema.safeParse(item.task);
  const end = item.end === undefined ? undefined : taskEndSchema.safeParse(item.end);
  const { executionArn, taskToken } = item;
  if (!task.success || end?.success === false || typeof executionArn !== "string" || typeof taskToken !== "string") {
    throw new Error(`the ledger's wait for task ${externalTaskId} is not one it can read`);
  }
  return { executionArn, task: task.data, taskToken, end: end?.data, ...(item.settled === true ? { settled: true } : {}) };
}

export class DynamoDbTaskWaits implements TaskWaits {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordTaskWait(externalTaskId: string, wait: Omit<TaskWait, "end">, expiresAt: number): Promise<TaskEnd | undefined> {
    const answer = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: taskWaitKey(externalTaskId),
        // Names for every attribute: DynamoDB reserves many words.
        UpdateExpression: "SET #execution = :execution, #task = :task, #token = :token, #expiresAt = :expiresAt",
        ExpressionAttributeNames: { "#execution": "executionArn", "#task": "task", "#token": "taskToken", "#expiresAt": LEDGER_EXPIRY_ATTRIBUTE },
        ExpressionAttributeValues: { ":execution": wait.executionArn, ":task": wait.task, ":token": wait.taskToken, ":expiresAt": epochSeconds(expiresAt) },
        ReturnValues: "ALL_NEW",
      }),
    );
    return toTaskWait(externalTaskId, answer.Attributes ?? {}).end;
  }

  async taskWait(externalTaskId: string): Promise<TaskWait | undefined> {
    const answer = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: taskWaitKey(externalTaskId), ConsistentRead: true }));
    return answer.Item ? toTaskWait(externalTaskId, answer.Item) : undefined;
  }

  async claimTaskEnd(externalTaskId: string, end: TaskEnd): Promise<TaskEndClaim> {
    try {
      const answer = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: taskWaitKey(externalTaskId),
          UpdateExpression: "SET #end = :end",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#end)",
          ExpressionAttributeNames: { "#end": "end" },
          ExpressionAttributeValues: { ":end": end },
          ReturnValues: "ALL_NEW",
        }),
      );
      return { outcome: "claimed", wait: toTaskWait(externalTaskId, answer.Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    // No wait recorded, or an end claimed already: the item says which.
    return (await this.taskWait(externalTaskId)) ? { outcome: "claimed-before" } : { outcome: "unknown-task" };
  }

  async settleTaskEnd(externalTaskId: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: taskWaitKey(externalTaskId),
        UpdateExpression: "SET #settled = :settled",
        ConditionExpression: "attribute_exists(#end)",
        ExpressionAttributeNames: { "#settled": "settled", "#end": "end" },
        ExpressionAttributeValues: { ":settled": true },
      }),
    );
  }

  async takeConfirmingQuery(externalTaskId: string, windowStart: number, limit: number): Promise<boolean> {
    try {
      // One count per window, on the wait's item (which expires with it): one more while below the limit.
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: taskWaitKey(externalTaskId),
          UpdateExpression: "SET #count = if_not_exists(#count, :zero) + :one",
          ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(#count) OR #count < :limit)",
          ExpressionAttributeNames: { "#count": `queries-${windowStart}` },
          ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":limit": limit },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

}

/** The task waits in the environment's ledger table, with their client, made on first use. */
export function dynamoDbTaskWaitsFrom(env: Environment): () => TaskWaits {
  let waits: TaskWaits | undefined;
  return () => {
    waits ??= new DynamoDbTaskWaits(DynamoDBDocumentClient.from(new DynamoDBClient({})), ledgerTableName(env));
    return waits;
  };
}
