/**
 * A live status under the trace while nothing else is printed: redrawn in place on a
 * terminal, a plain line now and then when stdout is a file or a pipe (a CI log).
 */
import { typicalGenerationSeconds } from "#lambdas/schemas/generation-time";
import { isModelName, type Duration, type Mode } from "#lambdas/schemas/models";
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
  private rendering = false;

  /**
   * @param render the status now, or undefined for none (it may read the ledger first)
   * @param realMsPerSimulatedSecond how fast simulated time runs (1000 at real speed)
   */
  constructor(
    private readonly io: CommandIo,
    private readonly render: () => Promise<string | undefined>,
    realMsPerSimulatedSecond: number,
  ) {
    const every = this.io.terminal ? REDRAW_MS : Math.max(PLAIN_AT_MOST_MS, PLAIN_EVERY_SIMULATED_S * realMsPerSimulatedSecond);
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.rendering) return;
    this.rendering = true;
    // A status that cannot be read now (the ledger stopping with the command) is skipped.
    const status = await this.render().catch(() => undefined);
    this.rendering = false;
    // Stopped while it rendered: the outcome is printed, the status has nothing more to say.
    if (status === undefined || this.timer === undefined) return;
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

/** The states in which a generation waits for one of the account's Kling slots, in the ledger's queue (BackToQueue: again, after Kling refused its create). */
const SLOT_STATES: ReadonlySet<string> = new Set(["WaitForSlot", "BackToQueue"]);

/** Whether a generation in this state waits in the ledger's queue. */
export function waitsForSlot(stateName: string): boolean {
  return SLOT_STATES.has(stateName);
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

  private started = false;

  /** @param startedAt when the command started; the execution's first event moves it to when the execution did */
  constructor(private origin: number) {
    this.stateSince = origin;
  }

  /** When the execution started (until its first event, when the command did). */
  get startedAt(): number {
    return this.origin;
  }

  observe(event: EngineEvent): void {
    if (!this.started) {
      this.started = true;
      this.origin = event.at;
      this.stateSince = event.at;
    }
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

  /** What runs at simulated time `now`; `queuePosition` where it waits for a Kling slot (1: next), while it does. */
  status(now: number, queuePosition?: number): string {
    const time = `+${((now - this.startedAt) / 1000).toFixed(1)}s`.padStart(8);
    if (waitsForSlot(this.current) && queuePosition !== undefined) {
      const again = this.current === "BackToQueue" ? " again (Kling refused the create)" : "";
      return `${time}  .. queued for a Kling slot${again}: position ${queuePosition}, ${((now - this.stateSince) / 1000).toFixed(0)} s so far`;
    }
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

const BAR_WIDTH = 20;

/**
 * `[#####-----] 3/7 done, 1 failed; 2 generating, 2 queued for a Kling slot`: the batch's items
 * as a bar, and from the ledger, how many hold a Kling slot and how many wait in its queue.
 */
export function batchBar(done: number, failed: number, total: number, slots?: { readonly holding: number; readonly queued: number }): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${done}/${total} done, ${failed} failed`;
  if (slots === undefined) return bar;
  return `${bar}; ${slots.holding} generating${slots.queued > 0 ? `, ${slots.queued} queued for a Kling slot` : ""}`;
}
