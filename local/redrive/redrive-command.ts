/**
 * `npm start -- redrive [--since 7d] [--dry-run] [--state-machine-arn ARN]`: redrives the
 * generation executions that failed, timed out or were stopped, when a redrive can succeed,
 * and lists the others with
 * what to do about them. See lib/generation-workflow.ts for why a redrive retries the work.
 * It is the only thing that redrives a failed generation, whose redrive pays for a new task:
 * it prints that task's price first.
 */
import { parseArgs } from "node:util";
import { SFNClient } from "@aws-sdk/client-sfn";
import { STATE_MACHINE_ARN } from "#lambdas/api/sfn-executions";
import { ENV } from "#lambdas/common/settings";
import { errorKindOf } from "#lambdas/errors/index";
import { type FailedExecution, type FailedExecutions, SfnFailedExecutions } from "#lambdas/redrive/failed-executions";
import {
  emptyTally,
  REDRIVE,
  type RedrivePolicy,
  type RedriveResult,
  type RedriveResultKind,
  redriveFailedExecutions,
  type RedriveTally,
} from "#lambdas/redrive/redrive-run";
import { priceUnits } from "#lambdas/schemas/pricing";
import { generationRequestSchema } from "#lambdas/schemas/validation";

const REDRIVE_USAGE = `usage: npm start -- redrive [--since 7d] [--dry-run] [--state-machine-arn ARN] [--json]

  Redrives the generation executions that failed, timed out or were stopped (aborted) since
  then, when a redrive can succeed, and
  lists the unrecoverable ones with their suggestion. Before redriving a failed generation,
  which pays for a new Kling task, it prints that task's price.
  --since DURATION         how far back executions started: 30m, 12h, 7d (default 7d; Step Functions redrives an execution up to 14 days after it stopped)
  --dry-run                list what would be redriven; redrive nothing
  --state-machine-arn ARN  the generation state machine (the stack's GenerationStateMachineArn output),
                           or ${ENV.generationStateMachineArn} from the environment
  --json                   print one JSON object (each execution's outcome and the tally, or {"error"}) instead of lines`;

const DEFAULT_SINCE = "7d";
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

class RedriveUsageError extends Error {
  override readonly name = "RedriveUsageError";
}

interface RedriveCommand {
  readonly stateMachineArn: string;
  readonly sinceMs: number;
  readonly dryRun: boolean;
  readonly json: boolean;
}

/** `7d` -> 7 days in ms. */
export function parseSince(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text);
  const amount = match ? Number(match[1]) : 0;
  if (!match || amount === 0) throw new RedriveUsageError(`--since must be a duration like 30m, 12h or 7d, got "${text}"`);
  return amount * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function parseRedriveCommand(argv: readonly string[], env: NodeJS.ProcessEnv): RedriveCommand | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        since: { type: "string" },
        "dry-run": { type: "boolean" },
        "state-machine-arn": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  } catch (error) {
    throw new RedriveUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) return "help";
  const sinceMs = parseSince(values.since ?? DEFAULT_SINCE);
  const stateMachineArn = values["state-machine-arn"] ?? env[ENV.generationStateMachineArn];
  if (!stateMachineArn) {
    throw new RedriveUsageError(`no state machine: give --state-machine-arn or set ${ENV.generationStateMachineArn} (the stack's GenerationStateMachineArn output)`);
  }
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new RedriveUsageError(`"${stateMachineArn}" is not a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)`);
  }
  return { stateMachineArn, sinceMs, dryRun: values["dry-run"] ?? false, json: values.json ?? false };
}

interface RedriveIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const LABELS: Record<RedriveResultKind, string> = {
  redriven: "redriven",
  "would-redrive": "would redrive",
  "needs-operator": "needs operator",
  unrecoverable: "unrecoverable",
  "not-redrivable": "not redrivable",
};

/** One line per execution: what happened to it, what failed where, and what to do about it. */
function formatResult(result: RedriveResult): string {
  const { execution, diagnosis } = result;
  const what = `${execution.name}  ${execution.status} ${diagnosis.errorCode} at ${diagnosis.failedState}`;
  const why =
    result.kind === "not-redrivable" || (result.kind === "needs-operator" && result.reason !== undefined)
      ? `: ${result.reason ?? ""}`
      : result.kind === "unrecoverable"
        ? `: ${diagnosis.action}: ${diagnosis.suggestion}`
        : ` (${diagnosis.action})`;
  return `  ${LABELS[result.kind].padEnd(15)} ${what}${why}`;
}

/**
 * What a redrive of this execution pays for: nothing, unless its failure makes the redrive create
 * a new Kling task (a failed generation); then that task's price, from the pricing table and the
 * request Validate handed on, or undefined when the request cannot be read.
 */
async function newTaskPrice(executions: FailedExecutions, execution: FailedExecution): Promise<string | undefined> {
  const request = generationRequestSchema.safeParse(await executions.validatedRequest(execution.arn));
  if (!request.success) return undefined;
  const { model, mode, duration, sound } = request.data;
  return `${priceUnits(request.data)} units (${model} ${mode}, ${duration} s${sound === "on" ? ", with sound" : ""})`;
}

/** Where the run's outcome goes: lines as it goes, or (--json) one object at the end. */
interface RedriveReport {
  /** The price of the new task a redrive of `execution` pays for, said before it is redriven. */
  newTask(execution: FailedExecution, price: string): void;
  result(result: RedriveResult): void;
  end(tally: RedriveTally): void;
}

