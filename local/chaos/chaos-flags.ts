/**
 * The chaos command's flags: `npm run chaos -- [--jobs N] [--fault-rate R] [--callback-fault-rate R] [--seed S]`
 * (chaos-command.ts runs it).
 */
import { parseArgs } from "node:util";
import { CommandLineError, commandLineError, wholeNumberFlag } from "../cli/script-command";
import { DEFAULT_CHAOS_JOBS, DEFAULT_CHAOS_SEED, DEFAULT_FAULT_RATE, type ChaosOptions } from "./run-chaos";

export const CHAOS_USAGE = `usage: npm run chaos -- [--jobs N] [--fault-rate R] [--callback-fault-rate R] [--seed S]
  --jobs N                 jobs to run, as batches of at most 100 (default ${DEFAULT_CHAOS_JOBS})
  --fault-rate R           share of Kling requests that get a fault, from 0 to 1 (default ${DEFAULT_FAULT_RATE})
  --callback-fault-rate R  share of Kling's callbacks dropped, duplicated, delayed, reordered or mis-signed,
                           from 0 to 1 (default: the fault rate)
  --seed S                 seed of the fault plan, a whole number from 0 to 4294967295 (default ${DEFAULT_CHAOS_SEED})`;

const MAX_JOBS = 100_000;

/** A share from 0 to 1, or the fallback when the flag is not given. */
function rateFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const rate = text.trim() === "" ? Number.NaN : Number(text.trim());
  if (!(rate >= 0 && rate <= 1)) throw new CommandLineError(`${flag} must be a number from 0 to 1, got "${text}"`);
  return rate;
}

export function parseChaosCommand(argv: readonly string[]): Pick<ChaosOptions, "jobs" | "faultRate" | "callbackFaultRate" | "seed"> | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        jobs: { type: "string" },
        "fault-rate": { type: "string" },
        "callback-fault-rate": { type: "string" },
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
  const faultRate = rateFlag(values["fault-rate"], "--fault-rate", DEFAULT_FAULT_RATE);
  const callbackFaultRate = rateFlag(values["callback-fault-rate"], "--callback-fault-rate", faultRate);
  return { jobs, faultRate, callbackFaultRate, seed };
}
