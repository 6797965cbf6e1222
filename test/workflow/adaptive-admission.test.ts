/**
 * Adaptive admission on the local engine with the ledger on dynalite: the account has fewer
 * Kling slots than the configured ceiling, and another client of the account keeps taking
 * slots. Every 1303 sends its generation back to the queue at its first place instead of failing
 * it, and the ledger's effective limit follows what Kling really lets the pipeline run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { externalTaskIdFor } from "#lambdas/submit/external-task-id";
import { DEV_API_KEY, type Simulator, startSimulator } from "#local/simulator/index";
import type { EngineEvent, ExecutionReport } from "#local/runner/local-engine";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { synthesizedPlan } from "#local/runner/synthesize";

const CEILING = 5;
const ACCOUNT_SLOTS = 3;
const GENERATIONS = 10;
const GENERATION_SECONDS = 120;
/** The other client: a task now and then, each holding one of the account's three slots for a while. */
const OTHER_CLIENT = [
  { startSeconds: 0, seconds: 200 },
  { startSeconds: 300, seconds: 200 },
  { startSeconds: 650, seconds: 200 },
];

let clock: ScaledClock;
let pipeline: LocalPipeline;
let simulator: Simulator;
let refusals = 0;
let reports: ExecutionReport[];
const names = Array.from({ length: GENERATIONS }, (_, index) => `shared-account-${index}`);

beforeAll(async () => {
  clock = new ScaledClock(0.01);
  pipeline = new LocalPipeline({
    clock,
    plan: synthesizedPlan({ klingConcurrency: CEILING, slotQueue: { parkSeconds: 900, deadlineSeconds: 5000, probeSeconds: 600 } }),
  });
  simulator = await startSimulator({
    clock,
    credentials: { apiKey: DEV_API_KEY },
    maxConcurrentTasks: ACCOUNT_SLOTS,
    generationSeconds: GENERATION_SECONDS,
    otherUsers: OTHER_CLIENT,
    onRequest: (entry) => {
      if (entry.code === 1303) refusals += 1;
    },
  });
  pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
  await pipeline.ledger.ready;
  for (const name of names) await pipeline.executions.start(name, JSON.stringify({ prompt: `${name}: a corgi surfing a wave` }));
  reports = await Promise.all(names.map((name) => pipeline.executions.finished(name)));
}, 300_000);
afterAll(async () => {
  await simulator?.close();
  await pipeline?.close();
});

const exits = (report: ExecutionReport, stateName: string) => report.events.filter((event) => event.type === "StateExited" && event.stateName === stateName);
const entries = (report: ExecutionReport, stateName: string) => report.events.filter((event) => event.type === "StateEntered" && event.stateName === stateName);
/** A slot the ledger granted, as its answer says: the generation's first arrival and how long it had queued since. */
interface Grant {
  readonly name: string;
  readonly queuedSince: number;
  /** When the ledger granted it (the engine reports the state's exit a while later on a busy machine). */
  readonly at: number;
}
function grantOf(name: string, event: EngineEvent | undefined): Grant {
  const slot = (event?.output as { slot?: { queuedSince?: number; queuedSeconds?: number } } | undefined)?.slot;
  const queuedSince = slot?.queuedSince ?? Number.NaN;
  return { name, queuedSince, at: queuedSince + (slot?.queuedSeconds ?? Number.NaN) * 1000 };
}
/** The grant answers carry whole seconds. */
const ROUNDING_MS = 1000;
/**
 * BackToQueue's entry comes before its function writes the queue place: a handler's run, counted
 * ×100 on this clock (a few real ms are seconds here). A grant in that gap went to one who took a
 * slot while the refused generation still held its own, not past a waiter.
 */
const QUEUEING_MS = 3000;

describe(`${GENERATIONS} generations at once, a ceiling of ${CEILING} on an account of ${ACCOUNT_SLOTS} slots that another client uses too`, () => {
  it("all succeed, each with one Kling task: a 1303 is a wait, not a failure", () => {
    expect(reports.filter((report) => report.status !== "SUCCEEDED").map((report) => `${report.executionName}: ${report.error}`)).toEqual([]);
    expect(simulator.stats.tasksCreated).toBe(GENERATIONS);
  });

  it("meet Kling's 1303 (the ceiling is a guess), each generation at most twice: the effective limit learns the account", () => {
    expect(refusals).toBeGreaterThan(0);
    expect(simulator.otherUsersSlots().length).toBe(OTHER_CLIENT.length);
    const perGeneration = names.map((name) => {
      const externalTaskId = externalTaskIdFor(name, pipeline.executions.arnOf(name));
      return simulator.stats.createAttemptsByExternalId(externalTaskId) - simulator.stats.tasksCreatedByExternalId(externalTaskId);
    });
    expect(perGeneration.reduce((sum, count) => sum + count, 0)).toBe(refusals);
    expect(Math.max(...perGeneration)).toBeLessThanOrEqual(2);
  });

  it("send every refused generation back to the queue at its first place: nothing that arrived after it gets a slot while it waits", () => {
    const requeued = reports.filter((report) => entries(report, "BackToQueue").length > 0);
    expect(requeued.length).toBeGreaterThan(0);
    const grants = reports.flatMap((report) =>
      [...exits(report, "WaitForSlot"), ...exits(report, "BackToQueue")].map((event) => grantOf(report.executionName, event)),
    );
    const overtaken: string[] = [];
    for (const report of requeued) {
      const { queuedSince } = grantOf(report.executionName, exits(report, "WaitForSlot")[0]);
      const [entered, regranted] = [entries(report, "BackToQueue"), exits(report, "BackToQueue")];
      entered.forEach((wait, index) => {
        const until = grantOf(report.executionName, regranted[index]).at - ROUNDING_MS;
        for (const grant of grants) {
          if (grant.queuedSince > queuedSince && grant.at > wait.at + QUEUEING_MS && grant.at < until) overtaken.push(`${grant.name} got a slot while ${report.executionName} waited`);
        }
      });
    }
    expect(overtaken).toEqual([]);
  });

  it("leave nothing held in the ledger, its effective limit between 1 and the ceiling", async () => {
    await pipeline.statusChangesDelivered();
    expect(await pipeline.ledger.ledger.holdings()).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
    const admission = await pipeline.ledger.ledger.admission(CEILING);
    expect(admission.limit).toBeGreaterThanOrEqual(1);
    expect(admission.limit).toBeLessThanOrEqual(CEILING);
  });
});
