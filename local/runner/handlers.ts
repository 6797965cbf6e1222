/** The real handler code of every Lambda, invoked in-process by the local engine. */
import { handler as checkCredits } from "../../lambdas/check-credits/handler";
import { handler as diagnose } from "../../lambdas/diagnose/handler";
import { handler as poll } from "../../lambdas/poll/handler";
import { handler as submit } from "../../lambdas/submit/handler";
import { handler as validate } from "../../lambdas/validate/handler";
import type { PipelineFunctionName } from "../../lib/pipeline-function";

export type LambdaHandler = (event: unknown) => Promise<unknown>;

export const LOCAL_HANDLERS: Readonly<Record<PipelineFunctionName, LambdaHandler>> = {
  validate,
  "check-credits": checkCredits,
  submit,
  poll,
  diagnose,
};
