/**
 * `lambda:invoke.waitForTaskToken` on the local engine: the function gets a token of its own,
 * and the Task ends the way the function's SendTaskSuccess or SendTaskFailure says, with
 * exactly that output, or that Error and Cause.
 */
import { randomUUID } from "node:crypto";
import type { TaskResponses } from "#lambdas/common/task-responses";
import type { LambdaHandler } from "./handlers";
import type { LocalClock } from "./scaled-clock";
import { type FunctionTimeout, invokeLikeLambda } from "./lambda-binding";

interface PendingTask {
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
  /** The execution whose Task waits: its end closes the token. */
  readonly executionArn: string | undefined;
}

/** An error as a Task's Catch and the execution see it: `name` is the Error, `message` the Cause. */
function taskFailure(error: string, cause: string): Error {
  const failure = new Error(cause);
  failure.name = error;
  return failure;
}

/**
 * What happens to a task token: issued to a Task that waits on it, answered (the Task ends with
 * the answer), or an answer refused because no Task waits on the token (any more).
 */
export type TaskTokenEvent =
  | { readonly type: "issued"; readonly taskToken: string }
  | { readonly type: "answered"; readonly taskToken: string; readonly outcome: "success" | "failure" }
  | { readonly type: "refused"; readonly taskToken: string };

export class LocalTaskResponses implements TaskResponses {
  private readonly pending = new Map<string, PendingTask>();
  /** Every token handed out: one no Task waits on any more was answered or timed out (TaskTimedOut), any other is not one (InvalidToken). */
  private readonly issued = new Set<string>();
  private readonly listeners = new Set<(event: TaskTokenEvent) => void>();

  constructor(private readonly clock: LocalClock) {}

  async succeed(taskToken: string, output: string): Promise<void> {
    this.take(taskToken, "success").resolve(JSON.parse(output));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.take(taskToken, "failure").reject(taskFailure(error, cause));
  }

  /**
   * Tells `listener` of every token event from now on (how the chaos run counts answers per
   * token), synchronously, within the issuer's or the answerer's own call. Returns a function
   * that stops it.
   */
  observe(listener: (event: TaskTokenEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Invokes the handler with a fresh token in place of `$$.Task.Token` and waits for the answer:
   * from the function itself, or later from anyone holding the token (another execution's
   * release). As on AWS, no answer within the state's TimeoutSeconds (simulated seconds on the
   * clock; undefined: no limit) fails the Task with States.Timeout, and the token is gone.
   */
  async invoke(handler: LambdaHandler, input: unknown, timeout: FunctionTimeout, stateTimeoutSeconds: number | undefined, executionArn?: string): Promise<unknown> {
    const payload = input !== null && typeof input === "object" && "Payload" in input ? input.Payload : undefined;
    if (payload === null || typeof payload !== "object") throw taskFailure("States.Runtime", "a callback Task needs an object Payload");
    const taskToken = randomUUID();
    this.issued.add(taskToken);
    this.tell({ type: "issued", taskToken });
    let cancelTimeout: (() => void) | undefined;
    const answered = new Promise<unknown>((resolve, reject) => {
      this.pending.set(taskToken, { resolve, reject, executionArn });
      if (stateTimeoutSeconds === undefined) return;
      cancelTimeout = this.clock.after(stateTimeoutSeconds, () => {
        if (this.pending.delete(taskToken)) reject(taskFailure("States.Timeout", "the Task's token was not answered within its TimeoutSeconds"));
      });
    });
    answered.catch(() => undefined); // Awaited below; this only keeps an early failure from counting as unhandled.
    try {
      await invokeLikeLambda(handler, { Payload: { ...payload, taskToken } }, timeout);
      return await answered;
    } catch (error) {
      this.pending.delete(taskToken);
      throw error;
    } finally {
      cancelTimeout?.();
    }
  }

  /**
   * Closes the tokens of an execution that ended (stopped, timed out, or failed elsewhere), as
   * Step Functions does: answering one is then TaskTimedOut, never a hand-over to a dead execution.
   */
  closeExecution(executionArn: string): void {
    for (const [taskToken, task] of this.pending) {
      if (task.executionArn !== executionArn) continue;
      this.pending.delete(taskToken);
      task.reject(taskFailure("States.Timeout", "the execution ended while the Task waited"));
    }
  }

  private take(taskToken: string, outcome: "success" | "failure"): PendingTask {
    const task = this.pending.get(taskToken);
    if (!task) {
      this.tell({ type: "refused", taskToken });
      // As Step Functions answers: a closed task's token has "expired or ... already been closed".
      if (this.issued.has(taskToken)) throw taskFailure("TaskTimedOut", `the task of token ${taskToken} has timed out or already been closed`);
      throw taskFailure("InvalidToken", `${taskToken} is not a task token`);
    }
    this.pending.delete(taskToken);
    this.tell({ type: "answered", taskToken, outcome });
    return task;
  }

  private tell(event: TaskTokenEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
