/**
 * The account's resource packs: creates are paid from them (at the simulator's own prices,
 * kling-tables.ts) and `GET /account/costs` reports them.
 */
import type { ResourcePack } from "#lambdas/kling/wire";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface PackSeed {
  readonly name?: string;
  readonly type?: ResourcePack["resource_pack_type"];
  readonly total: number;
  /** Defaults to `total`. */
  readonly remaining?: number;
}

/** Where a task's units came from, so a refund puts them back in the same packs. */
export interface Charge {
  readonly packId: string;
  readonly units: number;
}

interface Pack {
  readonly name: string;
  readonly id: string;
  readonly type: ResourcePack["resource_pack_type"];
  readonly total: number;
  remaining: number;
  readonly purchaseTime: number;
  readonly effectiveTime: number;
  readonly invalidTime: number;
}

const roundUnits = (units: number) => Math.round(units * 100) / 100;

export class ResourcePacks {
  private readonly packs: Pack[];

  /** Every pack was bought a day before `startedAt` and stays valid for a year. */
  constructor(seeds: readonly PackSeed[], startedAt: number) {
    this.packs = seeds.map((seed, index) => ({
      name: seed.name ?? `Simulated video pack ${index + 1}`,
      id: `sim-pack-${index + 1}`,
      type: seed.type ?? "decreasing_total",
      total: seed.total,
      remaining: seed.remaining ?? seed.total,
      purchaseTime: startedAt - DAY_MS,
      effectiveTime: startedAt - DAY_MS,
      invalidTime: startedAt + 365 * DAY_MS,
    }));
  }

  /** Takes `units` from the online packs, soonest to expire first; undefined when they cannot pay. */
  charge(units: number, now: number): Charge[] | undefined {
    const payers = this.packs
      .filter((pack) => statusOf(pack, now) === "online")
      .sort((a, b) => a.invalidTime - b.invalidTime);
    const available = roundUnits(payers.reduce((sum, pack) => sum + pack.remaining, 0));
    if (available < units) return undefined;
    const charges: Charge[] = [];
    let owed = units;
    for (const pack of payers) {
      if (owed <= 0) break;
      const taken = roundUnits(Math.min(pack.remaining, owed));
      if (taken <= 0) continue;
      pack.remaining = roundUnits(pack.remaining - taken);
      owed = roundUnits(owed - taken);
      charges.push({ packId: pack.id, units: taken });
    }
    return charges;
  }

  refund(charges: readonly Charge[]): void {
    for (const charge of charges) {
      const pack = this.packs.find((candidate) => candidate.id === charge.packId);
      if (pack) pack.remaining = roundUnits(pack.remaining + charge.units);
    }
  }

  /** The packs whose lifetime overlaps [startTime, endTime], as the account endpoint shows them. */
  view(now: number, range: { startTime: number; endTime: number; name?: string }): ResourcePack[] {
    return this.packs
      .filter((pack) => pack.effectiveTime <= range.endTime && pack.invalidTime >= range.startTime)
      .filter((pack) => range.name === undefined || pack.name === range.name)
      .map((pack) => ({
        resource_pack_name: pack.name,
        resource_pack_id: pack.id,
        resource_pack_type: pack.type,
        total_quantity: pack.total,
        remaining_quantity: pack.remaining,
        purchase_time: pack.purchaseTime,
        effective_time: pack.effectiveTime,
        invalid_time: pack.invalidTime,
        status: statusOf(pack, now),
      }));
  }
}

function statusOf(pack: Pack, now: number): ResourcePack["status"] {
  if (now < pack.effectiveTime) return "toBeOnline";
  if (now >= pack.invalidTime) return "expired";
  if (pack.remaining <= 0) return "runOut";
  return "online";
}
