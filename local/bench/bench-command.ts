/**
 * `npm run bench -- [--jobs N] [--seed S] [--json | --readme]`: the side-by-side benchmark
 * (run-bench.ts) and the Lambda bundle sizes, as markdown tables (written into the README's
 * "bench" block with --readme) or one JSON object.
 * Exits 0 when every target is met, 1 when one is missed, 2 for a bad command line.
 */
import { readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { updateGeneratedBlocks } from "../docs/readme-sections";
import { runScript } from "../cli/script-command";
import { BENCH_USAGE, checkTargets, formatBenchMarkdown, parseBenchCommand } from "./bench-report";
import { measureBundleSizes } from "./bundle-sizes";
import { runBench } from "./run-bench";
import { formatStartupMarkdown, measureStartup, startupTargets } from "./startup";

/** Where and when the run was made: the README's table says it. */
function machineDescription(): string {
  const [cpu] = cpus();
  const date = new Date().toISOString().slice(0, 10);
  return `on ${date}, ${cpus().length} cores (${cpu?.model.trim() ?? "unknown CPU"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

runScript("bench", BENCH_USAGE, parseBenchCommand, async (command) => {
  // The Lambdas' own log lines (CloudWatch on AWS) go to stderr: stdout carries the tables or the JSON.
  console.log = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(" ")}\n`);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  progress("bundling the Lambdas to measure them ...");
  const bundles = measureBundleSizes();
  const report = await runBench({ jobs: command.jobs, seed: command.seed, onProgress: progress });
  // The local command's start-up, side by side: the plan kept, and the stack synthesized as before.
  const startup = await measureStartup(3, progress);
  const targets = [...checkTargets(report, bundles), ...startupTargets(startup)];
  const measuredOn = machineDescription();
  if (command.json) {
    process.stdout.write(`${JSON.stringify({ measuredOn, ...report, bundles, startup, targets })}\n`);
  } else {
    const tables = [...formatBenchMarkdown(report, bundles, targets, measuredOn), "", ...formatStartupMarkdown(startup)].join("\n");
    process.stdout.write(`${tables}\n`);
    if (command.readme) {
      const readme = new URL("../../README.md", import.meta.url);
      await writeFile(readme, updateGeneratedBlocks(await readFile(readme, "utf8"), { bench: tables }));
      progress("README.md's bench block now holds these tables");
    }
  }
  return targets.every((target) => target.met) ? 0 : 1;
});
