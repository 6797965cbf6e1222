// The local console's pages: each reads JSON from /console/api and redraws itself while runs go on.
"use strict";

const POLL_MS = 1000;

function element(tag, properties, ...children) {
  const node = document.createElement(tag);
  const { dataset = {}, ...rest } = properties;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function when(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

function took(seconds) {
  return seconds === null || seconds === undefined ? "" : `${seconds.toFixed(1)} s`;
}

function statusCell(status) {
  return element("td", { className: `status status-${status}`, textContent: status });
}

async function drawRuns() {
  const { runs } = await getJson("/console/api/runs");
  const rows = runs.map((run) =>
    element(
      "tr",
      { dataset: { run: run.id } },
      element("td", {}, element("a", { href: `/console/generations/${encodeURIComponent(run.id)}`, textContent: run.id })),
      statusCell(run.status),
      element("td", { textContent: run.model ?? "" }),
      element("td", { className: "prompt", textContent: run.prompt ?? "", title: run.prompt ?? "" }),
      element("td", { textContent: when(run.startedAt) }),
      element("td", { textContent: took(run.seconds) }),
    ),
  );
  const body = document.querySelector("#runs tbody");
  body.replaceChildren(...(rows.length ? rows : [element("tr", {}, element("td", { colSpan: 6, className: "muted", textContent: "no runs yet" }))]));
}

async function drawLedger() {
  const ledger = await getJson("/console/api/ledger");
  const slots = ledger.slots.length ? ledger.slots.map((slot) => slot.execution).join(", ") : "none";
  const queue = ledger.queue.length
    ? element("ol", {}, ...ledger.queue.map((waiter) => element("li", { textContent: `${waiter.execution} (since ${when(waiter.since)})` })))
    : element("p", { className: "muted", textContent: "nobody waits" });
  document.querySelector("#ledger").replaceChildren(
    element("p", { id: "ledger-slots", textContent: `Kling slots held: ${ledger.slots.length} (${slots})` }),
    element("p", { textContent: `Queue: ${ledger.queueLength} waiting` }),
    queue,
    element("p", { id: "ledger-credits", textContent: `Credits reserved by jobs in flight: ${ledger.reservedUnits} units` }),
  );
}

function startForm() {
  const form = document.querySelector("#start-form");
  const result = document.querySelector("#start-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ""));
    if (fields.duration !== undefined) fields.duration = String(fields.duration);
    result.textContent = "starting …";
    const response = await fetch("/generations", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 202) {
      result.replaceChildren("started ", element("a", { href: `/console/generations/${encodeURIComponent(answer.id)}`, textContent: answer.id }));
      await drawRuns();
    } else {
      result.textContent = `refused (HTTP ${response.status}): ${(answer.errors ?? [answer.message ?? ""]).join("; ")}`;
    }
  });
}

function markPath(steps) {
  const svg = document.querySelector("svg.state-machine");
  for (const node of svg.querySelectorAll(".state")) node.classList.remove("visited", "running", "failed", "caught");
  for (const edge of svg.querySelectorAll(".transition")) edge.classList.remove("taken");
  steps.forEach((step, index) => {
    const node = svg.querySelector(`.state[data-state="${CSS.escape(step.state)}"]`);
    node?.classList.add(step.outcome === "exited" ? "visited" : step.outcome);
    const next = steps[index + 1];
    if (next) svg.querySelector(`.transition[data-from="${CSS.escape(step.state)}"][data-to="${CSS.escape(next.state)}"]`)?.classList.add("taken");
  });
}

function drawSteps(steps) {
  const rows = steps.map((step) =>
    element(
      "tr",
      { className: `step-${step.outcome}`, dataset: { state: step.state } },
      element("td", { textContent: step.state }),
      element("td", { textContent: `+${step.enteredAt.toFixed(1)} s` }),
      element("td", { textContent: step.seconds === undefined ? "running" : `${step.seconds.toFixed(1)} s` }),
      element("td", { textContent: step.retries.map((retry) => `${retry.error} (retry ${retry.attempt} after ${retry.waitSeconds.toFixed(1)} s)`).join("; ") }),
      element("td", { textContent: step.error ? `${step.error}${step.outcome === "caught" ? " (caught)" : ""}` : "" }),
    ),
  );
  document.querySelector("#steps tbody").replaceChildren(...rows);
}

function drawDiagnosis(diagnosis) {
  const section = document.querySelector("#diagnosis");
  section.hidden = !diagnosis;
  if (!diagnosis) return;
  const entry = (term, value) => [element("dt", { textContent: term }), element("dd", { textContent: value })];
  section.replaceChildren(
    element("h2", { textContent: "Diagnosis" }),
    element(
      "dl",
      {},
      ...entry("error", diagnosis.errorCode),
      ...entry("message", diagnosis.errorMessage),
      ...entry("in", diagnosis.failedState),
      ...entry("recoverable", diagnosis.recoverable ? "yes" : "no"),
      ...entry("action", diagnosis.action),
      ...entry("suggestion", diagnosis.suggestion),
    ),
  );
}

async function drawRun(id) {
  const run = await getJson(`/console/api/runs/${encodeURIComponent(id)}`);
  document.querySelector("#run-summary").replaceChildren(
    element("span", { className: `status-${run.status}`, id: "run-status", textContent: run.status }),
    ` · ${run.kind} · ${run.model ?? "default model"} · started ${when(run.startedAt)}${run.seconds === null ? "" : ` · took ${took(run.seconds)}`}`,
  );
  // A batch's own state machine is not the one drawn: its items are runs of their own.
  document.querySelector("figure.graph").hidden = run.kind === "batch";
  markPath(run.steps);
  drawSteps(run.steps);
  drawDiagnosis(run.diagnosis);
  document.querySelector("#request").textContent = JSON.stringify(run.request, null, 2);
  document.querySelector("#result").textContent = run.result === null ? "(not yet)" : JSON.stringify(run.result, null, 2);
  const actions = document.querySelector("#run-actions");
  if (run.canStop && !actions.querySelector("button")) {
    const stop = element("button", { id: "stop", type: "button", textContent: "Cancel (stop the execution)" });
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      const response = await fetch(`/console/api/runs/${encodeURIComponent(id)}/stop`, { method: "POST" });
      if (!response.ok) stop.textContent = `could not stop (HTTP ${response.status})`;
    });
    actions.append(stop);
  } else if (!run.canStop) {
    actions.replaceChildren();
  }
  const videoSection = document.querySelector("#video-section");
  const video = document.querySelector("#video");
  if (run.video && video.getAttribute("src") !== run.video) video.src = run.video;
  videoSection.hidden = !run.video;
  return run.status === "RUNNING";
}

async function every(draw) {
  let again = true;
  while (again) {
    try {
      again = (await draw()) !== false;
    } catch (error) {
      console.error(error);
    }
    if (again) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

if (document.body.dataset.page === "list") {
  startForm();
  every(async () => {
    await Promise.all([drawRuns(), drawLedger()]);
    return true;
  });
} else if (document.body.dataset.page === "run") {
  const id = document.querySelector("#run-id").textContent;
  every(() => drawRun(id));
}
