import type { Diagnosis } from "../../lambdas/diagnose/diagnosis";
import type { PipelineConfigInput } from "../../lib/pipeline-config";
import { DEV_API_KEY, type ScenarioName, type SimulatorOptions, startSimulator } from "../../local/simulator";
import type { BusEvent } from "../../local/runner/event-bus";
import type { ExecutionReport } from "../../local/runner/local-engine";
import { LocalPipeline } from "../../local/runner/pipeline";
import { ScaledClock } from "../../local/runner/scaled-clock";
import { parseDiagnosis } from "../../local/runner/trace";

export interface ScenarioRun {
  readonly report: ExecutionReport;
  readonly diagnosis: Diagnosis | null;
  readonly tasksCreated: number;
  readonly createAttempts: number;
  readonly requests: number;
  /** Simulated seconds from start to end. */
  readonly seconds: number;
}

export interface BatchRun {
  readonly report: ExecutionReport;
  readonly events: readonly BusEvent[];
  readonly tasksCreatedPerExternalId: ReadonlyMap<string, number>;
  readonly tasksCreated: number;
}

/** One synthesized pipeline per test file; each scenario gets a fresh simulator. */
export class WorkflowHarness {
  readonly clock: ScaledClock;
  readonly pipeline: LocalPipeline;
  private runs = 0;

  constructor(timeScale: number, config: PipelineConfigInput = {}) {
    this.clock = new ScaledClock(timeScale);
    this.pipeline = new LocalPipeline({ clock: this.clock, config });
  }

  async run(
    scenario: ScenarioName,
    request: unknown = { prompt: "a corgi surfing a wave" },
    simulator: Omit<SimulatorOptions, "clock" | "credentials" | "scenario"> = {},
  ): Promise<ScenarioRun> {
    const credentials = { apiKey: DEV_API_KEY };
    const sim = await startSimulator({ ...simulator, scenario, clock: this.clock, credentials });
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
      };
    } finally {
      await sim.close();
    }
  }

  /** Runs a batch (an event's `detail`) with its child executions against a fresh simulator. */
  async runBatch(
    detail: unknown,
    simulator: Omit<SimulatorOptions, "clock" | "credentials"> = {},
  ): Promise<BatchRun> {
    const credentials = { apiKey: DEV_API_KEY };
    const sim = await startSimulator({ ...simulator, clock: this.clock, credentials });
    this.pipeline.connect(sim.baseUrl, credentials);
    const eventsBefore = this.pipeline.bus.events.length;
    try {
      this.runs += 1;
      const report = await this.pipeline.runBatch(detail, `test-batch-${this.runs}`);
      return {
        report,
        events: this.pipeline.bus.events.slice(eventsBefore),
        tasksCreatedPerExternalId: new Map(sim.stats.tasksCreatedPerExternalId),
        tasksCreated: sim.stats.tasksCreated,
      };
    } finally {
      await sim.close();
    }
  }

  close(): Promise<void> {
    return this.pipeline.close();
  }
}
