/**
 * `npm start -- serve`: the generations API on 127.0.0.1, its executions on the local engine
 * and kept in the state directory like any local run (`list`, `show`), videos included.
 */
import type { ExecutionDescription, GenerationExecutions, StartOutcome } from "#lambdas/api/executions";
import { LedgerQueuePositions } from "#lambdas/ledger/queue-position";
import type { ExecutionReport } from "../runner/local-engine";
import type { LocalSession } from "../runner/session";
import { formatOutcome, TraceFormatter } from "../runner/trace";
import { API_HOST, startLocalApiServer } from "../serve/api-server";
import { timeStamp } from "./execution-name";
import { ensurePortFree } from "./listen-error";
import { savedVideoFile } from "../storage/local-video-bucket";
import { PresignedVideoLinks } from "#lambdas/api/video-links";
import { describeLogs, describeTarget, INTERRUPTED_EXIT_CODE, interruption, logFileOf, type RunContext, withSession } from "./local-run";
import type { RunRecord } from "./run-history";

/** The session's executions, each one recorded when it starts and again, with its trace and video, when it ends. */
class RecordedExecutions implements GenerationExecutions {
  /** The executions started here that have not ended, by name. */
  readonly running = new Map<string, RunRecord>();

  constructor(
    private readonly session: LocalSession,
    private readonly context: RunContext,
    private readonly logFile: string | undefined,
    /** `20261126-003554`: when this session started, to tell its run of a reused name from an earlier one. */
    private readonly sessionStamp: string,
  ) {}

  /**
   * The run's id: the execution name, which the API answered with; or, when an earlier command
   * kept a run of that name (an Idempotency-Key reused in a later session, whose engine has
   * never seen it), the name and this session's start, so that both runs stay.
   */
  private recordIdFor(name: string): string {
    return this.context.history.has(name) ? `${name}-${this.sessionStamp}` : name;
  }

  async start(name: string, input: string): Promise<StartOutcome> {
    const executions = this.session.pipeline.executions;
    const known = await executions.describe(name);
    const outcome = await executions.start(name, input);
    if (outcome.kind !== "started" || known !== undefined) return outcome;
    const request = JSON.parse(input) as { prompt?: unknown; model?: unknown };
    const id = this.recordIdFor(name);
    const record: RunRecord = {
      id,
      ...(id === name ? {} : { executionName: name }),
      kind: "api",
      startedAt: new Date().toISOString(),
      status: "RUNNING",
      target: describeTarget(this.context.target),
      ...(typeof request.model === "string" ? { model: request.model } : {}),
      ...(typeof request.prompt === "string" ? { prompt: request.prompt } : {}),
      ...(this.logFile === undefined ? {} : { logFile: this.logFile }),
      trace: [],
    };
    this.running.set(name, record);
    this.context.history.save(record);
    void executions.finished(name).then((report) => this.ended(record, report));
    return outcome;
  }

  describe(name: string): Promise<ExecutionDescription | undefined> {
    return this.session.pipeline.executions.describe(name);
  }

  private async ended(record: RunRecord, report: ExecutionReport): Promise<void> {
    const formatter = new TraceFormatter();
    const lines = [...report.events.flatMap((event) => formatter.format(event)), ...formatOutcome(report)];
    // The saved video is Archive's copy, a file of the local video bucket.
    const video = report.status === "SUCCEEDED" ? savedVideoFile(await this.session.pipeline.videoBucketServer(), report.output) : undefined;
    if (video !== undefined) lines.push(`video: ${video}`);
    this.running.delete(record.executionName ?? record.id);
    this.context.history.save({
      ...record,
      status: report.status,
      finishedAt: new Date().toISOString(),
      ...(video === undefined ? {} : { video }),
      trace: lines,
      result: { status: report.status, output: report.output, error: report.error, cause: report.cause },
    });
    this.context.io.out(`execution ${record.executionName ?? record.id} ${report.status}${video === undefined ? "" : `: ${video}`}`);
  }
}

export async function serve(context: RunContext, port: number): Promise<number> {
  const { io, target } = context;
  await ensurePortFree(API_HOST, port);
  const startedAt = new Date().toISOString();
  const logFile = logFileOf(context, `serve-${startedAt.replace(/[-:.]/g, "")}`);
  io.out(`starting the generations API (${describeTarget(target)})`);
  io.out(describeLogs(logFile));
  return withSession(context, logFile, async (session) => {
    const executions = new RecordedExecutions(session, context, logFile, timeStamp(new Date(startedAt)));
    const stop = interruption();
    const { ledger } = session.pipeline;
    const server = await startLocalApiServer({
      executions,
      environment: session.pipeline.functionEnvironment,
      links: new PresignedVideoLinks(() => session.pipeline.videoBucketPort(), session.pipeline.videoLinkSeconds),
      queue: new LedgerQueuePositions(ledger.ledger, (name) => session.pipeline.executions.arnOf(name)),
      events: (entry) => session.pipeline.putEvent(entry),
      callbacks: (event) => session.pipeline.handleKlingCallback(event),
      port,
      onRequest: (line) => io.out(line),
    }).catch((error: unknown) => {
      stop.dispose();
      throw error;
    });
    // Kling (the simulator) calls back at the API's own callback route, as on AWS.
    session.pipeline.receiveCallbacksAt(server.url);
    io.out(`serving the generations API at ${server.url}; executions are kept in ${context.history.dir}; Ctrl-C stops it`);
    io.out(`  curl -X POST ${server.url}/generations -H 'content-type: application/json' -d '{"prompt": "a corgi surfing a wave"}'`);
    io.out(`  curl ${server.url}/generations/<id>`);
    io.out(`  a request's https callbackUrl gets its outcome, signed with ${session.pipeline.requesterWebhookSecret} (README, Requester callbacks)`);
    io.out(`  aws events put-events --endpoint-url ${server.url} --entries file://entries.json   # starts a batch (entries as in the README), as the batch rule does`);
    await stop.signalled;
    stop.dispose();
    await server.close();
    const lost = [...executions.running.values()];
    for (const record of lost) context.history.save({ ...record, status: "INTERRUPTED", finishedAt: new Date().toISOString() });
    io.out(
      lost.length === 0
        ? "stopped; no execution was running"
        : `stopped; ${lost.length} running executions stopped with the command: ${lost.map((record) => record.id).join(", ")}` +
            (target.kling ? "; their Kling tasks already submitted go on and are charged (Kling's console, external_task_id <execution>-…)" : ""),
    );
    return INTERRUPTED_EXIT_CODE;
  });
}
