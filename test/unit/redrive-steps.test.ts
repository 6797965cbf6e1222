/**
 * The pieces a redrive runs through: AwaitRedrive's answer (fail first, succeed when resumed),
 * given by a function of its own, its port on Step Functions, the local callback binding, and
 * Submit's choice of the task to follow after a redrive.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { answerAwaitRedrive, type AwaitRedriveEvent } from "#lambdas/await-redrive/answer";
import { awaitRedriveHandler } from "#lambdas/await-redrive/handler";
import { diagnosisOfExecution } from "#lambdas/diagnose/diagnosis";
import { handler as diagnose } from "#lambdas/diagnose/handler";
import { SfnTaskResponses, type TaskResponses } from "#lambdas/common/task-responses";
import type { KlingApi } from "#lambdas/kling/port";
import type { Task, TaskStatus } from "#lambdas/kling/wire";
import { externalTaskIdFor, externalTaskIdsUpTo } from "#lambdas/submit/external-task-id";
import { findLiveTask } from "#lambdas/submit/live-task";
import { LocalTaskResponses } from "#local/runner/task-token-binding";
import { ScaledClock } from "#local/runner/scaled-clock";

const EXECUTION_ARN = "arn:aws:states:eu-west-1:123456789012:execution:Generation:job-1";
const CAUSE = JSON.stringify({ jobId: "job-1", errorCode: "Kling.PollTimeout" });

/** Records what a function answered through its task token. */
class RecordedResponses implements TaskResponses {
  readonly answers: unknown[][] = [];
  async succeed(taskToken: string, output: string): Promise<void> {
    this.answers.push(["succeed", taskToken, output]);
  }
  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.answers.push(["fail", taskToken, error, cause]);
  }
}

const event = (diagnosedAtRedriveCount: number, redriveCount: number): AwaitRedriveEvent => ({
  taskToken: "token-1",
  diagnosedAtRedriveCount,
  redriveCount,
  errorCode: "Kling.PollTimeout",
  cause: CAUSE,
});

describe("AwaitRedrive", () => {
  it("fails with the diagnosed error and the diagnosis as Cause when entered after Diagnose", async () => {
    const responses = new RecordedResponses();
    await expect(answerAwaitRedrive(event(0, 0), responses)).resolves.toBe("failed");
    expect(responses.answers).toEqual([["fail", "token-1", "Kling.PollTimeout", CAUSE]]);
  });

  it("succeeds with an empty record of failures when a redrive resumed it", async () => {
    const responses = new RecordedResponses();
    await expect(answerAwaitRedrive(event(0, 1), responses)).resolves.toBe("resumed");
    expect(responses.answers).toEqual([["succeed", "token-1", "{}"]]);
  });

  it("fails again for a failure diagnosed during a redrive, until the next redrive", async () => {
    const responses = new RecordedResponses();
    await answerAwaitRedrive(event(1, 1), responses);
    await answerAwaitRedrive(event(1, 2), responses);
    expect(responses.answers.map(([kind]) => kind)).toEqual(["fail", "succeed"]);
  });

  it("is a function of its own: it answers the token, and Diagnose's function never does", async () => {
    const responses = new RecordedResponses();
    const awaiting = { ...event(0, 0), logContext: { executionName: "job-1", stateName: "AwaitRedrive" } };
    await expect(awaitRedriveHandler({ taskResponses: responses })(awaiting)).resolves.toEqual({ answered: "failed" });
    await expect(diagnose(awaiting)).rejects.toThrow();
    expect(responses.answers).toEqual([["fail", "token-1", "Kling.PollTimeout", CAUSE]]);
  });

  it("redriven in a definition from before it had its own function (Diagnose's gets the token), fails at once with the diagnosis, under a name no redrive retries", async () => {
    // A redrive keeps the execution's definition: there AwaitRedrive still invokes Diagnose's function.
    const older = { ...event(0, 1), logContext: { executionName: "job-1", stateName: "AwaitRedrive" } };
    const failure = await diagnose(older).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: "AwaitRedrive.NotResumable", message: expect.stringContaining(CAUSE) });
    expect((failure as Error).message).toMatch(/start the request again/);
    // What the redrive command and the scheduled redrive read from the failed execution.
    const lambdaCause = JSON.stringify({ errorType: (failure as Error).name, errorMessage: (failure as Error).message, trace: [] });
    expect(diagnosisOfExecution("job-1", (failure as Error).name, lambdaCause)).toMatchObject({ recoverable: false, action: "contact-support" });
  });

  it("refuses an event without a task token, naming what is missing", async () => {
    const { taskToken: _, ...withoutToken } = event(0, 0);
    await expect(awaitRedriveHandler({ taskResponses: new RecordedResponses() })(withoutToken)).rejects.toThrow(/AwaitRedrive received an event it cannot read: taskToken/);
  });
});

describe("SfnTaskResponses", () => {
  const sfn = mockClient(SFNClient);
  beforeEach(() => sfn.reset());

  it("ends the Task with SendTaskSuccess or SendTaskFailure, Error and Cause as given", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({}).on(SendTaskFailureCommand).resolves({});
    const responses = new SfnTaskResponses(new SFNClient({ region: "eu-west-1" }));
    await responses.succeed("token-1", "{}");
    await responses.fail("token-2", "Kling.PollTimeout", CAUSE);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({ taskToken: "token-1", output: "{}" });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({ taskToken: "token-2", error: "Kling.PollTimeout", cause: CAUSE });
  });
});

