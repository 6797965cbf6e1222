/**
 * The ledger's cost per generation does not grow with the queue: one generation's operations
 * (reserve, queue and look again, the API's position and cap reads, a release handing its slot
 * over) cost the same DynamoDB units with 10 or 1,000 generations already waiting. The bench
 * (`npm run bench`) measures up to 10,000.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { LEDGER_OPERATIONS, type LedgerUnitsAt, ledgerUnitsTarget, measureLedgerUnits } from "#local/bench/ledger-units";

let short: LedgerUnitsAt;
let long: LedgerUnitsAt;

beforeAll(async () => {
  [short, long] = (await measureLedgerUnits([10, 1_000])) as [LedgerUnitsAt, LedgerUnitsAt];
}, 240_000);

describe("one generation's ledger units, with 10 and with 1,000 generations waiting", () => {
  it("are the same for every operation: none reads the queue beyond its head", () => {
    for (const { key } of LEDGER_OPERATIONS) {
      expect(long.operations[key], key).toEqual(short.operations[key]);
      expect(short.operations[key].reads + short.operations[key].writes, key).toBeGreaterThan(0);
    }
  });

  it("read a waiter's position (its place, the counters, the head) and the queue's length (the counters, the head) by key, and write nothing", () => {
    expect(long.operations.position).toMatchObject({ reads: 3, writes: 0 });
    expect(long.operations.length).toMatchObject({ reads: 2, writes: 0 });
  });

  it("meet the bench's target: flat within 10%", () => {
    expect(ledgerUnitsTarget([short, long])).toMatchObject({ met: true });
  });
});
