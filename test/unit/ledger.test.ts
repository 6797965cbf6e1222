/**
 * The ledger's DynamoDB adapter against dynalite (DynamoDB's API in memory): slots, the queue
 * and credit reservations, each with single-item conditional writes; and, with a mocked
 * client, what it does when DynamoDB refuses a condition or throttles.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoDbLedger } from "#lambdas/ledger/dynamodb-ledger";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const arn = (name: string) => dynalite.arn(name);
const holder = (name: string, redriveCount = 0) => ({ executionArn: arn(name), redriveCount });

describe("Kling slots", () => {
  it("are taken up to the limit; past it the answer is no, and a holder asking again keeps its one slot", async () => {
    const { ledger } = dynalite;
    for (const name of ["a", "b", "c"]) expect(await ledger.takeSlot(holder(name), 3, 1)).toBe(true);
    expect(await ledger.takeSlot(holder("d"), 3, 2)).toBe(false);
    expect(await ledger.takeSlot(holder("b"), 3, 3)).toBe(true);
    expect((await ledger.holdings()).slotHolders).toHaveLength(3);
  });

  it("are never handed out past the limit when 20 executions ask at once", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => dynalite.ledger.takeSlot(holder(`e${index}`), 5, 1)));
    expect(answers.filter(Boolean)).toHaveLength(5);
    expect((await dynalite.ledger.holdings()).slotHolders).toHaveLength(5);
  });

  it("are given back once: a second release of the same execution frees nothing", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("a"), 1, 1);
    expect(await ledger.giveBackSlot(arn("a"))).toBe(true);
    expect(await ledger.giveBackSlot(arn("a"))).toBe(false);
    expect(await ledger.takeSlot(holder("b"), 1, 2)).toBe(true);
  });

  it("taken again after a redrive are not freed by a late release for the run before it", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("a", 1), 5, 1);
    expect(await ledger.giveBackSlot(arn("a"), 0)).toBe(false);
    expect(await ledger.giveBackSlot(arn("a"), 1)).toBe(true);
  });
});

describe("the queue", () => {
  it("lists waiters oldest first; a waiter parking again gets its new token and keeps its place", async () => {
    const { ledger } = dynalite;
    await ledger.enqueue(holder("first"), "token-1", 100);
    await ledger.enqueue(holder("second"), "token-2", 200);
    const again = await ledger.enqueue(holder("first"), "token-1b", 300);
    expect(again).toMatchObject({ enqueuedAt: 100, taskToken: "token-1b" });
    expect((await ledger.waiters()).map((waiter) => [waiter.executionArn, waiter.taskToken])).toEqual([
      [arn("first"), "token-1b"],
      [arn("second"), "token-2"],
    ]);
    expect(await ledger.waiters(1)).toHaveLength(1);
  });

  it("is left once: whoever removes an entry by its token is the only one to answer it", async () => {
    const { ledger } = dynalite;
    await ledger.enqueue(holder("a"), "token-new", 100);
    expect(await ledger.leaveQueue(arn("a"), "token-old")).toBeUndefined();
    expect(await ledger.leaveQueue(arn("a"), "token-new")).toMatchObject({ executionArn: arn("a"), taskToken: "token-new" });
    expect(await ledger.leaveQueue(arn("a"))).toBeUndefined();
    expect((await ledger.holdings()).waiters).toBe(0);
  });
});

describe("credit reservations", () => {
  it("let concurrent jobs reserve only what the packs hold: three 40-unit jobs on 100 units, two are reserved", async () => {
    const answers = await Promise.all(["a", "b", "c"].map((name) => dynalite.ledger.reserveCredits(arn(name), 40, 100, 1)));
    expect(answers.filter((answer) => answer.reserved)).toHaveLength(2);
    const refused = answers.find((answer) => !answer.reserved);
    expect(refused?.reservedByOthers).toBe(80);
    for (const name of ["a", "b", "c"]) await dynalite.ledger.settleCredits(arn(name));
    expect((await dynalite.ledger.holdings()).reservedUnits).toBe(0);
  });

  it("are idempotent: a retry or a redrive that reserves again holds one reservation", async () => {
    const { ledger } = dynalite;
    expect(await ledger.reserveCredits(arn("a"), 35, 100, 1)).toEqual({ reserved: true, reservedByOthers: 0 });
    expect(await ledger.reserveCredits(arn("a"), 35, 50, 2)).toEqual({ reserved: true, reservedByOthers: 0 });
    expect((await ledger.holdings()).reservedUnits).toBe(35);
    expect(await ledger.settleCredits(arn("a"))).toBe(35);
    expect(await ledger.settleCredits(arn("a"))).toBe(0);
  });

  it("add up fractional prices exactly", async () => {
    const { ledger } = dynalite;
    for (const name of ["a", "b", "c"]) await ledger.reserveCredits(arn(name), 0.1, 10, 1);
    expect(await ledger.reserveCredits(arn("d"), 0.2, 0.5, 1)).toEqual({ reserved: true, reservedByOthers: 0.3 });
    for (const name of ["a", "b", "c", "d"]) await ledger.settleCredits(arn(name));
    expect((await ledger.holdings()).reservedUnits).toBe(0);
  });
});

describe("what is in flight", () => {
  it("lists every slot holder, waiter and credit reservation by execution, each since when, oldest first, and changes nothing", async () => {
    const { ledger } = dynalite;
    await ledger.takeSlot(holder("late-holder"), 5, 300);
    await ledger.takeSlot(holder("early-holder"), 5, 100);
    await ledger.enqueue(holder("second-waiter"), "token-2", 250);
    await ledger.enqueue(holder("first-waiter"), "token-1", 150);
    await ledger.reserveCredits(arn("early-holder"), 10, 1_000_000, 90);
    await ledger.reserveCredits(arn("second-waiter"), 5, 1_000_000, 240);

    const inFlight = await dynalite.inFlight.inFlight();
    expect(inFlight.holders).toEqual([
      { executionArn: arn("early-holder"), since: 100 },
      { executionArn: arn("late-holder"), since: 300 },
    ]);
    expect(inFlight.waiters).toEqual([
      { executionArn: arn("first-waiter"), since: 150 },
      { executionArn: arn("second-waiter"), since: 250 },
    ]);
    // The credits item is the file's: earlier tests' reservations are there too.
    expect(inFlight.reservations.filter((entry) => entry.executionArn.startsWith(arn("")))).toEqual([
      { executionArn: arn("early-holder"), since: 90 },
      { executionArn: arn("second-waiter"), since: 240 },
    ]);
    expect(await dynalite.inFlight.inFlight()).toEqual(inFlight);
    expect((await ledger.holdings()).slotHolders).toHaveLength(2);
  });

  it("reads every page of the queue", async () => {
    const { ledger } = dynalite;
    // Long task tokens fill a 1 MB page of the Query sooner: 120 waiters of 10 KB take two.
    for (let index = 0; index < 120; index++) await ledger.enqueue(holder(`waiter-${index}`), `token-${index}-${"y".repeat(10_000)}`, 1000 + index);
    const { waiters } = await dynalite.inFlight.inFlight();
    expect(waiters).toHaveLength(120);
    expect(waiters.map((waiter) => waiter.since)).toEqual(Array.from({ length: 120 }, (_, index) => 1000 + index));
  });
});

describe("requester notifications", () => {
  const id = (name: string) => `msg_${arn(name)}`;

  it("are claimed by one sender at a time, and once delivered never claimed again", async () => {
    const { ledger } = dynalite;
    expect(await ledger.claimNotification(id("n1"), "first", 1_000, 61_000)).toBe("claimed");
    expect(await ledger.claimNotification(id("n1"), "second", 2_000, 62_000)).toBe("in-progress");
    await ledger.settleNotification(id("n1"), "first", true, 86_400_000);
    expect(await ledger.claimNotification(id("n1"), "second", 3_000, 63_000)).toBe("delivered");
    // Long after the lease: a delivered notification stays delivered.
    expect(await ledger.claimNotification(id("n1"), "third", 500_000, 560_000)).toBe("delivered");
  });

  it("are claimed again once a failed sender gives its claim up, or once its lease lapsed", async () => {
    const { ledger } = dynalite;
    expect(await ledger.claimNotification(id("n2"), "first", 1_000, 61_000)).toBe("claimed");
    await ledger.settleNotification(id("n2"), "first", false, 86_400_000);
    expect(await ledger.claimNotification(id("n2"), "second", 2_000, 62_000)).toBe("claimed");
    // The second sender died mid-send: its lease lapses and a retry takes the claim over.
    expect(await ledger.claimNotification(id("n2"), "third", 62_000, 122_000)).toBe("in-progress");
    expect(await ledger.claimNotification(id("n2"), "third", 62_001, 122_001)).toBe("claimed");
    // The second sender's late give-up does not remove the third's claim.
    await ledger.settleNotification(id("n2"), "second", false, 86_400_000);
    expect(await ledger.claimNotification(id("n2"), "fourth", 63_000, 123_000)).toBe("in-progress");
  });

  it("let exactly one of 10 concurrent senders claim the same notification", async () => {
    const claims = await Promise.all(Array.from({ length: 10 }, (_, index) => dynalite.ledger.claimNotification(id("n3"), `sender-${index}`, 1_000, 61_000)));
    expect(claims.filter((claim) => claim === "claimed")).toHaveLength(1);
  });
});

describe("the adapter when DynamoDB refuses", () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" }));
  const ledger = new DynamoDbLedger(documents, "ledger");
  // This client only: the dynalite tests' client stays real.
  const dynamo = mockClient(documents);
  beforeEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());

  it("reads a failed condition on a slot as 'no slot', not as an error", async () => {
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
    await expect(ledger.takeSlot({ executionArn: "arn:x", redriveCount: 0 }, 5, 1)).resolves.toBe(false);
  });

  it("lets throttling through under its own name, which the state machine's ledger retry policy matches", async () => {
    const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ThrottlingException" });
    dynamo.on(PutCommand).resolves({});
    dynamo.on(UpdateCommand).rejects(throttled);
    await expect(ledger.takeSlot({ executionArn: "arn:x", redriveCount: 0 }, 5, 1)).rejects.toMatchObject({ name: "ThrottlingException" });
  });
});
