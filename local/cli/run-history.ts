/**
 * The local state directory (`.kling-pipeline/`, git-ignored; `KLING_PIPELINE_STATE_DIR`
 * moves it): one JSON record per local run, the Lambdas' log of each run, and the videos kept
 * after a success. `list` and `show` read it back in a later command.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Diagnosis } from "#lambdas/diagnose/diagnosis";
import type { RunStep } from "../console/run-steps";

export const STATE_DIR_VARIABLE = "KLING_PIPELINE_STATE_DIR";
/** Moves the kept start-up work (the synthesized plan) out of the state directory: runs with states of their own can share it. */
export const CACHE_DIR_VARIABLE = "KLING_PIPELINE_CACHE_DIR";
const DEFAULT_STATE_DIR = ".kling-pipeline";

export type RunKind = "generation" | "batch" | "api";
export type RunStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT" | "INTERRUPTED";

export interface RunRecord {
  /** The execution name, unless `executionName` is set. */
  readonly id: string;
  /**
   * Set when the id is not the execution name: a later `serve` session ran an execution of a name
   * an earlier run has (the same Idempotency-Key), and both runs are kept.
   */
  readonly executionName?: string;
  readonly kind: RunKind;
  /** Wall-clock ISO times. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly status: RunStatus;
  /** "embedded Kling simulator, scenario happy, time x20", or the Kling URL. */
  readonly target: string;
  readonly model?: string;
  /** The prompt, or for a batch "batch <id>, N items". */
  readonly prompt?: string;
  /** The archived video's file (in the local video bucket). */
  readonly video?: string;
  readonly logFile?: string;
  /** The trace and outcome lines as the command printed them. */
  readonly trace: readonly string[];
  /** The request as the execution was started with it (a generation's). */
  readonly request?: unknown;
  /** Each state the execution entered, with its time, retries and error (the console's execution view). */
  readonly steps?: readonly RunStep[];
  /** Why it failed, when Diagnose said. */
  readonly diagnosis?: Diagnosis | null;
  /** What `--json` printed (or the execution's output and error for an API run). */
  readonly result?: unknown;
}

export class RunHistory {
  readonly dir: string;
  private readonly cacheDir: string | undefined;

  constructor(env: NodeJS.ProcessEnv, cwd: string = process.cwd()) {
    const configured = env[STATE_DIR_VARIABLE];
    this.dir = resolve(cwd, configured === undefined || configured === "" ? DEFAULT_STATE_DIR : configured);
    const cache = env[CACHE_DIR_VARIABLE];
    this.cacheDir = cache === undefined || cache === "" ? undefined : resolve(cwd, cache);
  }

  private folder(name: "runs" | "logs" | "videos" | "cache"): string {
    const path = join(this.dir, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  logFileFor(id: string): string {
    return join(this.folder("logs"), `${id}.log`);
  }

  /** Where the embedded S3 keeps the video bucket: each archived video is a file under it. */
  videoDirectory(): string {
    return this.folder("videos");
  }

  /** Where start-up work a later command can reuse is kept (the synthesized plan). */
  cacheDirectory(): string {
    if (this.cacheDir === undefined) return this.folder("cache");
    mkdirSync(this.cacheDir, { recursive: true });
    return this.cacheDir;
  }

  /** Whether a run with this exact id is kept. */
  has(id: string): boolean {
    return existsSync(join(this.dir, "runs", `${id}.json`));
  }

  /** Writes the whole record at once (a temporary file renamed), so a reader never sees half of it. */
  save(record: RunRecord): void {
    const path = join(this.folder("runs"), `${record.id}.json`);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }

  /** Every readable record, newest first; an unreadable file is skipped (and named by `problems`). */
  all(): { readonly records: RunRecord[]; readonly problems: string[] } {
    let names: string[];
    try {
      names = readdirSync(join(this.dir, "runs")).filter((name) => name.endsWith(".json"));
    } catch {
      return { records: [], problems: [] };
    }
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names) {
      try {
        records.push(JSON.parse(readFileSync(join(this.dir, "runs", name), "utf8")) as RunRecord);
      } catch {
        problems.push(name);
      }
    }
    records.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    return { records, problems };
  }

  /** The run with this id, or the one run whose id ends with it (`y7cb`). */
  find(id: string): RunRecord | { readonly error: string } {
    const { records } = this.all();
    const exact = records.find((record) => record.id === id);
    if (exact) return exact;
    const matches = records.filter((record) => record.id.endsWith(id));
    const [only] = matches;
    if (matches.length === 1 && only) return only;
    if (matches.length > 1) return { error: `"${id}" matches ${matches.length} runs: ${matches.map((record) => record.id).join(", ")}` };
    return { error: `no local run "${id}" in ${this.dir}; npm start -- list shows them` };
  }
}
