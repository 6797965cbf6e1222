/**
 * `npm start -- …`: one generation, a batch, the local API, the history of local runs, or a
 * redrive on AWS. Everything the person typed is checked before anything starts (a mistake is
 * one line and exit 2); the modules that synthesize the stack load only after that.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { credentialsFromEnvironment, LOCAL_CREDENTIAL_VARIABLES, MISSING_CREDENTIALS_HINT } from "#lambdas/common/credentials";
import type { KlingCredentials } from "#lambdas/kling/port";
import { isScenarioName, SCENARIOS } from "../simulator/scenarios";
import { checkBatch, runBatch } from "./batch-command";
import { runGeneration } from "./generate-command";
import { listRuns, showRun } from "./history-command";
import { PortUnavailableError } from "./listen-error";
import type { RunContext, RunTarget } from "./local-run";
import type { CommandIo } from "./progress";
import { checkRequest, REQUEST_FLAGS, type RequestField } from "./request-check";
import { RunHistory, STATE_DIR_VARIABLE } from "./run-history";

/** Real seconds per simulated second by default: the happy path takes a few seconds. */
const DEFAULT_TIME_SCALE = 0.05;

const USAGE = `usage: npm start -- "<prompt>" [options]        one generation, with a live trace
       npm start -- --batch FILE [--json]         a batch (FILE holds an event's detail: {"batchId", "items"})
       npm start -- serve [--port 3000]           the HTTP API on 127.0.0.1
       npm start -- list [--json]                 the recent local runs
       npm start -- show ID [--json]              one local run again: its trace, result and diagnosis
       npm start -- redrive [--since 7d] [--dry-run] [--state-machine-arn ARN] [--json]
                                                  redrive the recoverable failures on AWS (redrive --help)

  --scenario NAME        simulator scenario (default happy); --list-scenarios shows them
  --product NAME         what to make (default text-to-video, image-to-video with --image); the README's product table
  --model NAME           Kling model (default: the configured default model)
  --duration SECONDS     seconds of video ("5", "10"; "3" to "15" for kling-v3 and the 3.0 models)
  --aspect-ratio R       16:9, 9:16 or 1:1 (text-to-video)
  --mode std|pro         720p or 1080p
  --negative-prompt TEXT what to keep out of the video
  --image URL            image-to-video from this https image
  --time-scale X         real seconds per simulated second, above 0 and at most 1 (default ${DEFAULT_TIME_SCALE})
  --no-callbacks         poll only, as a pipeline deployed without its API (the simulator's callbacks are on by default;
                         with --kling-url they are off: Kling cannot reach this machine)
  --json                 print one JSON object (the result, the batch summary, or {"error"}) instead of the trace
  --verbose              the Lambdas' log lines on stderr instead of the run's log file
  --kling-url URL        run against this Kling endpoint instead of the simulator, with
                         ${LOCAL_CREDENTIAL_VARIABLES.apiKey}, or ${LOCAL_CREDENTIAL_VARIABLES.accessKey} and ${LOCAL_CREDENTIAL_VARIABLES.secretKey}, from the environment

  Runs, their Lambda logs and their videos are kept in .kling-pipeline/ (${STATE_DIR_VARIABLE} moves it).
  Exit codes: 0 succeeded, 1 the generation or a batch item failed, 2 a usage mistake, 130 Ctrl-C.`;

class UsageError extends Error {
  override readonly name = "UsageError";
}

type LocalCommand =
  | { readonly mode: "generate"; readonly request: Readonly<Record<string, string>>; readonly model: string; readonly json: boolean; readonly verbose: boolean; readonly target: RunTarget }
  | { readonly mode: "batch"; readonly file: string; readonly json: boolean; readonly verbose: boolean; readonly target: RunTarget }
  | { readonly mode: "serve"; readonly port: number; readonly verbose: boolean; readonly target: RunTarget }
  | { readonly mode: "list"; readonly json: boolean }
  | { readonly mode: "show"; readonly id: string; readonly json: boolean };

const DEFAULT_SERVE_PORT = 3000;

