/**
 * WaitForSlot and the release, on the DynamoDB adapter against dynalite: a free slot is taken
 * at once, a busy account parks the token, a release hands the slot to the oldest waiter by
 * answering its token, and the queue deadline ends a wait with Kling.QueueTimeout.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { TaskResponses } from "#lambdas/common/task-responses";
import { releaseHolds, type SlotPorts, waitForSlot } from "#lambdas/ledger/slots";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const arn = (name: string) => dynalite.arn(name);

/** Task tokens as Step Functions keeps them: answered once; a second answer is TaskTimedOut. */
class RecordedResponses implements TaskResponses {
  readonly answered = new Map<string, string>();
  async succeed(taskToken: string, output: string): Promise<void> {
    if (this.answered.has(taskToken)) throw Object.assign(new Error(`token ${taskToken} was answered`), { name: "TaskTimedOut" });
    this.answered.set(taskToken, output);
  }
  async fail(): Promise<void> {
    throw new Error("the slot functions never fail a token");
  }
}

let responses: RecordedResponses;
let clockMs: number;
let ports: SlotPorts;

beforeEach(() => {
  responses = new RecordedResponses();
  clockMs = 1_000_000;
  ports = { ledger: dynalite.ledger, responses, settings: { limit: 2, queue: { parkSeconds: 60, deadlineSeconds: 600, probeSeconds: 60 } }, now: () => clockMs };
});

const wait = (name: string, token = `token-${name}`) => waitForSlot({ taskToken: token, executionArn: arn(name), redriveCount: 0 }, ports);

describe("WaitForSlot", () => {
  it("answers its own token at once while a slot is free, and parks it when none is", async () => {
    expect(await wait("a")).toBe("acquired");
    expect(await wait("b")).toBe("acquired");
    expect(await wait("c")).toBe("queued");
    expect(JSON.parse(responses.answered.get("token-a") ?? "null")).toEqual({ queuedSeconds: 0, queuedSince: 1_000_000 });
    expect(responses.answered.has("token-c")).toBe(false);
    expect((await dynalite.ledger.waiters()).map((waiter) => waiter.executionArn)).toEqual([arn("c")]);
  });

  it("gives the slot a release frees to the oldest waiter, answering its token with the time it waited", async () => {
    await wait("a");
    await wait("b");
    await wait("c");
    clockMs += 5_000;
    await wait("d");
    clockMs += 25_000;
    const released = await releaseHolds(arn("a"), ports);
    expect(released).toEqual({ slot: true, units: 0, woken: 1 });
    expect(JSON.parse(responses.answered.get("token-c") ?? "null")).toEqual({ queuedSeconds: 30, queuedSince: 1_000_000 });
    expect(responses.answered.has("token-d")).toBe(false);
    expect([...(await dynalite.ledger.holdings()).slotHolders].sort()).toEqual([arn("b"), arn("c")].sort());
  });

  it("is released once: a second release of the same execution frees nothing and wakes no one", async () => {
    await wait("a");
    await wait("b");
    await wait("c");
    await releaseHolds(arn("a"), ports);
    expect(await releaseHolds(arn("a"), ports)).toEqual({ slot: false, units: 0, woken: 0 });
    expect((await dynalite.ledger.holdings()).slotHolders).toHaveLength(2);
  });

  it("after a lost wake-up, looks again when its park times out: it keeps its place and takes the free slot", async () => {
    await wait("a");
    await wait("b");
    await wait("c", "token-c1");
    // A release that crashed after freeing the slot, before waking anyone.
    await dynalite.ledger.giveBackSlot(arn("a"));
    clockMs += 60_000;
    expect(await wait("c", "token-c2")).toBe("acquired");
    expect(JSON.parse(responses.answered.get("token-c2") ?? "null")).toEqual({ queuedSeconds: 60, queuedSince: 1_000_000 });
    expect((await dynalite.ledger.holdings()).waiters).toBe(0);
  });

  it("stops waiting past the queue deadline with Kling.QueueTimeout, and leaves the queue", async () => {
    await wait("a");
    await wait("b");
    await wait("c", "token-c1");
    clockMs += 601_000;
    await expect(wait("c", "token-c2")).rejects.toMatchObject({ name: "Kling.QueueTimeout", message: expect.stringMatching(/601 s .* 2 Kling slots, past the 600 s queue deadline/) });
    expect((await dynalite.ledger.holdings()).waiters).toBe(0);
  });

  it("a redriven execution's slot is not freed by the late status-change event of the run before", async () => {
    await waitForSlot({ taskToken: "t", executionArn: arn("a"), redriveCount: 1 }, ports);
    expect((await releaseHolds(arn("a"), ports, 0)).slot).toBe(false);
    expect((await releaseHolds(arn("a"), ports, 1)).slot).toBe(true);
  });
});
