/**
 * Adaptive admission on the DynamoDB adapter against dynalite: a 1303 gives the refused slot
 * back and lowers the effective limit in one write, grants respect the limit, a probe takes one
 * slot past it after the quiet period; and BackToQueue puts the refused generation back at its
 * first place, so the next free slot is its own, not a later arrival's.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { TaskResponses } from "#lambdas/common/task-responses";
import { backToQueue, releaseHolds, type SlotPorts, waitForSlot } from "#lambdas/ledger/slots";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const arn = (name: string) => dynalite.arn(name);
const holder = (name: string) => ({ executionArn: arn(name), redriveCount: 0 });
const QUIET_MS = 60_000;
const limits = (ceiling: number) => ({ ceiling, quietMs: QUIET_MS });

describe("the effective limit in the ledger", () => {
  it("drops on a 1303 to what the others hold, in the same write that gives the refused slot back; grants then respect it", async () => {
    const { ledger } = dynalite;
    for (const name of ["a", "b", "c", "d"]) expect(await ledger.takeSlot(holder(name), 5, 1)).toBe(true);
    expect(await ledger.giveBackRefusedSlot(arn("d"), limits(5), 2)).toEqual({ given: true, limit: 3 });
    expect(await ledger.takeSlot(holder("e"), 5, 3)).toBe(false);
    expect(await ledger.admission(5)).toEqual({ limit: 3, changedAt: 2, held: 3 });
    // A repeat (a retry after a crash) gives nothing back and lowers nothing.
    expect(await ledger.giveBackRefusedSlot(arn("d"), limits(5), 4)).toEqual({ given: false, limit: 3 });
    expect((await ledger.admission(5)).changedAt).toBe(2);
  });

  it("counts two refusals at once: each is lowered to what is left without it", async () => {
    const { ledger } = dynalite;
    for (const name of ["a", "b", "c", "d", "e"]) await ledger.takeSlot(holder(name), 5, 1);
    await Promise.all([ledger.giveBackRefusedSlot(arn("d"), limits(5), 2), ledger.giveBackRefusedSlot(arn("e"), limits(5), 2)]);
    expect(await ledger.admission(5)).toMatchObject({ limit: 3, held: 3 });
  });

  it("never drops below 1; a refusal that leaves nothing held pauses grants for the quiet period", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("a"), 5, 1);
    expect(await ledger.giveBackRefusedSlot(arn("a"), limits(5), 1_000)).toEqual({ given: true, limit: 1 });
    expect(await ledger.takeSlot(holder("b"), 5, 1_000 + QUIET_MS - 1)).toBe(false);
    expect(await ledger.takeSlot(holder("b"), 5, 1_000 + QUIET_MS)).toBe(true);
    expect(await ledger.takeSlot(holder("c"), 5, 1_000 + QUIET_MS)).toBe(false);
  });

  it("is probed one slot past, once quiet for the quiet period and only while all its slots are held; never past the ceiling", async () => {
    const { ledger } = dynalite;
    for (const name of ["a", "b", "c"]) await ledger.takeSlot(holder(name), 4, 1);
    await ledger.giveBackRefusedSlot(arn("c"), limits(4), 1_000);
    expect(await ledger.probeSlot(holder("d"), limits(4), 1_000 + QUIET_MS - 1)).toBe(false);
    expect(await ledger.probeSlot(holder("d"), limits(4), 1_000 + QUIET_MS)).toBe(true);
    expect(await ledger.admission(4)).toEqual({ limit: 3, changedAt: 1_000 + QUIET_MS, held: 3 });
    // The probe restarts the quiet period.
    expect(await ledger.probeSlot(holder("e"), limits(4), 1_000 + QUIET_MS + 1)).toBe(false);
    expect(await ledger.probeSlot(holder("e"), limits(4), 1_000 + 2 * QUIET_MS)).toBe(true);
    expect(await ledger.admission(4)).toMatchObject({ limit: 4, held: 4 });
    expect(await ledger.probeSlot(holder("f"), limits(4), 1_000 + 4 * QUIET_MS)).toBe(false);
    // Below a full limit a probe is not the way: an ordinary grant is.
    await ledger.giveBackSlot(arn("a"));
    expect(await ledger.probeSlot(holder("f"), limits(8), 1_000 + 6 * QUIET_MS)).toBe(false);
  });
});

/** Task tokens as Step Functions keeps them: answered once. */
class RecordedResponses implements TaskResponses {
  readonly answered = new Map<string, { queuedSeconds: number; queuedSince: number }>();
  async succeed(taskToken: string, output: string): Promise<void> {
    if (this.answered.has(taskToken)) throw Object.assign(new Error(`token ${taskToken} was answered`), { name: "TaskTimedOut" });
    this.answered.set(taskToken, JSON.parse(output) as { queuedSeconds: number; queuedSince: number });
  }
  async fail(): Promise<void> {
    throw new Error("the slot functions never fail a token");
  }
}

