/**
 * The local web console on `npm start -- serve`, at /console: the runs (live, and the history of
 * earlier local runs), a run's page (the state machine drawn with the path it took, each state's
 * time, retries and errors, the diagnosis, the request and result, the video), the ledger (slots
 * and their holders, the queue in order, the credits reserved), a form to start a generation and
 * a button to stop one. Plain HTML, one stylesheet and one script, all served from here: no build
 * step, no CDN. The pages read JSON from /console/api/... and update themselves while runs go on.
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { Ledger } from "#lambdas/ledger/ledger";
import type { RunHistory, RunRecord } from "../cli/run-history";
import type { StateMachineDefinition } from "../runner/definition";
import { type RunStep, runSteps } from "./run-steps";
import type { EngineEvent } from "../runner/local-engine";
import { stateMachineSvg } from "./state-graph";

/** What a console route answers: a body in memory, or a file streamed (a video). */
export interface ConsoleResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer | Readable;
}

/** The executions this `serve` runs: their events as they happen, and StopExecution. */
export interface LiveExecutions {
  /** The events so far of the run with this record id, while this session knows it. */
  eventsOf(id: string): readonly EngineEvent[] | undefined;
  /** Stops the running execution of this record id; false when none runs. */
  stop(id: string): boolean;
}

export interface ConsoleSources {
  readonly history: RunHistory;
  /** The generation state machine's definition, as synthesized. */
  readonly definition: StateMachineDefinition;
  readonly live: LiveExecutions;
  readonly ledger: Ledger;
}

const ASSETS = new URL("./assets/", import.meta.url);
const ASSET_TYPES: Readonly<Record<string, string>> = {
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};
/** How many waiters the ledger view lists, oldest first. */
const LISTED_WAITERS = 50;
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

function json(statusCode: number, value: unknown): ConsoleResponse {
  return { statusCode, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }, body: Buffer.from(JSON.stringify(value)) };
}

function html(body: string): ConsoleResponse {
  return { statusCode: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }, body: Buffer.from(body) };
}

