/**
 * Where the Lambdas' own log lines go locally (CloudWatch Logs on AWS): a log file per run, or
 * stderr with --verbose. They reach `console` (Powertools in dev mode), so console is redirected
 * for the run; the command's own output never goes through console.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { formatWithOptions } from "node:util";

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/** Sends console output to `file` (appended) or, without one, to stderr; returns the undo. */
export function routeLambdaLogs(file: string | undefined): () => void {
  const fd = file === undefined ? 2 : openSync(file, "a");
  const saved = CONSOLE_METHODS.map((method) => [method, console[method]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => {
      writeSync(fd, `${formatWithOptions({ colors: false }, ...args)}\n`);
    };
  }
  return () => {
    for (const [method, original] of saved) console[method] = original;
    if (file !== undefined) closeSync(fd);
  };
}
