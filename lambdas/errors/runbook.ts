/**
 * The error table's prose, by error name: what each error means, and what an operator looks at or
 * does when it shows up (the README's runbook). Apart from the taxonomy's facts (taxonomy.ts), so
 * that no Lambda bundle carries it: only the docs and the local trace read it.
 */
import type { ArchiveErrorName, KlingErrorName, PlatformErrorName } from "./taxonomy";

const LAMBDA_SERVICE_FAULT = "Nothing for one (retried on every task); many mean a Lambda incident in the region.";
const LEDGER_BUSY = "Nothing for one (retried where the ledger is used); many mean the table is throttled: check its metrics and account limits.";

export const OPERATOR_RUNBOOK: Readonly<Record<KlingErrorName | PlatformErrorName | ArchiveErrorName, string>> = {
  ThrottlingException: LEDGER_BUSY,
  ProvisionedThroughputExceededException: LEDGER_BUSY,
  RequestLimitExceeded: LEDGER_BUSY,
  InternalServerError: LEDGER_BUSY,
  "Lambda.ServiceException": LAMBDA_SERVICE_FAULT,
  "Lambda.AWSLambdaException": LAMBDA_SERVICE_FAULT,
  "Lambda.SdkClientException": LAMBDA_SERVICE_FAULT,
  "Lambda.TooManyRequestsException": LAMBDA_SERVICE_FAULT,
  "Kling.RateLimited":
    "Nothing for one: Submit retries it, and once its retries are spent goes back to the queue at its place; it fails only as `Kling.QueueTimeout`. Many: Kling's request rate, not slots; look at `KlingRetries` by `errorName`.",
  "Kling.ConcurrencyLimited":
    "Nothing for one: Submit gives its slot back and goes back to the queue at its place, and the ledger lowers its effective limit to what the pipeline holds (`KlingSlotLimit`), then probes back up toward `klingConcurrency` every `slotQueue.probeSeconds`. A limit that stays below `klingConcurrency` means another client of the same Kling account takes slots: give it its own share, share the ledger table (`ledgerTable`) with it, or lower `klingConcurrency` to what this pipeline really gets.",
  "Kling.ServerError":
    "Nothing for one; a run of them is a Kling outage: check Kling's status, then start the failed requests again.",
  "Kling.AuthFailed":
    "Put valid credentials in the KlingCredentials secret (`{\"apiKey\"}` or `{\"accessKey\",\"secretKey\"}`); for 1003/1004 check the Lambdas' clock.",
  "Kling.InsufficientCredits":
    "Buy or renew a resource pack in Kling's console; the credit figure can lag 12 h, the create answer is the final word.",
  "Kling.AccountSuspended":
    "Contact Kling support: the account is flagged; nothing succeeds until they clear it.",
  "Kling.Forbidden":
    "Check the plan includes the model (1103) and the Lambdas' egress IPs are whitelisted (1304), or change `defaultModel`.",
  "Kling.ContentPolicy":
    "Nothing to fix in the pipeline; widen or narrow `blockedTerms` if the pre-check refuses what Kling accepts.",
  "Kling.InvalidRequest":
    "Read the message: from Validate it is the caller's request; from Kling (1201) after Validate passed, the model rules in lambdas/schemas/models.ts may be out of date.",
  "Kling.GenerationFailed":
    "Nothing for one; Kling's reason is in errorMessage. Many for one model may mean a Kling incident. Only `npm start -- redrive` redrives it, showing the new task's price first.",
  "Kling.PollTimeout":
    "Check the task in Kling's console by its external_task_id; raise `pollSchedule.deadlineSeconds` if videos routinely take longer.",
  "Kling.QueueTimeout":
    "The account's slots are busy for longer than `slotQueue.deadlineSeconds`: look at the queue length, the time queued and the effective limit (`KlingSlotLimit`); a limit below `klingConcurrency` with `SlotRequeues` means others hold the account's slots. Raise `klingConcurrency` if Kling allows more, or the deadline.",
  "Sandbox.Timedout":
    "Nothing for one (usually Kling answering slowly); many mean the function's timeout is too short for Kling's latency.",
  "Lambda.Unknown":
    "Nothing for one; many mean a function runs out of memory: read its log for the job id.",
  "Runtime.ExitError":
    "Read the function's log for the job id (out of memory: raise its memory); fix it, then `npm start -- redrive`.",
  "Execution.Stopped":
    "If it was stopped by mistake, `npm start -- redrive` resumes it at the state it was stopped in.",
  "States.Timeout":
    "Nothing for one; many mean the execution timeout is too short for the poll deadline and the retries.",
  "Archive.DownloadFailed":
    "Nothing for one (nothing was stored: the upload was aborted); many mean Kling's CDN is slow or down: a redrive resumes at Archive, never pays again.",
  "Archive.VideoPurged":
    "The video is gone from Kling and was never archived: start a new generation. Many mean executions waited too long before Archive (redrives past Kling's 30 days).",
};

