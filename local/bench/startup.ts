/**
 * The local command's start-up, measured as a person meets it: `npm start -- "<prompt>"` on the
 * embedded default, from the process's start to its first line, to the first line of the trace
 * (Validate) and to its exit, median of `runs`. Side by side: a state directory whose kept plan
 * is current (what every run after the first meets) and a new one each run, which synthesizes the
 * stack as every run did before the plan was kept (local/runner/plan-cache.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { STATE_DIR_VARIABLE } from "../cli/run-history";
import type { Target } from "./bench-report";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));
const PROMPT = "a corgi surfing a wave";
/** The trace's first event line, Validate at +0.0s. */
const FIRST_TRACE_LINE = /^ +\+\d+\.\ds {2}Validate/m;

/** One run's times, in milliseconds from the spawn. */
export interface StartupRun {
  readonly firstLineMs: number;
  readonly firstTraceLineMs: number;
  readonly exitMs: number;
}

export interface StartupFigures {
  readonly firstLineMs: number;
  readonly firstTraceLineMs: number;
  readonly exitMs: number;
}

export interface StartupReport {
  readonly runs: number;
  /** The plan kept from an earlier run of the same code and configuration. */
  readonly keptPlan: StartupFigures;
  /** A new state directory each run: the stack synthesized, as before the plan was kept. */
  readonly synthesized: StartupFigures;
}

function runOnce(stateDir: string): Promise<StartupRun> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    // The machine's environment, less the variables that would point the command elsewhere.
    const { KLINGAI_API_KEY: _key, KLING_ACCESS_KEY: _access, KLING_SECRET_KEY: _secret, ...env } = process.env;
    const child = spawn(process.execPath, ["--import", "tsx", "bin/local.ts", PROMPT], {
      cwd: REPOSITORY,
      env: { ...env, [STATE_DIR_VARIABLE]: stateDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let firstLineMs: number | undefined;
    let firstTraceLineMs: number | undefined;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const at = performance.now() - startedAt;
      stdout += chunk;
      if (firstLineMs === undefined && stdout.includes("\n")) firstLineMs = at;
      if (firstTraceLineMs === undefined && FIRST_TRACE_LINE.test(stdout)) firstTraceLineMs = at;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const exitMs = performance.now() - startedAt;
      if (code !== 0 || firstLineMs === undefined || firstTraceLineMs === undefined) {
        reject(new Error(`npm start -- "${PROMPT}" exited ${code} without its trace: ${(stderr || stdout).trim().split("\n").at(-1) ?? ""}`));
        return;
      }
      resolve({ firstLineMs, firstTraceLineMs, exitMs });
    });
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function figures(runs: readonly StartupRun[]): StartupFigures {
  return {
    firstLineMs: Math.round(median(runs.map((run) => run.firstLineMs))),
    firstTraceLineMs: Math.round(median(runs.map((run) => run.firstTraceLineMs))),
    exitMs: Math.round(median(runs.map((run) => run.exitMs))),
  };
}

/** Runs the command `runs` times each way, alternating, so both meet the same machine. */
export async function measureStartup(runs = 3, onProgress: (line: string) => void = () => undefined): Promise<StartupReport> {
  const scratch = mkdtempSync(join(tmpdir(), "kling-startup-"));
  try {
    const keptDir = join(scratch, "kept");
    onProgress("start-up: one run to keep the plan ...");
    await runOnce(keptDir);
    const kept: StartupRun[] = [];
    const synthesized: StartupRun[] = [];
    for (let run = 1; run <= runs; run += 1) {
      onProgress(`start-up: run ${run} of ${runs}, each way ...`);
      kept.push(await runOnce(keptDir));
      synthesized.push(await runOnce(join(scratch, `new-${run}`)));
    }
    return { runs, keptPlan: figures(kept), synthesized: figures(synthesized) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The start-up table, side by side, with the ratio of each figure. */
export function formatStartupMarkdown(report: StartupReport): string[] {
  const row = (name: string, key: keyof StartupFigures) =>
    `| ${name} | ${seconds(report.keptPlan[key])} | ${seconds(report.synthesized[key])} | ${(report.keptPlan[key] / report.synthesized[key]).toFixed(2)} |`;
  return [
    `Local start-up, \`npm start -- "${PROMPT}"\`, median of ${report.runs} runs each way, alternating:`,
    "",
    "| from the start to | plan kept | stack synthesized | ratio |",
    "|---|---|---|---|",
    row("the first line", "firstLineMs"),
    row("the first trace line (Validate)", "firstTraceLineMs"),
    row("the exit (SUCCEEDED, video kept)", "exitMs"),
  ];
}

/** #25's targets for the kept plan's start-up: the whole happy path in 4 s, the first trace line in 1.5 s. */
export function startupTargets(report: StartupReport): Target[] {
  const { keptPlan, synthesized } = report;
  return [
    {
      name: "npm start's happy path, plan kept: <= 4 s wall (median)",
      met: keptPlan.exitMs <= 4000,
      detail: `${seconds(keptPlan.exitMs)} (stack synthesized: ${seconds(synthesized.exitMs)})`,
    },
    {
      name: "npm start's first trace line, plan kept: <= 1.5 s (median)",
      met: keptPlan.firstTraceLineMs <= 1500,
      detail: `${seconds(keptPlan.firstTraceLineMs)} (stack synthesized: ${seconds(synthesized.firstTraceLineMs)})`,
    },
  ];
}
