#!/usr/bin/env node
/** `npm start -- "a prompt"`: see local/cli/run-command.ts. */
import { runCommand } from "../local/cli/run-command";

// The Lambdas' own log lines (CloudWatch on AWS) go to stderr, so stdout carries only the
// trace or, with --json, the one JSON line.
console.log = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(" ")}\n`);

const exitCode = await runCommand(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = exitCode;