describe("a callback Task on the local engine", () => {
  const timeout = { seconds: 5, realMs: 5_000 };
  const input = { FunctionName: "f", Payload: { taskToken: "local-task-token", errorCode: "E" } };

  it("whose execution ended (stopped, timed out) has its token closed, as on AWS: an answer is TaskTimedOut, not a hand-over to a dead execution", async () => {
    const responses = new LocalTaskResponses(new ScaledClock(1));
    const tokens: string[] = [];
    const park = (executionArn: string) =>
      responses.invoke(async (payload) => {
        tokens.push((payload as { taskToken: string }).taskToken);
      }, input, timeout, 60, executionArn);
    const stopped = park("arn:aws:states:us-east-1:123456789012:execution:m:stopped");
    const running = park("arn:aws:states:us-east-1:123456789012:execution:m:running");
    await expect.poll(() => tokens.length).toBe(2);
    responses.closeExecution("arn:aws:states:us-east-1:123456789012:execution:m:stopped");
    await expect(stopped).rejects.toMatchObject({ name: "States.Timeout" });
    await expect(responses.succeed(tokens[0] ?? "", "{}")).rejects.toMatchObject({ name: "TaskTimedOut" });
    // Another execution's token is untouched.
    await responses.succeed(tokens[1] ?? "", '{"ok":true}');
    await expect(running).resolves.toEqual({ ok: true });
  });

  it("ends with the output the function sent, having handed it a token of its own", async () => {
    const responses = new LocalTaskResponses(new ScaledClock(1));
    let seen: unknown;
    const result = await responses.invoke(async (payload) => {
      seen = payload;
      await responses.succeed((payload as { taskToken: string }).taskToken, '{"resumed":true}');
    }, input, timeout, 5);
    expect(result).toEqual({ resumed: true });
    expect(seen).toMatchObject({ errorCode: "E", taskToken: expect.not.stringMatching(/^local-task-token$/) });
  });

  it("fails with exactly the Error and Cause the function sent", async () => {
    const responses = new LocalTaskResponses(new ScaledClock(1));
    const failing = responses.invoke((payload) => responses.fail((payload as { taskToken: string }).taskToken, "Kling.PollTimeout", CAUSE), input, timeout, 5);
    await expect(failing).rejects.toMatchObject({ name: "Kling.PollTimeout", message: CAUSE });
  });

  it("times out, as on AWS, when nobody answers within the state's TimeoutSeconds, and the token is gone", async () => {
    const responses = new LocalTaskResponses(new ScaledClock(1));
    let token = "";
    const waiting = responses.invoke(async (payload) => {
      token = (payload as { taskToken: string }).taskToken;
    }, input, timeout, 0.05);
    await expect(waiting).rejects.toMatchObject({ name: "States.Timeout" });
    await expect(responses.succeed(token, "{}")).rejects.toMatchObject({ name: "TaskTimedOut" });
    await expect(responses.succeed("not-a-token", "{}")).rejects.toMatchObject({ name: "InvalidToken" });
  });

  it("waits when the function stores its token and returns, until another caller answers it", async () => {
    const responses = new LocalTaskResponses(new ScaledClock(1));
    const stored: string[] = [];
    const waiting = responses.invoke(async (payload) => {
      stored.push((payload as { taskToken: string }).taskToken);
    }, input, timeout, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [token] = stored;
    if (!token) throw new Error("the function got no token");
    await responses.succeed(token, '{"queuedSeconds":3}');
    await expect(waiting).resolves.toEqual({ queuedSeconds: 3 });
  });
});

describe("the task a Submit follows after a redrive", () => {
  const task = (id: string, status: TaskStatus): Task => ({ task_id: id, task_status: status, created_at: 0, updated_at: 0 }) as Task;
  /** A Kling that knows these tasks by external_task_id and records each look-up. */
  function kling(tasks: Record<string, Task>) {
    const lookups: string[] = [];
    const api = {
      findTaskByExternalId: async (_kind: string, externalTaskId: string) => {
        lookups.push(externalTaskId);
        return tasks[externalTaskId];
      },
    } as unknown as KlingApi;
    return { api, lookups };
  }
  const ids = (redriveCount: number) => externalTaskIdsUpTo("job-1", EXECUTION_ARN, redriveCount);

  it("is the first attempt's id before any redrive, and -rN after the Nth", () => {
    expect(ids(0)).toEqual([externalTaskIdFor("job-1", EXECUTION_ARN)]);
    expect(ids(2)).toEqual([`${ids(0)[0]}-r2`, `${ids(0)[0]}-r1`, ids(0)[0]]);
  });

  it("is the earlier task when it has not failed: a redrive after a Submit or Poll failure pays nothing", async () => {
    const { api } = kling({ [ids(0)[0] ?? ""]: task("t-0", "processing") });
    await expect(findLiveTask(api, "text2video", ids(1))).resolves.toEqual({ task: task("t-0", "processing"), externalTaskId: ids(0)[0] });
  });

  it("is none when every earlier task failed: a redrive after a failed generation creates one under its own id", async () => {
    const { api, lookups } = kling({ [ids(0)[0] ?? ""]: task("t-0", "failed") });
    await expect(findLiveTask(api, "text2video", ids(1))).resolves.toBeUndefined();
    expect(lookups).toEqual(ids(1));
  });

  it("is this attempt's own task whatever its status, so a retry never creates a second one", async () => {
    const { api, lookups } = kling({ [ids(1)[0] ?? ""]: task("t-1", "failed") });
    await expect(findLiveTask(api, "text2video", ids(1))).resolves.toMatchObject({ task: { task_id: "t-1" } });
    expect(lookups).toHaveLength(1);
  });
});
