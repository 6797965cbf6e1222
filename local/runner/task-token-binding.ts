/**
 * `lambda:invoke.waitForTaskToken` on the local engine: the function gets a token of its own,
 * and the Task ends the way the function's SendTaskSuccess or SendTaskFailure says, with
 * exactly that output, or that Error and Cause.
 */
import { randomUUID } from "node:crypto";
import type { TaskResponses } from "../../lambdas/await-redrive/task-responses";
import type { LambdaHandler } from "./handlers";
import { type FunctionTimeout, invokeLikeLambda } from "./lambda-binding";

interface PendingTask {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** An error as a Task's Catch and the execution see it: `name` is the Error, `message` the Cause. */
function taskFailure(error: string, cause: string): Error {
  const failure = new Error(cause);
  failure.name = error;
  return failure;
}

export class LocalTaskResponses implements TaskResponses {
  private readonly pending = new Map<string, PendingTask>();

  async succeed(taskToken: string, output: string): Promise<void> {
    this.take(taskToken).resolve(JSON.parse(output));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.take(taskToken).reject(taskFailure(error, cause));
  }

  /** Invokes the handler with a fresh token in place of `$$.Task.Token` and waits for its answer. */
  async invoke(handler: LambdaHandler, input: unknown, timeout: FunctionTimeout): Promise<unknown> {
    const payload = input !== null && typeof input === "object" && "Payload" in input ? input.Payload : undefined;
    if (payload === null || typeof payload !== "object") throw taskFailure("States.Runtime", "a callback Task needs an object Payload");
    const taskToken = randomUUID();
    const answered = new Promise<unknown>((resolve, reject) => this.pending.set(taskToken, { resolve, reject }));
    answered.catch(() => undefined); // Awaited below; this only keeps an early failure from counting as unhandled.
    try {
      await invokeLikeLambda(handler, { Payload: { ...payload, taskToken } }, timeout);
    } catch (error) {
      this.pending.delete(taskToken);
      throw error;
    }
    // On AWS a function that returned without answering leaves the Task waiting until its timeout.
    if (this.pending.delete(taskToken)) throw taskFailure("States.Timeout", "the function returned without answering its task token");
    return answered;
  }

  private take(taskToken: string): PendingTask {
    const task = this.pending.get(taskToken);
    if (!task) throw taskFailure("InvalidToken", `no Task is waiting for the token ${taskToken}`);
    this.pending.delete(taskToken);
    return task;
  }
}
