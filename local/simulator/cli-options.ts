/** The simulator command's flags and what it prints, kept apart from the process so tests can read them. */
import { parseArgs } from "node:util";
import { signingKeyOf, type CallbackLogEntry } from "./callbacks";
import { SCENARIOS, isScenarioName } from "./scenarios";
import type { Simulator, SimulatorOptions } from "./server";
import type { KlingCredentials } from "#lambdas/kling/port";

const DEFAULT_CLI_PORT = 8787;

type CliParse =
  | { readonly ok: true; readonly help: boolean; readonly options: SimulatorOptions }
  | { readonly ok: false; readonly error: string };

export function usage(): string {
  const scenarioLines = SCENARIOS.map((scenario) => `  ${scenario.name.padEnd(24)}${scenario.description}`);
  return [
    "usage: npm run simulator -- [--port 8787] [--api-key K | --access-key A --secret-key S]",
    "                            [--max-concurrent N] [--generation-seconds S] [--units U] [--scenario NAME]",
    "                            [--callback-signing-secret whsec_BASE64]",
    "scenarios:",
    ...scenarioLines,
  ].join("\n");
}

const FLAGS = {
  port: { type: "string" },
  "api-key": { type: "string" },
  "access-key": { type: "string" },
  "secret-key": { type: "string" },
  "max-concurrent": { type: "string" },
  "generation-seconds": { type: "string" },
  units: { type: "string" },
  scenario: { type: "string" },
  "callback-signing-secret": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function readFlags(argv: readonly string[]) {
  return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: FLAGS }).values;
}

export function parseSimulatorArgs(argv: readonly string[]): CliParse {
  let values: ReturnType<typeof readFlags>;
  try {
    values = readFlags(argv);
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }

  const port = wholeNumber(values.port ?? String(DEFAULT_CLI_PORT), 0, 65535);
  if (port === undefined) return { ok: false, error: `--port must be a whole number from 0 to 65535, got ${values.port}` };
  const maxConcurrent = values["max-concurrent"] === undefined ? undefined : wholeNumber(values["max-concurrent"], 1, 10_000);
  if (values["max-concurrent"] !== undefined && maxConcurrent === undefined) {
    return { ok: false, error: `--max-concurrent must be a whole number of 1 or more, got ${values["max-concurrent"]}` };
  }
  const generationSeconds = values["generation-seconds"] === undefined ? undefined : Number(values["generation-seconds"]);
  if (generationSeconds !== undefined && !(Number.isFinite(generationSeconds) && generationSeconds >= 0)) {
    return { ok: false, error: `--generation-seconds must be a number of 0 or more, got ${values["generation-seconds"]}` };
  }
  const units = values.units === undefined ? undefined : Number(values.units);
  if (units !== undefined && !(Number.isFinite(units) && units >= 0)) {
    return { ok: false, error: `--units must be a number of 0 or more, got ${values.units}` };
  }
  if (values.scenario !== undefined && !isScenarioName(values.scenario)) {
    return { ok: false, error: `--scenario ${values.scenario} is not a scenario` };
  }
  const callbackSigningSecret = values["callback-signing-secret"];
  if (callbackSigningSecret !== undefined && signingKeyOf(callbackSigningSecret) === undefined) {
    return { ok: false, error: "--callback-signing-secret must be whsec_ followed by the secret in base64" };
  }
  if ((values["access-key"] === undefined) !== (values["secret-key"] === undefined)) {
    return { ok: false, error: "--access-key and --secret-key go together" };
  }

  const credentials: KlingCredentials[] = [];
  if (values["api-key"] !== undefined) credentials.push({ apiKey: values["api-key"] });
  if (values["access-key"] !== undefined && values["secret-key"] !== undefined) {
    credentials.push({ accessKey: values["access-key"], secretKey: values["secret-key"] });
  }

  return {
    ok: true,
    help: values.help ?? false,
    options: {
      port,
      ...(credentials.length > 0 ? { credentials } : {}),
      ...(maxConcurrent === undefined ? {} : { maxConcurrentTasks: maxConcurrent }),
      ...(generationSeconds === undefined ? {} : { generationSeconds }),
      ...(units === undefined ? {} : { units }),
      ...(values.scenario === undefined ? {} : { scenario: values.scenario }),
      ...(callbackSigningSecret === undefined ? {} : { callbackSigningSecret }),
    },
  };
}

/** The start-up banner: where to point the pipeline and what the simulator will do. */
export function describeSimulator(simulator: Simulator): string[] {
  const packs = simulator.resourcePacks();
  const units = packs.reduce((sum, pack) => sum + pack.remaining_quantity, 0);
  const scenario = SCENARIOS.find((candidate) => candidate.name === simulator.scenario);
  return [
    `Kling simulator listening on ${simulator.baseUrl}`,
    ...simulator.credentials.map((credentials) =>
      "apiKey" in credentials
        ? `  accepts API key      ${credentials.apiKey}`
        : `  accepts access key   ${credentials.accessKey} (JWT signed with the given secret key)`,
    ),
    `  max concurrent tasks ${simulator.maxConcurrentTasks}`,
    `  generation time      ${simulator.generationSeconds} s`,
    `  resource packs       ${packs.length}, ${units} units remaining`,
    `  scenario             ${simulator.scenario}${scenario ? `: ${scenario.description}` : ""}`,
    `  callbacks            to a task's callback_url on 127.0.0.1 or localhost, ${simulator.callbacksSigned ? "signed (Standard Webhooks)" : "unsigned"}`,
  ];
}

/** One callback's log line: the status it reports, the task, where it went, and what came of it. */
export function callbackLine(entry: CallbackLogEntry): string {
  const outcome = entry.status === undefined ? `not delivered (${entry.error ?? "no answer"})` : String(entry.status);
  const fault = entry.fault === undefined ? "" : ` [fault: ${entry.fault}]`;
  return `callback ${entry.taskStatus} of ${entry.externalTaskId ?? entry.taskId} -> ${entry.url}: ${outcome}${fault}`;
}

function wholeNumber(raw: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}
