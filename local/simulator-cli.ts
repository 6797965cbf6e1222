/**
 * `npm run simulator -- [flags]`: the embedded Kling simulator as a standalone server, for
 * pointing the pipeline (or curl) at it by hand. Runs until SIGINT/SIGTERM.
 */
import { callbackLine, describeSimulator, parseSimulatorArgs, usage } from "./simulator/cli-options";
import { startSimulator } from "./simulator";
import { portProblem } from "./cli/listen-error";

const parsed = parseSimulatorArgs(process.argv.slice(2));
if (!parsed.ok) {
  console.error(`simulator: ${parsed.error}`);
  console.error(usage());
  process.exit(2);
}
if (parsed.help) {
  console.log(usage());
  process.exit(0);
}

const simulator = await startSimulator({
  ...parsed.options,
  onRequest: (entry) => {
    const answer = entry.status === undefined ? "dropped" : `${entry.status}${entry.code === undefined ? "" : ` code=${entry.code}`}`;
    const fault = entry.fault === undefined ? "" : ` [fault: ${entry.fault}]`;
    console.log(`${new Date().toISOString()} ${entry.method} ${entry.path} -> ${answer}${fault}`);
  },
  onCallback: (entry) => console.log(`${new Date().toISOString()} ${callbackLine(entry)}`),
}).catch((error: unknown) => {
  // A port in use or not permitted is the person's to fix (exit 2); anything else is one line too.
  const problem = portProblem(error, "127.0.0.1", parsed.options.port ?? 0);
  console.error(`simulator: ${problem ?? `could not start: ${error instanceof Error ? error.message : String(error)}`}`);
  process.exit(problem === undefined ? 1 : 2);
});
for (const line of describeSimulator(simulator)) console.log(line);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping after ${simulator.stats.requests} requests, ${simulator.stats.tasksCreated} tasks created`);
  await simulator.close();
  process.exit(0);
}
process.on("SIGINT", (signal) => void stop(signal));
process.on("SIGTERM", (signal) => void stop(signal));
