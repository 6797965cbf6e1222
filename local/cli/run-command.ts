/**
 * `npm start -- "a prompt" [options]`: one generation through the synthesized state machine
 * on the local engine, against the embedded simulator or, with --kling-url, the real Kling.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { credentialsFromEnvironment, LOCAL_CREDENTIAL_VARIABLES, MISSING_CREDENTIALS_HINT } from "../../lambdas/common/credentials";
import type { KlingCredentials } from "../../lambdas/kling/port";
import { isScenarioName, SCENARIOS, type ScenarioName } from "../simulator";
import { BATCH_EVENTS, type BatchSummary, type ItemOutcome } from "../../lambdas/batch/batch";
import { type LocalSession, localExecutionName, startLocalSession } from "../runner/session";
import { startLocalApiServer } from "../serve/api-server";
import { localVideoDirectory, savedVideoFile } from "../storage/local-video-bucket";
import { formatEvent, formatOutcome, parseDiagnosis } from "../runner/trace";
import { runRedriveCommand } from "../redrive/redrive-command";
import { PresignedVideoLinks } from "../../lambdas/api/video-links";
import { videoBucketClient } from "../../lambdas/common/video-bucket";

/** Real seconds per simulated second by default: the happy path takes a few seconds. */
const DEFAULT_TIME_SCALE = 0.05;

const USAGE = `usage: npm start -- "<prompt>" [options]        one generation, with a live trace
       npm start -- --batch FILE [--json]         a batch (FILE holds an event's detail: {"batchId", "items"})
       npm start -- serve [--port 3000]           the HTTP API on 127.0.0.1
       npm start -- redrive [--since 7d] [--dry-run] [--state-machine-arn ARN]
                                                  redrive the recoverable failures on AWS (redrive --help)

  --scenario NAME        simulator scenario (default happy); --list-scenarios shows them
  --model NAME           Kling model (default: the configured default model)
  --duration 5|10        seconds of video
  --aspect-ratio R       16:9, 9:16 or 1:1 (text-to-video)
  --mode std|pro         720p or 1080p
  --negative-prompt TEXT what to keep out of the video
  --image URL            image-to-video from this https image
  --time-scale X         real seconds per simulated second, above 0 and at most 1 (default ${DEFAULT_TIME_SCALE})
  --json                 print one JSON object (the result, or the batch summary) instead of the trace
  --kling-url URL        run against this Kling endpoint instead of the simulator, with
                         ${LOCAL_CREDENTIAL_VARIABLES.apiKey}, or ${LOCAL_CREDENTIAL_VARIABLES.accessKey} and ${LOCAL_CREDENTIAL_VARIABLES.secretKey}, from the environment`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Where the Lambdas reach Kling, and how fast simulated time runs. */
interface RunTarget {
  readonly scenario: ScenarioName;
  readonly timeScale: number;
  /** Where the archived videos are kept, after the command too. */
  readonly videoDirectory: string;
  readonly kling?: { readonly baseUrl: string; readonly credentials: KlingCredentials };
}

type LocalCommand =
  | { readonly mode: "generate"; readonly request: Record<string, unknown>; readonly json: boolean; readonly target: RunTarget }
  | { readonly mode: "batch"; readonly file: string; readonly json: boolean; readonly target: RunTarget }
  | { readonly mode: "serve"; readonly port: number; readonly target: RunTarget };

const DEFAULT_SERVE_PORT = 3000;

/** The options that shape a single request. */
const REQUEST_FLAGS = ["model", "duration", "aspect-ratio", "mode", "negative-prompt", "image"] as const;

const OPTIONS = {
  scenario: { type: "string" },
  model: { type: "string" },
  duration: { type: "string" },
  "aspect-ratio": { type: "string" },
  mode: { type: "string" },
  "negative-prompt": { type: "string" },
  image: { type: "string" },
  "time-scale": { type: "string" },
  json: { type: "boolean" },
  "kling-url": { type: "string" },
  "list-scenarios": { type: "boolean" },
  batch: { type: "string" },
  port: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function credentialsFor(env: NodeJS.ProcessEnv): KlingCredentials {
  const credentials = credentialsFromEnvironment(env);
  if (!credentials) throw new UsageError(`--kling-url needs credentials: ${MISSING_CREDENTIALS_HINT}`);
  return credentials;
}

function klingUrl(text: string): string {
  if (!URL.canParse(text)) throw new UsageError(`--kling-url is not a URL: ${text}`);
  const url = new URL(text);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  // Credentials travel in the Authorization header: plain http only to this machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new UsageError(`--kling-url must be https (or http on 127.0.0.1), got ${text}`);
  }
  return text;
}

