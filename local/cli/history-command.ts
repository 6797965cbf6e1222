/** `npm start -- list` and `npm start -- show ID`: the local runs kept in the state directory. */
import type { CommandIo } from "./progress";
import type { RunHistory, RunRecord } from "./run-history";

/** How many runs `list` shows, newest first. */
const LISTED_RUNS = 20;

function when(iso: string): string {
  return iso.replace("T", " ").slice(0, 19);
}

function oneLine(text: string, length: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

function listLine(record: RunRecord): string {
  const prompt = JSON.stringify(oneLine(record.prompt ?? "", 40)).padEnd(42);
  return [
    record.id.padEnd(34),
    when(record.startedAt),
    record.status.padEnd(11),
    (record.model ?? "-").padEnd(17),
    prompt,
    record.video ?? "",
  ]
    .join("  ")
    .trimEnd();
}

export function listRuns(history: RunHistory, json: boolean, io: CommandIo): number {
  const { records, problems } = history.all();
  const shown = records.slice(0, LISTED_RUNS);
  if (json) {
    io.out(JSON.stringify({ stateDir: history.dir, runs: shown.map(({ trace: _trace, result: _result, ...summary }) => summary), unreadable: problems }));
    return 0;
  }
  if (records.length === 0) {
    io.out(`no local runs yet in ${history.dir}`);
    return 0;
  }
  io.out(`${"id".padEnd(34)}  ${"started (UTC)".padEnd(19)}  ${"status".padEnd(11)}  ${"model".padEnd(17)}  ${"prompt".padEnd(42)}  video`);
  for (const record of shown) io.out(listLine(record));
  if (records.length > shown.length) io.out(`… and ${records.length - shown.length} older runs in ${history.dir}`);
  for (const name of problems) io.err(`skipped ${name}: not a readable run record`);
  return 0;
}

/** Exit 2 when no run has that id: the person named it. */
export function showRun(history: RunHistory, id: string, json: boolean, io: CommandIo): number {
  const found = history.find(id);
  if ("error" in found) {
    if (json) io.out(JSON.stringify({ error: found.error, exitCode: 2 }));
    else io.err(`error: ${found.error}`);
    return 2;
  }
  if (json) {
    io.out(JSON.stringify(found));
    return 0;
  }
  io.out(`${found.id}: ${found.kind} ${found.status}, started ${when(found.startedAt)} UTC${found.finishedAt ? `, ended ${when(found.finishedAt)} UTC` : ""}`);
  if (found.prompt !== undefined) io.out(`prompt: ${found.prompt}`);
  for (const line of found.trace) io.out(line);
  if (found.status === "RUNNING") io.out("(no outcome recorded: the command is still running, or was killed)");
  return 0;
}
