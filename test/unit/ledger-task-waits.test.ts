/**
 * The ledger's task waits (WaitForVideo's token under the task's external_task_id) and the one
 * claim of a task's end, against dynalite; and, with a mocked client, the conditional paths.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { TaskView } from "#lambdas/common/task-view";
import type { TaskEnd } from "#lambdas/ledger/task-waits";
import { DynamoDbTaskWaits } from "#lambdas/ledger/task-waits";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
let taskNumber = 0;
const nextTaskId = () => `job-${(taskNumber += 1)}-abc123`;

const task = (externalTaskId: string): TaskView => ({
  taskId: `kling-${externalTaskId}`,
  externalTaskId,
  kind: "text2video",
  status: "submitted",
  typicalSeconds: 120,
  submittedAt: 1_000,
  polls: 0,
  nextWaitSeconds: 180,
  video: null,
});
const succeeded: TaskEnd = { status: "succeed", video: { id: "v1", url: "https://cdn.example/v1.mp4", duration: "5" }, unitsSpent: 2 };
const failed: TaskEnd = { status: "failed", message: "the scene is too complex" };
const DAY_MS = 86_400_000;

describe("a task wait", () => {
  it("is found by its external_task_id with the token, the execution and the task", async () => {
    const id = nextTaskId();
    expect(await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS)).toBeUndefined();
    expect(await dynalite.taskWaits.taskWait(id)).toEqual({ executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1", end: undefined });
    expect(await dynalite.taskWaits.taskWait(nextTaskId())).toBeUndefined();
  });

  it("gives its end to one claim only: a second claim (a duplicate callback, or the poll after the callback) changes nothing", async () => {
    const id = nextTaskId();
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS);
    expect(await dynalite.taskWaits.claimTaskEnd(id, succeeded)).toEqual({
      outcome: "claimed",
      wait: { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1", end: succeeded },
    });
    expect(await dynalite.taskWaits.claimTaskEnd(id, failed)).toEqual({ outcome: "claimed-before" });
    expect((await dynalite.taskWaits.taskWait(id))?.end).toEqual(succeeded);
  });

  it("is settled once its end's work is done, and only once it has an end", async () => {
    const id = nextTaskId();
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS);
    await expect(dynalite.taskWaits.settleTaskEnd(id)).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    await dynalite.taskWaits.claimTaskEnd(id, succeeded);
    expect((await dynalite.taskWaits.taskWait(id))?.settled).toBeUndefined();
    await dynalite.taskWaits.settleTaskEnd(id);
    expect(await dynalite.taskWaits.taskWait(id)).toMatchObject({ end: succeeded, settled: true });
  });

  it("claimed by 10 callbacks at once is claimed once", async () => {
    const id = nextTaskId();
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS);
    const claims = await Promise.all(Array.from({ length: 10 }, () => dynalite.taskWaits.claimTaskEnd(id, succeeded)));
    expect(claims.filter((claim) => claim.outcome === "claimed")).toHaveLength(1);
  });

  it("of a task nobody waits on cannot be claimed, and the claim makes no item", async () => {
    const id = nextTaskId();
    expect(await dynalite.taskWaits.claimTaskEnd(id, succeeded)).toEqual({ outcome: "unknown-task" });
    expect(await dynalite.taskWaits.taskWait(id)).toBeUndefined();
  });

  it("recorded again after its end was claimed (the callback came while the poll ran) returns that end, and keeps it", async () => {
    const id = nextTaskId();
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS);
    await dynalite.taskWaits.claimTaskEnd(id, failed);
    expect(await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: { ...task(id), polls: 1 }, taskToken: "token-2" }, DAY_MS)).toEqual(failed);
    expect(await dynalite.taskWaits.taskWait(id)).toMatchObject({ taskToken: "token-2", end: failed });
  });
});

describe("a task's confirming queries", () => {
  it("are counted by task and window: at most the limit of 20 asked at once, a new window starts again, an unknown task gets none", async () => {
    const id = nextTaskId();
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-1" }, DAY_MS);
    const taken = await Promise.all(Array.from({ length: 20 }, () => dynalite.taskWaits.takeConfirmingQuery(id, 60_000, 3)));
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect(await dynalite.taskWaits.takeConfirmingQuery(id, 120_000, 3)).toBe(true);
    expect(await dynalite.taskWaits.takeConfirmingQuery(nextTaskId(), 120_000, 3)).toBe(false);
    // The count sits on the wait: a new WaitForVideo's token for the task keeps it.
    await dynalite.taskWaits.recordTaskWait(id, { executionArn: dynalite.arn("a"), task: task(id), taskToken: "token-2" }, DAY_MS);
    const more = await Promise.all([1, 2, 3].map(() => dynalite.taskWaits.takeConfirmingQuery(id, 120_000, 3)));
    expect(more.filter(Boolean)).toHaveLength(2);
  });
});

describe("the task-wait adapter when DynamoDB refuses", () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
  const ledger = new DynamoDbTaskWaits(documents, "ledger");
  const dynamo = mockClient(documents);
  beforeEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());

  it("writes the claim as one conditional update that needs the wait and no end yet", async () => {
    dynamo.on(UpdateCommand).resolves({ Attributes: { executionArn: "arn:x", task: task("t"), taskToken: "token-1", end: succeeded } });
    await ledger.claimTaskEnd("t", succeeded);
    const [update] = dynamo.commandCalls(UpdateCommand);
    expect(update?.args[0].input).toMatchObject({
      Key: { pk: "task-wait#t", sk: "wait" },
      ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#end)",
    });
  });

  it("reads a failed condition as claimed before when the wait exists, as unknown when it does not", async () => {
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
    dynamo.on(GetCommand).resolvesOnce({ Item: { executionArn: "arn:x", task: task("t"), taskToken: "token-1", end: succeeded } }).resolvesOnce({});
    await expect(ledger.claimTaskEnd("t", succeeded)).resolves.toEqual({ outcome: "claimed-before" });
    await expect(ledger.claimTaskEnd("t", succeeded)).resolves.toEqual({ outcome: "unknown-task" });
  });

  it("lets throttling through under its own name, which the callback's caller sees as a server error", async () => {
    const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ThrottlingException" });
    dynamo.on(UpdateCommand).rejects(throttled);
    await expect(ledger.claimTaskEnd("t", succeeded)).rejects.toMatchObject({ name: "ThrottlingException" });
  });

  it("names a wait it cannot read instead of acting on it", async () => {
    dynamo.on(GetCommand).resolves({ Item: { executionArn: "arn:x", task: { taskId: "t" }, taskToken: "token-1" } });
    await expect(ledger.taskWait("t")).rejects.toThrow("the ledger's wait for task t is not one it can read");
  });
});
