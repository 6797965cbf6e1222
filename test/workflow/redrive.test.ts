/**
 * Redrive, on the local engine: the first attempt runs the synthesized definition as it is;
 * the redrive is played the way Step Functions does it (the engine has no RedriveExecution):
 * resume at the state that did not exit, with its input, and `$$.Execution.RedriveCount` 1.
 * The scheduled redrive's own logic runs against executions kept the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnosis } from "#lambdas/diagnose/diagnosis";
import type { FailedExecution, FailedExecutions, RedriveOutcome } from "#lambdas/redrive/failed-executions";
import { redriveOnSchedule } from "#lambdas/redrive/handler";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { DEV_API_KEY, errorFault, type Fault, type FaultPlan, type Simulator, startSimulator, type TaskOutcome } from "#local/simulator/index";
import { lambdaError } from "#local/runner/lambda-binding";
import type { ExecutionReport } from "#local/runner/local-engine";
import { pipelineConfigSchema } from "#lib/pipeline-config";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { parseDiagnosis } from "#local/runner/trace";
import { synthesizedPlan } from "#local/runner/synthesize";

const DEADLINE_SECONDS = 600;
const REQUEST = { prompt: "a corgi surfing a wave" };
let clock: ScaledClock;
let pipeline: LocalPipeline;
let runs = 0;
/** The states whose function Lambda stops (timed out) on every invocation, until a test lets it run. */
const stoppedFunctions = new Set<string>();

beforeAll(() => {
  clock = new ScaledClock(0.002);
  pipeline = new LocalPipeline({
    clock,
    plan: synthesizedPlan({ pollSchedule: { ...pipelineConfigSchema.parse({}).pollSchedule, deadlineSeconds: DEADLINE_SECONDS } }),
    aroundInvoke: (stateName, invoke) => {
      if (stoppedFunctions.has(stateName)) return Promise.reject(lambdaError("Sandbox.Timedout", "Task timed out after 10.00 seconds"));
      return invoke();
    },
  });
});
afterAll(() => pipeline.close());

async function withSimulator<T>(plan: FaultPlan, work: (simulator: Simulator) => Promise<T>, generationSeconds = 30): Promise<T> {
  const credentials = { apiKey: DEV_API_KEY };
  const simulator = await startSimulator({ faultPlan: plan, generationSeconds, clock, credentials });
  pipeline.connect(simulator.baseUrl, credentials);
  try {
    return await work(simulator);
  } finally {
    await simulator.close();
  }
}

/** The state a failed execution stopped in (the last entered, never exited) and its input: where a redrive resumes. */
function stoppedIn(report: ExecutionReport): { stateName: string; input: unknown } {
  const last = report.events.filter((event) => event.type === "StateEntered").at(-1);
  if (!last?.stateName) throw new Error("the execution entered no state");
  return { stateName: last.stateName, input: last.input };
}

function redrive(report: ExecutionReport, redriveCount = 1): Promise<ExecutionReport> {
  const { stateName, input } = stoppedIn(report);
  return pipeline.generation.run(input, report.executionName, undefined, { resumeAt: stateName, redriveCount });
}

/** The first states an execution entered; a redriven one starts AwaitRedrive, ResumeAfterRedrive, then where it resumed. */
function statesEntered(report: ExecutionReport, count: number): (string | undefined)[] {
  return report.events.filter((event) => event.type === "StateEntered").map((event) => event.stateName).slice(0, count);
}

function diagnosisOf(report: ExecutionReport): Diagnosis {
  const diagnosis = parseDiagnosis(report.cause);
  if (!diagnosis) throw new Error(`no diagnosis in ${report.cause ?? "null"}`);
  return diagnosis;
}

const firstAttempt = (name: string) => pipeline.runGeneration(REQUEST, name);
const nextName = (label: string) => `redrive-${label}-${(runs += 1)}`;

