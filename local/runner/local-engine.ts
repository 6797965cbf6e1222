/**
 * Runs a synthesized state machine definition on aws-local-stepfunctions, the way Step
 * Functions would: every Task is bound to local code that returns what its integration
 * returns, an error reaches Retry/Catch under its name, and Waits, retry intervals and the
 * execution's timeout count simulated time on the run's clock (scaled, or virtual).
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
  TERMINAL_ERRORS,
} from "./quotas";
import type { LocalClock } from "./scaled-clock";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateBody = Record<string, unknown>;

/**
 * Local code standing in for a Task's integration: gets the effective input, returns the
 * integration's result. `timeoutSeconds` is the state's TimeoutSeconds, or its
 * TimeoutSecondsPath read from the state's input, as Step Functions reads it (undefined: none).
 */
export type TaskBinding = (input: Json, execution: ExecutionContext, timeoutSeconds: number | undefined) => Promise<unknown>;

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

/** How an execution ends: on its own, stopped by StopExecution (ABORTED), or past its TimeoutSeconds (TIMED_OUT). */
export type ExecutionEnding = "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT";

export interface ExecutionReport {
  readonly executionName: string;
  readonly executionArn: string;
  /** The execution's input as it was started (a redrive keeps it, as on AWS). */
  readonly input: unknown;
  readonly status: ExecutionEnding;
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

/** A Wait state as the run plays it: a local Task that sleeps on the simulated clock. */
interface WaitSpec {
  readonly seconds?: number;
  readonly secondsPath?: string[];
}

/** Where a rewritten Wait points; never called, its state has a local handler. */
const LOCAL_WAIT_RESOURCE = "arn:aws:lambda:us-east-1:123456789012:function:LocalWait";

/**
 * The definition with every Wait (nested ones too) turned into a Task of the same name that
 * waits on the run's clock, so Waits count simulated time whatever the clock is.
 */
function withClockWaits(states: Record<string, StateBody>, waits: Map<string, WaitSpec>): Record<string, StateBody> {
  const rewritten: Record<string, StateBody> = {};
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === "Wait") {
      const { Type: _wait, Seconds, SecondsPath, ...rest } = state;
      if (typeof Seconds === "number") waits.set(name, { seconds: Seconds });
      else if (typeof SecondsPath === "string") waits.set(name, { secondsPath: readSimplePath(SecondsPath) });
      else throw new Error(`the local engine cannot run Wait ${name}: only Seconds and SecondsPath are supported`);
      rewritten[name] = { ...rest, Type: "Task", Resource: LOCAL_WAIT_RESOURCE };
      continue;
    }
    let copy: StateBody = state;
    for (const key of ["ItemProcessor", "Iterator"] as const) {
      const processor = state[key] as { States?: Record<string, StateBody> } | undefined;
      if (processor?.States) copy = { ...copy, [key]: { ...processor, States: withClockWaits(processor.States, waits) } };
    }
    const branches = state.Branches as { States: Record<string, StateBody> }[] | undefined;
    if (branches) copy = { ...copy, Branches: branches.map((branch) => ({ ...branch, States: withClockWaits(branch.States, waits) })) };
    rewritten[name] = copy;
  }
  return rewritten;
}

