/** The real handler code of every Lambda a state machine invokes, run in-process by the local engine. */
import type { HandlerPorts } from "#lambdas/common/ports";
import { archiveHandler } from "#lambdas/archive/handler";
import { archiveSettings } from "#lambdas/archive/settings";
import type { Environment } from "#lambdas/common/config";
import { awaitRedriveHandler } from "#lambdas/await-redrive/handler";
import { checkCreditsHandler } from "#lambdas/check-credits/handler";
import { handler as diagnose } from "#lambdas/diagnose/handler";
import { pollHandler } from "#lambdas/poll/handler";
import { releaseSlotHandler } from "#lambdas/release-slot/handler";
import { waitForSlotHandler } from "#lambdas/wait-for-slot/handler";
import { submitHandler } from "#lambdas/submit/handler";
import { validateHandler } from "#lambdas/validate/handler";
import { awaitVideoHandler } from "#lambdas/await-video/handler";
import { handler as recordBatchItem } from "#lambdas/record-batch-item/handler";
import { handler as summarizeBatch } from "#lambdas/summarize-batch/handler";
import { handler as validateBatch } from "#lambdas/validate-batch/handler";
import { type NotifyPorts, notifyRequesterHandler } from "#lambdas/notify-requester/handler";
import { priceBatchHandler } from "#lambdas/price-batch/handler";
import { reconcileLedgerHandler } from "#lambdas/reconcile-ledger/handler";
import type { ExecutionStatuses } from "#lambdas/reconcile-ledger/execution-statuses";
import type { LedgerInFlight } from "#lambdas/ledger/in-flight";
import type { BatchFunctionName } from "#lib/batch-workflow";
import type { GenerationFunctionName } from "#lib/pipeline-function";

export type LambdaHandler = (event: unknown) => Promise<unknown>;

/** The functions the state machines invoke, and the rules' (the API's runs behind `npm start -- serve`; the callback function is the callback endpoint's). */
export type LocalFunctionName = GenerationFunctionName | BatchFunctionName | "notify-requester" | "await-video" | "reconcile-ledger";

/**
 * Each function's handler made by its factory with the local ports, as Lambda makes it with the
 * AWS ones. Diagnose and most batch functions take no ports: their events are all they read;
 * Archive reads its own settings from the functions' environment.
 */
export function localHandlers(
  ports: HandlerPorts,
  notifyPorts: NotifyPorts,
  environment: Environment,
  reconcilePorts: { readonly inFlight: () => LedgerInFlight; readonly executions: () => ExecutionStatuses },
): Readonly<Record<LocalFunctionName, LambdaHandler>> {
  return {
    validate: validateHandler(ports),
    "check-credits": checkCreditsHandler(ports),
    "wait-for-slot": waitForSlotHandler(ports),
    submit: submitHandler(ports),
    poll: pollHandler(ports),
    archive: archiveHandler({ ...ports, archiveSettings: () => archiveSettings(environment) }),
    diagnose,
    "await-redrive": awaitRedriveHandler(ports),
    "release-slot": releaseSlotHandler(ports),
    "await-video": awaitVideoHandler(ports),
    "validate-batch": validateBatch,
    "price-batch": priceBatchHandler(ports),
    "record-batch-item": recordBatchItem,
    "summarize-batch": summarizeBatch,
    "notify-requester": notifyRequesterHandler(notifyPorts),
    "reconcile-ledger": reconcileLedgerHandler({ ...ports, ...reconcilePorts }),
  };
}
