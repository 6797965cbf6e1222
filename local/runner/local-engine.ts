/**
 * Runs a synthesized state machine definition on aws-local-stepfunctions, the way Step
 * Functions would: every Task is bound to local code that returns what its integration
 * returns, an error reaches Retry/Catch under its name, and Waits and retry intervals keep
 * their real proportions on a scaled clock.
 */
import { StateMachine, type StateMachineDefinition as EngineDefinition } from "aws-local-stepfunctions";
import type { StateMachineDefinition } from "./definition";
import {
  DATA_LIMIT_EXCEEDED,
  STATE_PAYLOAD_LIMIT_BYTES,
  assertStartExecution,
  awsError,
  dataLimitCause,
  jsonBytes,
} from "./quotas";
import type { ScaledClock } from "./scaled-clock";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateBody = Record<string, unknown>;

/** Local code standing in for a Task's integration: gets the effective input, returns the integration's result. */
export type TaskBinding = (input: Json, execution: ExecutionContext) => Promise<unknown>;

export interface ExecutionContext {
  readonly name: string;
  readonly arn: string;
}

/** Decides which local code a Task state runs; undefined means it has none (a setup error). */
export type TaskBinder = (stateName: string, state: StateBody) => TaskBinding | undefined;

export interface EngineEvent {
  readonly type: string;
  /** Simulated epoch ms. */
  readonly at: number;
  readonly stateName?: string;
  readonly stateType?: string;
  readonly error?: string;
  readonly cause?: string;
  /** For a retry: the error retried, the attempt (1-based) and the simulated wait before it. */
  readonly retry?: { readonly error: string; readonly attempt: number; readonly waitSeconds: number };
  readonly input?: unknown;
  readonly output?: unknown;
}

export interface ExecutionReport {
  readonly executionName: string;
  readonly executionArn: string;
  /** The execution's input as it was started (a redrive keeps it, as on AWS). */
  readonly input: unknown;
  readonly status: "SUCCEEDED" | "FAILED";
  readonly output: unknown;
  readonly error: string | null;
  readonly cause: string | null;
  readonly retries: Record<string, number>;
  readonly events: readonly EngineEvent[];
  /** Simulated epoch ms. */
  readonly startedAt: number;
  readonly stoppedAt: number;
}

interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxAttempts?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: "FULL" | "NONE";
}

/** Every state, including those inside Map and Parallel states. */
function* allStates(states: Record<string, StateBody>): Generator<[string, StateBody]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, StateBody> } | undefined;
    if (processor?.States) yield* allStates(processor.States);
    for (const branch of (state.Branches as { States: Record<string, StateBody> }[] | undefined) ?? []) {
      yield* allStates(branch.States);
    }
  }
}

function readSimplePath(path: string): string[] {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path)) throw new Error(`the local engine only follows simple paths, not ${path}`);
  return path.split(".").slice(1);
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * A Wait with `SecondsPath` reads a value some Task wrote. To scale that wait, find the Tasks
 * whose `ResultPath` holds it and where their `ResultSelector` takes it from the result.
 */
function waitSources(states: Record<string, StateBody>) {
  const sources = new Map<string, { waitState: string; resultPath: string[] }[]>();
  const staticWaits: Record<string, number> = {};
  const all = [...allStates(states)];
  for (const [waitName, wait] of all.filter(([, state]) => state.Type === "Wait")) {
    if (typeof wait.Seconds === "number") {
      staticWaits[waitName] = wait.Seconds;
      continue;
    }
    if (typeof wait.SecondsPath !== "string") throw new Error(`the local engine cannot scale Wait ${waitName}: only Seconds and SecondsPath are supported`);
    const secondsPath = wait.SecondsPath;
    let found = false;
    for (const [taskName, task] of all.filter(([, state]) => state.Type === "Task")) {
      const resultPath = typeof task.ResultPath === "string" ? task.ResultPath : "$";
      const prefix = resultPath === "$" ? "$." : `${resultPath}.`;
      if (!secondsPath.startsWith(prefix)) continue;
      const rest = secondsPath.slice(prefix.length);
      const selector = task.ResultSelector as Record<string, unknown> | undefined;
      const [first, ...deeper] = rest.split(".");
      const selected = selector ? selector[`${first}.$`] : `$.${first}`;
      if (typeof selected !== "string") continue;
      const resultPathInIntegration = [...readSimplePath(selected), ...deeper];
      sources.set(taskName, [...(sources.get(taskName) ?? []), { waitState: waitName, resultPath: resultPathInIntegration }]);
      found = true;
    }
    if (!found) throw new Error(`the local engine cannot scale Wait ${waitName}: no Task writes ${secondsPath}`);
  }
  return { sources, staticWaits };
}

function matchingRetrier(retriers: readonly Retrier[], errorName: string): number {
  return retriers.findIndex((retrier) =>
    retrier.ErrorEquals.some((name) => name === errorName || name === "States.ALL" || name === "States.TaskFailed"),
  );
}

