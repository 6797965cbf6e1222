import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";
import { answerAwaitRedrive, awaitRedriveEventSchema } from "./answer";
import type { HandlerPorts } from "../common/ports";
import { sfnTaskResponses } from "../common/task-responses";

/** What the invocation returns; the Task's own outcome went through its task token. */
interface AwaitRedriveResult {
  readonly answered: "failed" | "resumed";
}

/**
 * AwaitRedrive: answers its task token, failing with the diagnosis the first time and
 * succeeding when a redrive resumed it. The one function that may call SendTaskSuccess and
 * SendTaskFailure.
 */
export function awaitRedriveHandler({ taskResponses }: Pick<HandlerPorts, "taskResponses">) {
  return observed(
    async (event: unknown): Promise<AwaitRedriveResult> => ({
      answered: await answerAwaitRedrive(parseEvent(awaitRedriveEventSchema, event, "AwaitRedrive"), taskResponses),
    }),
  );
}

export const handler = awaitRedriveHandler({ taskResponses: sfnTaskResponses() });
