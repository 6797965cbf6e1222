/**
 * The TaskResponses port: how a function invoked with a task token ends that Task. On AWS it
 * is SendTaskSuccess / SendTaskFailure; the local runner passes its own.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";

export interface TaskResponses {
  /** Ends the Task successfully; `output` is JSON and becomes the Task's result. */
  succeed(taskToken: string, output: string): Promise<void>;
  /** Fails the Task with exactly this Error and Cause. */
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

export class SfnTaskResponses implements TaskResponses {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: string): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output }));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    await this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}

/** Step Functions' own, with a client made on first use. */
export function sfnTaskResponses(): TaskResponses {
  let responses: SfnTaskResponses | undefined;
  const sfn = () => (responses ??= new SfnTaskResponses(new SFNClient({})));
  return {
    succeed: (taskToken, output) => sfn().succeed(taskToken, output),
    fail: (taskToken, error, cause) => sfn().fail(taskToken, error, cause),
  };
}
