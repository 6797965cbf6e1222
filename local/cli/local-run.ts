/**
 * What every local run shares: where Kling is and how fast time runs, the line that says so,
 * the Lambdas' log, the session (loaded only once the first line is out: synthesis takes
 * seconds), and Ctrl-C.
 */
import type { KlingCredentials } from "#lambdas/kling/port";
import type { LocalSession, LocalSessionOptions } from "../runner/session";
import type { ScenarioName } from "../simulator/scenarios";
import { routeLambdaLogs } from "./lambda-logs";
import type { CommandIo } from "./progress";
import type { RunHistory, RunKind, RunRecord } from "./run-history";

/** Where the Lambdas reach Kling, and how fast simulated time runs. */
export interface RunTarget {
  readonly scenario: ScenarioName;
  readonly timeScale: number;
  /** Kling's callbacks to a local endpoint (the simulator's; a real Kling cannot reach this machine), else polling only. */
  readonly callbacks: boolean;
  readonly kling?: { readonly baseUrl: string; readonly credentials: KlingCredentials };
}

/** What every run command is given. */
export interface RunContext {
  readonly target: RunTarget;
  readonly history: RunHistory;
  readonly io: CommandIo;
  /** The Lambdas' log lines on stderr instead of a log file. */
  readonly verbose: boolean;
}

export function describeTarget(target: RunTarget): string {
  return target.kling
    ? `Kling at ${target.kling.baseUrl}, real time`
    : `embedded Kling simulator, scenario ${target.scenario}, time x${(1 / target.timeScale).toFixed(0)}${target.callbacks ? "" : ", callbacks off"}`;
}

/** Where this run's Lambda log lines go, as the command prints it. */
export function logFileOf(context: RunContext, id: string): string | undefined {
  return context.verbose ? undefined : context.history.logFileFor(id);
}

export function describeLogs(logFile: string | undefined): string {
  return logFile === undefined ? "Lambda logs: on stderr (--verbose)" : `Lambda logs: ${logFile} (--verbose prints them here)`;
}

/** A run under way: its record (saved as RUNNING) and the trace lines it printed so far. */
export interface StartedRun {
  readonly record: RunRecord;
  readonly trace: string[];
  readonly logFile: string | undefined;
}

/** Records a run as RUNNING and prints its first two lines (unless --json): what runs where, and where its Lambda logs go. */
export function beginRun(
  context: RunContext,
  run: {
    readonly id: string;
    readonly kind: RunKind;
    readonly heading: string;
    readonly json: boolean;
    readonly model?: string;
    readonly prompt?: string | undefined;
    readonly request?: unknown;
  },
): StartedRun {
  const logFile = logFileOf(context, run.id);
  const target = describeTarget(context.target);
  const trace = [`${run.heading} ${run.id} (${target})`, describeLogs(logFile)];
  if (!run.json) for (const line of trace) context.io.out(line);
  const record: RunRecord = {
    id: run.id,
    kind: run.kind,
    startedAt: new Date().toISOString(),
    status: "RUNNING",
    target,
    ...(run.model === undefined ? {} : { model: run.model }),
    ...(run.prompt === undefined ? {} : { prompt: run.prompt }),
    ...(run.request === undefined ? {} : { request: run.request }),
    ...(logFile === undefined ? {} : { logFile }),
    trace,
  };
  context.history.save(record);
  return { record, trace, logFile };
}

/** Runs `work` in a session whose Lambdas log to `logFile` (stderr when undefined). */
export async function withSession<T>(
  context: RunContext,
  logFile: string | undefined,
  work: (session: LocalSession) => Promise<T>,
  session: Pick<LocalSessionOptions, "onGenerationEvent"> = {},
): Promise<T> {
  const restoreLogs = routeLambdaLogs(logFile);
  const { startLocalSession } = await import("../runner/session");
  const { target } = context;
  const started = await startLocalSession({
    ...session,
    timeScale: target.timeScale,
    ...(target.callbacks ? {} : { config: { callbacks: { enabled: false } } }),
    simulator: { scenario: target.scenario },
    videoDirectory: context.history.videoDirectory(),
    planDirectory: context.history.cacheDirectory(),
    ...(target.kling ? { kling: target.kling } : {}),
  });
  try {
    return await work(started);
  } finally {
    await started.close();
    restoreLogs();
  }
}

export interface Interruption {
  /** Resolves on the first Ctrl-C (or SIGTERM). */
  readonly signalled: Promise<"interrupted">;
  /** Stops listening: a later Ctrl-C ends the process as usual. */
  readonly dispose: () => void;
}

/**
 * SIGPIPE: stdout's reader went away (`| head -1`). Node ignores the signal itself, so the
 * command's entry point emits it when a write to stdout fails with EPIPE: a run then ends as on
 * Ctrl-C, quietly, as a Unix tool dies of it.
 */
export const STDOUT_CLOSED_SIGNAL = "SIGPIPE";

/** Listens for Ctrl-C (and SIGTERM, and stdout closed) from now on, also while the stack synthesizes (the signal is handled once it is done). */
export function interruption(): Interruption {
  let resolveSignal: (value: "interrupted") => void = () => undefined;
  const signalled = new Promise<"interrupted">((resolve) => {
    resolveSignal = resolve;
  });
  // Not once: Ctrl-C reaches npm, tsx and this process alike, and tsx relays it again.
  const onSignal = () => resolveSignal("interrupted");
  const signals = ["SIGINT", "SIGTERM", STDOUT_CLOSED_SIGNAL] as const;
  for (const signal of signals) process.on(signal, onSignal);
  return {
    signalled,
    dispose: () => {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}

/** The exit code of a run stopped by Ctrl-C, as shells report a SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;
