/**
 * `npm start -- --batch FILE`: the batch workflow on the local engine, child executions
 * included, with a progress bar over the items, each failed item's own message, the summary,
 * and the succeeded items' videos kept in the state directory.
 */
import { BATCH_EVENTS, batchRequestSchema, type BatchRequest, type BatchSummary, type ItemOutcome } from "#lambdas/batch/batch";
import { DEFAULTS } from "#lambdas/common/settings";
import { assertPutEventsSize } from "../runner/quotas";
import type { LocalSession } from "../runner/session";
import { readableMessage } from "../runner/trace";
import { localExecutionName } from "./execution-name";
import { beginRun, INTERRUPTED_EXIT_CODE, interruption, type RunContext, withSession } from "./local-run";
import { batchBar, LiveStatus } from "./progress";
import { keepVideoFile } from "../storage/local-video-bucket";

/** The batch file's problem in one line, or the batch: checked before anything starts, as ValidateBatch will. */
export function checkBatch(detail: unknown): BatchRequest | { readonly problem: string } {
  const result = batchRequestSchema.safeParse(detail);
  if (result.success) return eventTooLarge(detail) ?? result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.path.length === 0) return `the file must hold one JSON object {"batchId", "items"}, not ${Array.isArray(detail) ? "an array" : typeof detail}`;
    const field = issue.path.join(".");
    return issue.code === "invalid_type" && issue.input === undefined ? `${field} is required` : issue.message;
  });
  return { problem: `the batch is not valid: ${problems.join("; ")}` };
}

/** PutEvents refuses a batch's event past 256 KB, so on AWS such a batch never starts: nor does it here. */
function eventTooLarge(detail: unknown): { readonly problem: string } | undefined {
  try {
    assertPutEventsSize([{ Source: DEFAULTS.batchRequestSource, DetailType: BATCH_EVENTS.requested, Detail: JSON.stringify(detail) }]);
    return undefined;
  } catch (error) {
    return { problem: `EventBridge would refuse this batch's event, so no batch started: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** One line for an item: its video, its error and message, or why it was skipped. */
function describeItem(item: Partial<ItemOutcome>): string {
  if (item.videoUrl) return item.videoUrl;
  if (item.diagnosis) return `${item.diagnosis.errorCode}: ${readableMessage(item.diagnosis.errorMessage)}`;
  return item.status === "DUPLICATE" ? "already started by an earlier delivery" : "";
}

/** The live status of a batch: its bar, and from the ledger, how many items hold a Kling slot and how many wait for one. */
export function batchStatus(session: LocalSession, items: () => { readonly done: number; readonly failed: number; readonly total: number }): () => Promise<string> {
  return async () => {
    const { slotHolders, waiters } = await session.pipeline.ledger.ledger.holdings();
    const { done, failed, total } = items();
    return `  ${batchBar(done, failed, total, { holding: slotHolders.length, queued: waiters })}`;
  };
}

// Longer than 60 lines: one session's progress lines and exit code follow the batch's events in order.
export async function runBatch(context: RunContext, batch: BatchRequest, json: boolean): Promise<number> {
  const { io, history, target } = context;
  const id = localExecutionName("local-batch");
  const { record, trace, logFile } = beginRun(context, {
    id,
    kind: "batch",
    heading: "batch execution",
    json,
    prompt: `batch ${batch.batchId}, ${batch.items.length} items`,
  });

  return withSession(context, logFile, async (session) => {
    const total = batch.items.length;
    let done = 0;
    let failed = 0;
    const status = json ? undefined : new LiveStatus(io, batchStatus(session, () => ({ done, failed, total })), session.clock.realMs(1));
    const unsubscribe = session.pipeline.bus.subscribe((event) => {
      if (event.detailType === BATCH_EVENTS.completed) return;
      done += 1;
      const item = event.detail as Partial<ItemOutcome>;
      if (event.detailType === BATCH_EVENTS.failed) failed += 1;
      const line = `  ${done}/${total}  #${item.index ?? "?"} ${item.status ?? "?"}  ${describeItem(item)}`;
      trace.push(line);
      status?.line(line);
    });
    const stop = interruption();
    const ended = await Promise.race([session.pipeline.runBatchEvent(batch, id), stop.signalled]);
    stop.dispose();
    status?.stop();
    unsubscribe();

    if (ended === "interrupted") {
      const lines = [
        `interrupted after ${done} of ${total} items`,
        target.kling
          ? `left behind: the items' Kling tasks already submitted go on and are charged; find them in Kling's console by external_task_id batch-${batch.batchId}-…`
          : "left behind: nothing: the embedded simulator stopped with the command",
      ];
      if (json) io.out(JSON.stringify({ executionName: id, status: "INTERRUPTED", error: lines.join("; ") }));
      else for (const line of lines) io.out(line);
      history.save({ ...record, status: "INTERRUPTED", finishedAt: new Date().toISOString(), trace: [...trace, ...lines] });
      return INTERRUPTED_EXIT_CODE;
    }
    if (ended.status !== "SUCCEEDED") {
      // The file was checked before the start: this is the workflow failing, not the person's input.
      const line = `batch FAILED ${ended.error ?? "States.Runtime"}: ${ended.cause ?? ""}`;
      if (json) io.out(JSON.stringify({ executionName: id, status: ended.status, error: line }));
      else io.out(line);
      history.save({ ...record, status: "FAILED", finishedAt: new Date().toISOString(), trace: [...trace, line] });
      return 1;
    }
    const summary = ended.output as BatchSummary;
    const lines = [
      `batch ${summary.batchId}: ${summary.total} items, ${summary.succeeded} succeeded, ${summary.failed} failed (${summary.recoverable} recoverable), ${summary.duplicates} duplicates`,
    ];
    // Each succeeded item's saved video: Archive's copy in the local video bucket, kept as `<item>.mp4` beside it.
    const bucket = await session.pipeline.videoBucketServer();
    const videos: Record<string, string> = {};
    for (const item of summary.items) {
      if (item.videoKey !== undefined) videos[item.executionName] = keepVideoFile(bucket, item.videoKey, item.executionName);
      lines.push(`  #${item.index} ${item.executionName} ${item.status}  ${item.executionName in videos ? `video: ${videos[item.executionName]}` : describeItem(item)}`);
    }
    const result = { ...summary, executionName: id, videoFiles: videos, logFile: logFile ?? null };
    if (json) io.out(JSON.stringify(result));
    else for (const line of lines) io.out(line);
    const kept = Object.values(videos);
    history.save({
      ...record,
      ...(kept.length === 0 ? {} : { video: kept.length === 1 ? kept[0] : `${kept.length} videos: ${kept.join(", ")}` }),
      status: summary.failed === 0 ? "SUCCEEDED" : "FAILED",
      finishedAt: new Date().toISOString(),
      trace: [...trace, ...lines],
      result,
    });
    return summary.failed === 0 ? 0 : 1;
  });
}
