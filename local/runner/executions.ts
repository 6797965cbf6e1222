/**
 * Executions of one state machine on the local engine, with Step Functions' own rules for
 * names: starting a running execution's name with the same input returns it; any other reuse
 * of a name is ExecutionAlreadyExists. The local API and the batch's child executions use it.
 */
import type { DescribeExecutionCommandOutput } from "@aws-sdk/client-sfn";
import type { ExecutionDescription, GenerationExecutions, StartOutcome } from "#lambdas/api/executions";
import type { EngineEvent, ExecutionReport, LocalStateMachine } from "./local-engine";
import { assertStartExecution, awsError } from "./quotas";

interface LocalExecution {
  readonly input: string;
  report?: ExecutionReport;
  readonly done: Promise<ExecutionReport>;
}

export class LocalExecutions implements GenerationExecutions {
  private readonly executions = new Map<string, LocalExecution>();

  constructor(
    private readonly machine: LocalStateMachine,
    private readonly onEvent?: (executionName: string, event: EngineEvent) => void,
  ) {}

  async start(name: string, input: string): Promise<StartOutcome> {
    assertStartExecution(name, JSON.parse(input));
    const existing = this.executions.get(name);
    if (existing) {
      const running = existing.report === undefined;
      return { kind: running && existing.input === input ? "started" : "exists", name };
    }
    const done = this.machine.run(JSON.parse(input), name, (event) => this.onEvent?.(name, event));
    const execution: LocalExecution = { input, done };
    this.executions.set(name, execution);
    void done.then((report) => {
      execution.report = report;
    });
    return { kind: "started", name };
  }

  async describe(name: string): Promise<ExecutionDescription | undefined> {
    const execution = this.executions.get(name);
    if (!execution) return undefined;
    const { report } = execution;
    if (!report) return { name, status: "RUNNING", input: execution.input };
    return {
      name,
      status: report.status,
      input: execution.input,
      output: report.status === "SUCCEEDED" ? JSON.stringify(report.output) : undefined,
      error: report.error ?? undefined,
      cause: report.cause ?? undefined,
    };
  }

  /**
   * DescribeExecution by ARN, as Step Functions answers it: an ARN that is not an execution's is
   * InvalidArn, one this state machine never ran is ExecutionDoesNotExist (both as errors of that name).
   */
  async describeExecution(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    if (!EXECUTION_ARN.test(executionArn)) throw awsError("InvalidArn", `Invalid Arn: 'Resource type not valid in this context: ${executionArn}'`);
    const prefix = this.arnOf("");
    const record = executionArn.startsWith(prefix) ? this.machine.record(executionArn.slice(prefix.length)) : undefined;
    if (!record) throw awsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
    const ended = record.status !== "RUNNING";
    return {
      $metadata: {},
      executionArn,
      stateMachineArn: this.machine.stateMachineArn,
      name: executionArn.slice(prefix.length),
      status: record.status,
      startDate: new Date(record.startedAt),
      ...(ended && record.stoppedAt !== undefined ? { stopDate: new Date(record.stoppedAt) } : {}),
      input: JSON.stringify(record.input),
      ...(record.status === "SUCCEEDED" ? { output: JSON.stringify(record.output) } : {}),
      ...(ended && record.error ? { error: record.error } : {}),
      ...(ended && record.cause ? { cause: record.cause } : {}),
      redriveCount: record.redriveCount,
    };
  }

  /** StopExecution: a running execution ends ABORTED, its status change told; false when none runs by that name. */
  stop(name: string): boolean {
    return this.machine.stop(name, "ABORTED");
  }

  /** Resolves when the execution ends. */
  finished(name: string): Promise<ExecutionReport> {
    const execution = this.executions.get(name);
    if (!execution) throw new Error(`no execution named ${name}`);
    return execution.done;
  }

  arnOf(name: string): string {
    return `${this.machine.stateMachineArn.replace(":stateMachine:", ":execution:")}:${name}`;
  }
}

/** arn:<partition>:states:<region>:<account>:execution:<state machine>:<execution>. */
const EXECUTION_ARN = /^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/;

const START_EXECUTION_ERRORS: readonly string[] = ["InvalidName", "InvalidExecutionInput"];

/** An error as a Task's Catch sees it: `name` is the Error, `message` the Cause. */
function taskError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/**
 * `states:startExecution.sync:2` on the local engine: start (or join) the named execution,
 * wait for it, and return what the integration returns; a child that did not succeed fails
 * the Task with States.TaskFailed and its description as the Cause.
 */
export async function startExecutionSync(executions: LocalExecutions, parameters: unknown): Promise<unknown> {
  const { Name, Input, StateMachineArn } = parameters as { Name?: unknown; Input?: unknown; StateMachineArn?: unknown };
  if (typeof Name !== "string") throw taskError("States.Runtime", "startExecution needs a Name locally");
  const input = typeof Input === "string" ? Input : JSON.stringify(Input ?? {});
  let started: StartOutcome;
  try {
    started = await executions.start(Name, input);
  } catch (error) {
    // StartExecution's own refusals reach the Task as StepFunctions.<Code>Exception.
    if (error instanceof Error && START_EXECUTION_ERRORS.includes(error.name)) throw taskError(`StepFunctions.${error.name}Exception`, error.message);
    throw error;
  }
  const executionArn = executions.arnOf(Name);
  if (started.kind === "exists") {
    throw taskError("StepFunctions.ExecutionAlreadyExistsException", `Execution Already Exists: '${executionArn}'`);
  }
  const report = await executions.finished(Name);
  // .sync:2 gives Input and Output as JSON, not text.
  const description = {
    ExecutionArn: executionArn,
    Name,
    StateMachineArn,
    Input: JSON.parse(input) as unknown,
    Status: report.status,
    StartDate: report.startedAt,
    StopDate: report.stoppedAt,
  };
  if (report.status !== "SUCCEEDED") {
    // Whatever way the child ended, the Task fails with States.TaskFailed and the child's
    // description as Cause; Error and Cause are in it only when the child has them.
    const failure = { ...(report.error === null ? {} : { Error: report.error }), ...(report.cause === null ? {} : { Cause: report.cause }) };
    throw taskError("States.TaskFailed", JSON.stringify({ ...description, ...failure }));
  }
  return { ...description, Output: report.output };
}
