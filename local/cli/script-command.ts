/**
 * What the `npm run` scripts (chaos, bench) share: one error for a bad command line, the
 * whole-number flag, and the run itself: usage and exit 2 for a bad line, usage and exit 0
 * for --help, the script's own exit code, and a one-line message with exit 1 if it crashes.
 */

/** A command line the script cannot take: the message names the flag and what it needs. */
export class CommandLineError extends Error {
  override readonly name = "CommandLineError";
}

/** parseArgs's own error (an unknown flag, a missing value) as a one-line CommandLineError. */
export function commandLineError(error: unknown): CommandLineError {
  return new CommandLineError((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "bad arguments");
}

/** A flag that holds a whole number within [min, max]: `fallback` when absent. */
export function wholeNumberFlag(
  text: string | undefined,
  flag: string,
  bounds: { readonly fallback: number; readonly min: number; readonly max: number },
): number {
  if (text === undefined) return bounds.fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new CommandLineError(`${flag} must be a whole number from ${bounds.min} to ${bounds.max}, got "${text}"`);
  }
  return value;
}

export function runScript<Command>(
  name: string,
  usage: string,
  parse: (argv: readonly string[]) => Command | "help",
  run: (command: Command) => Promise<number>,
): void {
  const main = async (argv: readonly string[]): Promise<number> => {
    let command: Command | "help";
    try {
      command = parse(argv);
    } catch (error) {
      if (!(error instanceof CommandLineError)) throw error;
      process.stderr.write(`${name}: ${error.message}\n${usage}\n`);
      return 2;
    }
    if (command === "help") {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    return run(command);
  };
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: the run failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
