/**
 * What one generation costs the account ledger in DynamoDB read and write capacity units, with
 * 10, 1,000 or 10,000 generations already waiting: the target is a cost that does not grow with
 * the queue. Each count starts a ledger of its own on dynalite, fills its slots and its queue
 * through the adapter, then runs one generation's ledger operations (the functions' own: the
 * reserve CheckCredits makes, WaitForSlot parking, the API's position and queue-cap reads, a
 * release handing its slot to the oldest waiter) through an adapter whose every request asks
 * for `ReturnConsumedCapacity: "TOTAL"` and is counted by kind. dynalite reports the units of
 * each request that succeeds; a conditional write whose condition fails answers with an error
 * and no units, and is counted here as 1 write unit (DynamoDB charges it the item's size, at
 * least 1: every item here is under 1 KB).
 */
import type { ConsumedCapacity } from "@aws-sdk/client-dynamodb";
import { DEFAULTS } from "#lambdas/common/settings";
import type { TaskResponses } from "#lambdas/common/task-responses";
import { DynamoDbLedger, isConditionFailed } from "#lambdas/ledger/dynamodb-ledger";
import { POWERTOOLS_ENV } from "#lambdas/observability/catalog";
import { releaseHolds, type SlotPorts, waitForSlot } from "#lambdas/ledger/slots";
import { interceptedDocuments, requestKind } from "../ledger/intercepted-documents";
import { startLocalLedger } from "../ledger/local-ledger";
import type { Target } from "./bench-report";

/** The queue lengths the bench measures at. */
export const LEDGER_UNIT_WAITERS = [10, 1_000, 10_000] as const;
/** The most units per generation may grow from the shortest queue to the longest: flat within 10%. */
export const LEDGER_UNITS_FLAT_WITHIN = 0.1;

const SLOTS = 5;
/** Generations filling the queue are written this many at a time. */
const FILL_CONCURRENCY = 25;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const PRICE_UNITS = 10;
const PLENTY_OF_UNITS = 1e9;

/** One ledger operation of a generation, as the functions make it. */
export const LEDGER_OPERATIONS = [
  { key: "reserve", label: "CheckCredits: reserve the price" },
  { key: "wait", label: "WaitForSlot: no slot free, queue, look again" },
  { key: "position", label: "GET /generations/{id}: queue position" },
  { key: "length", label: "POST /generations: queue length (the cap)" },
  { key: "release", label: "release: give back, settle, wake the oldest waiter" },
] as const;
export type LedgerOperation = (typeof LEDGER_OPERATIONS)[number]["key"];

export interface OperationCost {
  readonly reads: number;
  readonly writes: number;
  /** Requests by kind (GetItem, Query, PutItem, UpdateItem, DeleteItem). */
  readonly requests: Readonly<Record<string, number>>;
}

export interface LedgerUnitsAt {
  readonly waiters: number;
  readonly operations: Readonly<Record<LedgerOperation, OperationCost>>;
  /** All the operations of one generation: the sum of the above. */
  readonly perGeneration: { readonly reads: number; readonly writes: number };
}

const READS = new Set(["GetItem", "Query"]);

class CostMeter {
  private current: { reads: number; writes: number; requests: Record<string, number> } | undefined;

  /** Counts `work`'s requests alone. */
  async measure(work: () => Promise<unknown>): Promise<OperationCost> {
    const cost = { reads: 0, writes: 0, requests: {} as Record<string, number> };
    this.current = cost;
    try {
      await work();
    } finally {
      this.current = undefined;
    }
    return cost;
  }

  record(kind: string, units: number): void {
    const cost = this.current;
    if (!cost) return;
    cost.requests[kind] = (cost.requests[kind] ?? 0) + 1;
    if (READS.has(kind)) cost.reads += units;
    else cost.writes += units;
  }
}

/** Task tokens answered into nothing: the bench counts the ledger, not Step Functions. */
const NO_RESPONSES: TaskResponses = { succeed: async () => undefined, fail: async () => undefined };

