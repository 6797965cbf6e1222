import type { Diagnosis } from "#lambdas/diagnose/diagnosis";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import { DEV_API_KEY, type ScenarioName, type SimulatorOptions, startSimulator } from "#local/simulator/index";
import type { BusEvent } from "#local/runner/event-bus";
import type { ExecutionReport } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { parseDiagnosis } from "#local/runner/trace";
import { synthesizedPlan } from "#local/runner/synthesize";

interface ScenarioRun {
  readonly report: ExecutionReport;
  readonly diagnosis: Diagnosis | null;
  readonly tasksCreated: number;
  readonly createAttempts: number;
  readonly requests: number;
  /** Simulated seconds from start to end. */
  readonly seconds: number;
  /** The bytes the simulator served for a video of the run. */
  readonly servedVideo: (videoId: string) => Buffer | undefined;
}

export interface BatchRun {
  readonly report: ExecutionReport;
  readonly events: readonly BusEvent[];
  readonly tasksCreatedPerExternalId: ReadonlyMap<string, number>;
  readonly tasksCreated: number;
  /** Units the simulator's packs were charged, failed tasks refunded. */
  readonly unitsCharged: number;
}

/** One synthesized pipeline per test file; each scenario gets a fresh simulator. */
export class WorkflowHarness {
  readonly clock: ScaledClock;
  readonly pipeline: LocalPipeline;
  private runs = 0;

  constructor(timeScale: number, config: PipelineConfigInput = {}) {
    this.clock = new ScaledClock(timeScale);
    this.pipeline = new LocalPipeline({ clock: this.clock, plan: synthesizedPlan(config) });
  }

  async run(
    scenario: ScenarioName,
    request: unknown = { prompt: "a corgi surfing a wave" },
    simulator: Omit<SimulatorOptions, "clock" | "credentials" | "scenario"> = {},
  ): Promise<ScenarioRun> {
    const credentials = { apiKey: DEV_API_KEY };
    const sim = await startSimulator({ ...simulator, scenario, clock: this.clock, scheduler: this.clock, credentials });
    this.pipeline.connect(sim.baseUrl, credentials);
    try {
      this.runs += 1;
      const report = await this.pipeline.runGeneration(request, `test-${scenario}-${this.runs}`);
      const externalIds = [...sim.stats.createAttemptsPerExternalId.values()];
      return {
        report,
        diagnosis: parseDiagnosis(report.cause),
        tasksCreated: sim.stats.tasksCreated,
        createAttempts: externalIds.reduce((sum, count) => sum + count, 0),
        requests: sim.stats.requests,
        seconds: (report.stoppedAt - report.startedAt) / 1000,
        servedVideo: (videoId) => sim.videoBytes(videoId),
      };
    } finally {
      await sim.close();
    }
  }

  /** Runs a batch (an event's `detail`, put on the bus as PutEvents would) with its child executions against a fresh simulator. */
  async runBatch(
    detail: unknown,
    simulator: Omit<SimulatorOptions, "clock" | "credentials"> = {},
  ): Promise<BatchRun> {
    const [run] = await this.runDeliveries([() => detail], simulator);
    if (!run) throw new Error("the batch did not run");
    return run;
  }

  /**
   * Runs several batch executions at once against one fresh simulator, as repeated deliveries
   * of an event do: each delivery starts when its `deliver` resolves (the detail it returns).
   * The events and task counts are those of all of them together.
   */
  async runDeliveries(
    deliveries: readonly (() => unknown)[],
    simulator: Omit<SimulatorOptions, "clock" | "credentials"> = {},
  ): Promise<BatchRun[]> {
    const credentials = { apiKey: DEV_API_KEY };
    const sim = await startSimulator({ ...simulator, clock: this.clock, scheduler: this.clock, credentials });
    this.pipeline.connect(sim.baseUrl, credentials);
    const eventsBefore = this.pipeline.bus.events.length;
    try {
      const reports = await Promise.all(
        deliveries.map(async (deliver) => {
          const detail = await deliver();
          this.runs += 1;
          return this.pipeline.runBatchEvent(detail, `test-batch-${this.runs}`);
        }),
      );
      const events = this.pipeline.bus.events.slice(eventsBefore);
      const charged = sim.resourcePacks().reduce((sum, pack) => sum + pack.total_quantity - pack.remaining_quantity, 0);
      return reports.map((report) => ({
        report,
        events,
        tasksCreatedPerExternalId: new Map(sim.stats.tasksCreatedPerExternalId),
        tasksCreated: sim.stats.tasksCreated,
        unitsCharged: Math.round(charged * 100) / 100,
      }));
    } finally {
      await sim.close();
    }
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }
}
