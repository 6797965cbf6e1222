/**
 * A short fault run (local/chaos/run-chaos.ts): 60 jobs in three batches, fixed seed, a fifth
 * of the Kling requests and of Kling's callbacks faulted. Every job must end exactly once, no
 * job may pay for two tasks or be resumed twice, every failure must match the error table, and
 * no credential may show anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "#lambdas/common/settings";
import { credentialsFromEnvironment, LOCAL_CREDENTIAL_VARIABLES } from "#lambdas/common/credentials";
import { KlingClient } from "#lambdas/kling/client";
import { signHs256Jwt, klingJwtClaims } from "#lambdas/kling/jwt";
import { CHAOS_USAGE, parseChaosCommand } from "#local/chaos/chaos-flags";
import { LeakScanner, randomSecrets } from "#local/chaos/leak-scanner";
import { CommandLineError } from "#local/cli/script-command";
import { chaosJobPrompt, formatChaosReport, runChaos, type ChaosReport } from "#local/chaos/run-chaos";
import { CALLBACK_FAULT_KINDS, CHAOS_FAULT_KINDS, CHAOS_LEDGER_FAULTS, chaosPlan, type ApiRequestInfo } from "#local/simulator/index";

describe("the chaos plan", () => {
  const create = (externalId: string): ApiRequestInfo => ({
    kind: "create",
    method: "POST",
    path: "/v1/videos/text2video",
    taskKind: "text2video",
    createBody: { prompt: "p", external_task_id: externalId },
  });
  const labels = (seed: number) => {
    const plan = chaosPlan({ seed, faultRate: 0.5, requestTimeoutMs: 1000 });
    return Array.from({ length: 200 }, (_, index) => plan.onRequest(create(`job-${index}`))?.label ?? "-");
  };

  it("draws the same faults for the same seed, and others for another seed", () => {
    expect(labels(7)).toEqual(labels(7));
    expect(labels(7)).not.toEqual(labels(8));
  });

  it("names each kind of fault once, so no two kinds share a count", () => {
    expect(new Set(CHAOS_FAULT_KINDS).size).toBe(CHAOS_FAULT_KINDS.length);
  });

  it("injects nothing at rate 0", () => {
    const plan = chaosPlan({ seed: 1, faultRate: 0, requestTimeoutMs: 1000 });
    for (let index = 0; index < 100; index++) {
      expect(plan.onRequest(create(`job-${index}`))).toBeUndefined();
      expect(plan.delayFor(create(`job-${index}`))).toBeUndefined();
      expect(plan.taskOutcome({ taskId: `t${index}`, kind: "text2video", model: "kling-v2-6", externalTaskId: `job-${index}` })).toEqual({
        status: "succeed",
      });
    }
    expect(plan.total()).toBe(0);
  });
});

describe("the chaos command's flags", () => {
  it("faults the callbacks at the fault rate unless --callback-fault-rate says otherwise", () => {
    expect(parseChaosCommand([])).toEqual({ jobs: 500, faultRate: 0.2, callbackFaultRate: 0.2, seed: 20_260_717 });
    expect(parseChaosCommand(["--fault-rate", "0.3"])).toMatchObject({ faultRate: 0.3, callbackFaultRate: 0.3 });
    expect(parseChaosCommand(["--fault-rate", "0.1", "--callback-fault-rate", "0.5"])).toMatchObject({ faultRate: 0.1, callbackFaultRate: 0.5 });
    expect(CHAOS_USAGE).toContain("--callback-fault-rate R");
  });

  it("refuses a callback fault rate outside 0 to 1, naming the flag", () => {
    expect(() => parseChaosCommand(["--callback-fault-rate", "1.5"])).toThrow(new CommandLineError('--callback-fault-rate must be a number from 0 to 1, got "1.5"'));
    expect(() => parseChaosCommand(["--callback-fault-rate", " "])).toThrow(/--callback-fault-rate must be a number from 0 to 1/);
    expect(() => parseChaosCommand(["--fault-rate=-0.1"])).toThrow(/--fault-rate must be a number from 0 to 1, got "-0.1"/);
  });
});

describe("the leak scanner", () => {
  it("finds a secret, a fragment of one, a JWT signed with the SecretKey and one cut short", () => {
    const secrets = randomSecrets();
    const scanner = new LeakScanner(secrets);
    const jwt = signHs256Jwt(klingJwtClaims(secrets.accessKey, 1_800_000_000), secrets.secretKey);
    scanner.scan("clean", "nothing to see: eyJhbGciOiJIUzI1NiJ9.e30.c2ln and Bearer [redacted]");
    scanner.scan("key", `Authorization: Bearer ${secrets.apiKey}`);
    scanner.scan("fragment", `cut…${secrets.secretKey.slice(5, 23)}…`);
    scanner.scan("jwt", JSON.stringify({ message: `token ${jwt} refused` }));
    scanner.scan("cut jwt", `token ${jwt.split(".").slice(0, 2).join(".")}.`);
    expect(scanner.leaks.map((leak) => `${leak.source}: ${leak.what}`)).toEqual([
      "key: the API key",
      "fragment: a fragment of the SecretKey",
      "jwt: a JWT signed with the SecretKey",
      "cut jwt: a JWT issued for the AccessKey",
    ]);
  });
});

describe("a chaos run of 60 jobs at fault rate 0.2", () => {
  let report: ChaosReport;
  beforeAll(async () => {
    report = await runChaos({ jobs: 60, faultRate: 0.2, seed: 4242, batchSize: 20 });
  }, 300_000);
  afterAll(() => {
    if (report && !report.ok) console.error(formatChaosReport(report).join("\n"));
  });

  it("injects faults of many kinds", () => {
    // About a fifth of the requests, the delays at the front included.
    expect(report.faults / report.requests).toBeGreaterThan(0.12);
    expect(Object.values(report.faultsByKind).filter((count) => count > 0).length).toBeGreaterThanOrEqual(6);
    expect(report.simulatorFaults).toBeGreaterThan(0);
    // The faults that tempt a second create: a create handled but its answer lost, or late.
    const { faultsByKind: kinds } = report;
    expect(kinds["drop-after-create"] + kinds["lost-create-response"] + kinds["late-answer-after-handling"]).toBeGreaterThan(0);
    expect(kinds["late-answer"] + kinds["slow-answer"]).toBeGreaterThan(0);
  });

  it("gives every job exactly one outcome", () => {
    expect(report.lost).toBe(0);
    expect(report.succeeded + report.failed).toBe(60);
  });

  it("never creates two tasks for one job", () => {
    expect(report.duplicates).toBe(0);
  });

  it("leaves nothing held in the account ledger once every job has ended: no slot, no waiter, no reserved unit", () => {
    expect(report.ledgerHeld).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });

  it("fails no job for Kling's concurrency: a 1303 burst sends its creates back to the queue", () => {
    expect(report.failuresByError["Kling.ConcurrencyLimited"]).toBeUndefined();
    expect(report.contention.backToQueue).toBeGreaterThanOrEqual(report.faultsByKind["concurrency-burst"] > 0 ? 1 : 0);
  });

  it("injects every ledger fault: a function killed holding its slot, an execution stopped and one timed out holding theirs, a release lost between its writes", () => {
    // BackToQueue's own fault needs a 1303 at the job's create: the contended run of `npm run chaos` is where it strikes.
    for (const kind of CHAOS_LEDGER_FAULTS.filter((fault) => fault !== "killed-requeueing")) expect(report.faultsByKind[kind], kind).toBeGreaterThan(0);
  });

  it("recovers from them: the killed function's retry keeps its one slot, and a stopped or timed-out job ends once as the batch records it", () => {
    // Stopped and timed-out executions are failed items with the batch's own errors; nothing else fails for the ledger.
    expect(report.failuresByError["Execution.Stopped"]).toBe(report.faultsByKind["stopped-holding-slot"]);
    expect(report.failuresByError["States.Timeout"]).toBe(report.faultsByKind["timed-out-holding-slot"]);
    expect(report.failuresByError["Runtime.ExitError"]).toBeUndefined();
    expect(report.ledgerHeld).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
  });

  it("faults Kling's callbacks of every kind, and resumes no job twice: each wait for a video is answered at most once, by at most one callback", () => {
    for (const kind of CALLBACK_FAULT_KINDS) expect(report.callbackFaultsByKind[kind], kind).toBeGreaterThan(0);
    // Kling signs its callbacks in the run: every mis-signed one is refused.
    expect(report.callbacks.failed).toBeGreaterThanOrEqual(report.callbackFaultsByKind["mis-sign"]);
    expect(report.resumes.resumedByCallback).toBeGreaterThan(0);
    expect(report.resumedTwice).toEqual([]);
  });

  it("diagnoses every failure as the error table says, and only with errors the faults explain", () => {
    expect(report.tableMismatches).toEqual([]);
    expect(report.unexplained).toEqual([]);
  });

  it("never lets a credential out", () => {
    expect(report.leaks).toEqual([]);
    expect(report.scanned.texts).toBeGreaterThan(500);
  });

  it("faults the video downloads too, and every succeeded job's video is in the bucket with the bytes served", () => {
    const kinds = report.faultsByKind;
    expect(kinds["download-dropped"] + kinds["download-truncated"] + kinds["download-stalled"]).toBeGreaterThan(0);
    expect(report.checks.find((check) => check.name === "archives")).toMatchObject({ ok: true, detail: expect.stringMatching(/^[1-9]\d* archived videos checked/) });
  });

  it("passes every check and ends with the one-line verdict", () => {
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(formatChaosReport(report).at(-1)).toBe(
      `chaos: 60 jobs, ${report.faults} faults and ${report.callbackFaults} callback faults injected, 0 lost, 0 duplicates, 0 leaks, 0 resumed twice`,
    );
  });
});

describe("a chaos run in which a Submit also creates a task without an external_task_id, and one for no job", () => {
  let report: ChaosReport;
  beforeAll(async () => {
    let staged = false;
    report = await runChaos({
      jobs: 4,
      faultRate: 0,
      seed: 11,
      batchSize: 4,
      // A defect as a Lambda would have it: with its own environment's URL and credentials, it creates twice.
      aroundInvoke: async (state, invoke, _execution, environment) => {
        const answer = await invoke();
        if (state === "Submit" && !staged) {
          staged = true;
          const credentials = credentialsFromEnvironment(environment);
          if (!credentials) throw new Error("the run put no Kling credentials in the environment");
          const kling = new KlingClient({ baseUrl: environment[ENV.klingBaseUrl] ?? "", credentials });
          await kling.createTask("text2video", { model_name: "kling-v2-6", prompt: chaosJobPrompt(2, "the same video once more"), mode: "std", duration: "5" });
          await kling.createTask("text2video", { model_name: "kling-v2-6", prompt: "a video nobody asked for", mode: "std", duration: "5" });
        }
        return answer;
      },
    });
  }, 60_000);

  it("counts the second task against its job and the stray one against no job, and fails the duplicates check", () => {
    expect(report.tasksCreated).toBe(6);
    expect(report.duplicates).toBe(1);
    expect(report.duplicateTasks).toEqual([expect.stringMatching(/^batch-chaos-s11-b0-2: 2 tasks \((\S+, no external_task_id|no external_task_id, \S+)\)$/)]);
    expect(report.tasksForNoJob).toEqual([expect.stringMatching(/external_task_id none, prompt "a video nobody asked for"\) belongs to no job$/)]);
    expect(report.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(["duplicates"]);
    expect(report.ok).toBe(false);
    expect(formatChaosReport(report).at(-1)).toBe(`chaos: 4 jobs, 0 faults and 0 callback faults injected, 0 lost, 1 duplicates, 0 leaks, 0 resumed twice`);
  });
});

describe("a chaos run in which one Lambda logs the SecretKey it was given", () => {
  /** The canary: the test knows the credentials the run uses, and plants one where it must be caught. */
  const canary = randomSecrets();
  let report: ChaosReport;
  let planted = "";
  beforeAll(async () => {
    report = await runChaos({
      jobs: 4,
      faultRate: 0,
      seed: 12,
      batchSize: 4,
      secrets: canary,
      aroundInvoke: async (state, invoke, _execution, environment) => {
        if (state === "Submit" && planted === "") {
          // What a careless debug line in a handler would write to CloudWatch.
          planted = environment[LOCAL_CREDENTIAL_VARIABLES.secretKey] ?? "";
          console.log(JSON.stringify({ level: "DEBUG", message: "signing the Kling token", secretKey: planted }));
        }
        return invoke();
      },
    });
  }, 60_000);

  it("finds exactly that one leak, in that log line, and fails only the leak check", () => {
    expect(planted).toBe(canary.secretKey);
    expect(report.leaks).toEqual([{ source: expect.stringMatching(/^log line \d+$/), what: "the SecretKey" }]);
    expect(report.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(["leaks"]);
    expect(formatChaosReport(report).at(-1)).toBe("chaos: 4 jobs, 0 faults and 0 callback faults injected, 0 lost, 0 duplicates, 1 leaks, 0 resumed twice");
  });
});