/** The wait Step Functions would choose before retry `attempt` (1-based), in seconds. */
export function retryWaitSeconds(retrier: Retrier, attempt: number, random: () => number = Math.random): number {
  const interval = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempt - 1);
  const capped = retrier.MaxDelaySeconds === undefined ? interval : Math.min(interval, retrier.MaxDelaySeconds);
  return retrier.JitterStrategy === "FULL" ? random() * capped : capped;
}

/**
 * A redrive as the local engine plays it (it has no RedriveExecution): Step Functions resumes
 * at the state that did not exit, with that state's input, and `$$.Execution.RedriveCount` up by one.
 */
export interface RedriveStart {
  readonly resumeAt: string;
  readonly redriveCount: number;
}

/** `$$.Task.Token` locally; a callback binding hands its function a token of its own. */
const LOCAL_TASK_TOKEN = "local-task-token";

export interface LocalEngineOptions {
  readonly definition: StateMachineDefinition;
  readonly stateMachineArn: string;
  readonly bindTask: TaskBinder;
  readonly clock: ScaledClock;
  /** Told when an execution ends, as EventBridge is: the run does not wait for what it does. */
  readonly onEnded?: (report: ExecutionReport, redriveCount: number) => void;
}

export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly waits: ReturnType<typeof waitSources>;
  private readonly retriers = new Map<string, Retrier[]>();
  private readonly bindings = new Map<string, TaskBinding>();
  /** Each execution's input as first started: a redrive runs from a state's input, but the execution's stays. */
  private readonly startInputs = new Map<string, unknown>();

  constructor(private readonly options: LocalEngineOptions) {
    const { definition, bindTask } = options;
    for (const [name, state] of allStates(definition.States)) {
      if (Array.isArray(state.Retry)) this.retriers.set(name, state.Retry as Retrier[]);
      if (state.Type !== "Task") continue;
      // A Task without a local binding would call real AWS: refuse to start instead.
      const binding = bindTask(name, state);
      if (!binding) throw new Error(`Task ${name} (${String(state.Resource)}) has no local binding`);
      this.bindings.set(name, binding);
    }
    this.waits = waitSources(definition.States);
    // The definition is parsed JSON; the engine validates it against the States Language itself.
    this.machine = new StateMachine(definition as unknown as EngineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  get stateMachineArn(): string {
    return this.options.stateMachineArn;
  }

  async run(
    input: unknown,
    executionName: string,
    onEvent?: (event: EngineEvent) => void,
    redrive?: RedriveStart,
  ): Promise<ExecutionReport> {
    const { clock } = this.options;
    // What StartExecution refuses before anything runs.
    assertStartExecution(executionName, input);
    const executionArn = `${this.options.stateMachineArn.replace(":stateMachine:", ":execution:")}:${executionName}`;
    const execution: ExecutionContext = { name: executionName, arn: executionArn };
    const events: EngineEvent[] = [];
    const retries: Record<string, number> = {};
    const emit = (event: EngineEvent) => {
      events.push(event);
      onEvent?.(event);
    };

    // Read by the engine each time a Wait runs or a retry is decided, so they can change as the run goes.
    const waitTimeOverrides: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(this.waits.staticWaits)) waitTimeOverrides[name] = clock.realMs(seconds);
    const retryIntervalOverrides: Record<string, number[]> = {};
    const attempts = new Map<string, number[]>();
    const pendingRetry = new Map<string, { error: string; attempt: number; waitSeconds: number }>();

    /**
     * States.DataLimitExceeded ends the execution whatever its Catch says (States.ALL does not
     * match it): the first state input, output, Task parameters or result past 256 KiB is
     * recorded, the run aborted, and the execution reported FAILED with that error.
     */
    let dataLimitExceeded: { cause: string } | undefined;
    let abortRun = () => undefined as void;
    const exceedLimit = (stateName: string, what: Parameters<typeof dataLimitCause>[1], value: unknown): boolean => {
      if (dataLimitExceeded) return true;
      const bytes = jsonBytes(value);
      if (bytes <= STATE_PAYLOAD_LIMIT_BYTES) return false;
      dataLimitExceeded = { cause: dataLimitCause(stateName, what, bytes) };
      abortRun();
      return true;
    };
    const stopped = () => awsError(DATA_LIMIT_EXCEEDED, dataLimitExceeded?.cause ?? "");

    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, binding] of this.bindings) {
      taskResourceLocalHandlers[stateName] = async (taskInput) => {
        // Let the event log catch up first: a state that exceeded the limit just before this
        // Task (its input is this state's input) stops the execution before the Task runs.
        await new Promise((resolve) => setImmediate(resolve));
        if (exceedLimit(stateName, "parameters", taskInput)) throw stopped();
        try {
          const result = await binding(taskInput, execution);
          if (exceedLimit(stateName, "result", result)) throw stopped();
          attempts.delete(stateName);
          for (const { waitState, resultPath } of this.waits.sources.get(stateName) ?? []) {
            const seconds = at(result, resultPath);
            if (typeof seconds === "number") waitTimeOverrides[waitState] = clock.realMs(seconds);
          }
          return result as Json;
        } catch (error) {
          this.scheduleRetry(stateName, error, attempts, retryIntervalOverrides, pendingRetry);
          throw error;
        }
      };
    }

    const startedAt = clock.now();
    const machine = redrive ? this.machineStartingAt(redrive.resumeAt) : this.machine;
    const { result, eventLogs, abort } = machine.run(input as Json, {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context: {
        Execution: {
          Id: executionArn,
          Name: executionName,
          StartTime: new Date(startedAt).toISOString(),
          Input: input as Json,
          RoleArn: "arn:aws:iam::123456789012:role/local",
          RedriveCount: redrive?.redriveCount ?? 0,
        },
        Task: { Token: LOCAL_TASK_TOKEN },
        StateMachine: { Id: this.options.stateMachineArn, Name: this.options.stateMachineArn.split(":").at(-1) ?? "" },
      },
    });
    result.catch(() => undefined); // The outcome is read from the event log below.
    abortRun = abort;

    let final: { status: "SUCCEEDED" | "FAILED"; output: unknown; error: string | null; cause: string | null } = {
      status: "FAILED",
      output: null,
      error: "States.Runtime",
      cause: "the execution ended without an outcome",
    };
    for await (const log of eventLogs) {
      const now = clock.now();
      switch (log.type) {
        case "StateEntered":
          exceedLimit(log.state.name, "input", log.state.input);
          emit({ type: log.type, at: now, stateName: log.state.name, stateType: log.state.type, input: log.state.input });
          break;
        case "StateExited":
          exceedLimit(log.state.name, "output", log.state.output);
          emit({ type: log.type, at: now, stateName: log.state.name, stateType: log.state.type, output: log.state.output });
          break;
        case "StateFailed":
          emit({ type: log.type, at: now, stateName: log.state.name, error: log.Error, cause: String(log.Cause ?? "") });
          break;
        case "StateRetried": {
          const name = log.state.name;
          retries[name] = (retries[name] ?? 0) + 1;
          const retry = pendingRetry.get(name) ?? { error: "unknown", attempt: log.retry.attempt, waitSeconds: 0 };
          emit({ type: log.type, at: now, stateName: name, retry });
          break;
        }
        case "StateCaught":
          emit({ type: log.type, at: now, stateName: log.state.name });
          break;
        case "ExecutionSucceeded":
          final = { status: "SUCCEEDED", output: log.output, error: null, cause: null };
          emit({ type: log.type, at: now, output: log.output });
          break;
        case "ExecutionFailed":
          final = { status: "FAILED", output: null, error: log.Error, cause: typeof log.Cause === "string" ? log.Cause : JSON.stringify(log.Cause ?? null) };
          emit({ type: log.type, at: now, error: final.error ?? undefined, cause: final.cause ?? undefined });
          break;
        default:
          emit({ type: log.type, at: now });
      }
    }
    if (dataLimitExceeded) {
      final = { status: "FAILED", output: null, error: DATA_LIMIT_EXCEEDED, cause: dataLimitExceeded.cause };
      emit({ type: "ExecutionFailed", at: clock.now(), error: final.error ?? undefined, cause: final.cause ?? undefined });
    }
    if (!redrive) this.startInputs.set(executionArn, input);
    const startInput = this.startInputs.get(executionArn) ?? input;
    const report: ExecutionReport = { executionName, executionArn, input: startInput, ...final, retries, events, startedAt, stoppedAt: clock.now() };
    this.options.onEnded?.(report, redrive?.redriveCount ?? 0);
    return report;
  }

  private machineStartingAt(stateName: string): StateMachine {
    const { definition } = this.options;
    if (!(stateName in definition.States)) throw new Error(`cannot resume at ${stateName}: the state machine has no such state`);
    return new StateMachine({ ...definition, StartAt: stateName } as unknown as EngineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  /**
   * The engine skips jitter when an interval is overridden, so compute Step Functions' own
   * choice (backoff, cap, full jitter) here, in simulated seconds, and hand it over scaled.
   */
  private scheduleRetry(
    stateName: string,
    error: unknown,
    attempts: Map<string, number[]>,
    overrides: Record<string, number[]>,
    pending: Map<string, { error: string; attempt: number; waitSeconds: number }>,
  ): void {
    const retriers = this.retriers.get(stateName) ?? [];
    const errorName = error instanceof Error ? error.name : "Error";
    const index = matchingRetrier(retriers, errorName);
    const retrier = retriers[index];
    if (!retrier) {
      attempts.delete(stateName);
      return;
    }
    const counts = attempts.get(stateName) ?? retriers.map(() => 0);
    const attempt = (counts[index] ?? 0) + 1;
    if (attempt > (retrier.MaxAttempts ?? 3)) {
      attempts.delete(stateName);
      return;
    }
    counts[index] = attempt;
    attempts.set(stateName, counts);
    const waitSeconds = retryWaitSeconds(retrier, attempt);
    overrides[stateName] = retriers.map((_, i) => (i === index ? this.options.clock.realMs(waitSeconds) : -1));
    pending.set(stateName, { error: errorName, attempt, waitSeconds });
  }
}