describe("BackToQueue", () => {
  let responses: RecordedResponses;
  let clockMs: number;
  let ports: SlotPorts;
  const START = 1_000_000;
  const refused = { Error: "Kling.ConcurrencyLimited", Cause: "parallel task over resource pack limit" };

  beforeEach(() => {
    responses = new RecordedResponses();
    clockMs = START;
    ports = { ledger: dynalite.ledger, responses, settings: { limit: 3, queue: { parkSeconds: 900, deadlineSeconds: 2700, probeSeconds: QUIET_MS / 1000 } }, now: () => clockMs };
  });
  const wait = (name: string, token = `token-${name}`) => waitForSlot({ taskToken: token, executionArn: arn(name), redriveCount: 0 }, ports);
  const back = (name: string, token: string, refusal = refused) =>
    backToQueue({ taskToken: token, executionArn: arn(name), redriveCount: 0, queuedSince: START, refusal }, ports);

  it("puts a refused generation back at its first place: the next free slot is its own, not a later arrival's", async () => {
    for (const name of ["a", "b", "c"]) expect(await wait(name)).toBe("acquired");
    clockMs += 1_000;
    expect(await wait("d")).toBe("queued");
    expect(await wait("e")).toBe("queued");
    clockMs += 1_000;
    // Kling refuses c's create: c gives its slot back (limit 2) and queues at its arrival, ahead of d and e.
    expect(await back("c", "token-c-back")).toBe("queued");
    expect((await dynalite.ledger.waiters()).map((waiter) => waiter.executionArn)).toEqual([arn("c"), arn("d"), arn("e")]);
    expect((await dynalite.ledger.admission(3)).limit).toBe(2);
    clockMs += 30_000;
    expect((await releaseHolds(arn("a"), ports)).woken).toBe(1);
    expect(responses.answered.get("token-c-back")).toEqual({ queuedSeconds: 32, queuedSince: START });
    expect(responses.answered.has("token-d")).toBe(false);
  });

  it("with a rate limit past Submit's retries, gives the slot back without lowering the limit, and takes it again at once", async () => {
    for (const name of ["a", "b"]) await wait(name);
    expect(await back("b", "token-b-back", { Error: "Kling.RateLimited", Cause: "Too many requests" })).toBe("acquired");
    expect(await dynalite.ledger.admission(3)).toMatchObject({ limit: 3, changedAt: undefined, held: 2 });
  });

  it("when the refused generation was all the pipeline held, waits the quiet period, then its own look (its park's timeout) takes the slot", async () => {
    await wait("a");
    expect(await back("a", "token-a-back-1")).toBe("queued");
    // A later arrival does not take the slot ahead of it.
    expect(await wait("b")).toBe("queued");
    clockMs += QUIET_MS;
    expect(await back("a", "token-a-back-2")).toBe("acquired");
    expect(responses.answered.get("token-a-back-2")).toEqual({ queuedSeconds: 60, queuedSince: START });
    expect(responses.answered.has("token-b")).toBe(false);
  });

  it("killed between giving its slot back and queueing, is run again: it finds no slot to give back, lowers nothing again and keeps its place", async () => {
    for (const name of ["a", "b", "c"]) await wait(name);
    clockMs += 1_000;
    await wait("d");
    // The first run gave the slot back, then died before it queued.
    await dynalite.ledger.giveBackRefusedSlot(arn("c"), { ceiling: 3, quietMs: QUIET_MS }, clockMs);
    expect((await dynalite.ledger.waiters()).map((waiter) => waiter.executionArn)).toEqual([arn("d")]);
    clockMs += 5_000;
    expect(await back("c", "token-c-again")).toBe("queued");
    expect((await dynalite.ledger.waiters()).map((waiter) => waiter.executionArn)).toEqual([arn("c"), arn("d")]);
    expect(await dynalite.ledger.admission(3)).toEqual({ limit: 2, changedAt: START + 1_000, held: 2 });
  });

  it("probes when the quiet period has passed: a release hands the head one slot past the limit", async () => {
    for (const name of ["a", "b", "c"]) await wait(name);
    await back("c", "token-c-back");
    await wait("d");
    clockMs += QUIET_MS;
    // a's task ends: its slot goes to c, and the probe gives d one more (limit 2 -> 3).
    expect((await releaseHolds(arn("a"), ports)).woken).toBe(2);
    expect(responses.answered.has("token-c-back") && responses.answered.has("token-d")).toBe(true);
    expect(await dynalite.ledger.admission(3)).toMatchObject({ limit: 3, held: 3 });
  });

  it("ends the wait past the queue deadline, counted from the first arrival, with Kling.QueueTimeout", async () => {
    await wait("a");
    clockMs += 2_701_000;
    await expect(back("a", "token-a-late")).rejects.toMatchObject({ name: "Kling.QueueTimeout" });
    expect((await dynalite.ledger.holdings()).waiters).toBe(0);
  });
});
