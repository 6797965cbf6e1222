/**
 * An execution's path through the state machine, as the console's execution view shows it: each
 * state it entered, in order, with its time, its retries and how it ended (exited, failed,
 * caught). Made from the engine's events, live while the run goes on, and kept with the run.
 */
import type { EngineEvent } from "../runner/local-engine";

export interface StepRetry {
  readonly error: string;
  readonly attempt: number;
  readonly waitSeconds: number;
}

export interface RunStep {
  readonly state: string;
  readonly type: string;
  /** Seconds from the execution's first state (simulated time). */
  readonly enteredAt: number;
  /** undefined while the state runs. */
  readonly seconds?: number;
  readonly outcome: "running" | "exited" | "failed" | "caught";
  readonly retries: readonly StepRetry[];
  /** The error it failed with (after its retries), caught or not. */
  readonly error?: string;
  readonly cause?: string;
}

interface OpenStep {
  state: string;
  type: string;
  enteredAt: number;
  seconds?: number;
  outcome: RunStep["outcome"];
  retries: StepRetry[];
  error?: string;
  cause?: string;
}

/** The steps of one execution's events (its own states only: a Map's iterations are their own executions). */
export function runSteps(events: readonly EngineEvent[]): RunStep[] {
  const steps: OpenStep[] = [];
  const startedAt = events.find((event) => event.type === "StateEntered")?.at ?? 0;
  const open = (state: string | undefined) => [...steps].reverse().find((step) => step.state === state);
  for (const event of events) {
    // Hundredths of a simulated second: what the page shows, without float noise.
    const seconds = Math.round((event.at - startedAt) / 10) / 100;
    switch (event.type) {
      case "StateEntered":
        if (event.stateName !== undefined) {
          steps.push({ state: event.stateName, type: event.stateType ?? "", enteredAt: seconds, outcome: "running", retries: [] });
        }
        break;
      case "StateExited": {
        const step = open(event.stateName);
        if (step && step.outcome === "running") {
          step.outcome = "exited";
          step.seconds = Math.round((seconds - step.enteredAt) * 100) / 100;
        }
        break;
      }
      case "StateRetried": {
        // The failure before it was retried: the state runs again.
        const step = open(event.stateName);
        if (step && event.retry) {
          step.retries.push({ ...event.retry });
          step.outcome = "running";
          delete step.seconds;
          delete step.error;
          delete step.cause;
        }
        break;
      }
      case "StateFailed": {
        const step = open(event.stateName);
        if (step) {
          step.outcome = "failed";
          step.seconds = Math.round((seconds - step.enteredAt) * 100) / 100;
          if (event.error !== undefined) step.error = event.error;
          if (event.cause !== undefined) step.cause = event.cause;
        }
        break;
      }
      case "StateCaught": {
        const step = open(event.stateName);
        if (step) step.outcome = "caught";
        break;
      }
      default:
        break;
    }
  }
  return steps;
}
