#!/usr/bin/env node
/** `npm start -- "a prompt"`: see local/cli/run-command.ts. */
import { STDOUT_CLOSED_SIGNAL } from "../local/cli/local-run";
import { runCommand } from "../local/cli/run-command";

const json = process.argv.includes("--json");

/** Whatever goes wrong, one line (with --json, one JSON object on stdout), never a stack trace. */
function crashed(error: unknown): never {
  const message = `the command failed: ${error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message.split("\n")[0]}` : String(error)}`;
  if (json) process.stdout.write(`${JSON.stringify({ error: message, exitCode: 1 })}\n`);
  else process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}
process.on("uncaughtException", crashed);
process.on("unhandledRejection", crashed);

// Stray console output (the Lambdas log to their own file during a run) never reaches stdout,
// which carries only the trace or, with --json, the one JSON object.
console.log = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(" ")}\n`);

// A reader that went away (`| head -1`) is no error: nothing more is written, a run ends as on Ctrl-C.
let stdoutClosed = false;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") crashed(error);
  stdoutClosed = true;
  process.emit(STDOUT_CLOSED_SIGNAL);
});

const code = await runCommand(process.argv.slice(2), process.env, {
  out: (line) => {
    if (!stdoutClosed) process.stdout.write(`${line}\n`);
  },
  err: (line) => process.stderr.write(`${line}\n`),
  terminal: process.stdout.isTTY ? { write: (text) => process.stdout.write(text), columns: process.stdout.columns || 80 } : undefined,
}).catch(crashed);
// An interrupted run leaves the engine's timers behind: end here, the output is written.
process.exit(code);
