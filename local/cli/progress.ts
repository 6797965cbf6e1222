/**
 * A live status under the trace while nothing else is printed: redrawn in place on a
 * terminal, a plain line now and then when stdout is a file or a pipe (a CI log).
 */
import { typicalGenerationSeconds } from "../../lambdas/schemas/generation-time";
import { isModelName, type Duration, type Mode } from "../../lambdas/schemas/models";
import type { EngineEvent } from "../runner/local-engine";

export interface CommandIo {
  /** One line on stdout. */
  readonly out: (line: string) => void;
  /** One line on stderr. */
  readonly err: (line: string) => void;
  /** Set when stdout is a terminal: raw writes, for a status redrawn in place. */
  readonly terminal?: { readonly write: (text: string) => void; readonly columns: number } | undefined;
}

const REDRAW_MS = 250;
/** Without a terminal, a status line every this many simulated seconds, and at most one a real second. */
const PLAIN_EVERY_SIMULATED_S = 15;
const PLAIN_AT_MOST_MS = 1000;

export class LiveStatus {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  /**
   * @param render the status now, or undefined for none
   * @param realMsPerSimulatedSecond how fast simulated time runs (1000 at real speed)
   */
  constructor(
    private readonly io: CommandIo,
    private readonly render: () => string | undefined,
    realMsPerSimulatedSecond: number,
  ) {
    const every = this.io.terminal ? REDRAW_MS : Math.max(PLAIN_AT_MOST_MS, PLAIN_EVERY_SIMULATED_S * realMsPerSimulatedSecond);
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  private tick(): void {
    const status = this.render();
    if (status === undefined) return;
    const terminal = this.io.terminal;
    if (!terminal) {
      this.io.out(status);
      return;
    }
    terminal.write(`\r\x1b[K${status.slice(0, Math.max(10, terminal.columns - 1))}`);
    this.shown = true;
  }

  private clear(): void {
    if (this.shown) this.io.terminal?.write("\r\x1b[K");
    this.shown = false;
  }

  /** A line of the trace, above the status. */
  line(text: string): void {
    this.clear();
    this.io.out(text);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}

function at(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((current, key) => (current && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined), value);
}

/** What the status of one generation says: the state, and while waiting for Kling, the time against the typical time. */
export class GenerationProgress {
  private current = "starting";
  private submitEntered = false;
  private kind: string | undefined;
  private stateSince: number;
  private submittedAt: number | undefined;
  private typical: { readonly seconds: number; readonly label: string } | undefined;
  private polls = 0;
  private klingStatus: string | undefined;
  private task: string | undefined;

  constructor(readonly startedAt: number) {
    this.stateSince = startedAt;
  }

  observe(event: EngineEvent): void {
    if (event.type === "StateEntered" && event.stateName) {
      this.current = event.stateName;
      this.stateSince = event.at;
      if (event.stateName === "Poll") this.polls += 1;
      if (event.stateName === "Submit") this.submitEntered = true;
    }
    if (event.type !== "StateExited") return;
    if (event.stateName === "Validate") {
      this.typical = typicalOf(at(event.output, "request"));
      const kind = at(event.output, "kind");
      if (typeof kind === "string") this.kind = kind;
    }
    if (event.stateName === "Submit" || event.stateName === "Poll") {
      const status = at(event.output, "task", "status");
      if (typeof status === "string") this.klingStatus = status;
      const taskId = at(event.output, "task", "taskId");
      if (event.stateName === "Submit" && typeof taskId === "string") {
        this.submittedAt = event.at;
        this.task = taskId;
      }
    }
  }

  /** The state running now. */
  get state(): string {
    return this.current;
  }

  /** Submit was entered: a create may have reached Kling. */
  get submitted(): boolean {
    return this.submitEntered;
  }

  /** text2video or image2video, once Validate left. */
  get taskKind(): string | undefined {
    return this.kind;
  }

  /** The Kling task Submit created or found, once it has. */
  get taskId(): string | undefined {
    return this.task;
  }

  /** What runs at simulated time `now`. */
  status(now: number): string {
    const time = `+${((now - this.startedAt) / 1000).toFixed(1)}s`.padStart(8);
    const waiting = this.current === "WaitForVideo" || this.current === "Poll";
    if (!waiting || this.submittedAt === undefined) {
      return `${time}  .. ${this.current} for ${((now - this.stateSince) / 1000).toFixed(0)} s`;
    }
    const elapsed = Math.round((now - this.submittedAt) / 1000);
    const typical = this.typical ? ` of ~${this.typical.seconds} s typical for ${this.typical.label}` : "";
    const polls = `${this.polls} ${this.polls === 1 ? "poll" : "polls"}`;
    return `${time}  .. waiting for the video: ${elapsed} s${typical}, ${polls}, Kling says ${this.klingStatus ?? "submitted"}`;
  }
}

function typicalOf(request: unknown): { seconds: number; label: string } | undefined {
  const model = at(request, "model");
  const mode = at(request, "mode");
  const duration = at(request, "duration");
  const sound = at(request, "sound");
  if (typeof model !== "string" || !isModelName(model) || typeof mode !== "string" || typeof duration !== "string") return undefined;
  const seconds = typicalGenerationSeconds({
    model,
    mode: mode as Mode,
    duration: duration as Duration,
    sound: sound === "on" ? "on" : undefined,
  });
  return { seconds, label: `${model} ${mode} ${duration} s${sound === "on" ? " with sound" : ""}` };
}

/** `[#####-----] 3/7 done, 1 failed`: the batch's items as a bar. */
export function batchBar(done: number, failed: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} done, ${failed} failed`;
}