function lineReport(io: RedriveIo, since: Date, dryRun: boolean): RedriveReport {
  io.out(`failed, timed-out and aborted executions started since ${since.toISOString()}${dryRun ? " (dry run: nothing is redriven)" : ""}`);
  return {
    newTask: (execution, price) => io.out(`  ${"new task".padEnd(15)} ${execution.name}  a redrive creates a new Kling task: ${price}`),
    result: (result) => io.out(formatResult(result)),
    end: (tally) => {
      const redriven = dryRun ? `${tally["would-redrive"]} would be redriven` : `${tally.redriven} redriven`;
      const leftToOperator = tally["needs-operator"] > 0 ? `, ${tally["needs-operator"]} left to an operator` : "";
      io.out(`${redriven}, ${tally.unrecoverable} unrecoverable, ${tally["not-redrivable"]} not redrivable${leftToOperator}`);
    },
  };
}

function jsonReport(io: RedriveIo, since: Date, dryRun: boolean): RedriveReport {
  const prices = new Map<string, string>();
  const executions: Record<string, unknown>[] = [];
  return {
    newTask: (execution, price) => prices.set(execution.arn, price),
    result: ({ kind, execution, diagnosis, reason }) => {
      const newTask = prices.get(execution.arn);
      executions.push({
        name: execution.name,
        status: execution.status,
        result: kind,
        errorCode: diagnosis.errorCode,
        failedState: diagnosis.failedState,
        action: diagnosis.action,
        ...(kind === "unrecoverable" ? { suggestion: diagnosis.suggestion } : {}),
        ...(reason === undefined ? {} : { reason }),
        ...(newTask === undefined ? {} : { newTask }),
      });
    },
    end: (tally) => io.out(JSON.stringify({ since: since.toISOString(), dryRun, executions, tally })),
  };
}

/** Every recoverable failure is redriven; one whose redrive pays for a new task only once its price is reported. */
function operatorDecision(executions: FailedExecutions, report: RedriveReport): RedrivePolicy["decide"] {
  return async (execution, diagnosis) => {
    if (!errorKindOf(diagnosis.errorCode)?.redriveCreatesTask) return REDRIVE;
    const price = await newTaskPrice(executions, execution);
    if (price === undefined) {
      return { redrive: false, reason: "its redrive pays for a new Kling task, and its validated request cannot be read to price it" };
    }
    report.newTask(execution, price);
    return REDRIVE;
  };
}

/** Lists, and unless dry-running redrives, every recoverable execution; then a summary. */
async function redriveCommand(executions: FailedExecutions, command: Omit<RedriveCommand, "stateMachineArn">, now: Date, io: RedriveIo): Promise<void> {
  const tally = emptyTally();
  const since = new Date(now.getTime() - command.sinceMs);
  const report = (command.json ? jsonReport : lineReport)(io, since, command.dryRun);
  const policy = { since, dryRun: command.dryRun, decide: operatorDecision(executions, report) };
  for await (const result of redriveFailedExecutions(executions, policy)) {
    tally[result.kind] += 1;
    report.result(result);
  }
  report.end(tally);
}

/** One line naming what went wrong (with --json, one JSON object on stdout), as every command of `npm start` does. */
function failed(io: RedriveIo, json: boolean, message: string, exitCode: 1 | 2): number {
  if (json) io.out(JSON.stringify({ error: message, exitCode }));
  else io.err(`error: ${message}`);
  return exitCode;
}

/** The region is the ARN's: the command works on the state machine it is given, wherever it is. */
function sfnClientFor(stateMachineArn: string): SFNClient {
  return new SFNClient({ region: stateMachineArn.split(":")[3] });
}

/**
 * Runs the command; resolves to the exit code (0 done, 1 an AWS error, 2 a usage mistake or no
 * AWS credentials). Every error is one line on stderr, or with --json one object on stdout.
 */
export async function runRedriveCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: RedriveIo,
  connect: (stateMachineArn: string) => FailedExecutions = (arn) => new SfnFailedExecutions(sfnClientFor(arn), arn),
  now: Date = new Date(),
): Promise<number> {
  // Before parsing: a mistake on the command line is JSON too when --json is among it.
  const json = argv.includes("--json");
  let command;
  try {
    command = parseRedriveCommand(argv, env);
  } catch (error) {
    if (!(error instanceof RedriveUsageError)) throw error;
    return failed(io, json, json ? error.message : `${error.message} (npm start -- redrive --help shows the options)`, 2);
  }
  if (command === "help") {
    io.out(REDRIVE_USAGE);
    return 0;
  }
  try {
    await redriveCommand(connect(command.stateMachineArn), command, now, io);
    return 0;
  } catch (error) {
    // No credentials is the person's to fix, like a usage mistake: say how, exit 2.
    if (error instanceof Error && error.name === "CredentialsProviderError") return failed(io, json, MISSING_AWS_CREDENTIALS, 2);
    return failed(io, json, awsErrorLine(error), 1);
  }
}

const MISSING_AWS_CREDENTIALS =
  "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), " +
  "or AWS_PROFILE to a profile in ~/.aws/config (aws configure, or aws sso login for SSO)";

/** One line for an AWS (or credentials, or network) failure: its name and first line of message. */
function awsErrorLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.split("\n")[0] ?? "";
  return error.name && error.name !== "Error" ? `${error.name}: ${message}` : message;
}
