/** The real handler code of every Lambda a state machine invokes, run in-process by the local engine. */
import { handler as awaitRedrive } from "../../lambdas/await-redrive/handler";
import { handler as checkCredits } from "../../lambdas/check-credits/handler";
import { handler as diagnose } from "../../lambdas/diagnose/handler";
import { handler as poll } from "../../lambdas/poll/handler";
import { handler as releaseSlot } from "../../lambdas/release-slot/handler";
import { handler as waitForSlot } from "../../lambdas/wait-for-slot/handler";
import { handler as submit } from "../../lambdas/submit/handler";
import { handler as validate } from "../../lambdas/validate/handler";
import { handler as recordBatchItem } from "../../lambdas/record-batch-item/handler";
import { handler as summarizeBatch } from "../../lambdas/summarize-batch/handler";
import { handler as validateBatch } from "../../lambdas/validate-batch/handler";
import { handler as priceBatch } from "../../lambdas/price-batch/handler";
import { handler as priceBatchItem } from "../../lambdas/price-batch-item/handler";
import type { BatchFunctionName } from "../../lib/batch-workflow";
import type { GenerationFunctionName } from "../../lib/pipeline-function";

export type LambdaHandler = (event: unknown) => Promise<unknown>;

/** The functions the state machines invoke (the API's runs behind `npm start -- serve`). */
export type LocalFunctionName = GenerationFunctionName | BatchFunctionName;

export const LOCAL_HANDLERS: Readonly<Record<LocalFunctionName, LambdaHandler>> = {
  validate,
  "check-credits": checkCredits,
  "wait-for-slot": waitForSlot,
  submit,
  poll,
  diagnose,
  "await-redrive": awaitRedrive,
  "release-slot": releaseSlot,
  "validate-batch": validateBatch,
  "price-batch-item": priceBatchItem,
  "price-batch": priceBatch,
  "record-batch-item": recordBatchItem,
  "summarize-batch": summarizeBatch,
};