/** A plan from two switchable parts: a fault for some requests, and how each new task ends. */
function plan(fault: (kind: string) => Fault | undefined, outcome: () => TaskOutcome = () => ({ status: "succeed" })): FaultPlan {
  return { onRequest: (request) => fault(request.kind), taskOutcome: () => outcome() };
}

describe("a recoverable failure", () => {
  it("ends in AwaitRedrive with the error name as Error and the diagnosis as Cause", async () => {
    const name = nextName("credits");
    await withSimulator(plan((kind) => (kind === "create" ? errorFault("exhausted", 429, 1102, "Resource pack exhausted or expired") : undefined)), async () => {
      const report = await firstAttempt(name);
      expect(report.status).toBe("FAILED");
      expect(stoppedIn(report).stateName).toBe("AwaitRedrive");
      expect(report.error).toBe("Kling.InsufficientCredits");
      expect(diagnosisOf(report)).toMatchObject({ jobId: name, errorCode: "Kling.InsufficientCredits", failedState: "Submit", recoverable: true });
    });
  });

  it("redriven after credits were bought, Submit creates the one task and the video comes", async () => {
    const name = nextName("bought");
    let exhausted = true;
    const faults = plan((kind) => (kind === "create" && exhausted ? errorFault("exhausted", 429, 1102, "Resource pack exhausted or expired") : undefined));
    await withSimulator(faults, async (simulator) => {
      const failed = await firstAttempt(name);
      expect(failed.error).toBe("Kling.InsufficientCredits");
      exhausted = false;
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("SUCCEEDED");
      // The failure path gave the slot back: the redrive takes one again before Submit.
      expect(statesEntered(redriven, 4)).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "WaitForSlot", "Submit"]);
      expect(redriven.output).toMatchObject({ task: { status: "succeed" }, failure: {} });
      expect(simulator.stats.tasksCreated).toBe(1);
    });
  });

  it("redriven after Submit failed with its task already created at Kling, finds that task instead of paying twice", async () => {
    const name = nextName("landed");
    let created = false;
    let outage = true;
    const faults = plan((kind) => {
      if (kind === "create" && !created) {
        created = true;
        return { label: "lost-answer", answer: { type: "error", status: 504, code: 5002, message: "internal timeout" }, afterHandling: true };
      }
      return kind === "query" && created && outage ? errorFault("outage", 500, 5000, "internal error") : undefined;
    });
    await withSimulator(faults, async (simulator) => {
      const failed = await firstAttempt(name);
      expect(diagnosisOf(failed)).toMatchObject({ errorCode: "Kling.ServerError", failedState: "Submit", recoverable: true });
      expect(simulator.stats.tasksCreated).toBe(1);
      outage = false;
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("SUCCEEDED");
      expect(simulator.stats.tasksCreated).toBe(1);
      expect(simulator.stats.createAttemptsPerExternalId.get(externalTaskIdFor(name, failed.executionArn))).toBe(1);
    });
  });

  it("redriven after Kling failed the generation, checks the credits and generates again under a new external_task_id", async () => {
    const name = nextName("regenerate");
    const outcomes: TaskOutcome[] = [{ status: "failed", message: "Video generation failed: the scene is too complex" }, { status: "succeed" }];
    await withSimulator(plan(() => undefined, () => outcomes.shift() ?? { status: "succeed" }), async (simulator) => {
      const failed = await firstAttempt(name);
      // Kling's callback of the failed task ended WaitForVideo with the failure.
      expect(diagnosisOf(failed)).toMatchObject({ errorCode: "Kling.GenerationFailed", failedState: "WaitForVideo", recoverable: true });
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("SUCCEEDED");
      // The new task is paid for, so the credits are checked again first.
      expect(statesEntered(redriven, 5)).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "CheckCredits", "WaitForSlot", "Submit"]);
      expect(simulator.stats.tasksCreated).toBe(2);
      expect(redriven.output).toMatchObject({ task: { externalTaskId: externalTaskIdFor(name, failed.executionArn, 1), status: "succeed" } });
    });
  });

  it("redriven after a poll timeout, follows the same task with a fresh deadline", async () => {
    const name = nextName("slow");
    // Longer than one deadline, shorter than two.
    await withSimulator(plan(() => undefined), async (simulator) => {
      const failed = await firstAttempt(name);
      expect(failed.error).toBe("Kling.PollTimeout");
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("SUCCEEDED");
      // A failed Poll resumes at Submit (through WaitForSlot: the failure path gave the slot back),
      // which finds the same task and restarts the deadline.
      expect(statesEntered(redriven, 4)).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "WaitForSlot", "Submit"]);
      expect(simulator.stats.tasksCreated).toBe(1);
    }, DEADLINE_SECONDS * 1.5);
  });

  it("that fails again after a redrive fails again at AwaitRedrive, diagnosed anew, instead of looping", async () => {
    const name = nextName("stuck");
    await withSimulator(plan(() => undefined, () => ({ status: "stuck" })), async (simulator) => {
      const failed = await firstAttempt(name);
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("FAILED");
      expect(redriven.error).toBe("Kling.PollTimeout");
      expect(stoppedIn(redriven)).toMatchObject({ stateName: "AwaitRedrive", input: { diagnosis: { redriveCount: 1 } } });
      // The fresh deadline ran out again: one whole deadline of polling, not an immediate timeout.
      expect((redriven.stoppedAt - redriven.startedAt) / 1000).toBeGreaterThanOrEqual(DEADLINE_SECONDS);
      expect(simulator.stats.tasksCreated).toBe(1);
    });
  });
});

