/**
 * One local setup: the embedded simulator (or a real Kling endpoint), the credentials the
 * Lambdas will read from the environment, a scaled clock, and the pipeline on the local engine.
 * The local command, the workflow tests and later the benchmark all start from here.
 */
import type { KlingCredentials } from "#lambdas/kling/port";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import { DEV_API_KEY, type Simulator, type SimulatorOptions, startSimulator } from "../simulator";
import type { EngineEvent, ExecutionReport } from "./local-engine";
import { LocalPipeline } from "./pipeline";
import { cachedPlan } from "./plan-cache";
import type { LocalPlan } from "./local-plan";
import { ScaledClock } from "./scaled-clock";

export interface LocalSessionOptions {
  /** Real seconds per simulated second; 1 against a real Kling. */
  readonly timeScale: number;
  readonly config?: PipelineConfigInput;
  /** The embedded simulator's settings (ignored with `kling`). */
  readonly simulator?: Omit<SimulatorOptions, "clock" | "credentials">;
  /** A real Kling endpoint and its credentials instead of the simulator. */
  readonly kling?: { readonly baseUrl: string; readonly credentials: KlingCredentials };
  /** Where the archived videos are kept (the embedded S3's directory); without it, a temporary one. */
  readonly videoDirectory?: string;
  /** Where the synthesized plan is kept between sessions (plan-cache.ts); without it, the stack is synthesized. */
  readonly planDirectory?: string;
  /** Sees every event of every generation execution the pipeline runs (the console draws them live). */
  readonly onGenerationEvent?: (executionName: string, event: EngineEvent) => void;
}

export interface LocalSession {
  readonly pipeline: LocalPipeline;
  /** What the pipeline was made from (the generation state machine's definition is drawn by the console). */
  readonly plan: LocalPlan;
  readonly clock: ScaledClock;
  /** Undefined when the session talks to a real Kling. */
  readonly simulator: Simulator | undefined;
  run(request: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport>;
  close(): Promise<void>;
}

export async function startLocalSession(options: LocalSessionOptions): Promise<LocalSession> {
  const clock = new ScaledClock(options.timeScale);
  const config = options.config ?? {};
  const plan = options.planDirectory === undefined ? (await import("./synthesize")).synthesizedPlan(config) : await cachedPlan(config, options.planDirectory);
  const pipeline = new LocalPipeline({
    clock,
    plan,
    videoDirectory: options.videoDirectory,
    ...(options.onGenerationEvent ? { onGenerationEvent: options.onGenerationEvent } : {}),
  });
  let simulator: Simulator | undefined;
  if (options.kling) {
    pipeline.connect(options.kling.baseUrl, options.kling.credentials);
  } else {
    const credentials = { apiKey: DEV_API_KEY };
    simulator = await startSimulator({ ...options.simulator, clock, scheduler: clock, credentials });
    pipeline.connect(simulator.baseUrl, credentials);
  }
  return {
    pipeline,
    plan,
    clock,
    simulator,
    run: (request, executionName, onEvent) => pipeline.runGeneration(request, executionName, onEvent),
    close: async () => {
      await pipeline.close();
      await simulator?.close();
    },
  };
}
