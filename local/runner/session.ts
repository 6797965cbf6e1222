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
}

export interface LocalSession {
  readonly pipeline: LocalPipeline;
  readonly clock: ScaledClock;
  /** Undefined when the session talks to a real Kling. */
  readonly simulator: Simulator | undefined;
  run(request: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport>;
  close(): Promise<void>;
}

export async function startLocalSession(options: LocalSessionOptions): Promise<LocalSession> {
  const clock = new ScaledClock(options.timeScale);
  const pipeline = new LocalPipeline({ clock, config: options.config, videoDirectory: options.videoDirectory });
  let simulator: Simulator | undefined;
  if (options.kling) {
    pipeline.connect(options.kling.baseUrl, options.kling.credentials);
  } else {
    const credentials = { apiKey: DEV_API_KEY };
    simulator = await startSimulator({ ...options.simulator, clock, credentials });
    pipeline.connect(simulator.baseUrl, credentials);
  }
  return {
    pipeline,
    clock,
    simulator,
    run: (request, executionName, onEvent) => pipeline.runGeneration(request, executionName, onEvent),
    close: async () => {
      await pipeline.close();
      await simulator?.close();
    },
  };
}