describe("every point a redrive resumes at", () => {
  it("Validate, after its function kept timing out: validates the request alone, not the failure and diagnosis beside it", async () => {
    const name = nextName("validate");
    await withSimulator(plan(() => undefined), async (simulator) => {
      stoppedFunctions.add("Validate");
      let failed: ExecutionReport;
      try {
        failed = await firstAttempt(name);
      } finally {
        stoppedFunctions.delete("Validate");
      }
      expect(diagnosisOf(failed)).toMatchObject({ errorCode: "Sandbox.Timedout", failedState: "Validate", recoverable: true });
      expect(stoppedIn(failed).stateName).toBe("AwaitRedrive");
      const redriven = await redrive(failed);
      expect(redriven.error).toBeNull();
      expect(redriven.status).toBe("SUCCEEDED");
      expect(statesEntered(redriven, 3)).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "Validate"]);
      expect(redriven.output).toMatchObject({ request: { prompt: REQUEST.prompt }, task: { status: "succeed" } });
      expect(simulator.stats.tasksCreated).toBe(1);
    });
  });

  it("CheckCredits, after Kling's account endpoint was down: checks again, then creates the one task", async () => {
    const name = nextName("check-credits");
    let down = true;
    await withSimulator(plan((kind) => (kind === "account" && down ? errorFault("outage", 500, 5000, "internal error") : undefined)), async (simulator) => {
      const failed = await firstAttempt(name);
      expect(diagnosisOf(failed)).toMatchObject({ errorCode: "Kling.ServerError", failedState: "CheckCredits", recoverable: true });
      expect(simulator.stats.tasksCreated).toBe(0);
      down = false;
      const redriven = await redrive(failed);
      expect(redriven.status).toBe("SUCCEEDED");
      expect(statesEntered(redriven, 5)).toEqual(["AwaitRedrive", "ResumeAfterRedrive", "CheckCredits", "WaitForSlot", "Submit"]);
      expect(simulator.stats.tasksCreated).toBe(1);
    });
  });
});

/**
 * The failed executions of the local engine as the scheduled redrive sees them through its port:
 * each with its last report and its redrive count, a redrive played as above.
 */
class LocalFailedExecutions implements FailedExecutions {
  private readonly executions = new Map<string, { report: ExecutionReport; redriveCount: number }>();