describe("a chaos run in which every callback comes twice", () => {
  const run = (callbackClaimsKept: boolean) =>
    runChaos({ jobs: 4, faultRate: 0, seed: 13, batchSize: 4, callbackFaultRate: 1, callbackFaultKinds: ["duplicate"], callbackClaimsKept });
  let claimsKept: ChaosReport;
  let claimsForgotten: ChaosReport;
  beforeAll(async () => {
    claimsKept = await run(true);
    claimsForgotten = await run(false);
  }, 60_000);

  it("resumes each job once: the first callback of the end claims it and answers the wait, the copy changes nothing", () => {
    expect(claimsKept.callbackFaultsByKind.duplicate).toBeGreaterThanOrEqual(4);
    expect(claimsKept.resumes).toMatchObject({ waits: 4, resumes: 4, resumedByCallback: 4 });
    expect(claimsKept.resumedTwice).toEqual([]);
    expect(claimsKept.ok).toBe(true);
  });

  it("fails only the resumed-twice check when the callback function ignores its claim: each copy of an end answers the wait again", () => {
    expect(claimsForgotten.resumedTwice).toEqual(
      [0, 1, 2, 3].map((index) => `batch-chaos-s13-b0-${index}: 1 WaitForVideo tokens answered again after their answer, 2 callbacks acted on its task's end`),
    );
    expect(claimsForgotten.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(["resumed twice"]);
    expect(formatChaosReport(claimsForgotten).at(-1)).toBe(
      `chaos: 4 jobs, 0 faults and ${claimsForgotten.callbackFaults} callback faults injected, 0 lost, 0 duplicates, 0 leaks, 4 resumed twice`,
    );
  });
});

describe("a chaos run in which every release a job's workflow makes crashes between its writes", () => {
  const run = (statusChangeBackstop: boolean, reconciliation: boolean) =>
    runChaos({ jobs: 12, faultRate: 0.2, seed: 4242, batchSize: 12, klingConcurrency: 20, lostReleaseCrashes: "every-attempt", statusChangeBackstop, reconciliation });
  let withBackstop: ChaosReport;
  let bothLost: ChaosReport;
  let bothLostUnreconciled: ChaosReport;
  beforeAll(async () => {
    withBackstop = await run(true, false);
    bothLost = await run(false, true);
    bothLostUnreconciled = await run(false, false);
  }, 180_000);

  it("loses those releases for good: the jobs' Poll fails with the crash", () => {
    expect(withBackstop.faultsByKind["lost-release"]).toBeGreaterThan(0);
    expect(withBackstop.failuresByError["Runtime.ExitError"]).toBe(withBackstop.faultsByKind["lost-release"]);
  });

  it("leaves nothing held when the status-change backstop runs, even with no reconciliation", () => {
    expect(withBackstop.reconciliation).toEqual({ runs: 0, released: 0 });
    expect(withBackstop.ledgerHeld).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
    expect(withBackstop.checks.filter((check) => !check.ok)).toEqual([]);
  });

  it("leaves nothing held within one reconciliation period when the release and the backstop are both lost: the reconciliation frees each ended execution's holds", () => {
    const stopped = bothLost.faultsByKind["stopped-holding-slot"] + bothLost.faultsByKind["timed-out-holding-slot"];
    expect(bothLost.reconciliation.runs).toBeGreaterThan(0);
    expect(bothLost.reconciliation.released).toBe(bothLost.faultsByKind["lost-release"] + stopped);
    expect(bothLost.ledgerHeld).toEqual({ slotHolders: [], waiters: 0, reservedUnits: 0 });
    expect(bothLost.checks.filter((check) => !check.ok)).toEqual([]);
  });

  it("fails the ledger check with the release, the backstop and the reconciliation all off: the lost releases' slots (and the stopped job's) stay held", () => {
    const stopped = bothLostUnreconciled.faultsByKind["stopped-holding-slot"] + bothLostUnreconciled.faultsByKind["timed-out-holding-slot"];
    expect(bothLostUnreconciled.ledgerHeld.slotHolders).toHaveLength(bothLostUnreconciled.faultsByKind["lost-release"] + stopped);
    expect(bothLostUnreconciled.ledgerHeld.reservedUnits).toBeGreaterThan(0);
    expect(bothLostUnreconciled.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(["ledger"]);
    expect(bothLostUnreconciled.checks.find((check) => check.name === "ledger")?.detail).toMatch(/ \(no reconciliation\)/);
    expect(bothLostUnreconciled.ok).toBe(false);
  });
});
