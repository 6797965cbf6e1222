/**
 * `npm run chaos -- [--jobs N] [--fault-rate R] [--seed S]`: the fault run (run-chaos.ts).
 * Exits 0 when every check holds, 1 when one fails, 2 for a bad command line.
 */
import { parseArgs } from "node:util";
import { CommandLineError, commandLineError, runScript, wholeNumberFlag } from "../cli/script-command";
import { DEFAULT_CHAOS_JOBS, DEFAULT_CHAOS_SEED, DEFAULT_FAULT_RATE, formatChaosReport, runChaos, type ChaosOptions } from "./run-chaos";

export const CHAOS_USAGE = `usage: npm run chaos -- [--jobs N] [--fault-rate R] [--seed S]
  --jobs N        jobs to run, as batches of at most 100 (default ${DEFAULT_CHAOS_JOBS})
  --fault-rate R  share of Kling requests that get a fault, from 0 to 1 (default ${DEFAULT_FAULT_RATE})
  --seed S        seed of the fault plan, a whole number from 0 to 4294967295 (default ${DEFAULT_CHAOS_SEED})`;

const MAX_JOBS = 100_000;

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
    throw commandLineError(error);
  }
  if (values.help) return "help";
  const jobs = wholeNumberFlag(values.jobs, "--jobs", { fallback: DEFAULT_CHAOS_JOBS, min: 1, max: MAX_JOBS });
  const seed = wholeNumberFlag(values.seed, "--seed", { fallback: DEFAULT_CHAOS_SEED, min: 0, max: 2 ** 32 - 1 });
  let faultRate = DEFAULT_FAULT_RATE;
  if (values["fault-rate"] !== undefined) {
    const text = values["fault-rate"].trim();
    faultRate = text === "" ? Number.NaN : Number(text);
    if (!(faultRate >= 0 && faultRate <= 1)) throw new CommandLineError(`--fault-rate must be a number from 0 to 1, got "${values["fault-rate"]}"`);
  }
  return { jobs, faultRate, seed };
}

runScript("chaos", CHAOS_USAGE, parseChaosCommand, async (options) => {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`chaos: ${options.jobs} jobs, fault rate ${options.faultRate}, seed ${options.seed}`);
  const report = await runChaos({ ...options, onProgress: out });
  for (const line of formatChaosReport(report)) out(line);
  return report.ok ? 0 : 1;
});
