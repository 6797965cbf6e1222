/**
 * `npm run chaos -- [--jobs N] [--fault-rate R] [--callback-fault-rate R] [--seed S]`: the fault run (run-chaos.ts).
 * Exits 0 when every check holds, 1 when one fails, 2 for a bad command line.
 */
import { runScript } from "../cli/script-command";
import { CHAOS_USAGE, parseChaosCommand } from "./chaos-flags";
import { CONTENDED_ACCOUNT_SLOTS, formatChaosReport, runChaos } from "./run-chaos";

runScript("chaos", CHAOS_USAGE, parseChaosCommand, async (options) => {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`chaos: ${options.jobs} jobs, fault rate ${options.faultRate}, callback fault rate ${options.callbackFaultRate}, seed ${options.seed}`);
  // The account has fewer slots than the ceiling: Kling's 1303s and the effective limit are part of the run.
  const report = await runChaos({ ...options, accountSlots: CONTENDED_ACCOUNT_SLOTS, onProgress: out });
  for (const line of formatChaosReport(report)) out(line);
  return report.ok ? 0 : 1;
});
