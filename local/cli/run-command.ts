/**
 * `npm start -- "a prompt" [options]`: one generation through the synthesized state machine
 * on the local engine, against the embedded simulator or, with --kling-url, the real Kling.
 */
import { parseArgs } from "node:util";
import { LOCAL_CREDENTIAL_VARIABLES } from "../../lambdas/common/credentials";
import type { KlingCredentials } from "../../lambdas/kling/port";
import { isScenarioName, SCENARIOS, type ScenarioName } from "../simulator";
import { localExecutionName, startLocalSession } from "../runner/session";
import { formatEvent, formatOutcome, parseDiagnosis } from "../runner/trace";

/** Real seconds per simulated second by default: the happy path takes a few seconds. */
export const DEFAULT_TIME_SCALE = 0.05;

export const USAGE = `usage: npm start -- "<prompt>" [options]

  --scenario NAME        simulator scenario (default happy); --list-scenarios shows them
  --model NAME           Kling model (default: the configured default model)
  --duration 5|10        seconds of video
  --aspect-ratio R       16:9, 9:16 or 1:1 (text-to-video)
  --mode std|pro         720p or 1080p
  --negative-prompt TEXT what to keep out of the video
  --image URL            image-to-video from this https image
  --time-scale X         real seconds per simulated second, above 0 and at most 1 (default ${DEFAULT_TIME_SCALE})
  --json                 print one JSON object instead of the trace
  --kling-url URL        run against this Kling endpoint instead of the simulator, with
                         ${LOCAL_CREDENTIAL_VARIABLES.apiKey}, or ${LOCAL_CREDENTIAL_VARIABLES.accessKey} and ${LOCAL_CREDENTIAL_VARIABLES.secretKey}, from the environment`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface RunCommand {
  readonly request: Record<string, unknown>;
  readonly scenario: ScenarioName;
  readonly timeScale: number;
  readonly json: boolean;
  readonly kling?: { readonly baseUrl: string; readonly credentials: KlingCredentials };
}

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
  help: { type: "boolean", short: "h" },
} as const;

function credentialsFromEnvironment(env: NodeJS.ProcessEnv): KlingCredentials {
  const apiKey = env[LOCAL_CREDENTIAL_VARIABLES.apiKey];
  if (apiKey) return { apiKey };
  const accessKey = env[LOCAL_CREDENTIAL_VARIABLES.accessKey];
  const secretKey = env[LOCAL_CREDENTIAL_VARIABLES.secretKey];
  if (accessKey && secretKey) return { accessKey, secretKey };
  throw new UsageError(
    `--kling-url needs credentials: set ${LOCAL_CREDENTIAL_VARIABLES.apiKey}, or ${LOCAL_CREDENTIAL_VARIABLES.accessKey} and ${LOCAL_CREDENTIAL_VARIABLES.secretKey}`,
  );
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
export function parseRunCommand(argv: readonly string[], env: NodeJS.ProcessEnv): RunCommand | "help" | "list-scenarios" {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (values["list-scenarios"]) return "list-scenarios";
  if (positionals.length > 1) throw new UsageError(`give the prompt as one argument (in quotes), got ${positionals.length}`);
  const prompt = positionals[0];
  if (prompt === undefined && values.image === undefined) throw new UsageError("a prompt is required");

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

  const command: RunCommand = { request, scenario, timeScale, json: values.json ?? false };
  if (values["kling-url"] === undefined) return command;
  return { ...command, timeScale: 1, kling: { baseUrl: klingUrl(values["kling-url"]), credentials: credentialsFromEnvironment(env) } };
}

export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** Runs the command; resolves to the exit code (0 succeeded, 1 failed, 2 usage error). */
export async function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  let command;
  try {
    command = parseRunCommand(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    io.err(USAGE);
    return 2;
  }
  if (command === "help") {
    io.out(USAGE);
    return 0;
  }
  if (command === "list-scenarios") {
    for (const scenario of SCENARIOS) io.out(`${scenario.name.padEnd(24)} ${scenario.description}`);
    return 0;
  }

  const session = await startLocalSession({
    timeScale: command.timeScale,
    simulator: { scenario: command.scenario },
    ...(command.kling ? { kling: command.kling } : {}),
  });
  try {
    const executionName = localExecutionName();
    const startedAt = session.clock.now();
    if (!command.json) {
      const target = session.simulator
        ? `embedded Kling simulator, scenario ${command.scenario}`
        : `Kling at ${command.kling?.baseUrl ?? ""}`;
      io.out(`execution ${executionName} (${target}, time x${(1 / command.timeScale).toFixed(0)})`);
    }
    const report = await session.run(command.request, executionName, (event) => {
      if (command.json) return;
      const line = formatEvent(event, startedAt);
      if (line) io.out(line);
    });
    if (command.json) {
      io.out(
        JSON.stringify({
          status: report.status,
          output: report.output,
          error: report.error,
          cause: parseDiagnosis(report.cause),
          retries: report.retries,
          simulator: session.simulator
            ? { tasksCreated: session.simulator.stats.tasksCreated, requests: session.simulator.stats.requests }
            : null,
        }),
      );
    } else {
      for (const line of formatOutcome(report)) io.out(line);
    }
    return report.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    await session.close();
  }
}