/** Runs `work` over `items`, at most `concurrency` at a time. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const arnOf = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:Generation:${name}`;

/** One generation's ledger operations with `waiters` generations already queued. */
export async function measureLedgerUnitsAt(waiters: number): Promise<LedgerUnitsAt> {
  const local = startLocalLedger();
  try {
    await local.ready;
    const meter = new CostMeter();
    const counted = new DynamoDbLedger(
      interceptedDocuments(local.documents, async (command, send) => {
        const kind = requestKind(command);
        (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "TOTAL";
        try {
          const answer = (await send()) as { ConsumedCapacity?: ConsumedCapacity };
          meter.record(kind, answer.ConsumedCapacity?.CapacityUnits ?? 0);
          return answer;
        } catch (error) {
          if (isConditionFailed(error)) meter.record(kind, 1);
          throw error;
        }
      }),
      local.tableName,
    );
    let clock = START;
    const now = () => clock;
    const ports = (ledger: DynamoDbLedger): SlotPorts => ({ ledger, responses: NO_RESPONSES, settings: { limit: SLOTS, queue: DEFAULTS.slotQueue }, now });

    // The slots all held, each holder with its price reserved; then the queue, oldest first.
    const holders = Array.from({ length: SLOTS }, (_, index) => arnOf(`holder-${index}`));
    for (const holder of holders) {
      await local.ledger.takeSlot({ executionArn: holder, redriveCount: 0 }, SLOTS, clock);
      await local.ledger.reserveCredits(holder, PRICE_UNITS, PLENTY_OF_UNITS, clock);
    }
    const queued = Array.from({ length: waiters }, (_, index) => index);
    await inParallel(queued, FILL_CONCURRENCY, (index) => local.ledger.enqueue({ executionArn: arnOf(`waiter-${index}`), redriveCount: 0 }, `token-waiter-${index}`, START + index));
    clock = START + waiters;

    // Once unmeasured (a container's first use makes the slots and credits items sure), then measured.
    const generation = async (name: string, holder: string) => {
      const executionArn = arnOf(name);
      const slotPorts = ports(counted);
      clock += 1_000;
      const costs = {
        reserve: await meter.measure(() => counted.reserveCredits(executionArn, PRICE_UNITS, PLENTY_OF_UNITS, clock)),
        wait: await meter.measure(() => waitForSlot({ executionArn, taskToken: `token-${name}`, redriveCount: 0 }, slotPorts)),
        position: await meter.measure(() => counted.queuePosition(executionArn)),
        length: await meter.measure(() => counted.queueLength()),
        release: await meter.measure(() => releaseHolds(holder, slotPorts)),
      };
      return costs;
    };
    await generation("warm-up", holders[0] as string);
    const operations = await generation("measured", holders[1] as string);
    const all = Object.values(operations);
    return {
      waiters,
      operations,
      perGeneration: { reads: sum(all.map((cost) => cost.reads)), writes: sum(all.map((cost) => cost.writes)) },
    };
  } finally {
    await local.close();
  }
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

export async function measureLedgerUnits(waiterCounts: readonly number[] = LEDGER_UNIT_WAITERS, onProgress?: (line: string) => void): Promise<LedgerUnitsAt[]> {
  // As the local runner does: the functions' log lines and metrics go through the console, which the bench sends to stderr.
  process.env[POWERTOOLS_ENV.devMode] = "true";
  const results: LedgerUnitsAt[] = [];
  for (const waiters of waiterCounts) {
    onProgress?.(`ledger units: one generation with ${waiters.toLocaleString("en-US")} waiting ...`);
    results.push(await measureLedgerUnitsAt(waiters));
  }
  return results;
}

const unitsOf = (cost: { readonly reads: number; readonly writes: number }) => cost.reads + cost.writes;

/** Units per generation from the shortest queue to the longest: at most 10% more. */
export function ledgerUnitsTarget(results: readonly LedgerUnitsAt[]): Target {
  const [shortest] = results;
  const longest = results.at(-1);
  if (!shortest || !longest) throw new Error("the ledger units are measured at one queue length at least");
  const units = results.map((result) => unitsOf(result.perGeneration));
  const growth = Math.max(...units) / Math.min(...units) - 1;
  return {
    name: `ledger units per generation flat (within ${LEDGER_UNITS_FLAT_WITHIN * 100}%) from ${shortest.waiters.toLocaleString("en-US")} to ${longest.waiters.toLocaleString("en-US")} waiters`,
    met: growth <= LEDGER_UNITS_FLAT_WITHIN,
    detail: `${units.join(" / ")} units (${(growth * 100).toFixed(1)}% apart)`,
  };
}

function describeCost(cost: OperationCost): string {
  const requests = Object.entries(cost.requests)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(", ");
  return `${cost.reads} R + ${cost.writes} W (${requests})`;
}

/** The markdown table of one generation's units at each queue length (its target is in the targets' table). */
export function formatLedgerUnits(results: readonly LedgerUnitsAt[]): string[] {
  return [
    "Ledger capacity units per generation (R: read units, W: write units; dynalite's ReturnConsumedCapacity, a failed conditional write counted as 1 W), by generations already waiting:",
    "",
    `| operation | ${results.map((result) => `${result.waiters.toLocaleString("en-US")} waiting`).join(" | ")} |`,
    `|---|${results.map(() => "---:").join("|")}|`,
    ...LEDGER_OPERATIONS.map(({ key, label }) => `| ${label} | ${results.map((result) => describeCost(result.operations[key])).join(" | ")} |`),
    `| **per generation** | ${results.map((result) => `**${result.perGeneration.reads} R + ${result.perGeneration.writes} W**`).join(" | ")} |`,
  ];
}