const OPTIONS = {
  scenario: { type: "string" },
  product: { type: "string" },
  model: { type: "string" },
  duration: { type: "string" },
  "aspect-ratio": { type: "string" },
  mode: { type: "string" },
  "negative-prompt": { type: "string" },
  image: { type: "string" },
  "time-scale": { type: "string" },
  "no-callbacks": { type: "boolean" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  "kling-url": { type: "string" },
  "list-scenarios": { type: "boolean" },
  batch: { type: "string" },
  port: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The request fields by the flag that sets them. */
const FIELD_OF_FLAG = Object.fromEntries(
  Object.entries(REQUEST_FLAGS).flatMap(([field, flag]) => (flag.startsWith("--") ? [[flag.slice(2), field as RequestField]] : [])),
) as Readonly<Record<string, RequestField>>;

/**
 * `--time-scale -1` as `--time-scale=-1`: parseArgs refuses a value that starts with a dash
 * ("argument is ambiguous"), though only a flag's own name can be meant as a flag.
 */
function joinDashValues(argv: readonly string[]): string[] {
  const flags = new Set(Object.keys(OPTIONS).map((name) => `--${name}`));
  const takesValue = new Set(Object.entries(OPTIONS).flatMap(([name, option]) => (option.type === "string" ? [`--${name}`] : [])));
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? "";
    const next = argv[index + 1];
    if (takesValue.has(arg) && next !== undefined && next.startsWith("-") && !flags.has(next) && next !== "-h" && next !== "--") {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

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
  return text.replace(/\/+$/, "");
}

const SUBCOMMANDS = ["serve", "list", "show"] as const;

// Longer than 60 lines: one flat parse of the command's arguments, each option a few lines.
/** Parses the command line; a mistake is a UsageError with a one-line message. */
function parseRunCommand(argv: readonly string[], env: NodeJS.ProcessEnv): LocalCommand | "help" | "list-scenarios" {
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "bad arguments");
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (values["list-scenarios"]) return "list-scenarios";
  const json = values.json ?? false;
  const subcommand = SUBCOMMANDS.find((name) => name === positionals[0]);
  const given = (Object.keys(values) as (keyof typeof values)[]).filter((name) => values[name] !== undefined);
  if (subcommand === "list" || subcommand === "show") {
    const extra = given.find((name) => name !== "json");
    if (extra !== undefined) throw new UsageError(`--${extra} is not an option of ${subcommand}`);
    if (subcommand === "list") {
      if (positionals.length > 1) throw new UsageError("list takes no argument");
      return { mode: "list", json };
    }
    const [, id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new UsageError("show takes one run id (npm start -- list shows them)");
    return { mode: "show", id, json };
  }
  const serve = subcommand === "serve";
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

  const requestFlags = Object.keys(FIELD_OF_FLAG).filter((flag) => values[flag as keyof typeof values] !== undefined);
  if (serve || batch !== undefined) {
    const [first] = requestFlags;
    if (first !== undefined) throw new UsageError(`--${first} shapes one request; ${serve ? "serve" : "--batch"} takes its requests from elsewhere`);
  }

  const target: RunTarget =
    values["kling-url"] === undefined
      ? { scenario, timeScale, callbacks: values["no-callbacks"] !== true }
      : { scenario, timeScale: 1, callbacks: false, kling: { baseUrl: klingUrl(values["kling-url"]), credentials: credentialsFor(env) } };
  const verbose = values.verbose ?? false;
  if (serve) {
    if (json) throw new UsageError("--json is not for serve");
    return { mode: "serve", port: servePort(values.port), verbose, target };
  }
  if (batch !== undefined) return { mode: "batch", file: batch, json, verbose, target };

  // Only what was given: Validate applies the defaults. Checked now, in the flags' words, and again by Validate.
  const request: Record<string, string> = {};
  if (prompt !== undefined) request.prompt = prompt;
  for (const flag of requestFlags) {
    const field = FIELD_OF_FLAG[flag];
    const value = values[flag as keyof typeof values];
    if (field !== undefined && typeof value === "string") request[field] = value;
  }
  const checked = checkRequest(request);
  if ("problem" in checked) throw new UsageError(checked.problem);
  return { mode: "generate", request, model: checked.model, json, verbose, target };
}

function servePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SERVE_PORT;
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number from 0 to 65535, got ${text}`);
  return port;
}

/** Runs the command; resolves to the exit code (0 succeeded, 1 failed, 2 usage mistake, 130 Ctrl-C). */
export async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  // Redrive works on AWS, not on the local engine: its own options, its own command.
  if (argv[0] === "redrive") {
    const { runRedriveCommand } = await import("../redrive/redrive-command");
    return runRedriveCommand(argv.slice(1), env, io);
  }
  const json = argv.includes("--json");
  try {
    return await dispatch(parseRunCommand(argv, env), env, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof PortUnavailableError) {
      return usageError(io, error.message, json);
    }
    throw error;
  }
}

async function dispatch(command: LocalCommand | "help" | "list-scenarios", env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  if (command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (command === "list-scenarios") {
    for (const scenario of SCENARIOS) io.out(`${scenario.name.padEnd(24)} ${scenario.description}`);
    return 0;
  }
  const history = new RunHistory(env);
  if (command.mode === "list") return listRuns(history, command.json, io);
  if (command.mode === "show") return showRun(history, command.id, command.json, io);
  const context: RunContext = { target: command.target, history, io, verbose: command.verbose };
  if (command.mode === "serve") {
    const { serve } = await import("./serve-command");
    return serve(context, command.port);
  }
  if (command.mode === "batch") {
    const batch = checkBatch(await readBatchFile(command.file));
    if ("problem" in batch) throw new UsageError(`${command.file}: ${batch.problem}`);
    return runBatch(context, batch, command.json);
  }
  return runGeneration(context, command);
}

async function readBatchFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new UsageError(`cannot read the batch file ${file}: ${code}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`cannot read the batch file ${file}: it is not JSON`);
  }
}

/** One line naming the mistake (with --json, the one JSON object), exit 2. */
function usageError(io: CommandIo, message: string, json: boolean): number {
  if (json) io.out(JSON.stringify({ error: message, exitCode: 2 }));
  else io.err(`error: ${message} (npm start -- --help shows the options)`);
  return 2;
}