/** What each error means: the error table's "raised for", the runbook's meaning. */
export const ERROR_MEANINGS: Readonly<Record<KlingErrorName | PlatformErrorName | ArchiveErrorName, string>> = {
  "Kling.RateLimited":
    "Kling's request rate limit was hit (also a 429 with an unknown code)",
  "Kling.ConcurrencyLimited":
    "Kling's account was running all the tasks it allows: others use the account's slots too",
  "Kling.ServerError":
    "Kling failed or did not answer properly: a 5xx, a network failure, a timeout, a malformed answer",
  "Kling.AuthFailed":
    "the credentials were missing, unreadable or refused (1003/1004 are re-signed once first)",
  "Kling.InsufficientCredits":
    "the account has too few units for this video: a 402, or the credit check before Submit",
  "Kling.AccountSuspended":
    "Kling reports the account as abnormal",
  "Kling.Forbidden":
    "the plan does not include this API or model, or the IP is not whitelisted (also a 403 without a code)",
  "Kling.ContentPolicy":
    "a content policy refused the prompt or image: Kling's, the blocked terms, or a failed task whose reason says content",
  "Kling.InvalidRequest":
    "the request is not valid: Kling says so, or Validate did",
  "Kling.GenerationFailed":
    "Kling accepted the task but it ended with status failed",
  "Kling.PollTimeout":
    "the video was not ready before the polling deadline",
  "Kling.QueueTimeout":
    "the generation waited for one of the account's Kling slots past the queue deadline; nothing was spent",
  "Sandbox.Timedout":
    "the function ran past its timeout and was stopped",
  "Lambda.Unknown":
    "the function stopped without an answer Lambda could name",
  "Runtime.ExitError":
    "the function's process crashed or exited (out of memory, a fatal error)",
  "Execution.Stopped":
    "StopExecution stopped the execution (status ABORTED): an operator, or the stop of the batch that started it",
  "States.Timeout":
    "a Task or the execution ran past its timeout (a redrive resets the execution's)",
  "Archive.DownloadFailed":
    "the video's download from Kling's URL failed: a dropped connection, a short body, no byte within the stall timeout, a 5xx, a fresh URL refused, a URL off `videoArchive.downloadHosts` or past `maxVideoBytes`",
  "Archive.VideoPurged":
    "Kling gives no URL for the video any more, or its CDN refuses it past the 30 days Kling keeps videos after the task",
  ThrottlingException:
    "DynamoDB throttled a request to the account ledger's table",
  ProvisionedThroughputExceededException:
    "the account ledger's table was over its throughput",
  RequestLimitExceeded:
    "the account's DynamoDB request limit was reached",
  InternalServerError:
    "DynamoDB failed a request to the account ledger's table",
  "Lambda.ServiceException":
    "Lambda's service failed to run the function",
  "Lambda.AWSLambdaException":
    "Lambda's service answered with an error of its own",
  "Lambda.SdkClientException":
    "Step Functions could not reach Lambda",
  "Lambda.TooManyRequestsException":
    "Lambda throttled the invocation (concurrency)",
};

type DocumentedErrorName = keyof typeof ERROR_MEANINGS;

/** The prose of a known error name; an error name without any is a mistake of the tables, said so. */
export function errorProse(name: string): { readonly meaning: string; readonly operator: string } {
  if (!(name in ERROR_MEANINGS) || !(name in OPERATOR_RUNBOOK)) throw new Error(`the error ${name} has no meaning or runbook line in lambdas/errors/runbook.ts`);
  return { meaning: ERROR_MEANINGS[name as DocumentedErrorName], operator: OPERATOR_RUNBOOK[name as DocumentedErrorName] };
}
