/**
 * `npm start -- "a prompt"`: one generation on the local engine, with a live trace and status,
 * its record and video kept in the state directory, and Ctrl-C saying what was left behind.
 */
import { LedgerQueuePositions } from "#lambdas/ledger/queue-position";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import type { ExecutionReport } from "../runner/local-engine";
import type { LocalSession } from "../runner/session";
import { formatOutcome, parseDiagnosis, TraceFormatter } from "../runner/trace";
import { beginRun, INTERRUPTED_EXIT_CODE, interruption, type RunContext, withSession } from "./local-run";
import { GenerationProgress, LiveStatus, waitsForSlot } from "./progress";
import type { RunRecord } from "./run-history";
import { localExecutionName } from "./execution-name";
import { savedVideoFile } from "../storage/local-video-bucket";
import { runSteps } from "../console/run-steps";

export interface GenerateRequest {
  readonly request: Readonly<Record<string, string>>;
  /** The model the request will use: its own, or the configured default. */
  readonly model: string;
  readonly json: boolean;
}

export async function runGeneration(context: RunContext, command: GenerateRequest): Promise<number> {
  const { io } = context;
  const id = localExecutionName();
  const { record, trace, logFile } = beginRun(context, {
    id,
    kind: "generation",
    heading: "execution",
    json: command.json,
    model: command.model,
    prompt: command.request.prompt,
    request: command.request,
  });

  const stop = interruption();
  try {
    return await withSession(context, logFile, async (session) => {
      const startedAt = session.clock.now();
      const formatter = new TraceFormatter();
      const progress = new GenerationProgress(startedAt);
      const status = command.json ? undefined : new LiveStatus(io, generationStatus(session, progress, id), session.clock.realMs(1));
      const run = session.run(command.request, id, (event) => {
        progress.observe(event);
        for (const line of formatter.format(event)) {
          trace.push(line);
          status?.line(line);
        }
      });
      // A Ctrl-C during synthesis is handled once it is done, here: nothing has reached Kling yet.
      const ended = await Promise.race([run, stop.signalled]);
      status?.stop();
      if (ended === "interrupted") return interrupted(context, command, record, session, progress);
      return finished(context, command, record, session, ended);
    });
  } finally {
    stop.dispose();
  }
}

/** The live status of generation `id`: its progress, and while it waits for a Kling slot, its place in the ledger's queue. */
export function generationStatus(session: LocalSession, progress: GenerationProgress, id: string): () => Promise<string> {
  const queue = new LedgerQueuePositions(session.pipeline.ledger.ledger, (name) => session.pipeline.executions.arnOf(name));
  return async () => {
    const position = waitsForSlot(progress.state) ? await queue.positionOf(id) : undefined;
    return progress.status(session.clock.now(), position);
  };
}

async function finished(
  context: RunContext,
  command: GenerateRequest,
  record: RunRecord,
  session: LocalSession,
  report: ExecutionReport,
): Promise<number> {
  const { io, history } = context;
  const lines = formatOutcome(report);
  // The saved video: Archive's copy in the local video bucket, kept as `<run>.mp4` beside it.
  const video = report.status === "SUCCEEDED" ? savedVideoFile(await session.pipeline.videoBucketServer(), report.output, record.id) : undefined;
  if (video !== undefined) lines.push(`video: ${video}`);
  const result = {
    executionName: record.id,
    status: report.status,
    output: report.output,
    error: report.error,
    cause: parseDiagnosis(report.cause),
    retries: report.retries,
    videoFile: video ?? null,
    logFile: record.logFile ?? null,
    simulator: session.simulator ? { tasksCreated: session.simulator.stats.tasksCreated, requests: session.simulator.stats.requests } : null,
  };
  if (command.json) io.out(JSON.stringify(result));
  else for (const line of lines) io.out(line);
  history.save({
    ...record,
    status: report.status,
    finishedAt: new Date().toISOString(),
    ...(video === undefined ? {} : { video }),
    trace: [...record.trace, ...lines],
    steps: runSteps(report.events),
    diagnosis: result.cause,
    result,
  });
  return report.status === "SUCCEEDED" ? 0 : 1;
}

/** What a Ctrl-C leaves behind: nothing on the simulator; on the real Kling, a task that runs on and is charged. */
function leftBehind(record: RunRecord, session: LocalSession, progress: GenerationProgress, klingUrl: string | undefined): string {
  if (klingUrl === undefined) return "nothing: the embedded simulator stopped with the command";
  const externalTaskId = externalTaskIdFor(record.id, session.pipeline.executions.arnOf(record.id));
  if (progress.taskId !== undefined) {
    return (
      `Kling task ${progress.taskId} (external_task_id ${externalTaskId}) goes on and is charged; ` +
      `follow it with GET ${klingUrl}/v1/videos/${progress.taskKind ?? "text2video"}/${progress.taskId}, or in Kling's console`
    );
  }
  return progress.submitted
    ? `a create may have reached Kling: look for external_task_id ${externalTaskId} in Kling's console`
    : "nothing: no Kling task was created";
}

function interrupted(
  context: RunContext,
  command: GenerateRequest,
  record: RunRecord,
  session: LocalSession,
  progress: GenerationProgress,
): number {
  const { io, history } = context;
  const where =
    progress.state === "starting"
      ? "interrupted before the execution started"
      : `interrupted in ${progress.state} after ${((session.clock.now() - progress.startedAt) / 1000).toFixed(1)} s (simulated time)`;
  const left = `left behind: ${leftBehind(record, session, progress, context.target.kling?.baseUrl)}`;
  if (command.json) io.out(JSON.stringify({ executionName: record.id, status: "INTERRUPTED", error: where, leftBehind: left }));
  else for (const line of [where, left]) io.out(line);
  history.save({ ...record, status: "INTERRUPTED", finishedAt: new Date().toISOString(), trace: [...record.trace, where, left] });
  return INTERRUPTED_EXIT_CODE;
}
