#!/usr/bin/env node
/** `npm start -- "a prompt"`: see local/cli/run-command.ts. */
import { runCommand } from "../local/cli/run-command";

const exitCode = await runCommand(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = exitCode;