/** Parses the command line; a mistake is a UsageError with a one-line message. */
function parseRunCommand(argv: readonly string[], env: NodeJS.ProcessEnv): LocalCommand | "help" | "list-scenarios" {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (values["list-scenarios"]) return "list-scenarios";
  const serve = positionals[0] === "serve";
  if (serve && positionals.length > 1) throw new UsageError("serve takes no prompt");
  if (!serve && positionals.length > 1) throw new UsageError(`give the prompt as one argument (in quotes), got ${positionals.length}`);
  const prompt = serve ? undefined : positionals[0];
  const batch = values.batch;
  if (batch !== undefined && prompt !== undefined) throw new UsageError("--batch takes its prompts from the file, not the command line");
  if (serve && batch !== undefined) throw new UsageError("serve and --batch are separate commands");
  if (values.port !== undefined && !serve) throw new UsageError("--port is for serve");
  if (!serve && batch === undefined && prompt === undefined && values.image === undefined) {
    throw new UsageError("a prompt is required");
  }

  const scenario = values.scenario ?? "happy";
  if (!isScenarioName(scenario)) throw new UsageError(`unknown scenario "${scenario}"; --list-scenarios shows them`);
  if (values["kling-url"] !== undefined && values.scenario !== undefined) {
    throw new UsageError("--scenario chooses a simulator behaviour; it cannot be used with --kling-url");
  }

  let timeScale = DEFAULT_TIME_SCALE;
  if (values["time-scale"] !== undefined) {
    timeScale = Number(values["time-scale"]);
    if (!(timeScale > 0 && timeScale <= 1)) throw new UsageError(`--time-scale must be above 0 and at most 1, got ${values["time-scale"]}`);
    if (values["kling-url"] !== undefined && timeScale !== 1) throw new UsageError("--time-scale cannot speed up a real Kling");
  }

  // Only what was given: Validate applies the defaults and reports every problem at once.
  const request: Record<string, unknown> = {};
  if (prompt !== undefined) request.prompt = prompt;
  if (values.model !== undefined) request.model = values.model;
  if (values.duration !== undefined) request.duration = values.duration;
  if (values["aspect-ratio"] !== undefined) request.aspectRatio = values["aspect-ratio"];
  if (values.mode !== undefined) request.mode = values.mode;
  if (values["negative-prompt"] !== undefined) request.negativePrompt = values["negative-prompt"];
  if (values.image !== undefined) request.image = values.image;

  const videoDirectory = localVideoDirectory(env);
  const target: RunTarget =
    values["kling-url"] === undefined
      ? { scenario, timeScale, videoDirectory }
      : { scenario, timeScale: 1, videoDirectory, kling: { baseUrl: klingUrl(values["kling-url"]), credentials: credentialsFor(env) } };
  const json = values.json ?? false;

  if (serve || batch !== undefined) {
    const requestFlag = REQUEST_FLAGS.find((flag) => values[flag] !== undefined);
    if (requestFlag !== undefined) {
      throw new UsageError(`--${requestFlag} shapes one request; ${serve ? "serve" : "--batch"} takes its requests from elsewhere`);
    }
  }
  if (serve) {
    if (json) throw new UsageError("--json is not for serve");
    return { mode: "serve", port: servePort(values.port), target };
  }
  if (batch !== undefined) return { mode: "batch", file: batch, json, target };
  return { mode: "generate", request, json, target };
}

function servePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SERVE_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number, got ${text}`);
  return port;
}

interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Runs the command; resolves to the exit code (0 succeeded, 1 failed, 2 usage error). */
export async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  // Redrive works on AWS, not on the local engine: its own options, its own command.
  if (argv[0] === "redrive") return runRedriveCommand(argv.slice(1), env, io);
  let command;
  try {
    command = parseRunCommand(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(io, error.message);
  }
  if (command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (command === "list-scenarios") {
    for (const scenario of SCENARIOS) io.out(`${scenario.name.padEnd(24)} ${scenario.description}`);
    return 0;
  }
  if (command.mode === "batch") {
    let detail: unknown;
    try {
      detail = JSON.parse(await readFile(command.file, "utf8"));
    } catch (error) {
      const reason = error instanceof SyntaxError ? "it is not JSON" : error instanceof Error && "code" in error ? String(error.code) : String(error);
      return usageError(io, `cannot read the batch file ${command.file}: ${reason}`);
    }
    return withSession(command.target, (session) => runBatch(session, command.target, detail, command.json, io));
  }
  if (command.mode === "serve") {
    return withSession(command.target, (session) => serve(session, command.port, io));
  }
  return withSession(command.target, (session) => runGeneration(session, command, io));
}

function usageError(io: CommandIo, message: string): number {
  io.err(`error: ${message}`);
  io.err(USAGE);
  return 2;
}

async function withSession(target: RunTarget, work: (session: LocalSession) => Promise<number>): Promise<number> {
  const session = await startLocalSession({
    timeScale: target.timeScale,
    simulator: { scenario: target.scenario },
    videoDirectory: target.videoDirectory,
    ...(target.kling ? { kling: target.kling } : {}),
  });
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

function describeTarget(session: LocalSession, target: RunTarget): string {
  const where = session.simulator ? `embedded Kling simulator, scenario ${target.scenario}` : `Kling at ${target.kling?.baseUrl ?? ""}`;
  return `${where}, time x${(1 / target.timeScale).toFixed(0)}`;
}

async function runGeneration(
  session: LocalSession,
  command: Extract<LocalCommand, { mode: "generate" }>,
  io: CommandIo,
): Promise<number> {
  const executionName = localExecutionName();
  const startedAt = session.clock.now();
  if (!command.json) io.out(`execution ${executionName} (${describeTarget(session, command.target)})`);
  const report = await session.run(command.request, executionName, (event) => {
    if (command.json) return;
    const line = formatEvent(event, startedAt);
    if (line) io.out(line);
  });
  const savedFile = report.status === "SUCCEEDED" ? savedVideoFile(await session.pipeline.videoBucketServer(), report.output) : undefined;
  if (command.json) {
    io.out(
      JSON.stringify({
        status: report.status,
        output: report.output,
        error: report.error,
        cause: parseDiagnosis(report.cause),
        retries: report.retries,
        savedFile: savedFile ?? null,
        simulator: session.simulator
          ? { tasksCreated: session.simulator.stats.tasksCreated, requests: session.simulator.stats.requests }
          : null,
      }),
    );
  } else {
    for (const line of formatOutcome(report)) io.out(line);
    if (savedFile) io.out(`saved: ${savedFile}`);
  }
  return report.status === "SUCCEEDED" ? 0 : 1;
}

async function runBatch(session: LocalSession, target: RunTarget, detail: unknown, json: boolean, io: CommandIo): Promise<number> {
  const total = Array.isArray((detail as { items?: unknown } | null)?.items) ? (detail as { items: unknown[] }).items.length : 0;
  let done = 0;
  let failed = 0;
  const unsubscribe = session.pipeline.bus.subscribe((event) => {
    if (event.detailType === BATCH_EVENTS.completed) return;
    done += 1;
    if (event.detailType === BATCH_EVENTS.failed) failed += 1;
    if (!json) io.out(`  ${done}/${total} done, ${failed} failed  (${event.detailType}: ${describeItem(event.detail)})`);
  });
  const executionName = `local-batch-${localExecutionName().slice("local-".length)}`;
  if (!json) io.out(`batch execution ${executionName} (${describeTarget(session, target)})`);
  try {
    let report;
    try {
      report = await session.pipeline.runBatchEvent(detail, executionName);
    } catch (error) {
      // PutEvents refuses an event past 256 KB: nothing starts, as on AWS.
      if (!(error instanceof Error && error.name === "ValidationException")) throw error;
      io.err(`error: EventBridge would refuse this batch's event, so no batch started: ${error.message}`);
      return 2;
    }
    if (report.status !== "SUCCEEDED") {
      io.err(`batch FAILED: ${report.error ?? "error"}: ${report.cause ?? ""}`);
      return 1;
    }
    const summary = report.output as BatchSummary;
    if (json) {
      io.out(JSON.stringify(summary));
    } else {
      io.out(
        `batch ${summary.batchId}: ${summary.total} items, ${summary.succeeded} succeeded, ${summary.failed} failed (${summary.recoverable} recoverable), ${summary.duplicates} duplicates`,
      );
      for (const item of summary.items) io.out(`  #${item.index} ${item.executionName} ${item.status} ${describeItem(item)}`);
    }
    return summary.failed === 0 ? 0 : 1;
  } finally {
    unsubscribe();
  }
}

function describeItem(detail: unknown): string {
  const item = detail as Partial<ItemOutcome>;
  if (item.videoUrl) return item.videoUrl;
  if (item.diagnosis) return `${item.diagnosis.errorCode}: ${item.diagnosis.suggestion}`;
  return item.status === "DUPLICATE" ? "already started by an earlier delivery" : "";
}

async function serve(session: LocalSession, port: number, io: CommandIo): Promise<number> {
  const server = await startLocalApiServer({
    executions: session.pipeline.executions,
    links: new PresignedVideoLinks(videoBucketClient, session.pipeline.videoLinkSeconds),
    port,
    onRequest: (line) => io.out(line),
  });
  io.out(`serving the generations API at ${server.url} (${session.simulator ? "embedded Kling simulator" : "real Kling"}); Ctrl-C stops it`);
  io.out(`  curl -X POST ${server.url}/generations -H 'content-type: application/json' -d '{"prompt": "a corgi surfing a wave"}'`);
  io.out(`  curl ${server.url}/generations/<id>`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}
