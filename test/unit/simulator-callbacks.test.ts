/**
 * The simulator calls back as Kling does: a task created with a callback URL is POSTed there at
 * each change of its status, in its standard's shape, signed the Standard Webhooks way when a
 * secret is configured, and a fault plan can drop, duplicate, delay, reorder or mis-sign the
 * callbacks. Driven on a hand-moved clock (its timers fire as it is moved), with a receiver
 * on 127.0.0.1; signatures are checked here with node:crypto, apart from the simulator's code.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { envelopeSchema, taskSchema, type Task } from "#lambdas/kling/wire";
import { newTaskSchema } from "#lambdas/kling/wire-v2";
import { priceUnits } from "#lambdas/schemas/pricing";
import { startSimulator, type CallbackLogEntry, type CallbackScheduler, type ScenarioName, type Simulator, type SimulatorOptions } from "#local/simulator/index";
import { GENERATION_FAILED_MESSAGE, LATE_CALLBACK_SECONDS } from "#local/simulator/scenarios";
import { call, manualClock, type ManualClock } from "#local/simulator/test-support";

const GENERATION_SECONDS = 60;
/** A task is `processing` after a tenth of its generation time. */
const PROCESSING_SECONDS = GENERATION_SECONDS / 10;
const SECRET_BYTES = Buffer.from("a test secret of 24 bytes");
const SECRET = `whsec_${SECRET_BYTES.toString("base64")}`;
const PRICE = priceUnits({ model: "kling-v2-5-turbo", mode: "std", duration: "5" });

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly json: unknown;
}

/** A callback receiver on 127.0.0.1 that keeps what it gets and answers `status`. */
interface Receiver {
  readonly url: string;
  readonly received: Received[];
  status: number;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function receiver(): Promise<Receiver> {
  const received: Received[] = [];
  const state = { status: 200 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      received.push({ headers: request.headers, raw, json: JSON.parse(raw) });
      response.writeHead(state.status).end();
    });
  });
  const port = await listening(server);
  return {
    url: `http://127.0.0.1:${port}/kling/callbacks`,
    received,
    get status() {
      return state.status;
    },
    set status(value) {
      state.status = value;
    },
  };
}

async function start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; clock: ManualClock; log: CallbackLogEntry[] }> {
  const clock = manualClock();
  const log: CallbackLogEntry[] = [];
  const sim = await startSimulator({
    clock,
    scheduler: clock,
    generationSeconds: GENERATION_SECONDS,
    maxConcurrentTasks: 100,
    units: 1_000_000,
    onCallback: (entry) => log.push(entry),
    ...options,
  });
  closers.push(() => sim.close());
  return { sim, clock, log };
}

const legacyBody = (externalTaskId: string, callbackUrl?: string, prompt = "a lighthouse in a storm") => ({
  model_name: "kling-v2-5-turbo",
  prompt,
  external_task_id: externalTaskId,
  ...(callbackUrl === undefined ? {} : { callback_url: callbackUrl }),
});

async function create(sim: Simulator, body: object, path = "/v1/videos/text2video"): Promise<unknown> {
  const result = await call(sim, path, { body });
  const envelope = envelopeSchema.parse(result.json);
  expect(envelope.code, envelope.message).toBe(0);
  return envelope.data;
}

/** Moves the clock on and waits for the callbacks it fired to be answered. */
async function advance(sim: Simulator, clock: ManualClock, seconds: number): Promise<void> {
  clock.advanceSeconds(seconds);
  await sim.settleCallbacks();
}

/** Runs one task with a callback URL to its end (or past it). */
async function runTask(sim: Simulator, clock: ManualClock, callbackUrl: string, externalTaskId = "job-1", seconds = GENERATION_SECONDS): Promise<void> {
  await create(sim, legacyBody(externalTaskId, callbackUrl));
  await advance(sim, clock, seconds);
}

const statuses = (received: readonly Received[]) => received.map((r) => taskSchema.parse(r.json).task_status);