function matchingRetrier(retriers: readonly Retrier[], errorName: string): number {
  // As Step Functions matches: the wildcards never take a terminal error, and States.TaskFailed never States.Timeout.
  const matches = (name: string) =>
    name === errorName ||
    (!TERMINAL_ERRORS.has(errorName) && (name === "States.ALL" || (name === "States.TaskFailed" && errorName !== "States.Timeout")));
  return retriers.findIndex((retrier) => retrier.ErrorEquals.some(matches));
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

/**
 * The definition as the engine gets it. The engine times every Task in real seconds, 60 when it
 * names no timeout (AWS sets none), with the retry waits the run sleeps on its clock inside; and
 * it reads a TimeoutSecondsPath from the input after Parameters, where AWS reads it from the
 * state's input. So every Task gets a timeout the engine never reaches instead, and its binding
 * keeps the real one (TimeoutSeconds, or the path read from the state's input) on the run's clock.
 */
export function engineDefinition(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = structuredClone(definition);
  for (const [, state] of allStates(copy.States)) {
    if (state.Type !== "Task") continue;
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = ENGINE_NEVER_TIMES_OUT_SECONDS;
  }
  return copy;
}

/** 24 days: the longest a Node timer waits (2^31 - 1 ms; a longer one fires at once), far past any local run. */
const ENGINE_NEVER_TIMES_OUT_SECONDS = 2_073_600;

function sleep(clock: LocalClock, seconds: number): Promise<void> {
  return new Promise((resolve) => clock.after(seconds, resolve));
}

/** The engine's machine for a definition, without its TimeoutSeconds: {@link LocalStateMachine.run} times it on the simulated clock. */
function engineMachine(definition: StateMachineDefinition): StateMachine {
  const { TimeoutSeconds: _timedByRun, ...timeless } = engineDefinition(definition) as StateMachineDefinition & { TimeoutSeconds?: number };
  return new StateMachine(timeless as unknown as EngineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
}

/** `$$.Task.Token` locally; a callback binding hands its function a token of its own. */
const LOCAL_TASK_TOKEN = "local-task-token";

/** An execution as the machine keeps it for DescribeExecution. */
export interface ExecutionRecord {
  readonly status: "RUNNING" | ExecutionEnding;
  /** Redrives that started (DescribeExecution's redriveCount). */
  readonly redriveCount: number;
  /** Its input as first started; a redrive keeps it. */
  readonly input: unknown;
  /** Epoch ms of its first start; a redrive keeps it. */
  readonly startedAt: number;
  readonly stoppedAt?: number;
  readonly output?: unknown;
  readonly error?: string | null;
  readonly cause?: string | null;
}

export interface LocalEngineOptions {
  readonly definition: StateMachineDefinition;
  readonly stateMachineArn: string;
  readonly bindTask: TaskBinder;
  readonly clock: LocalClock;
  /** Draws full jitter for retries; Math.random unless the run is seeded. */
  readonly random?: () => number;
  /** Told when an execution ends, as EventBridge is: the run does not wait for what it does. */
  readonly onEnded?: (report: ExecutionReport, redriveCount: number) => void;
}

export class LocalStateMachine {
  private readonly machine: StateMachine;
  /** The definition the engine runs: Waits as clock Tasks. */
  private readonly definition: StateMachineDefinition;
  private readonly waits = new Map<string, WaitSpec>();
  private readonly retriers = new Map<string, Retrier[]>();
  private readonly bindings = new Map<string, TaskBinding>();
  /** Each Task's TimeoutSecondsPath, which the runner reads from the state's input (see engineDefinition). */
  private readonly timeoutPaths = new Map<string, string[]>();
  /** How to stop each running execution, by name (StopExecution, or its TimeoutSeconds elapsing). */
  private readonly running = new Map<string, (ending: "ABORTED" | "TIMED_OUT") => void>();
  /** Each execution's input as first started: a redrive runs from a state's input, but the execution's stays. */
  private readonly startInputs = new Map<string, unknown>();
  /** Every execution this machine ran or runs, by name, as DescribeExecution reports it. */
  private readonly records = new Map<string, ExecutionRecord>();

  constructor(private readonly options: LocalEngineOptions) {
    const { definition, bindTask } = options;
    for (const [name, state] of allStates(definition.States)) {
      if (typeof state.TimeoutSecondsPath === "string") this.timeoutPaths.set(name, readSimplePath(state.TimeoutSecondsPath));
      if (Array.isArray(state.Retry)) this.retriers.set(name, state.Retry as Retrier[]);
      if (state.Type !== "Task") continue;
      // A Task without a local binding would call real AWS: refuse to start instead.
      const binding = bindTask(name, state);
      if (!binding) throw new Error(`Task ${name} (${String(state.Resource)}) has no local binding`);
      this.bindings.set(name, binding);
    }
    this.definition = { ...definition, States: withClockWaits(definition.States, this.waits) };
    // The definition is parsed JSON; the engine validates it against the States Language itself.
    this.machine = engineMachine(this.definition);
  }

  /**
   * StopExecution: the running execution ends ABORTED (or TIMED_OUT, as when its TimeoutSeconds
   * elapses) and its status change is told as any other ending. False when none runs by that name.
   */
  stop(executionName: string, ending: "ABORTED" | "TIMED_OUT" = "ABORTED"): boolean {
    const stop = this.running.get(executionName);
    stop?.(ending);
    return stop !== undefined;
  }

  get stateMachineArn(): string {
    return this.options.stateMachineArn;
  }

  /** The execution by this name as it stands now (running, or how it ended, and its redrives); undefined when none ran. */
  record(executionName: string): ExecutionRecord | undefined {
    return this.records.get(executionName);
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

    // Read by the engine each time a retry is decided: 0, the interval is slept on the clock before the error is handed over.
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
    /** Each state's input as it entered, for the Tasks whose timeout is a path into it. */
    const enteredWith = new Map<string, unknown>();
    const timeoutOf = (stateName: string, state: StateBody | undefined): number | undefined => {
      if (typeof state?.TimeoutSeconds === "number") return state.TimeoutSeconds;
      const path = this.timeoutPaths.get(stateName);
      if (!path) return undefined;
      if (!enteredWith.has(stateName)) throw awsError("States.Runtime", `the local engine did not report ${stateName}'s input before its Task ran`);
      const seconds = at(enteredWith.get(stateName), path);
      // What Step Functions requires of the path's value.
      if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 1) {
        throw awsError("States.Runtime", `${stateName}'s TimeoutSecondsPath does not select a positive whole number of seconds`);
      }
      return seconds;
    };

    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [stateName, binding] of this.bindings) {
      taskResourceLocalHandlers[stateName] = async (taskInput) => {
        // Let the event log catch up first: a state that exceeded the limit just before this
        // Task (its input is this state's input) stops the execution before the Task runs.
        await new Promise((resolve) => setImmediate(resolve));
        if (exceedLimit(stateName, "parameters", taskInput)) throw stopped();
        try {
          const result = await binding(taskInput, execution, timeoutOf(stateName, this.stateBody(stateName)));
          if (exceedLimit(stateName, "result", result)) throw stopped();
          attempts.delete(stateName);
          return result as Json;
        } catch (error) {
          const waitSeconds = this.scheduleRetry(stateName, error, attempts, retryIntervalOverrides, pendingRetry);
          if (waitSeconds !== undefined) await sleep(clock, waitSeconds);
          throw error;
        }
      };
    }
    for (const [stateName, wait] of this.waits) {
      taskResourceLocalHandlers[stateName] = async (waitInput) => {
        const seconds = wait.seconds ?? at(waitInput, wait.secondsPath ?? []);
        if (typeof seconds !== "number" || !(seconds >= 0)) {
          throw awsError("States.Runtime", `The Wait state '${stateName}' was given ${JSON.stringify(seconds)} seconds: not a number of 0 or more.`);
        }
        await sleep(clock, seconds);
        return waitInput;
      };
    }

    const startedAt = clock.now();
    const machine = redrive ? this.machineStartingAt(redrive.resumeAt) : this.machine;
    const { result, eventLogs, abort } = machine.run(input as Json, {
      overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
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
    let stoppedAs: "ABORTED" | "TIMED_OUT" | undefined;
    const stop = (ending: "ABORTED" | "TIMED_OUT") => {
      if (stoppedAs || dataLimitExceeded) return;
      stoppedAs = ending;
      abort();
    };
    this.running.set(executionName, stop);
    const redriveCount = redrive?.redriveCount ?? 0;
    const firstStart = { input: this.startInputs.get(executionArn) ?? input, startedAt: this.records.get(executionName)?.startedAt ?? startedAt };
    this.records.set(executionName, { status: "RUNNING", redriveCount, ...firstStart });
    // The execution's TimeoutSeconds, in simulated seconds (the engine's own timer would count real ones).
    const { TimeoutSeconds } = this.options.definition as { TimeoutSeconds?: number };
    const cancelTimeout = TimeoutSeconds === undefined ? undefined : clock.after(TimeoutSeconds, () => stop("TIMED_OUT"));

    let final: { status: ExecutionEnding; output: unknown; error: string | null; cause: string | null } = {
      status: "FAILED",
      output: null,
      error: "States.Runtime",
      cause: "the execution ended without an outcome",
    };
    for await (const log of eventLogs) {
      const now = clock.now();
      switch (log.type) {
        case "StateEntered":
          if (this.timeoutPaths.has(log.state.name)) enteredWith.set(log.state.name, log.state.input);
          exceedLimit(log.state.name, "input", log.state.input);
          emit({ type: log.type, at: now, stateName: log.state.name, stateType: this.stateTypeOf(log.state), input: log.state.input });
          break;
        case "StateExited":
          exceedLimit(log.state.name, "output", log.state.output);
          emit({ type: log.type, at: now, stateName: log.state.name, stateType: this.stateTypeOf(log.state), output: log.state.output });
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
        case "ExecutionAborted":
          if (stoppedAs) {
            // As DescribeExecution shows a stop without an error, and a timeout.
            final = { status: stoppedAs, output: null, error: null, cause: null };
            emit({ type: stoppedAs === "ABORTED" ? "ExecutionAborted" : "ExecutionTimedOut", at: now });
          }
          break;
        case "ExecutionFailed":
          final = { status: "FAILED", output: null, error: log.Error, cause: typeof log.Cause === "string" ? log.Cause : JSON.stringify(log.Cause ?? null) };
          emit({ type: log.type, at: now, error: final.error ?? undefined, cause: final.cause ?? undefined });
          break;
        default:
          emit({ type: log.type, at: now });
      }
    }
    cancelTimeout?.();
    this.running.delete(executionName);
    if (dataLimitExceeded) {
      final = { status: "FAILED", output: null, error: DATA_LIMIT_EXCEEDED, cause: dataLimitExceeded.cause };
      emit({ type: "ExecutionFailed", at: clock.now(), error: final.error ?? undefined, cause: final.cause ?? undefined });
    }
    if (!redrive) this.startInputs.set(executionArn, input);
    const startInput = this.startInputs.get(executionArn) ?? input;
    const report: ExecutionReport = { executionName, executionArn, input: startInput, ...final, retries, events, startedAt, stoppedAt: clock.now() };
    this.records.set(executionName, { status: report.status, redriveCount, ...firstStart, stoppedAt: report.stoppedAt, output: report.output, error: report.error, cause: report.cause });
    this.options.onEnded?.(report, redrive?.redriveCount ?? 0);
    return report;
  }

  private stateBody(stateName: string): StateBody | undefined {
    for (const [name, state] of allStates(this.options.definition.States)) if (name === stateName) return state;
    return undefined;
  }

  /** A state's type as the definition says it: a Wait the run plays as a clock Task is still a Wait. */
  private stateTypeOf(state: { name: string; type: string }): string {
    return this.waits.has(state.name) ? "Wait" : state.type;
  }

  private machineStartingAt(stateName: string): StateMachine {
    const { definition } = this;
    if (!(stateName in definition.States)) throw new Error(`cannot resume at ${stateName}: the state machine has no such state`);
    return engineMachine({ ...definition, StartAt: stateName });
  }

  /**
   * The engine skips jitter when an interval is overridden, so compute Step Functions' own
   * choice (backoff, cap, full jitter) here, in simulated seconds; the Task sleeps it on the
   * clock before handing the error over, and the engine retries at once.
   */
  private scheduleRetry(
    stateName: string,
    error: unknown,
    attempts: Map<string, number[]>,
    overrides: Record<string, number[]>,
    pending: Map<string, { error: string; attempt: number; waitSeconds: number }>,
  ): number | undefined {
    const retriers = this.retriers.get(stateName) ?? [];
    const errorName = error instanceof Error ? error.name : "Error";
    const index = matchingRetrier(retriers, errorName);
    const retrier = retriers[index];
    if (!retrier) {
      attempts.delete(stateName);
      return undefined;
    }
    const counts = attempts.get(stateName) ?? retriers.map(() => 0);
    const attempt = (counts[index] ?? 0) + 1;
    if (attempt > (retrier.MaxAttempts ?? 3)) {
      attempts.delete(stateName);
      return undefined;
    }
    counts[index] = attempt;
    attempts.set(stateName, counts);
    const waitSeconds = retryWaitSeconds(retrier, attempt, this.options.random);
    overrides[stateName] = retriers.map((_, i) => (i === index ? 0 : -1));
    pending.set(stateName, { error: errorName, attempt, waitSeconds });
    return waitSeconds;
  }
}