  add(report: ExecutionReport): void {
    this.executions.set(report.executionArn, { report, redriveCount: 0 });
  }

  async *list(): AsyncIterable<FailedExecution> {
    for (const { report, redriveCount } of this.executions.values()) {
      if (report.status !== "FAILED") continue;
      yield {
        name: report.executionName,
        arn: report.executionArn,
        status: "FAILED",
        startDate: new Date(report.startedAt),
        error: report.error ?? undefined,
        cause: report.cause ?? undefined,
        redriveCount,
        notRedrivableReason: undefined,
      };
    }
  }

  async redrive(executionArn: string): Promise<RedriveOutcome> {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new Error(`no execution ${executionArn}`);
    const redriveCount = execution.redriveCount + 1;
    this.executions.set(executionArn, { report: await redrive(execution.report, redriveCount), redriveCount });
    return { kind: "redriven" };
  }

  async validatedRequest(): Promise<unknown> {
    throw new Error("the scheduled redrive never prices a new task");
  }
}

describe("the scheduled redrive", () => {
  const MAX_SCHEDULED_REDRIVES = pipelineConfigSchema.parse({}).maxScheduledRedrives;
  const RUNS_OF_THE_SCHEDULE = MAX_SCHEDULED_REDRIVES + 3;
  const scheduleEvent = { lookBackHours: 24, maxRedrives: MAX_SCHEDULED_REDRIVES };

  async function runTheSchedule(executions: FailedExecutions): Promise<void> {
    for (let run = 0; run < RUNS_OF_THE_SCHEDULE; run += 1) await redriveOnSchedule(scheduleEvent, executions);
  }

  it("never pays again for a generation Kling fails every time: one task created, however often it runs", async () => {
    const name = nextName("always-fails");
    const failEveryTask = () => ({ status: "failed" as const, message: "Video generation failed: internal error" });
    await withSimulator(plan(() => undefined, failEveryTask), async (simulator) => {
      const executions = new LocalFailedExecutions();
      const failed = await firstAttempt(name);
      expect(failed.error).toBe("Kling.GenerationFailed");
      executions.add(failed);
      await runTheSchedule(executions);
      expect(simulator.stats.tasksCreated).toBe(1);
      expect(simulator.stats.tasksCreated).toBeLessThanOrEqual(1 + MAX_SCHEDULED_REDRIVES);
    });
  });

  it("redrives a failure that passes by itself but keeps coming back at most maxScheduledRedrives times", async () => {
    const name = nextName("always-down");
    await withSimulator(plan((kind) => (kind === "create" ? errorFault("outage", 500, 5000, "internal error") : undefined)), async (simulator) => {
      const executions = new LocalFailedExecutions();
      const failed = await firstAttempt(name);
      expect(failed.error).toBe("Kling.ServerError");
      const createsPerAttempt = simulator.stats.requestsByKind.create;
      expect(createsPerAttempt).toBeGreaterThan(0);
      executions.add(failed);
      await runTheSchedule(executions);
      expect(simulator.stats.requestsByKind.create).toBe(createsPerAttempt * (1 + MAX_SCHEDULED_REDRIVES));
      expect(simulator.stats.tasksCreated).toBe(0);
    });
  });
});

describe("an unrecoverable failure", () => {
  it("ends in Failed as before, and a redrive of it only fails again the same way", async () => {
    const name = nextName("refused");
    await withSimulator(plan((kind) => (kind === "create" ? errorFault("policy", 400, 1301, "The prompt was refused by the content safety policy") : undefined)), async (simulator) => {
      const failed = await firstAttempt(name);
      expect(stoppedIn(failed).stateName).toBe("Failed");
      expect(diagnosisOf(failed)).toMatchObject({ errorCode: "Kling.ContentPolicy", recoverable: false });
      const redriven = await redrive(failed);
      expect(redriven).toMatchObject({ status: "FAILED", error: failed.error, cause: failed.cause });
      expect(simulator.stats.tasksCreated).toBe(0);
    });
  });
});