function notFound(message: string): ConsoleResponse {
  return json(404, { message });
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(title: string, main: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · kling-pipeline console</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body data-page="${escapeHtml(script)}">
<header><a href="/console" class="brand">kling-pipeline</a> <span>local console</span></header>
<main>${main}</main>
<script src="/console/assets/console.js"></script>
</body>
</html>
`;
}

/** The list of runs, the ledger and the form to start a generation. */
function listPage(): string {
  return page(
    "runs",
    `<section class="start">
<h2>Start a generation</h2>
<form id="start-form">
<label>Prompt <textarea name="prompt" required rows="2">a corgi surfing a wave</textarea></label>
<div class="row">
<label>Model <input name="model" placeholder="default"></label>
<label>Duration <input name="duration" placeholder="5"></label>
<label>Mode <select name="mode"><option value="">default</option><option>std</option><option>pro</option></select></label>
</div>
<button type="submit">Start</button> <output id="start-result"></output>
</form>
</section>
<section>
<h2>Runs</h2>
<table id="runs"><thead><tr><th>id</th><th>status</th><th>model</th><th>prompt</th><th>when</th><th>took</th></tr></thead><tbody></tbody></table>
</section>
<section>
<h2>Ledger</h2>
<div id="ledger">…</div>
</section>`,
    "list",
  );
}

/** One run: the graph with its path, its steps, the diagnosis, request, result and video. */
function runPage(id: string, definition: StateMachineDefinition): string {
  return page(
    id,
    `<h1 id="run-id">${escapeHtml(id)}</h1>
<p id="run-summary">…</p>
<div id="run-actions"></div>
<section id="diagnosis" hidden></section>
<div class="run">
<figure class="graph">${stateMachineSvg(definition)}</figure>
<section><h2>States</h2><table id="steps"><thead><tr><th>state</th><th>at</th><th>took</th><th>retries</th><th>error</th></tr></thead><tbody></tbody></table></section>
</div>
<section id="video-section" hidden><h2>Video</h2><video id="video" controls playsinline preload="metadata"></video></section>
<section><h2>Request</h2><pre id="request"></pre></section>
<section><h2>Result</h2><pre id="result"></pre></section>`,
    "run",
  );
}

function durationSeconds(record: RunRecord): number | null {
  if (record.finishedAt === undefined) return null;
  return Math.round((Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 100) / 10;
}

/** A run as the list shows it. */
function runSummary(record: RunRecord) {
  return {
    id: record.id,
    kind: record.kind,
    status: record.status,
    model: record.model ?? null,
    prompt: record.prompt ?? null,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
    seconds: durationSeconds(record),
  };
}

/** The run's kept video, only a file of the state directory's videos folder. */
function videoFileOf(history: RunHistory, record: RunRecord): string | undefined {
  if (record.video === undefined) return undefined;
  const file = resolve(record.video);
  const inside = relative(history.videoDirectory(), file);
  if (inside.startsWith("..") || inside.includes("/") || !file.endsWith(".mp4") || !existsSync(file)) return undefined;
  return file;
}

function runDetail(sources: ConsoleSources, record: RunRecord) {
  const events = sources.live.eventsOf(record.id);
  const steps: readonly RunStep[] = events ? runSteps(events) : (record.steps ?? []);
  return {
    ...runSummary(record),
    steps,
    diagnosis: record.diagnosis ?? null,
    request: record.request ?? null,
    result: record.status === "RUNNING" ? null : (record.result ?? null),
    video: videoFileOf(sources.history, record) === undefined ? null : `/console/videos/${record.id}.mp4`,
    canStop: record.status === "RUNNING" && events !== undefined,
  };
}

async function ledgerView(ledger: Ledger) {
  const [holdings, waiters] = await Promise.all([ledger.holdings(), ledger.waiters(LISTED_WAITERS)]);
  const nameOf = (arn: string) => arn.split(":").at(-1) ?? arn;
  return {
    slots: holdings.slotHolders.map((arn) => ({ execution: nameOf(arn) })),
    queueLength: holdings.waiters,
    queue: waiters.map((waiter, index) => ({ position: index + 1, execution: nameOf(waiter.executionArn), since: new Date(waiter.enqueuedAt).toISOString() })),
    reservedUnits: holdings.reservedUnits,
  };
}

/** A video, whole or the byte range a `<video>` asks for. */
function video(file: string, range: string | undefined): ConsoleResponse {
  const size = statSync(file).size;
  const headers = { "content-type": "video/mp4", "accept-ranges": "bytes", "cache-control": "no-store" };
  const asked = range === undefined ? undefined : /^bytes=(\d*)-(\d*)$/.exec(range);
  if (!asked) return { statusCode: 200, headers: { ...headers, "content-length": String(size) }, body: createReadStream(file) };
  const start = asked[1] === "" ? Math.max(0, size - Number(asked[2])) : Number(asked[1]);
  const end = asked[1] === "" || asked[2] === "" ? size - 1 : Math.min(size - 1, Number(asked[2]));
  if (start > end || start >= size) return { statusCode: 416, headers: { ...headers, "content-range": `bytes */${size}` }, body: Buffer.alloc(0) };
  return {
    statusCode: 206,
    headers: { ...headers, "content-range": `bytes ${start}-${end}/${size}`, "content-length": String(end - start + 1) },
    body: createReadStream(file, { start, end }),
  };
}

/**
 * The console's answer to a request under /console, or undefined for any other path. Only GET,
 * but for stopping a run (POST).
 */
export async function answerConsole(
  sources: ConsoleSources,
  request: { readonly method: string; readonly path: string; readonly range?: string | undefined },
): Promise<ConsoleResponse | undefined> {
  const { method, path } = request;
  if (path !== "/console" && !path.startsWith("/console/")) return undefined;
  const segments = path.split("/").slice(2).filter((segment) => segment !== "");
  const [first, second, third, fourth] = segments;
  if (method === "POST" && first === "api" && second === "runs" && third !== undefined && fourth === "stop" && segments.length === 4) {
    return sources.live.stop(third) ? json(202, { id: third, stopping: true }) : json(409, { message: `run ${third} is not running in this serve session` });
  }
  if (method !== "GET") return json(405, { message: `${method} is not answered here` });
  if (first === undefined) return html(listPage());
  if (first === "assets" && second !== undefined && segments.length === 2 && second in ASSET_TYPES) {
    return { statusCode: 200, headers: { "content-type": ASSET_TYPES[second] ?? "text/plain", "cache-control": "no-cache" }, body: readFileSync(new URL(second, ASSETS)) };
  }
  if (first === "generations" && second !== undefined && segments.length === 2) {
    if (!SAFE_ID.test(second)) return notFound(`no run ${second}`);
    return html(runPage(second, sources.definition));
  }
  if (first === "videos" && second !== undefined && segments.length === 2 && second.endsWith(".mp4")) {
    const found = sources.history.find(second.slice(0, -".mp4".length));
    const file = "error" in found ? undefined : videoFileOf(sources.history, found);
    return file === undefined ? notFound(`no video ${second}`) : video(file, request.range);
  }
  if (first === "api") {
    if (second === "runs" && segments.length === 2) return json(200, { runs: sources.history.all().records.map(runSummary) });
    if (second === "runs" && third !== undefined && segments.length === 3) {
      const found = sources.history.find(third);
      if ("error" in found || found.id !== third) return notFound(`no run ${third}`);
      return json(200, runDetail(sources, found));
    }
    if (second === "ledger" && segments.length === 2) return json(200, await ledgerView(sources.ledger));
  }
  return notFound(`nothing at ${path}`);
}