/** Standard Webhooks, written here from its spec: HMAC-SHA256 of `{id}.{timestamp}.{body}` with the decoded secret. */
function signatureVerifies(received: Received, key: Buffer): boolean {
  const id = received.headers["webhook-id"];
  const timestamp = received.headers["webhook-timestamp"];
  const signatures = received.headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof signatures !== "string") return false;
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${received.raw}`).digest();
  return signatures.split(" ").some((signature) => {
    const [version, value] = signature.split(",");
    const given = Buffer.from(value ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe("callbacks of a task created with a callback URL", () => {
  it("are POSTed at submitted, processing and succeed, each at the instant the status changes, as the query shows the task then", async () => {
    const target = await receiver();
    const { sim, clock } = await start();
    const createdAt = clock.now();
    await create(sim, legacyBody("job-1", target.url));
    // The create answered before any callback went out; the submitted one goes once the clock's timers run.
    expect(target.received).toEqual([]);
    await advance(sim, clock, 0);
    expect(statuses(target.received)).toEqual(["submitted"]);

    await advance(sim, clock, PROCESSING_SECONDS - 1);
    expect(statuses(target.received)).toEqual(["submitted"]);
    await advance(sim, clock, 1);
    expect(statuses(target.received)).toEqual(["submitted", "processing"]);
    await advance(sim, clock, GENERATION_SECONDS - PROCESSING_SECONDS);
    expect(statuses(target.received)).toEqual(["submitted", "processing", "succeed"]);

    const [submitted, processing, succeed] = target.received.map((r) => taskSchema.parse(r.json));
    expect(submitted).toMatchObject({ task_status: "submitted", task_info: { external_task_id: "job-1" }, created_at: createdAt, updated_at: createdAt });
    expect(processing).toMatchObject({ task_status: "processing", updated_at: createdAt + PROCESSING_SECONDS * 1000 });
    const video = succeed.task_result?.videos?.[0];
    expect(succeed).toMatchObject({ task_status: "succeed", task_status_msg: "", final_unit_deduction: String(PRICE), updated_at: createdAt + GENERATION_SECONDS * 1000 });
    expect(video?.url).toBe(`${sim.baseUrl}/videos/${video?.id}.mp4`);
    expect(target.received.every((r) => r.headers["content-type"] === "application/json")).toBe(true);

    // The last callback is what a query answers once the task has ended.
    const queried = envelopeSchema.parse((await call(sim, "/v1/videos/text2video/job-1")).json).data;
    expect(succeed).toEqual(queried);
    expect(sim.stats.callbacks).toEqual({ sent: 3, failed: 0, dropped: 0, duplicated: 0, delayed: 0, reordered: 0, misSigned: 0 });
  });

  it("of a failed task carry failed and Kling's reason, nothing deducted", async () => {
    const target = await receiver();
    const { sim, clock } = await start({ scenario: "generation-failed" });
    await runTask(sim, clock, target.url);
    expect(statuses(target.received)).toEqual(["submitted", "processing", "failed"]);
    expect(target.received.at(-1)?.json).toMatchObject({ task_status: "failed", task_status_msg: GENERATION_FAILED_MESSAGE, final_unit_deduction: "0" });
  });

  it("of a task that never finishes stop at processing", async () => {
    const target = await receiver();
    const { sim, clock } = await start({ scenario: "poll-timeout" });
    await runTask(sim, clock, target.url, "job-1", 10 * GENERATION_SECONDS);
    expect(statuses(target.received)).toEqual(["submitted", "processing"]);
  });

  it("of a new-standard task (options.callback_url) come in the new standard's shape", async () => {
    const target = await receiver();
    const { sim, clock } = await start();
    await create(sim, { prompt: "a paper boat on a river", options: { external_task_id: "job-new", callback_url: target.url } }, "/text-to-video/kling-3.0-turbo");
    await advance(sim, clock, GENERATION_SECONDS);
    const bodies = target.received.map((r) => newTaskSchema.parse(r.json));
    expect(bodies.map((body) => body.status)).toEqual(["submitted", "processing", "succeeded"]);
    expect(bodies[2]).toMatchObject({ external_id: "job-new", outputs: [{ type: "video", url: expect.stringContaining(`${sim.baseUrl}/videos/`) }] });
  });

  it("are not sent for a task created without a callback URL", async () => {
    const target = await receiver();
    const { sim, clock, log } = await start();
    await create(sim, legacyBody("job-1"));
    await advance(sim, clock, GENERATION_SECONDS);
    expect(target.received).toEqual([]);
    expect(log).toEqual([]);
    expect(sim.stats.callbacks.sent).toBe(0);
  });

  it("are logged, one entry per delivery with the receiver's answer", async () => {
    const target = await receiver();
    const { sim, clock, log } = await start();
    await runTask(sim, clock, target.url);
    expect(log.map((entry) => [entry.taskStatus, entry.status, entry.externalTaskId, entry.url])).toEqual([
      ["submitted", 200, "job-1", target.url],
      ["processing", 200, "job-1", target.url],
      ["succeed", 200, "job-1", target.url],
    ]);
  });

  it("come on time with the simulator's default timers, which look at its clock (no scheduler given)", async () => {
    const target = await receiver();
    const sim = await startSimulator({ generationSeconds: 0.05 });
    closers.push(() => sim.close());
    await create(sim, legacyBody("job-1", target.url));
    await expect.poll(() => statuses(target.received), { timeout: 2000, interval: 10 }).toEqual(["submitted", "processing", "succeed"]);
  });

  it("run each delivery as the scheduler's work, when it has a work() (a virtual clock holds time still meanwhile)", async () => {
    const target = await receiver();
    const clock = manualClock();
    let works = 0;
    const scheduler: CallbackScheduler = {
      after: (seconds, fire) => clock.after(seconds, fire),
      work: (delivery) => {
        works += 1;
        return delivery();
      },
    };
    const { sim } = await start({ clock, scheduler });
    await runTask(sim, clock, target.url);
    expect(works).toBe(3);
    expect(target.received).toHaveLength(3);
  });
});

describe("signed callbacks", () => {
  it("carry webhook-id, webhook-timestamp from the simulated clock, and a v1 signature that verifies with the secret", async () => {
    const target = await receiver();
    const { sim, clock } = await start({ callbackSigningSecret: SECRET });
    const createdAt = clock.now();
    await runTask(sim, clock, target.url);
    expect(target.received).toHaveLength(3);
    for (const received of target.received) {
      expect(signatureVerifies(received, SECRET_BYTES)).toBe(true);
      expect(signatureVerifies(received, Buffer.from("another secret"))).toBe(false);
    }
    expect(target.received.map((r) => Number(r.headers["webhook-timestamp"]))).toEqual(
      [0, PROCESSING_SECONDS, GENERATION_SECONDS].map((seconds) => Math.floor(createdAt / 1000) + seconds),
    );
    expect(new Set(target.received.map((r) => r.headers["webhook-id"])).size).toBe(3);
  });

  it("are unsigned without a secret", async () => {
    const target = await receiver();
    const { sim, clock } = await start();
    await runTask(sim, clock, target.url);
    expect(target.received.map((r) => r.headers["webhook-signature"])).toEqual([undefined, undefined, undefined]);
  });

  it.each(["secret", "whsec_", "whsec_not base64!"])("a signing secret %j that is not whsec_<base64> is refused at start", async (secret) => {
    await expect(startSimulator({ callbackSigningSecret: secret })).rejects.toThrow(/callbackSigningSecret must be whsec_/);
  });
});

describe("callback scenarios", () => {
  async function runScenario(scenario: ScenarioName, seconds = GENERATION_SECONDS) {
    const target = await receiver();
    const run = await start({ scenario, callbackSigningSecret: SECRET });
    await runTask(run.sim, run.clock, target.url, "job-1", seconds);
    return { ...run, target };
  }

  it("callback-lost: submitted and processing arrive, the end never does", async () => {
    const { sim, clock, target, log } = await runScenario("callback-lost");
    await advance(sim, clock, 3600);
    expect(statuses(target.received)).toEqual(["submitted", "processing"]);
    expect(sim.stats.callbacks).toMatchObject({ sent: 2, dropped: 1 });
    expect(log.filter((entry) => entry.fault === "drop")).toMatchObject([{ taskStatus: "succeed", status: undefined, error: "dropped by the fault plan" }]);
  });

  it("callback-duplicated: each callback arrives twice, the same message with the same webhook-id", async () => {
    const { sim, target } = await runScenario("callback-duplicated");
    expect(statuses(target.received)).toEqual(["submitted", "submitted", "processing", "processing", "succeed", "succeed"]);
    for (let i = 0; i < 6; i += 2) {
      expect(target.received[i + 1].headers["webhook-id"]).toBe(target.received[i].headers["webhook-id"]);
      expect(target.received[i + 1].raw).toBe(target.received[i].raw);
      expect(signatureVerifies(target.received[i + 1], SECRET_BYTES)).toBe(true);
    }
    expect(sim.stats.callbacks).toMatchObject({ sent: 6, duplicated: 3 });
  });

  it(`callback-late: the end's callback comes ${LATE_CALLBACK_SECONDS} simulated seconds after the task ended, timestamped then`, async () => {
    const { sim, clock, target } = await runScenario("callback-late");
    const endedAt = clock.now();
    expect(statuses(target.received)).toEqual(["submitted", "processing"]);
    await advance(sim, clock, LATE_CALLBACK_SECONDS - 1);
    expect(statuses(target.received)).toEqual(["submitted", "processing"]);
    await advance(sim, clock, 1);
    expect(statuses(target.received)).toEqual(["submitted", "processing", "succeed"]);
    const late = target.received[2];
    expect(Number(late.headers["webhook-timestamp"])).toBe(Math.floor(endedAt / 1000) + LATE_CALLBACK_SECONDS);
    expect(taskSchema.parse(late.json).updated_at).toBe(endedAt);
    expect(sim.stats.callbacks).toMatchObject({ sent: 3, delayed: 1 });
  });

  it("callback-reordered: processing arrives after succeed", async () => {
    const { sim, target } = await runScenario("callback-reordered");
    expect(statuses(target.received)).toEqual(["submitted", "succeed", "processing"]);
    expect(sim.stats.callbacks).toMatchObject({ sent: 3, reordered: 1 });
  });

  it("callback-missigned: every callback carries a signature that does not verify with the secret", async () => {
    const { sim, target } = await runScenario("callback-missigned");
    expect(target.received).toHaveLength(3);
    for (const received of target.received) {
      expect(received.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(signatureVerifies(received, SECRET_BYTES)).toBe(false);
    }
    expect(sim.stats.callbacks).toMatchObject({ sent: 3, misSigned: 3 });
  });

  it("a prompt tagged [scenario:callback-lost] loses only its own task's end callback", async () => {
    const target = await receiver();
    const { sim, clock } = await start();
    await create(sim, legacyBody("tagged", target.url, "a fox [scenario:callback-lost]"));
    await create(sim, legacyBody("plain", target.url));
    await advance(sim, clock, GENERATION_SECONDS);
    const ends = target.received.map((r) => taskSchema.parse(r.json)).filter((task: Task) => task.task_status === "succeed");
    expect(ends.map((task) => task.task_info?.external_task_id)).toEqual(["plain"]);
  });
});

