/**
 * `npm start -- serve`: the generations API on 127.0.0.1, its executions on the local engine
 * and kept in the state directory like any local run (`list`, `show`), videos included.
 */
import type { ExecutionDescription, GenerationExecutions, StartOutcome } from "#lambdas/api/executions";
import { LedgerQueuePositions } from "#lambdas/ledger/queue-position";
import type { EngineEvent, ExecutionReport } from "../runner/local-engine";
import { definitionFromTemplate } from "../runner/definition";
import { answerConsole, type LiveExecutions } from "../console/console-routes";
import { runSteps } from "../console/run-steps";
import type { LocalSession } from "../runner/session";
import { formatOutcome, parseDiagnosis, TraceFormatter } from "../runner/trace";
import { API_HOST, startLocalApiServer } from "../serve/api-server";
import { timeStamp } from "./execution-name";
import { ensurePortFree } from "./listen-error";
import { savedVideoFile } from "../storage/local-video-bucket";
import { PresignedVideoLinks } from "#lambdas/api/video-links";
import { describeLogs, describeTarget, INTERRUPTED_EXIT_CODE, interruption, logFileOf, type RunContext, withSession } from "./local-run";
import type { RunRecord } from "./run-history";

/** Each generation execution's engine events so far, by execution name: what the console draws live. */
class ExecutionEvents {
  private readonly byName = new Map<string, EngineEvent[]>();

  record(name: string, event: EngineEvent): void {
    let events = this.byName.get(name);
    if (!events) {
      events = [];
      this.byName.set(name, events);
    }
    events.push(event);
  }

  /** A new execution of this name (a batch item's, or the API's) starts with none. */
  forget(name: string): void {
    this.byName.delete(name);
  }

  of(name: string): readonly EngineEvent[] {
    return this.byName.get(name) ?? [];
  }
}

/** The session's executions, each one recorded when it starts and again, with its trace and video, when it ends. */
class RecordedExecutions implements GenerationExecutions, LiveExecutions {
  /** The executions started here that have not ended, by name. */
  readonly running = new Map<string, RunRecord>();
  /** The execution name of each run this session started, by run id. */
  private readonly names = new Map<string, string>();

  constructor(
    private readonly events: ExecutionEvents,
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
    if (known === undefined) this.events.forget(name);
    const outcome = await executions.start(name, input);
    if (outcome.kind !== "started" || known !== undefined) return outcome;
    const request = JSON.parse(input) as { prompt?: unknown; model?: unknown };
    const id = this.recordIdFor(name);
    this.names.set(id, name);
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
      request,
    };
    this.running.set(name, record);
    this.context.history.save(record);
    void executions.finished(name).then((report) => this.ended(record, report));
    return outcome;
  }

  describe(name: string): Promise<ExecutionDescription | undefined> {
    return this.session.pipeline.executions.describe(name);
  }

  eventsOf(id: string): readonly EngineEvent[] | undefined {
    const name = this.names.get(id);
    return name === undefined ? undefined : this.events.of(name);
  }

  stop(id: string): boolean {
    const name = this.names.get(id);
    return name !== undefined && this.running.get(name)?.id === id && this.session.pipeline.executions.stop(name);
  }

  private async ended(record: RunRecord, report: ExecutionReport): Promise<void> {
    const formatter = new TraceFormatter();
    const lines = [...report.events.flatMap((event) => formatter.format(event)), ...formatOutcome(report)];
    // The saved video: Archive's copy in the local video bucket, kept as `<run>.mp4` beside it.
    const video = report.status === "SUCCEEDED" ? savedVideoFile(await this.session.pipeline.videoBucketServer(), report.output, record.id) : undefined;
    if (video !== undefined) lines.push(`video: ${video}`);
    this.running.delete(record.executionName ?? record.id);
    this.context.history.save({
      ...record,
      status: report.status,
      finishedAt: new Date().toISOString(),
      ...(video === undefined ? {} : { video }),
      trace: lines,
      steps: runSteps(report.events),
      diagnosis: parseDiagnosis(report.cause),
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
  const events = new ExecutionEvents();
  return withSession(context, logFile, async (session) => {
    const executions = new RecordedExecutions(events, session, context, logFile, timeStamp(new Date(startedAt)));
    const stop = interruption();
    const { ledger } = session.pipeline;
    const definition = definitionFromTemplate(session.plan.template, session.plan.generationStateMachineId);
    const consoleSources = { history: context.history, definition, live: executions, ledger: ledger.ledger };
    const server = await startLocalApiServer({
      executions,
      environment: session.pipeline.functionEnvironment,
      links: new PresignedVideoLinks(() => session.pipeline.videoBucketPort(), session.pipeline.videoLinkSeconds),
      queue: new LedgerQueuePositions(ledger.ledger, (name) => session.pipeline.executions.arnOf(name)),
      events: (entry) => session.pipeline.putEvent(entry),
      callbacks: (event) => session.pipeline.handleKlingCallback(event),
      console: (request) => answerConsole(consoleSources, request),
      port,
      onRequest: (line) => io.out(line),
    }).catch((error: unknown) => {
      stop.dispose();
      throw error;
    });
    // Kling (the simulator) calls back at the API's own callback route, as on AWS.
    session.pipeline.receiveCallbacksAt(server.url);
    io.out(`serving the generations API at ${server.url}; executions are kept in ${context.history.dir}; Ctrl-C stops it`);
    io.out(`  the console, runs and the ledger live: ${server.url}/console`);
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
  }, { onGenerationEvent: (name, event) => events.record(name, event) });
}
