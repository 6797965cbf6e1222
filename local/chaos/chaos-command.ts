/**
 * `npm run chaos -- [--jobs N] [--fault-rate R] [--seed S]`: the fault run (run-chaos.ts).
 * Exits 0 when every check holds, 1 when one fails, 2 for a bad command line.
 */
import { parseArgs } from "node:util";
import { wholeNumberFlag } from "../cli/whole-number-flag";
import { DEFAULT_CHAOS_JOBS, DEFAULT_CHAOS_SEED, DEFAULT_FAULT_RATE, formatChaosReport, runChaos, type ChaosOptions } from "./run-chaos";

export const CHAOS_USAGE = `usage: npm run chaos -- [--jobs N] [--fault-rate R] [--seed S]
  --jobs N        jobs to run, as batches of at most 100 (default ${DEFAULT_CHAOS_JOBS})
  --fault-rate R  share of Kling requests that get a fault, from 0 to 1 (default ${DEFAULT_FAULT_RATE})
  --seed S        seed of the fault plan, a whole number from 0 to 4294967295 (default ${DEFAULT_CHAOS_SEED})`;

const MAX_JOBS = 100_000;

export class ChaosUsageError extends Error {
  override readonly name = "ChaosUsageError";
}

export function parseChaosCommand(argv: readonly string[]): Pick<ChaosOptions, "jobs" | "faultRate" | "seed"> | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        jobs: { type: "string" },
        "fault-rate": { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new ChaosUsageError((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "bad arguments");
  }
  if (values.help) return "help";
  const usageError = (message: string) => new ChaosUsageError(message);
  const jobs = wholeNumberFlag(values.jobs, "--jobs", { fallback: DEFAULT_CHAOS_JOBS, min: 1, max: MAX_JOBS }, usageError);
  const seed = wholeNumberFlag(values.seed, "--seed", { fallback: DEFAULT_CHAOS_SEED, min: 0, max: 2 ** 32 - 1 }, usageError);
  let faultRate = DEFAULT_FAULT_RATE;
  if (values["fault-rate"] !== undefined) {
    const text = values["fault-rate"].trim();
    faultRate = text === "" ? Number.NaN : Number(text);
    if (!(faultRate >= 0 && faultRate <= 1)) throw new ChaosUsageError(`--fault-rate must be a number from 0 to 1, got "${values["fault-rate"]}"`);
  }
  return { jobs, faultRate, seed };
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseChaosCommand(argv);
  } catch (error) {
    if (!(error instanceof ChaosUsageError)) throw error;
    process.stderr.write(`chaos: ${error.message}\n${CHAOS_USAGE}\n`);
    return 2;
  }
  if (parsed === "help") {
    process.stdout.write(`${CHAOS_USAGE}\n`);
    return 0;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`chaos: ${parsed.jobs} jobs, fault rate ${parsed.faultRate}, seed ${parsed.seed}`);
  const report = await runChaos({ ...parsed, onProgress: out });
  for (const line of formatChaosReport(report)) out(line);
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos: the run failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