describe("seeded callback faults (callbackFaults)", () => {
  const JOBS = 40;

  async function runJobs(callbackFaults: SimulatorOptions["callbackFaults"]) {
    const target = await receiver();
    const { sim, clock } = await start({ callbackFaults });
    for (let job = 0; job < JOBS; job++) await create(sim, legacyBody(`job-${job}`, target.url));
    await advance(sim, clock, GENERATION_SECONDS + 600);
    const arrived = new Set(target.received.map((r) => taskSchema.parse(r.json)).map((task) => `${task.task_info?.external_task_id}|${task.task_status}`));
    return { sim, target, arrived };
  }

  it("20% lost: about a fifth of the callbacks are dropped, the same ones for the same seed", async () => {
    const first = await runJobs({ seed: 7, rate: 0.2, kinds: ["drop"] });
    const again = await runJobs({ seed: 7, rate: 0.2, kinds: ["drop"] });
    const other = await runJobs({ seed: 8, rate: 0.2, kinds: ["drop"] });
    const { dropped, sent } = first.sim.stats.callbacks;
    expect(dropped + sent).toBe(3 * JOBS);
    expect(dropped).toBeGreaterThan(0.1 * 3 * JOBS);
    expect(dropped).toBeLessThan(0.3 * 3 * JOBS);
    expect(first.target.received).toHaveLength(sent);
    expect([...again.arrived].sort()).toEqual([...first.arrived].sort());
    expect([...other.arrived].sort()).not.toEqual([...first.arrived].sort());
  });

  it("replace the scenario's: rate 0 sends every callback as it is, rate 1 faults every one with the kinds given", async () => {
    const none = await runJobs({ seed: 1, rate: 0 });
    expect(none.sim.stats.callbacks).toMatchObject({ sent: 3 * JOBS, dropped: 0, duplicated: 0, delayed: 0, reordered: 0, misSigned: 0 });
    const all = await runJobs({ seed: 1, rate: 1, kinds: ["duplicate", "mis-sign"] });
    const { duplicated, misSigned, sent } = all.sim.stats.callbacks;
    expect(duplicated + misSigned).toBe(3 * JOBS);
    expect(duplicated).toBeGreaterThan(0);
    expect(misSigned).toBeGreaterThan(0);
    expect(sent).toBe(2 * duplicated + misSigned);
  });

  it.each([
    [{ seed: 1.5, rate: 0.2 }, /seed must be a whole number/],
    [{ seed: 1, rate: 2 }, /rate must be from 0 to 1/],
    [{ seed: 1, rate: 0.2, kinds: [] }, /kinds must name at least one fault/],
    [{ seed: 1, rate: 0.2, kinds: ["lose"] }, /lose is not one of drop, duplicate, delay, reorder, mis-sign/],
    [{ seed: 1, rate: 0.2, delaySeconds: -1 }, /delaySeconds must be 0 or more/],
  ])("refuses %j at start", async (callbackFaults, message) => {
    await expect(startSimulator({ callbackFaults: callbackFaults as SimulatorOptions["callbackFaults"] })).rejects.toThrow(message);
  });
});

