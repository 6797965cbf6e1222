/**
 * The TaskResponses port: how a function invoked with a task token ends that Task. On AWS it
 * is SendTaskSuccess / SendTaskFailure; the local runner swaps in its own.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";

export interface TaskResponses {
  /** Ends the Task successfully; `output` is JSON and becomes the Task's result. */
  succeed(taskToken: string, output: string): Promise<void>;
  /** Fails the Task with exactly this Error and Cause. */
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

export class SfnTaskResponses implements TaskResponses {
  constructor(private readonly client: SFNClient = new SFNClient({})) {}

  async succeed(taskToken: string, output: string): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output }));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    await this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}

let current: TaskResponses | undefined;

/** The port in use: Step Functions itself unless the local runner installed its own. */
export function taskResponses(): TaskResponses {
  current ??= new SfnTaskResponses();
  return current;
}

/** Replaces the port (local runner and tests only); returns a function that restores it. */
export function useTaskResponses(responses: TaskResponses): () => void {
  const previous = current;
  current = responses;
  return () => {
    current = previous;
  };
}