describe("a receiver that is not there", () => {
  it("is counted as failed deliveries, and the simulator goes on answering and running the task", async () => {
    const gone = createServer();
    const port = await listening(gone);
    await closers.pop()?.();
    const { sim, clock, log } = await start();
    await runTask(sim, clock, `http://127.0.0.1:${port}/kling/callbacks`);
    expect(sim.stats.callbacks).toMatchObject({ sent: 3, failed: 3 });
    expect(log.map((entry) => [entry.status, entry.error])).toEqual(Array(3).fill([undefined, expect.stringMatching(/ECONNREFUSED/)]));
    const queried = taskSchema.parse(envelopeSchema.parse((await call(sim, "/v1/videos/text2video/job-1")).json).data);
    expect(queried.task_status).toBe("succeed");
  });

  it("nor one that answers 500: counted as failed, not retried", async () => {
    const target = await receiver();
    target.status = 500;
    const { sim, clock } = await start();
    await runTask(sim, clock, target.url);
    expect(target.received).toHaveLength(3);
    expect(sim.stats.callbacks).toMatchObject({ sent: 3, failed: 3 });
  });

  it("nor a callback URL off this machine: not sent at all, counted as failed", async () => {
    const { sim, clock, log } = await start();
    await runTask(sim, clock, "https://hooks.example.com/kling");
    expect(sim.stats.callbacks).toMatchObject({ sent: 0, failed: 3 });
    expect(log[0].error).toMatch(/only to 127\.0\.0\.1 or localhost/);
  });

  it("a receiver that never answers holds up nothing; closing the simulator aborts its delivery", async () => {
    const hanging = createServer(() => undefined);
    const port = await listening(hanging);
    const { sim, clock } = await start();
    await create(sim, legacyBody("job-1", `http://127.0.0.1:${port}/kling/callbacks`));
    clock.advanceSeconds(GENERATION_SECONDS);
    const queried = taskSchema.parse(envelopeSchema.parse((await call(sim, "/v1/videos/text2video/job-1")).json).data);
    expect(queried.task_status).toBe("succeed");
    // The task's later callbacks wait behind the first; once closed, the simulator sends nothing more.
    await closers.pop()?.();
    await sim.settleCallbacks();
    expect(sim.stats.callbacks).toMatchObject({ sent: 1, failed: 1 });
  });
});
